#!/usr/bin/python3
"""Slices (and slices converted with .to()) by real PyTorch, for tests/test_slice.c.

    /usr/bin/python3 tests/torch_slices.py DIR

Writes DIR/slices.safetensors (one tensor of every safetensors dtype plus
0-d, empty and larger tensors; written here byte by byte from the format's
definition) and DIR/slices.pt (torch.save of views: transposes, permutes,
steps, storage offsets, narrows, an expanded tensor, every torch dtype).
Then prints one line per case:

    CASE FILE TENSOR TO NS START STOP STEP ... NDIM SIZE ... SHA256

TO is "-" for a plain slice or the dtype of t[slices].to(dtype); START/STOP/
STEP are Python slice bounds (stop 9223372036854775807 = to the end); SIZE
is the result shape; SHA256 is of its contiguous little-endian bytes. The
last line is "DONE". Dtypes torch 1.13 lacks (U16 U32 U64 F8_* C64) are
sliced through a torch dtype of the same element size; slicing moves
elements, not values, so the bytes are the same.
"""
import hashlib
import json
import os
import random
import struct
import sys

import torch

END = 9223372036854775807
TORCH_ST = {torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
            torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
            torch.bool: "BOOL", torch.complex64: "C64"}
CONVERTIBLE = (torch.float64, torch.float32, torch.float16, torch.bfloat16, torch.int64, torch.int32, torch.int16,
               torch.int8, torch.uint8, torch.bool)
TARGETS = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def le_bytes(t):
    """The elements in row-major order (numpy's tobytes; the host is little-endian)."""
    if t.dtype == torch.bool:
        t = t.to(torch.uint8)
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    return t.numpy().tobytes()


def make(dtype, shape, g):
    if dtype == torch.bool:
        return torch.randint(0, 2, shape, generator=g).to(torch.bool)
    if dtype.is_floating_point:
        return (torch.randn(shape, generator=g, dtype=torch.float64) * 3).to(dtype)
    if dtype == torch.complex64:
        return torch.randn(shape, generator=g, dtype=torch.complex64)
    info = torch.iinfo(dtype)
    lo, hi = max(info.min, -(1 << 40)), min(info.max, 1 << 40)
    return torch.randint(lo, hi, shape, generator=g, dtype=torch.int64).to(dtype)


def write_safetensors(path, tensors):
    """tensors: list of (name, st_dtype, shape, bytes), stored in this order."""
    header, off = {}, 0
    for name, dt, shape, data in tensors:
        header[name] = {"dtype": dt, "shape": list(shape), "data_offsets": [off, off + len(data)]}
        off += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for _, _, _, data in tensors:
            f.write(data)


def slice_specs(shape, rng, count):
    """Hand-picked and random slices for a tensor of this shape."""
    nd = len(shape)
    specs = [[]]
    if nd:
        n0 = shape[0]
        specs += [[(0, END, 1)], [(1, 3, 1)], [(-2, END, 1)], [(-100, 100, 1)], [(n0, END, 1)], [(3, 1, 1)],
                  [(0, END, 2)], [(1, -1, 3)], [(-1, END, 1)], [(0, 1, 1)], [(END, END, 1)], [(-(1 << 40), -(1 << 40), 1)], [(-(1 << 40), END, 1)]]
        specs.append([(0, END, 1)] * (nd - 1) + [(1, END, 2)])
        specs.append([(-1, END, 1)] * nd)
    for _ in range(count):
        ns = rng.randint(0, nd)
        spec = []
        for d in range(ns):
            n = shape[d]
            a = rng.choice([rng.randint(-n - 2, n + 2), 0, -1, n])
            b = rng.choice([rng.randint(-n - 2, n + 2), END, n, -1])
            spec.append((a, b, rng.choice([1, 1, 1, 2, 3, 7])))
        specs.append(spec)
    return specs


def emit(out, file, name, t, spec, to):
    idx = tuple(slice(a, b, c) for a, b, c in spec)
    r = t[idx] if idx else t
    if to is not None:
        r = r.to(TARGETS[to])
    parts = ["CASE", file, name, to or "-", str(len(spec))]
    for a, b, c in spec:
        parts += [str(a), str(b), str(c)]
    parts.append(str(r.dim()))
    parts += [str(s) for s in r.shape]
    parts.append(hashlib.sha256(le_bytes(r)).hexdigest())
    out.append(" ".join(parts))


def main():
    d = sys.argv[1]
    g = torch.Generator().manual_seed(1234)
    rng = random.Random(99)
    out = []

    # ---- safetensors: every dtype, 0-d, empty, larger ----
    st = []           # (name, st dtype, shape, bytes)
    views = {}        # name -> (torch tensor with those bytes, convertible)
    for dt in (torch.float64, torch.float32, torch.float16, torch.bfloat16, torch.int64, torch.int32,
               torch.int16, torch.int8, torch.uint8, torch.bool, torch.complex64):
        t = make(dt, (5, 7, 3), g)
        name = "t_" + TORCH_ST[dt]
        st.append((name, TORCH_ST[dt], t.shape, le_bytes(t)))
        views[name] = (t, dt in CONVERTIBLE)
    for st_name, surrogate in (("U16", torch.int16), ("U32", torch.int32), ("U64", torch.int64),
                               ("F8_E4M3", torch.uint8), ("F8_E5M2", torch.uint8), ("F8_E8M0", torch.uint8)):
        t = make(surrogate, (4, 6, 2), g)
        if st_name.startswith("F8"):
            t = t & 0x3f      # small finite values in both FP8 formats
        name = "t_" + st_name
        st.append((name, st_name, t.shape, le_bytes(t)))
        views[name] = (t, False)
    extra = [("scalar", make(torch.float32, (), g)), ("empty_0x4", make(torch.float32, (0, 4), g)),
             ("empty_3x0x2", make(torch.int16, (3, 0, 2), g)), ("vec", make(torch.float16, (11,), g)),
             ("rank4", make(torch.bfloat16, (2, 3, 4, 5), g)),
             ("big", make(torch.float32, (1100, 1024), g)),          # > 4 MiB: several read batches
             ("wide", make(torch.float32, (40, 20000), g))]          # rows > 64 KiB apart
    for name, t in extra:
        st.append((name, TORCH_ST[t.dtype], t.shape, le_bytes(t)))
        views[name] = (t, True)
    st.append(("packed_f4", "F4", (8,), bytes([0x12, 0x34, 0x56, 0x78])))
    write_safetensors(os.path.join(d, "slices.safetensors"), st)
    for name, (t, conv) in views.items():
        n = 6 if name in ("big", "wide") else 14
        for spec in slice_specs(list(t.shape), rng, n):
            emit(out, "slices.safetensors", name, t, spec, None)
            if conv and rng.random() < 0.6:
                emit(out, "slices.safetensors", name, t, spec, rng.choice(list(TARGETS)))
    if True:   # named cases the C test looks up by name
        t = views["big"][0]
        emit(out, "slices.safetensors", "big", t, [(0, END, 1), (5, 6, 1)], None)
        emit(out, "slices.safetensors", "big", t, [(100, 1100, 1)], "BF16")
        emit(out, "slices.safetensors", "wide", views["wide"][0], [(0, END, 1), (3, 4, 1)], None)

    # ---- torch: views made by PyTorch ----
    base = make(torch.float32, (6, 8), g)
    cube = make(torch.float64, (3, 4, 5), g)
    line = make(torch.int32, (30,), g)
    big = make(torch.bfloat16, (1100, 2048), g)
    pt = {"tr": base.t(), "perm": cube.permute(2, 0, 1), "step": base[::2, 1::3], "off": line[5:],
          "off2d": base[2:, 3:], "narrow": cube.narrow(2, 1, 3), "expand": line[:4].expand(3, 4),
          "scalar": torch.tensor(2.5, dtype=torch.float16), "empty": torch.zeros(3, 0, 2),
          "big_t": big.t(), "big_rows": big[10:900]}
    for dt in (torch.float64, torch.float32, torch.float16, torch.bfloat16, torch.int64, torch.int32,
               torch.int16, torch.int8, torch.uint8, torch.bool, torch.complex64):
        pt["dt_" + TORCH_ST[dt]] = make(dt, (4, 5, 3), g).permute(1, 2, 0)[1:, ::2]
    torch.save(pt, os.path.join(d, "slices.pt"))
    for name, t in pt.items():
        n = 6 if name.startswith("big") else 14
        for spec in slice_specs(list(t.shape), rng, n):
            emit(out, "slices.pt", name, t, spec, None)
            if t.dtype in CONVERTIBLE and rng.random() < 0.6:
                emit(out, "slices.pt", name, t, spec, rng.choice(list(TARGETS)))
    print("\n".join(out))
    print("DONE", flush=True)


if __name__ == "__main__":
    main()
