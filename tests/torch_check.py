#!/usr/bin/python3
"""Load a .pt file in real PyTorch and print one JSON line per tensor.

    /usr/bin/python3 tests/torch_check.py FILE.pt [--unsafe] [--all]

Loads with torch.load(FILE, map_location="cpu", weights_only=True).  With
--unsafe, a failed safe load is retried with weights_only=False (only for
files you trust: that runs arbitrary pickle code).  With --all, non-tensor
leaves (ints, strings, ...) are printed too, as {"key": ..., "value": ...}.

Each tensor line is a JSON object:
  key            dotted path (dict keys, list/tuple indices joined with "."),
                 null for a bare top-level tensor; lines come in pickle order
  dtype          safetensors name: F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL
                 (others: C64 C128, else the torch name)
  shape          list of ints ([] for a 0-d tensor)
  sha256         of the tensor's contiguous little-endian bytes
  is_contiguous  as loaded (views keep their strides)
  stride, storage_offset, requires_grad, is_parameter   extra facts

Exit status: 0 ok; 1 the file could not be loaded (message on stderr,
starting with "torch_check: "); 2 bad usage.  The first stderr line also
says "(weights_only=True)" when the safe loader refused the file.
"""

import argparse
import hashlib
import json
import sys

DTYPE_NAMES = {
    "float64": "F64", "float32": "F32", "float16": "F16", "bfloat16": "BF16",
    "int64": "I64", "int32": "I32", "int16": "I16", "int8": "I8",
    "uint8": "U8", "bool": "BOOL", "complex64": "C64", "complex128": "C128",
}


def dtype_name(dtype):
    name = str(dtype).replace("torch.", "")
    return DTYPE_NAMES.get(name, name)


def contiguous_sha256(t):
    """sha256 of contiguous bytes, via a flat uint8 view (works for any dtype)."""
    import torch
    flat = t.detach().cpu().contiguous().reshape(-1)
    if flat.numel() == 0:
        return hashlib.sha256(b"").hexdigest()
    if flat.dtype == torch.bool:
        flat = flat.to(torch.uint8)          # 1 byte 0/1, same as storage
    return hashlib.sha256(flat.view(torch.uint8).numpy().tobytes()).hexdigest()


def walk(obj, key=None):
    """Yield (dotted_key, leaf) depth-first in insertion order."""
    def join(k):
        return str(k) if key is None else f"{key}.{k}"
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from walk(v, join(k))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from walk(v, join(i))
    else:
        yield key, obj


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Load a .pt with torch.load(weights_only=True) and print "
                    "one JSON line per tensor.")
    ap.add_argument("file")
    ap.add_argument("--unsafe", action="store_true",
                    help="retry with weights_only=False if the safe load fails")
    ap.add_argument("--all", action="store_true",
                    help="also print non-tensor leaves")
    args = ap.parse_args(argv)

    if sys.byteorder != "little":
        print("torch_check: big-endian host not supported", file=sys.stderr)
        return 2
    try:
        import torch
    except ImportError as e:
        print(f"torch_check: cannot import torch ({e}); use /usr/bin/python3",
              file=sys.stderr)
        return 2

    try:
        obj = torch.load(args.file, map_location="cpu", weights_only=True)
    except Exception as e:                     # noqa: BLE001 - report any failure
        safe_err = f"{type(e).__name__}: {e}"
        if not args.unsafe:
            print(f"torch_check: cannot load {args.file} (weights_only=True): {safe_err}",
                  file=sys.stderr)
            return 1
        print(f"torch_check: safe load failed, retrying with weights_only=False: "
              f"{safe_err}", file=sys.stderr)
        try:
            obj = torch.load(args.file, map_location="cpu", weights_only=False)
        except Exception as e2:                # noqa: BLE001
            print(f"torch_check: cannot load {args.file} (weights_only=False): "
                  f"{type(e2).__name__}: {e2}", file=sys.stderr)
            return 1

    for key, leaf in walk(obj):
        if torch.is_tensor(leaf):
            rec = {
                "key": key,
                "dtype": dtype_name(leaf.dtype),
                "shape": list(leaf.shape),
                "sha256": contiguous_sha256(leaf),
                "is_contiguous": leaf.is_contiguous(),
                "stride": list(leaf.stride()),
                "storage_offset": leaf.storage_offset(),
                "requires_grad": leaf.requires_grad,
                "is_parameter": isinstance(leaf, torch.nn.Parameter),
            }
        elif args.all:
            value = leaf if isinstance(leaf, (int, float, str, bool, type(None))) else repr(leaf)
            rec = {"key": key, "value": value}
        else:
            continue
        print(json.dumps(rec, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
