#!/usr/bin/python3
"""Writes the torch checkpoints tests/test_values.c reads and prints what real
PyTorch makes of them, one tab-separated record per line.

    /usr/bin/python3 tests/gen_values.py OUTDIR [--check FILE...]

For each file written to OUTDIR:
  F  file  protocol  verdict   verdict = "ok" when torch.load(weights_only=True)
                               loads it, else "refused: <reason>"
  T  name  dtype  shape        each tensor, in pickle order (dtype as mcf_dtype_name)
  V  name  type  text          each other leaf: Python type name and repr(),
                               cut to 120 UTF-8 bytes ending in "..."
Names join dict keys (str(key)) and positions with "."; a dict is walked, a
list/tuple/set only when it holds a tensor or a container, otherwise it is one
value, as mooncake_fileio.h lists them.

Then:
  G  module  name              every global torch.load(weights_only=True) allows
  W  file  verdict             the weights_only verdict on each --check FILE
  X  file  name  dtype  values for each tensor of a --check FILE: .tolist()
"""

import collections
import os
import random
import struct
import sys

import torch

DTYPE_NAMES = {
    "float64": "F64", "float32": "F32", "float16": "F16", "bfloat16": "BF16",
    "int64": "I64", "int32": "I32", "int16": "I16", "int8": "I8",
    "uint8": "U8", "bool": "BOOL", "complex64": "C64", "complex128": "C128",
}
CONTAINERS = (dict, collections.OrderedDict, collections.Counter, list, tuple, set, frozenset)


def dtype_name(dtype):
    name = str(dtype).replace("torch.", "")
    return DTYPE_NAMES.get(name, name)


def type_name(x):
    t = type(x)
    return t.__qualname__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


def clip(s):
    b = s.encode("utf-8")
    if len(b) <= 120:
        return s
    n = 117
    while n > 0 and (b[n] & 0xC0) == 0x80:
        n -= 1
    return b[:n].decode("utf-8") + "..."


def is_container(x):
    return type(x) in CONTAINERS      # exact: torch.Size is a tuple subclass and a leaf


def walked(x):
    if isinstance(x, dict) and is_container(x):
        return len(x) > 0
    if not is_container(x):
        return False
    return any(torch.is_tensor(i) or is_container(i) for i in x)


def expect(obj):
    """(kind, name, ...) records in the order the library lists them."""
    out = []

    def leaf(name, x):
        if torch.is_tensor(x):
            out.append(("T", name, dtype_name(x.dtype), repr(list(x.shape))))
        elif walked(x):
            walk(name, x)
        else:
            out.append(("V", name, type_name(x), clip(repr(x))))

    def walk(prefix, x):
        items = x.items() if isinstance(x, dict) else enumerate(x)
        for k, v in items:
            leaf(str(k) if prefix is None else f"{prefix}.{k}", v)

    if torch.is_tensor(obj) or walked(obj):
        leaf("", obj) if torch.is_tensor(obj) else walk(None, obj)
    elif not (is_container(obj) and len(obj) == 0):
        leaf("", obj)
    return out


def verdict(path):
    try:
        torch.load(path, map_location="cpu", weights_only=True)
        return "ok"
    except Exception as e:                      # noqa: BLE001 - any refusal is the answer
        msg = str(e).replace("\n", " ").replace("\t", " ")
        key = "WeightsUnpickler error: "
        return "refused: " + (msg[msg.index(key) + len(key):] if key in msg else msg)[:200]


def emit(outdir, name, obj, protocol):
    path = os.path.join(outdir, name)
    torch.save(obj, path, pickle_protocol=protocol)
    print(f"F\t{name}\t{protocol}\t{verdict(path)}")
    for rec in expect(obj):
        print("\t".join(rec))


def model_and_optimizers():
    torch.manual_seed(0)
    m = torch.nn.Linear(3, 2)
    sgd = torch.optim.SGD(m.parameters(), lr=0.01)
    adam = torch.optim.Adam(m.parameters(), lr=1e-3)
    for opt in (sgd, adam):
        opt.zero_grad()
        m(torch.ones(1, 3)).sum().backward()
        opt.step()
    return m, sgd, adam


def main():
    outdir = sys.argv[1]
    check = sys.argv[sys.argv.index("--check") + 1:] if "--check" in sys.argv else []
    m, sgd, adam = model_and_optimizers()
    z = torch.tensor([[1 - 2j, 0.5 + 3j]], dtype=torch.complex128)
    rng = random.Random(13)

    # what torch 1.13's weights_only accepts: the three things once refused as forbidden
    emit(outdir, "wo_ok.pt", {"model": m.state_dict(), "z": z, "size": torch.Size([2, 3]), "dtype": torch.float32,
                              "cdtype": torch.complex128, "epoch": 3, "step": -7, "name": "adam", "none": None,
                              "flag": True, "big": 2 ** 70, "nested": [[1, 2], (3,)], "empty": []}, 2)
    for p in (2, 3, 4, 5):
        emit(outdir, f"sgd_p{p}.pt", {"model": m.state_dict(), "optim": sgd.state_dict(), "epoch": 3}, p)
        emit(outdir, f"adam_p{p}.pt", {"model": m.state_dict(), "optim": adam.state_dict(), "epoch": 3}, p)
        emit(outdir, f"ckpt_p{p}.pt", {"model": m.state_dict(), "epoch": 3, "lr": 0.001, "name": "adam", "none": None,
                                        "flag": True, "raw": b"x'y\x00\xff", "z": z, "size": torch.Size([2, 3]),
                                        "dtype": torch.bfloat16, "device": torch.device("cuda", 1)}, p)
    misc = {
        "strs": ["", "it's", 'say "hi"', "both ' \"", "back\\slash", "tab\there\nnl\r", "\x00\x1f\x7f\x85",
                 "caf\u00e9 \u65e5\u672c \U0001f600", "\u2028"],
        "long": "\u00e9" * 100,
        "bytes256": bytes(range(256)),
        "ba": bytearray(b"ab\x00"),
        "set": {3, 1},
        "cplx": [1j, 1.5 - 0.5j, complex(-0.0, 1), complex(2, float("inf")), complex(0, -0.0)],
        "devs": [torch.device("cpu"), torch.device("cuda:0")],
        "dts": (torch.uint8, torch.quint8, torch.complex32, torch.per_tensor_affine),
        "keys": {1: "int", -2: "neg", (1, "a"): "tuple", False: "bool", None: "none", 1.5: "float", b"k": "bytes"},
        "mixed": [torch.ones(2), 0.25, (torch.zeros(1, dtype=torch.int8), "s")],
        "empties": [[], (), {}, collections.OrderedDict(), set()],
        "od": collections.OrderedDict([("a", 1), ("b", (2, 3))]),
        "counter": collections.Counter({"x": 2}),
        "one": (7,),
    }
    for p in (2, 4):
        emit(outdir, f"misc_p{p}.pt", misc, p)

    floats = [2.0 ** e for e in range(-1074, 1024)]
    floats += [struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0] for _ in range(3000)]
    floats += [0.0, -0.0, float("inf"), -float("inf"), float("nan"), 0.1, 0.2 + 0.1, 1e16, 1e15, 1e-4, 1e-5,
               5e-324, 1.7976931348623157e308, 9007199254740993.0, 123456789.125, 1e22, 100.0]
    fd = {f"f{i}": x for i, x in enumerate(floats)}
    emit(outdir, "floats_p0.pt", fd, 0)      # text FLOAT opcodes
    emit(outdir, "floats_p2.pt", fd, 2)      # BINFLOAT
    ints = {}
    for i in range(300):
        nbytes = rng.randint(8, 250)
        v = rng.getrandbits(8 * nbytes)
        ints[f"i{i}"] = -v if i % 2 else v
    ints.update({"max64": 2 ** 63 - 1, "min64": -2 ** 63, "over": 2 ** 63, "under": -2 ** 63 - 1, "zero": 0})
    emit(outdir, "ints_p0.pt", ints, 0)
    emit(outdir, "ints_p2.pt", ints, 2)

    emit(outdir, "bare_int.pt", 3, 2)
    emit(outdir, "bare_list.pt", [1.5, "a"], 2)
    emit(outdir, "empty_dict.pt", {}, 2)
    t = torch.arange(4.0)
    t.foo = 1                                   # python attributes of tensors are not saved by 1.13
    p = torch.nn.Parameter(torch.ones(2))
    p.bar = 2
    emit(outdir, "attrs_p2.pt", {"t": t, "p": p, "n": 1}, 2)
    # refused (a whole model), or not representable here (NOT_SUPPORTED): no T/V records
    others = {"whole_model.pt": torch.nn.Sequential(torch.nn.Linear(2, 2)),
              "unsupported_quant.pt": {"q": torch.quantize_per_tensor(torch.ones(2), 0.1, 0, torch.quint8)},
              "unsupported_sparse.pt": {"s": torch.ones(2, 2).to_sparse()}}
    for name, obj in others.items():
        torch.save(obj, os.path.join(outdir, name))
        print(f"F\t{name}\t2\t{verdict(os.path.join(outdir, name))}")

    for key in sorted(torch._weights_only_unpickler._get_allowed_globals()):
        mod, _, name = key.rpartition(".")
        print(f"G\t{mod}\t{name}")
    for f in check:
        print(f"W\t{f}\t{verdict(f)}")
        try:
            obj = torch.load(f, map_location="cpu", weights_only=True)
        except Exception:                       # noqa: BLE001 - the verdict says why
            continue
        items = obj.items() if isinstance(obj, dict) else [("", obj)]
        for k, t in items:
            print(f"X\t{f}\t{k}\t{dtype_name(t.dtype)}\t{t.tolist()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
