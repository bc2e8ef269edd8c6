#!/usr/bin/python3
"""Reference sharded checkpoints made by real PyTorch, for tests/test_shard.c.

    /usr/bin/python3 tests/shard_ref.py make DIR
    /usr/bin/python3 tests/shard_ref.py check DIR

make: writes DIR/src.pt (torch.save of the tensors, in order), then for the
limit LIMIT below the split a Hugging Face save makes (tensors in order; one
larger than the limit gets a shard of its own at once, ahead of the shard
being filled; otherwise a tensor that would push the current shard past the
limit closes it; sizes are numel * element size) and
  DIR/want.safetensors.index.json  the index bytes for shards named
                                   model-0000k-of-0000n.safetensors
  DIR/want.bin.index.json          the same for pytorch_model-...bin
  DIR/ref/pytorch_model-0000k-of-0000n.bin + pytorch_model.bin.index.json
                                   a torch-sharded checkpoint: torch.save of
                                   each shard's dict, the index written as
                                   json.dumps(index, indent=2,
                                   sort_keys=True) + "\\n"
  DIR/want/pytorch_model-0000k-of-0000n.bin
                                   torch.save of each shard as the
                                   OrderedDict a state_dict() is (to a file
                                   object): the bytes our torch shards must
                                   have (transformers' shards are plain
                                   dicts, which pickle as dict instead)
check: loads DIR/out/pytorch_model.bin.index.json and every shard it names
with torch.load(weights_only=True), and every tensor of the safetensors
shards of DIR/out/model.safetensors.index.json (header parsed with json,
bytes compared), against DIR/src.pt; the safetensors shards' __metadata__
must be {"format": "pt"}.
Prints DONE at the end; any mismatch raises.
"""

import collections
import json
import os
import struct
import sys

import torch

LIMIT = 1000

DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int64: "I64",
          torch.int32: "I32", torch.int8: "I8", torch.uint8: "U8", torch.bool: "BOOL", torch.float64: "F64"}


def tensors():
    g = torch.Generator().manual_seed(7)
    out = {}
    out["embed.weight"] = torch.randn(16, 8, generator=g)                    # 512 bytes
    out["layers.0.attn.q_proj.weight"] = torch.randn(8, 8, generator=g).to(torch.bfloat16)   # 128
    out["layers.0.attn.k_proj.weight"] = torch.randn(8, 8, generator=g).to(torch.float16)    # 128
    out["layers.0.mlp.up.weight"] = torch.randn(40, 8, generator=g)          # 1280: own shard
    out["layers.0.norm.bias"] = torch.arange(6, dtype=torch.int64)           # 48
    out["layers.1.attn.q_proj.weight"] = torch.randn(12, 12, generator=g).to(torch.float64)  # 1152: own
    out["layers.1.scale"] = torch.tensor(2.5)                                 # 4, 0-d
    out["layers.1.mask"] = torch.tensor([True, False, True])                  # 3
    out["layers.1.ids"] = torch.arange(-5, 5, dtype=torch.int32).reshape(2, 5)   # 40
    out["caf\u00e9.\u03b1"] = torch.arange(10, dtype=torch.uint8)             # 10, non-ASCII name
    out["emoji.\U0001F600"] = torch.arange(4, dtype=torch.int8)               # 4, above U+FFFF
    out["quote\".back\\slash"] = torch.zeros(0, 3)                            # 0 bytes
    out["lm_head.weight"] = torch.randn(30, 8, generator=g)                  # 960: fits alone
    return out


def split(state, limit):
    shards, cur, cur_size = [], {}, 0
    for k, t in state.items():
        size = t.numel() * t.element_size()
        if size > limit:
            shards.append({k: t})
            continue
        if cur_size + size > limit:
            shards.append(cur)
            cur, cur_size = {}, 0
        cur[k] = t
        cur_size += size
    if cur:
        shards.append(cur)
    return shards


def index_text(state, shards, stem, ext):
    n = len(shards)
    weight_map = {}
    for i, s in enumerate(shards):
        for k in s:
            weight_map[k] = "%s-%05d-of-%05d%s" % (stem, i + 1, n, ext)
    total = sum(t.numel() * t.element_size() for t in state.values())
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    return json.dumps(index, indent=2, sort_keys=True) + "\n", weight_map


def make(d):
    state = tensors()
    torch.save(state, os.path.join(d, "src.pt"))
    shards = split(state, LIMIT)
    text, _ = index_text(state, shards, "model", ".safetensors")
    with open(os.path.join(d, "want.safetensors.index.json"), "w", encoding="utf-8") as f:
        f.write(text)
    text, weight_map = index_text(state, shards, "pytorch_model", ".bin")
    with open(os.path.join(d, "want.bin.index.json"), "w", encoding="utf-8") as f:
        f.write(text)
    ref = os.path.join(d, "ref")
    os.makedirs(ref, exist_ok=True)
    for i, s in enumerate(shards):
        torch.save(s, os.path.join(ref, "pytorch_model-%05d-of-%05d.bin" % (i + 1, len(shards))))
    with open(os.path.join(ref, "pytorch_model.bin.index.json"), "w", encoding="utf-8") as f:
        f.write(text)
    want = os.path.join(d, "want")
    os.makedirs(want, exist_ok=True)
    for i, s in enumerate(shards):
        with open(os.path.join(want, "pytorch_model-%05d-of-%05d.bin" % (i + 1, len(shards))), "wb") as f:
            torch.save(collections.OrderedDict(s), f)
    print("SHARDS %d" % len(shards))


def same(name, a, b):
    if a.dtype != b.dtype or a.shape != b.shape or not torch.equal(a, b):
        raise SystemExit("tensor %r differs: %s %s vs %s %s" % (name, a.dtype, tuple(a.shape), b.dtype, tuple(b.shape)))


def check(d):
    state = torch.load(os.path.join(d, "src.pt"), weights_only=True)
    out = os.path.join(d, "out")
    with open(os.path.join(out, "pytorch_model.bin.index.json"), encoding="utf-8") as f:
        index = json.load(f)
    seen = set()
    for shard in sorted(set(index["weight_map"].values())):
        part = torch.load(os.path.join(out, shard), weights_only=True)
        for k, t in part.items():
            if index["weight_map"][k] != shard:
                raise SystemExit("%r is in %s, the index says %s" % (k, shard, index["weight_map"][k]))
            same(k, t, state[k])
            seen.add(k)
    if seen != set(state):
        raise SystemExit("torch shards hold %d of %d tensors" % (len(seen), len(state)))
    with open(os.path.join(out, "model.safetensors.index.json"), encoding="utf-8") as f:
        index = json.load(f)
    seen = set()
    for shard in sorted(set(index["weight_map"].values())):
        with open(os.path.join(out, shard), "rb") as f:
            blob = f.read()
        n = struct.unpack("<Q", blob[:8])[0]
        header = json.loads(blob[8:8 + n])
        if header.pop("__metadata__", None) != {"format": "pt"}:
            raise SystemExit("%s: __metadata__ is not {'format': 'pt'}" % shard)
        for k, info in header.items():
            t = state[k]
            if info["dtype"] != DTYPES[t.dtype] or info["shape"] != list(t.shape):
                raise SystemExit("%s: %r has %s %s" % (shard, k, info["dtype"], info["shape"]))
            a, b = info["data_offsets"]
            want = t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
            if blob[8 + n + a:8 + n + b] != want:
                raise SystemExit("%s: %r bytes differ" % (shard, k))
            seen.add(k)
    if seen != set(state):
        raise SystemExit("safetensors shards hold %d of %d tensors" % (len(seen), len(state)))


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("make", "check"):
        raise SystemExit("usage: shard_ref.py make|check DIR")
    (make if sys.argv[1] == "make" else check)(sys.argv[2])
    print("DONE")
