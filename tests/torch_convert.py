#!/usr/bin/python3
"""Element conversions by real PyTorch, for tests/test_convert.c.

    /usr/bin/python3 tests/torch_convert.py DIR

Writes, for each source dtype S, DIR/S.in (the input elements, little-endian)
and for each target T of F64 F32 F16 BF16 (T != S) DIR/S-T.out: what
torch.from_numpy(input).to(T) gives, little-endian. Prints one line per pair,
"PAIR S T COUNT", then "DONE".

Inputs: every F16 and BF16 bit pattern; F32 and F64 patterns of interest
(every F32 exponent and the F64 exponents near the F32 range, with mantissas
at, just below and just above each rounding tie for every cut position, NaNs
with payloads, +-0, +-inf, subnormals, overflow boundaries, random bits);
every I8/U8/I16 value and BOOL byte; I32/I64 values around powers of two and
ties for 8, 11 and 24 significant bits, and their extremes.
torch 1.13 has no uint16/uint32/uint64: for U16/U32/U64 the expected F64 and
F32 come from numpy's C casts (round to nearest even), and F16/BF16 from
torch's conversion of that F32, the path torch takes for its integer types.
"""
import os
import random
import sys

import numpy as np
import torch

TORCH = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
         "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
         "BOOL": torch.bool}
NUMPY_BITS = {"F64": np.uint64, "F32": np.uint32, "F16": np.uint16, "BF16": np.uint16}


def le_bytes(t):
    """Little-endian bytes of a tensor (bool as its 0/1 byte)."""
    t = t.contiguous()
    if t.dtype == torch.bool:
        t = t.to(torch.uint8)
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    a = t.numpy()
    return a.astype(a.dtype.newbyteorder("<")).tobytes()


def tie_mantissas(bits):
    """Mantissas (bits wide) at, below and above a tie at every cut position,
    with the kept part even and odd, plus the extremes."""
    out = {0, 1, 2, 3, (1 << bits) - 1, (1 << bits) - 2, 1 << (bits - 1)}
    mask = (1 << bits) - 1
    for t in range(bits):
        for base in (1 << t, (1 << t) | (1 << (t + 1))):
            for d in (-1, 0, 1):
                out.add((base + d) & mask)
    return sorted(out)


def float_patterns(ebits, mbits, exponents, rng, nrandom):
    total = 1 + ebits + mbits
    pats = set()
    mants = tie_mantissas(mbits)
    for e in exponents:
        for m in mants:
            for s in (0, 1):
                pats.add((s << (total - 1)) | (e << mbits) | m)
    emax = (1 << ebits) - 1
    # NaNs with payloads (quiet and signalling), infinities, zeros
    for m in (1, 2, 3, 1 << (mbits - 1), (1 << (mbits - 1)) | 1, (1 << mbits) - 1, 0x12345 & ((1 << mbits) - 1)):
        for s in (0, 1):
            pats.add((s << (total - 1)) | (emax << mbits) | m)
    for _ in range(nrandom):
        pats.add(rng.getrandbits(total))
    return sorted(pats)


def f32_inputs(rng):
    pats = float_patterns(8, 23, range(256), rng, 20000)
    # overflow boundaries of F16 (65504, 65520) and BF16, F16 subnormal edges
    for v in (65504.0, 65519.0, 65519.996, 65520.0, 65536.0, 2.0 ** -24, 2.0 ** -25, 1.5 * 2.0 ** -25,
              2.0 ** -14, 2.0 ** -14 - 2.0 ** -25, 3.4028234663852886e38):
        for s in (1.0, -1.0):
            pats.append(int(np.array([s * v], dtype=np.float32).view(np.uint32)[0]))
    pats += [0x7F7F8000, 0x7F7F7FFF, 0x7F7FFFFF, 0x477FEFFF, 0x477FF000, 0x477FF001]
    return np.array(sorted(set(pats)), dtype=np.uint32)


def f64_inputs(rng):
    # exponents where F32/F16/BF16 rounding, subnormals and overflow happen,
    # and a sample of the rest
    exps = sorted(set(list(range(0, 3)) + list(range(1023 - 160, 1023 + 132)) + list(range(0, 2048, 37)) +
                      list(range(2045, 2048))))
    pats = float_patterns(11, 52, exps, rng, 20000)
    return np.array(pats, dtype=np.uint64)


def powers_and_ties(top):
    """2^k +- 3 for k < top, and values at, around and between the rounding
    ties of 8, 11, 24 and 53 significant bits above each 2^k."""
    vals = set()
    for k in range(top):
        p = 1 << k
        for sig in (8, 11, 24, 53):
            if k >= sig:
                step = 1 << (k - sig)
                for j in (0, 1, 2, 3):
                    for d in (-1, 0, 1):
                        vals.add(p + j * step + d)
                        vals.add(p + j * step // 2 + d)
        for d in (-3, -2, -1, 0, 1, 2, 3):
            vals.add(p + d)
    return vals


def int_inputs(bits, rng):
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    vals = {lo, hi, lo + 1, hi - 1, 0, 1, -1} | powers_and_ties(bits - 1)
    vals |= {-v for v in list(vals)}
    for _ in range(5000):
        vals.add(rng.randint(lo, hi))
    return sorted(v for v in vals if lo <= v <= hi)


def main():
    out = sys.argv[1]
    rng = random.Random(20240611)
    inputs = {
        "F16": torch.from_numpy(np.arange(65536, dtype=np.uint32).astype(np.uint16).view(np.float16)),
        "BF16": torch.from_numpy(np.arange(65536, dtype=np.uint32).astype(np.uint16).view(np.int16)).view(torch.bfloat16),
        "F32": torch.from_numpy(f32_inputs(rng).view(np.float32)),
        "F64": torch.from_numpy(f64_inputs(rng).view(np.float64)),
        "I8": torch.arange(-128, 128, dtype=torch.int8),
        "U8": torch.arange(0, 256, dtype=torch.int32).to(torch.uint8),
        "I16": torch.arange(-32768, 32768, dtype=torch.int16),
        "I32": torch.tensor(int_inputs(32, rng), dtype=torch.int32),
        "I64": torch.tensor(int_inputs(64, rng), dtype=torch.int64),
        # every byte as a bool: torch reads any non-zero byte as True
        "BOOL": torch.from_numpy(np.arange(256, dtype=np.uint32).astype(np.uint8)).view(torch.bool),
    }
    for src, t in inputs.items():
        with open(os.path.join(out, src + ".in"), "wb") as f:
            f.write(le_bytes(t))
        for dst in ("F64", "F32", "F16", "BF16"):
            if dst == src:
                continue
            with open(os.path.join(out, "%s-%s.out" % (src, dst)), "wb") as f:
                f.write(le_bytes(t.to(TORCH[dst])))
            print("PAIR", src, dst, t.numel())
    # unsigned types torch 1.13 lacks: numpy's C casts, then torch from F32
    for src, np_t, bits in (("U16", np.uint16, 16), ("U32", np.uint32, 32), ("U64", np.uint64, 64)):
        vals = {0, 1, 2, 3, (1 << bits) - 1, (1 << bits) - 2} | powers_and_ties(bits)
        for _ in range(5000):
            vals.add(rng.getrandbits(bits))
        a = np.array(sorted(v for v in vals if 0 <= v < (1 << bits)), dtype=np_t)
        with open(os.path.join(out, src + ".in"), "wb") as f:
            f.write(a.astype(a.dtype.newbyteorder("<")).tobytes())
        f32 = torch.from_numpy(a.astype(np.float32))
        res = {"F64": torch.from_numpy(a.astype(np.float64)), "F32": f32,
               "F16": f32.to(torch.float16), "BF16": f32.to(torch.bfloat16)}
        for dst, r in res.items():
            with open(os.path.join(out, "%s-%s.out" % (src, dst)), "wb") as f:
                f.write(le_bytes(r))
            print("PAIR", src, dst, a.size)
    print("DONE", flush=True)


if __name__ == "__main__":
    main()
