#!/usr/bin/env python3
"""Writes a sharded safetensors checkpoint made by real PyTorch, the way a
Hugging Face model directory holds one, for the model seeding tests.

    torch_checkpoint.py OUTDIR [--shards N] [--no-index] [--big BYTES]

OUTDIR gets model-0000i-of-0000N.safetensors (safetensors-format bytes
written here from torch: 8-byte little-endian header length, the JSON header
with dtype / shape / data_offsets, then each tensor's bytes), the
model.safetensors.index.json that maps every tensor to its shard (unless
--no-index), and sidecar files: config.json (CRLF line ends), vocab.json,
chat_template.jinja (UTF-8 text) and tokenizer.model (bytes that are not
UTF-8). --big adds one uint8 tensor "big.weight" of that many bytes.

Prints one line per tensor, "name nbytes sha256", where the bytes are what
t.contiguous().view(torch.uint8) holds (a 0-dim tensor is viewed as 1-dim).
"""
import hashlib
import json
import os
import sys

import torch

ST_DTYPE = {
    torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
    torch.int64: "I64", torch.int32: "I32", torch.int8: "I8", torch.uint8: "U8", torch.bool: "BOOL",
}


def raw(t):
    t = t.contiguous()
    if t.dim() == 0:
        t = t.reshape(1)
    return t.view(torch.uint8).numpy().tobytes()


def tensors(big):
    g = torch.Generator().manual_seed(7)
    out = [
        ("model.embed_tokens.weight", torch.randn(64, 32, generator=g).to(torch.bfloat16)),
        ("model.layers.0.self_attn.q_proj.weight", torch.randn(32, 32, generator=g)),
        ("model.layers.0.self_attn.k_proj.weight", torch.randn(16, 32, generator=g).half()),
        ("model.layers.0.mlp.up_proj.weight", torch.randn(48, 32, generator=g).t()),  # made contiguous when written
        ("model.layers.0.input_layernorm.weight", torch.ones(32, dtype=torch.float64)),
        ("model.layers.1.self_attn.q_proj.weight", torch.randn(32, 32, generator=g)),
        ("model.layers.1.rotary.inv_freq", torch.arange(0, 16, dtype=torch.int64)),
        ("model.layers.1.mask", torch.tensor([True, False, True])),
        ("model.norm.weight", torch.full((32,), 0.5)),
        ("model.empty", torch.empty(0, 4)),
        ("model.scale", torch.tensor(3, dtype=torch.int32)),
        ("lm_head.weight", torch.randint(-128, 127, (50, 7), generator=g, dtype=torch.int8)),
    ]
    if big:
        out.append(("big.weight", torch.randint(0, 255, (big,), generator=g, dtype=torch.uint8)))
    return out


def write_shard(path, items):
    header, blobs, off = {}, [], 0
    for name, t in items:
        b = raw(t)
        header[name] = {"dtype": ST_DTYPE[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little"))
        f.write(h)
        for b in blobs:
            f.write(b)


def main(argv):
    outdir = argv[1]
    shards = int(argv[argv.index("--shards") + 1]) if "--shards" in argv else 4
    big = int(argv[argv.index("--big") + 1]) if "--big" in argv else 0
    os.makedirs(outdir, exist_ok=True)
    items = tensors(big)
    weight_map = {}
    for s in range(shards):
        name = "model-%05d-of-%05d.safetensors" % (s + 1, shards)
        part = items[s::shards]
        write_shard(os.path.join(outdir, name), part)
        for n, _ in part:
            weight_map[n] = name
    if "--no-index" not in argv:
        with open(os.path.join(outdir, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": sum(len(raw(t)) for _, t in items)}, "weight_map": weight_map}, f, indent=2)
    with open(os.path.join(outdir, "config.json"), "wb") as f:
        f.write(b'{\r\n  "model_type": "llama",\r\n  "hidden_size": 32\r\n}\r\n')
    with open(os.path.join(outdir, "vocab.json"), "wb") as f:
        f.write('{"<s>": 0, "caf\u00e9": 1}'.encode("utf-8"))
    with open(os.path.join(outdir, "chat_template.jinja"), "wb") as f:
        f.write(b"{% for m in messages %}{{ m['content'] }}\r{% endfor %}")
    with open(os.path.join(outdir, "tokenizer.model"), "wb") as f:
        f.write(bytes([0x0a, 0x8f, 0xff, 0x00, 0xc3]))
    for name, t in items:
        b = raw(t)
        print(name, len(b), hashlib.sha256(b).hexdigest())


if __name__ == "__main__":
    main(sys.argv)
