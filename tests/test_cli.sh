#!/bin/sh
# test_cli - tests of the mcf tool, the examples and the README's code.
#
# `make test` copies this script to build/tools/test_cli and tests/run.sh runs
# it from the repository root. It drives build/tools/mcf (an ASan+UBSan build
# of tools/mcf.c) on the reference files in tests/data, runs every example
# (C and C++ builds) against tests/expected/, compiles the include orders the
# header documents for the Mooncake adapter, builds a consumer project with
# CMake (add_subdirectory and find_package) and pkg-config, and compiles and
# runs every ```c block of README.md. Each check asserts the exact exit status
# and a substring of the output. Last line: "N passed, N failed[, N skipped]".

ROOT=$(pwd)
MCF="$ROOT/build/tools/mcf"
EX="$ROOT/build/examples"
EXX="$ROOT/build/examples-cxx"
ST="$ROOT/tests/data/safetensors"
PT="$ROOT/tests/data/torch"
T="$ROOT/build/tools/cli-tmp"
WARN="-Wall -Wextra -Wpedantic -Wshadow -Wconversion -Werror"
passed=0; failed=0; skipped=0
case "${MCF_TEST_REQUIRE_ALL:-0}" in ""|0) require_all=0 ;; *) require_all=1 ;; esac

rm -rf "$T" && mkdir -p "$T" || { echo "0 passed, 1 failed"; exit 1; }
cd "$T" || exit 1
export ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1

# Python for manifest facts (and PyTorch interop where it has torch).
PY=
for p in /usr/bin/python3 python3; do
    if command -v "$p" >/dev/null 2>&1; then PY=$p; break; fi
done
TORCH=0
if [ -n "$PY" ] && "$PY" -c 'import torch' >/dev/null 2>&1; then TORCH=1; fi

# ---- tiny harness ------------------------------------------------------------
# t NAME CMD...   runs CMD (stdout -> out, stderr -> err, status -> rc) and
#                 starts test NAME; checks follow; `end` records the result.
t() {
    name=$1; shift
    cur_fail=0
    "$@" >"$T/out" 2>"$T/err"
    rc=$?
}
fail() {
    [ "$cur_fail" -eq 0 ] && echo "FAIL $name" >&2
    cur_fail=1
    echo "  $*" >&2
}
rc_is() { [ "$rc" -eq "$1" ] || fail "exit status $rc, expected $1"; }
out_has() { grep -qF -- "$1" "$T/out" || fail "stdout lacks: $1"; }
out_lacks() { ! grep -qF -- "$1" "$T/out" || fail "stdout has: $1"; }
err_has() { grep -qF -- "$1" "$T/err" || fail "stderr lacks: $1"; }
err_empty() { [ ! -s "$T/err" ] || fail "stderr is not empty"; }
out_empty() { [ ! -s "$T/out" ] || fail "stdout is not empty"; }
check() { "$@" || fail "check failed: $*"; }
end() {
    if [ "$cur_fail" -eq 0 ]; then passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "  --- stdout:" >&2; head -c 3000 "$T/out" >&2
        echo "  --- stderr:" >&2; head -c 3000 "$T/err" >&2
    fi
}
skip() {
    if [ "$require_all" -eq 1 ]; then failed=$((failed + 1)); echo "FAIL $1 (skipped, MCF_TEST_REQUIRE_ALL=1): $2" >&2
    else skipped=$((skipped + 1)); echo "  skipped: $1: $2" >&2; fi
}
# Bytes [off, off+len) of a file, to compare with what mcf get writes.
slice() { tail -c +$(($2 + 1)) "$1" | head -c "$3"; }

# ---- usage and help ---------------------------------------------------------
t cli_help "$MCF" --help; rc_is 0; out_has "usage: mcf COMMAND"; out_has "inspect URL [--json]"; err_empty; end
t cli_no_args "$MCF"; rc_is 2; err_has "usage: mcf COMMAND"; out_empty; end
t cli_version "$MCF" --version; rc_is 0; out_has "mcf (mooncake_fileio.h) 0.1.0"; end
for c in inspect convert cp verify get bench; do
    t "cli_help_$c" "$MCF" "$c" --help; rc_is 0; out_has "usage: mcf $c"; err_empty; end
done
t cli_help_convert_strict "$MCF" convert --help; rc_is 0; out_has "  --strict                fail (exit 1, nothing written) if SRC holds non-tensor"; end
t cli_help_cmd "$MCF" help get; rc_is 0; out_has "usage: mcf get URL NAME -o FILE"; end
t cli_unknown_command "$MCF" frobnicate x; rc_is 2; err_has "mcf: unknown command 'frobnicate'"; err_has "Try 'mcf --help'."; out_empty; end
t cli_unknown_option "$MCF" inspect --bogus "$ST/scalar.safetensors"; rc_is 2; err_has "mcf inspect: unknown option '--bogus'"; err_has "Try 'mcf inspect --help'."; end
t cli_option_other_command "$MCF" cp --json a b; rc_is 2; err_has "mcf cp: unknown option '--json'"; end
t cli_missing_arg "$MCF" inspect; rc_is 2; err_has "mcf inspect: missing argument"; end
t cli_missing_args "$MCF" convert; rc_is 2; err_has "mcf convert: missing arguments"; end
t cli_extra_arg "$MCF" verify a b; rc_is 2; err_has "mcf verify: unexpected argument 'b'"; end
t cli_missing_value "$MCF" inspect x --format; rc_is 2; err_has "this option needs a value: '--format'"; end
t cli_get_no_output "$MCF" get "$ST/scalar.safetensors" f32; rc_is 2; err_has "mcf get: missing -o FILE"; end
t cli_unknown_format "$MCF" convert "$ST/scalar.safetensors" x.pt --format xyz; rc_is 2
err_has 'unknown format "xyz"'; err_has "safetensors"; check test ! -e x.pt; end
t cli_unknown_format_inspect "$MCF" inspect --format=zip "$ST/scalar.safetensors"; rc_is 2; err_has 'unknown format "zip"'; end
t cli_bad_storage_option "$MCF" cp -s novalue a b; rc_is 2; err_has "storage option is not KEY=VALUE: 'novalue'"; end
t cli_flag_with_value "$MCF" inspect --json=1 x; rc_is 2; err_has "this option takes no value: '--json'"; end

# ---- inspect ----------------------------------------------------------------
t inspect_safetensors_text "$MCF" inspect "$ST/all_dtypes.safetensors"; rc_is 0
out_has "  format:   safetensors"; out_has "  size:     1262 bytes (1.2 KiB)"; out_has "  tensors:  15 (294 bytes of data)"
out_has "  z_u64      U64      [2, 3]            48           968"
out_has "  z_f8_e4m3  F8_E4M3  [2, 3]             6          1232"
out_has "  z_bool     BOOL     [2, 3]             6          1256"; err_empty; end
t inspect_metadata_text "$MCF" inspect "$ST/metadata_multi.safetensors"; rc_is 0
out_has "  metadata: 6"; out_has "    ctrl = \\x01\\x1f\\x7f"; out_has "    note = line1\\nline2\\ttab"; out_has "    unicode = é中😀"; end
t inspect_torch_text "$MCF" inspect "$PT/nested_mixed.pt"; rc_is 0
out_has "  format:   torch"; out_has "  tensors:  5 (59 bytes of data)"; out_has "  model.layers.1  BOOL   [2]                2          1280"; end
t inspect_torch_bare "$MCF" inspect "$PT/scalar_0d.pt"; rc_is 0; out_has "  (bare tensor)  F32    []                4"; end
t inspect_file_url "$MCF" inspect "file://$ST/scalar.safetensors"; rc_is 0; out_has "  format:   safetensors"; end
t inspect_metadata_only "$MCF" inspect --json "$ST/metadata_only.safetensors"; rc_is 0; out_has '"tensors": [], "metadata": {'; end

# --json against the reference manifests: every tensor's name, dtype, shape,
# byte count and absolute offset, and the metadata, for every fixture.
if [ -n "$PY" ]; then
    for f in $("$PY" -c 'import json,sys; print(" ".join(e["file"] for e in json.load(open(sys.argv[1]))["files"]))' "$ST/manifest.json"); do
        t "inspect_json_$f" "$MCF" inspect --json "$ST/$f"; rc_is 0
        "$PY" - "$ST/manifest.json" "$f" "$T/out" >"$T/py" 2>&1 <<'EOF' || fail "$(cat "$T/py")"
import json, sys
m = [e for e in json.load(open(sys.argv[1]))["files"] if e["file"] == sys.argv[2]][0]
got = json.load(open(sys.argv[3]))
base = 8 + m["header_len"]
want = [{"name": x["name"], "dtype": x["dtype"], "shape": x["shape"],
         "bytes": x["data_offsets"][1] - x["data_offsets"][0], "offset": base + x["data_offsets"][0]} for x in m["tensors"]]
assert got["format"] == "safetensors", got["format"]
assert got["size"] == m["file_len"], (got["size"], m["file_len"])
assert got["tensors"] == want, (got["tensors"], want)
assert got["metadata"] == (m["metadata"] or {}), (got["metadata"], m["metadata"])
EOF
        end
    done
    for f in $("$PY" -c 'import json,sys; print(" ".join(e["file"] for e in json.load(open(sys.argv[1]))["files"] if not e["legacy"] and not e["must_reject"]))' "$PT/manifest.json"); do
        t "inspect_json_$f" "$MCF" inspect --json "$PT/$f"; rc_is 0
        "$PY" - "$PT/manifest.json" "$f" "$T/out" >"$T/py" 2>&1 <<'EOF' || fail "$(cat "$T/py")"
import json, sys
m = [e for e in json.load(open(sys.argv[1]))["files"] if e["file"] == sys.argv[2]][0]
got = json.load(open(sys.argv[3]))
assert got["format"] == "torch" and got["size"] == m["size_bytes"], got
want = [{"name": x["key"] or "", "dtype": x["dtype"], "shape": x["shape"]} for x in m["entries"]]
have = [{"name": x["name"], "dtype": x["dtype"], "shape": x["shape"]} for x in got["tensors"]]
assert have == want, (have, want)
EOF
        end
    done
else
    skip inspect_json_manifests "no python3 to read tests/data/*/manifest.json"
fi

# ---- failures: missing, malformed, unknown, hostile -------------------------
t missing_inspect "$MCF" inspect "$T/nope.safetensors"; rc_is 1
err_has "mcf: file: cannot open \"$T/nope.safetensors\": no such file or directory"; out_empty; end
t missing_verify "$MCF" verify nope.pt; rc_is 1; err_has 'mcf: file: cannot open "nope.pt": no such file or directory'; end
t missing_get "$MCF" get nope.pt w -o out.bin; rc_is 1; err_has 'no such file or directory'; check test ! -e out.bin; end
t missing_convert "$MCF" convert nope.pt out.safetensors; rc_is 1; err_has 'no such file or directory'; check test ! -e out.safetensors; end
t missing_cp "$MCF" cp nope.bin out.bin; rc_is 1; err_has 'mcf: file: cannot open "nope.bin": no such file or directory'; check test ! -e out.bin; end
t missing_memory "$MCF" cp memory://nowhere/x.bin out.bin; rc_is 1; err_has 'memory:///nowhere/x.bin'; end
printf 'hello, this is not a tensor file at all\n' > notes.txt
t unknown_file_format "$MCF" inspect notes.txt; rc_is 1; err_has "mcf: notes.txt: not a safetensors or PyTorch file"; end
t unknown_scheme "$MCF" inspect gopher://host/x.pt; rc_is 1; err_has "mcf: "; err_has "gopher"; end
head -c 500 "$ST/all_dtypes.safetensors" > truncated.safetensors
t malformed_truncated_header "$MCF" verify truncated.safetensors; rc_is 1; err_has "mcf: "; err_has "truncated.safetensors"; out_empty; end
head -c 1200 "$ST/all_dtypes.safetensors" > short.safetensors
t malformed_truncated_data "$MCF" inspect short.safetensors; rc_is 1; err_has "short.safetensors"; err_has "1200"; end
head -c 600 "$PT/dtype_f32.pt" > truncated.pt
t malformed_truncated_zip "$MCF" verify truncated.pt; rc_is 1; err_has "mcf: "; err_has "truncated.pt"; end
# one flipped byte in the tensor data of a .pt: the index is intact, the CRC is not
cp "$PT/dtype_f32.pt" crc.pt && printf '\377' | dd of=crc.pt bs=1 seek=330 conv=notrunc 2>/dev/null
t verify_crc_mismatch "$MCF" verify crc.pt; rc_is 1; err_has "mcf: "; err_has "CRC"; out_empty; end
t inspect_crc_mismatch_ok "$MCF" inspect crc.pt; rc_is 0; out_has "F32"; end
t verify_forbidden_global "$MCF" verify "$PT/malicious_os_system.pt"; rc_is 1; err_has "forbidden global os.system"; end
t verify_forbidden_print "$MCF" verify "$PT/malicious_reduce_print.pt"; rc_is 1; err_has "forbidden global __builtin__.print"; end
t verify_legacy "$MCF" verify "$PT/legacy_format.pt"; rc_is 1; err_has "legacy torch format"; end
t get_unknown_tensor "$MCF" get "$ST/scalar.safetensors" nope -o out.bin; rc_is 1
err_has 'no tensor named "nope"'; err_has "has 4 tensors:"; check test ! -e out.bin; end
t convert_no_overwrite "$MCF" convert --no-overwrite --format torch "$ST/scalar.safetensors" notes.txt; rc_is 1; err_has "already exists"
check grep -q "not a tensor" notes.txt; end
t convert_unsupported_dtype "$MCF" convert "$ST/newer_dtypes.safetensors" newer.pt; rc_is 1; err_has "mcf: "; check test ! -e newer.pt; end
t bench_not_built sh -c "cp '$MCF' ./mcf-copy && ./mcf-copy bench --quick"; rc_is 1; err_has "mcf: ./bench/bench is not built; run 'make bench'"; end
# mcf bench execs the bench program next to it with the arguments after "bench"
mkdir -p fakebench/bench && cp "$MCF" fakebench/mcf && printf '#!/bin/sh\necho "bench args: $*"\n' > fakebench/bench/bench && chmod +x fakebench/bench/bench
t bench_exec fakebench/mcf bench --size 4M --runs 1; rc_is 0; out_has "bench args: --size 4M --runs 1"; end
t bench_exec_dashdash fakebench/mcf bench -- --help; rc_is 0; out_has "bench args: --help"; end

# ---- verify -----------------------------------------------------------------
for f in "$ST"/*.safetensors; do
    b=$(basename "$f")
    t "verify_$b" "$MCF" verify "$f"; rc_is 0; out_has "OK $f: safetensors, "; err_empty; end
done
for f in "$PT"/*.pt; do
    b=$(basename "$f")
    case "$b" in legacy_format.pt|malicious_*) continue ;; esac
    t "verify_$b" "$MCF" verify --no-mmap "$f"; rc_is 0; out_has "OK $f: torch, "; out_has "zip CRC-32 checked"; end
done

# ---- get: raw bytes equal the slice of the file at the reported offset -------
t get_safetensors "$MCF" get "$ST/all_dtypes.safetensors" z_f32 -o z_f32.bin; rc_is 0; out_empty; err_empty
slice "$ST/all_dtypes.safetensors" 1112 24 > z_f32.want; check cmp -s z_f32.bin z_f32.want; end
t get_stdout sh -c "'$MCF' get '$ST/all_dtypes.safetensors' z_bool -o - > z_bool.bin"; rc_is 0
slice "$ST/all_dtypes.safetensors" 1256 6 > z_bool.want; check cmp -s z_bool.bin z_bool.want; end
t get_torch_bare "$MCF" get "$PT/dtype_i64.pt" "" -o i64.bin; rc_is 0; check test "$(wc -c < i64.bin)" -eq 48; end
t get_memory_url "$MCF" get "$PT/dtype_f32.pt" "" -o memory://x/f32.bin; rc_is 0; end
if [ -n "$PY" ]; then
    # every tensor of every torch fixture: sha256 of `mcf get` output = manifest
    # (views, strided slices, shared storages come out contiguous)
    "$PY" -c '
import json, sys
for e in json.load(open(sys.argv[1]))["files"]:
    if e["legacy"] or e["must_reject"]: continue
    for x in e["entries"]: print(e["file"], x["key"] or "-", x["sha256"])' "$PT/manifest.json" > torch_entries.txt
    while read -r f key sha; do
        [ "$key" = "-" ] && key=""
        t "get_sha256_${f}_$key" "$MCF" get "$PT/$f" "$key" -o entry.bin; rc_is 0
        check test "$(sha256sum < entry.bin | cut -d' ' -f1)" = "$sha"; end
    done < torch_entries.txt
else
    skip get_sha256_torch "no python3 to read tests/data/torch/manifest.json"
fi

# ---- get --slice / --as: PyTorch's t[...] and .to() of the same tensors ----------
# one case a line: name | tensor | --slice | --as ("-": none) | the same in Python
cat > slice_cases.txt <<'EOF'
rows_f32|w|0:128,:|F32|w[0:128, :].to(torch.float32)
tail|w|-3:|-|w[-3:]
cols_step_f16|wt|::2,5|F16|wt[::2, 5:6].to(torch.float16)
index_last|h|1,-1|-|h[1:2, -1:]
three_f64|h|:, 1:10:2, -2|F64|h[:, 1:10:2, -2:-1].to(torch.float64)
empty|w|300:|BF16|w[300:]
clamp|w|-1000:2,60:1000:3|-|w[-1000:2, 60:1000:3]
EOF
if [ "$TORCH" -eq 1 ]; then
    "$PY" -c '
import torch
g = torch.Generator().manual_seed(5)
w = (torch.randn(256, 64, generator=g) * 4).to(torch.bfloat16)
h = torch.randn(7, 5, 3, generator=g).to(torch.float16)[1:, ::2]
torch.save({"w": w, "wt": w.t(), "h": h}, "sl.pt")' || echo "torch.save of sl.pt failed" >&2
    "$MCF" convert -q sl.pt sl.safetensors || echo "mcf convert of sl.pt failed" >&2
    for f in sl.pt sl.safetensors; do
        while IFS='|' read -r cname tensor spec as expr; do
            if [ "$as" = "-" ]; then t "get_slice_${cname}_$f" "$MCF" get "$f" "$tensor" --slice "$spec" -o "$cname.$f.bin"
            else t "get_slice_${cname}_$f" "$MCF" get "$f" "$tensor" --slice "$spec" --as "$as" -o "$cname.$f.bin"; fi
            rc_is 0; out_empty; err_empty; end
        done < slice_cases.txt
    done
    # one python process checks every output above byte for byte
    t get_slice_matches_torch "$PY" - slice_cases.txt <<'EOF'; rc_is 0; out_has "14 slices match"; end
import sys, torch
d = torch.load("sl.pt", weights_only=True)
n = 0
for line in open(sys.argv[1]):
    name, tensor, spec, to, expr = line.rstrip("\n").split("|")
    want = eval(expr, {"torch": torch}, d).contiguous()
    if want.dtype == torch.bfloat16:
        want = want.view(torch.int16)
    want = want.numpy().tobytes()
    for f in ("sl.pt", "sl.safetensors"):
        got = open("%s.%s.bin" % (name, f), "rb").read()
        assert got == want, (name, f, len(got), len(want))
        n += 1
print(n, "slices match")
EOF
else
    skip get_slice_matches_torch "no PyTorch (/usr/bin/python3 -c 'import torch')"
fi
t get_slice_zero_step "$MCF" get "$PT/transpose_view.pt" "" --slice '0:1:0' -o x.bin; rc_is 1
err_has "transpose_view.pt: tensor \"\": slice step 0 in dimension 0 must be >= 1"; check test ! -e x.bin; end
t get_slice_unparsable "$MCF" get "$PT/transpose_view.pt" "" --slice '0:2, 1:x' -o x.bin; rc_is 2; err_has "--slice '0:2, 1:x': cannot parse '1:x'"; end
t get_slice_four_parts "$MCF" get "$PT/transpose_view.pt" "" --slice '1:2:3:4' -o x.bin; rc_is 2; err_has "cannot parse"; end
t get_slice_index_range "$MCF" get "$PT/transpose_view.pt" "" --slice '4' -o x.bin; rc_is 1
err_has "index 4 is out of range for dimension 0 of size 4"; end
t get_slice_too_many "$MCF" get "$PT/transpose_view.pt" "" --slice '0,0,0' -o x.bin; rc_is 1
err_has "has 2 dimensions, the slice gives 3"; end
t get_as_unsupported "$MCF" get "$PT/dtype_i64.pt" "" --as I32 -o x.bin; rc_is 1; err_has "no conversion from I64 to I32"; end
t get_as_unknown "$MCF" get "$PT/dtype_i64.pt" "" --as F99 -o x.bin; rc_is 2; err_has "--as 'F99': unknown dtype"; end
t get_as_torch_name "$MCF" get "$PT/transpose_view.pt" "" --slice '-1' --as float64 -o -; rc_is 0
check test "$(wc -c < "$T/out")" -eq 24; end

# ---- cp -----------------------------------------------------------------------
t cp_file "$MCF" cp "$ST/larger.safetensors" "copy dir/larger.safetensors"; rc_is 0
out_has "larger.safetensors"; check cmp -s "$ST/larger.safetensors" "copy dir/larger.safetensors"; end
t cp_file_url "$MCF" cp -q "$ST/larger.safetensors" "file://$T/url%20dir/l.safetensors"; rc_is 0; out_empty
check cmp -s "$ST/larger.safetensors" "url dir/l.safetensors"; end
t cp_no_overwrite "$MCF" cp --no-overwrite "$PT/rank4.pt" notes.txt; rc_is 1; err_has "already exists"; check grep -q "not a tensor" notes.txt; end

# ---- convert ----------------------------------------------------------------
# safetensors -> torch -> safetensors gives the reference serializer's bytes
# back (no metadata; dtypes torch 1.13 has), and real PyTorch loads the .pt.
for f in scalar empty_tensors only_empty no_tensors same_dtype_names pad_0 pad_3 pad_7; do
    t "convert_st_pt_st_$f" "$MCF" convert "$ST/$f.safetensors" "$f.pt"; rc_is 0
    out_has "$f.safetensors (safetensors) -> $f.pt (torch)"
    "$MCF" convert -q "$f.pt" "$f.safetensors" >>"$T/out" 2>>"$T/err" || fail "back-conversion failed"
    check cmp -s "$ST/$f.safetensors" "$f.safetensors"; end
done
# real PyTorch loads every .pt written above (weights_only=True) with the
# manifest's names, shapes and sha256 of the bytes (one process: torch is slow to import)
if [ "$TORCH" -eq 1 ]; then
    t convert_torch_load "$PY" - "$ST/manifest.json" scalar empty_tensors only_empty no_tensors same_dtype_names pad_0 pad_3 pad_7 <<'EOF'; rc_is 0; end
import hashlib, json, sys, torch
files = {e["file"]: e for e in json.load(open(sys.argv[1]))["files"]}
for name in sys.argv[2:]:
    m = files[name + ".safetensors"]
    d = torch.load(name + ".pt", weights_only=True)
    assert sorted(d.keys()) == sorted(x["name"] for x in m["tensors"]), (name, list(d.keys()))
    for x in m["tensors"]:
        v = d[x["name"]]
        assert list(v.shape) == x["shape"], (name, x["name"], v.shape)
        b = v.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes() if v.numel() else b""
        assert hashlib.sha256(b).hexdigest() == x["sha256"], (name, x["name"])
    print(name, "ok")
EOF
else
    skip convert_torch_load "no PyTorch (/usr/bin/python3 -c 'import torch')"
fi
t convert_metadata_note "$MCF" convert "$ST/metadata_multi.safetensors" meta.pt; rc_is 0
err_has "mcf: note: torch files have no metadata; the 6 __metadata__ pairs of"; end
t convert_keep_metadata "$MCF" convert -q "$ST/metadata_multi.safetensors" memory://m/meta.safetensors; rc_is 0; out_empty; err_empty; end
t convert_format_option "$MCF" convert --format pt "$PT/nested_mixed.pt" "nested.safetensors"; rc_is 0
out_has "(torch) -> nested.safetensors (torch): 5 tensors"; end
t convert_torch_to_st "$MCF" convert "$PT/transpose_view.pt" tv.safetensors; rc_is 0
out_has "(torch) -> tv.safetensors (safetensors): 1 tensor, 48 B"
"$MCF" inspect --json tv.safetensors >"$T/out" 2>>"$T/err" || fail "inspect failed"; out_has '"dtype": "F32", "shape": [4, 3], "bytes": 48'; end

# ---- sharded checkpoints: convert to and from shards, inspect, verify ----------
# mixed_many.safetensors (28 tensors, 272 bytes of data) split at 64 bytes.
t shard_convert_split "$MCF" convert "$ST/mixed_many.safetensors" sh/model.safetensors --max-shard-size 64; rc_is 0
out_has "-> sh/model.safetensors.index.json (safetensors, 5 shards + index): 28 tensors"
check test -f sh/model-00001-of-00005.safetensors; check test -f sh/model-00005-of-00005.safetensors; check test ! -e sh/model.safetensors; end
t shard_inspect "$MCF" inspect sh/model.safetensors.index.json; rc_is 0
out_has "format:   safetensors, sharded: 5 shards + index"; out_has "model-00003-of-00005.safetensors"
out_has "tensors:  28 (272 bytes of data)"; out_has "index metadata: 1"; out_has "total_size = 272"; end
t shard_inspect_json "$MCF" inspect --json sh/model.safetensors.index.json; rc_is 0
out_has '"shards": ['; out_has '"url": "sh/model-00001-of-00005.safetensors", "tensors": '; out_has '"shard": 4}'; end
t shard_verify "$MCF" verify sh/model.safetensors.index.json; rc_is 0
out_has "OK sh/model.safetensors.index.json: safetensors, 28 tensors in 5 shards, 272 bytes of data"; end
t shard_convert_join "$MCF" convert sh/model.safetensors.index.json joined.safetensors; rc_is 0
out_has "(safetensors) -> joined.safetensors (safetensors): 28 tensors"
"$MCF" inspect joined.safetensors >>"$T/out" 2>>"$T/err" || fail "joined.safetensors does not open"; out_has "tensors:  28 (272 bytes of data)"
"$MCF" get sh/model.safetensors.index.json dbl -o dbl.sharded >>"$T/out" 2>>"$T/err" || fail "get from the index failed"
"$MCF" get "$ST/mixed_many.safetensors" dbl -o dbl.plain >>"$T/out" 2>>"$T/err" || fail "get from the plain file failed"
check cmp dbl.sharded dbl.plain; end
# many_tensors.pt: 40 tensors, 1312 bytes of data
t shard_convert_one_shard "$MCF" convert -q "$PT/many_tensors.pt" sh2/model.pt --max-shard-size 2KiB; rc_is 0
check test -f sh2/model.pt; check test ! -e sh2/model.pt.index.json; check test ! -e sh2/model-00001-of-00001.pt; end
t shard_convert_kib "$MCF" convert "$PT/many_tensors.pt" sh2/model.pt --max-shard-size 1KiB; rc_is 0
out_has "-> sh2/model.pt.index.json (torch, 2 shards + index): 40 tensors"; check test -f sh2/model-00002-of-00002.pt; end
t shard_convert_fraction "$MCF" convert -q "$PT/many_tensors.pt" sh3/pytorch_model.bin --max-shard-size 0.1kb; rc_is 2
err_has "--max-shard-size takes a size in bytes > 0 such as 5GB, 500MB, 1GiB or 1000000, not '0.1kb'"; end
t shard_convert_torch_bits "$MCF" convert "$PT/many_tensors.pt" sh3/pytorch_model.bin --max-shard-size 1kb; rc_is 0
out_has "-> sh3/pytorch_model.bin.index.json (torch, 7 shards + index)"; check test -f sh3/pytorch_model-00007-of-00007.bin; end
t shard_verify_torch "$MCF" verify sh3/pytorch_model.bin.index.json; rc_is 0
out_has "torch, 40 tensors in 7 shards, 1312 bytes of data, zip CRC-32 checked"; end
for bad in 5XB GB -1 5G; do
    t "shard_bad_size_$bad" "$MCF" convert "$ST/scalar.safetensors" x.safetensors --max-shard-size "$bad"; rc_is 2
    err_has "--max-shard-size takes a size"; end
done
printf '{"weight_map": {"x": "../escape.safetensors"}}' > sh/evil.safetensors.index.json
t shard_verify_hostile "$MCF" verify sh/evil.safetensors.index.json; rc_is 1
err_has 'tensor "x": shard name "../escape.safetensors" contains ".."'; end
rm -f sh/model-00002-of-00005.safetensors
t shard_verify_missing "$MCF" verify sh/model.safetensors.index.json; rc_is 1
err_has 'sh/model.safetensors.index.json: shard "model-00002-of-00005.safetensors" (tensor '; end
if [ "$TORCH" -eq 1 ]; then
    mkdir -p ref
    t shard_pytorch_checkpoint "$PY" "$ROOT/tests/shard_ref.py" make "$T/ref"; rc_is 0; out_has "SHARDS 4"; end
    t shard_verify_pytorch "$MCF" verify ref/ref/pytorch_model.bin.index.json; rc_is 0
    out_has "torch, 13 tensors in 4 shards, 4269 bytes of data, zip CRC-32 checked"; end
    t shard_inspect_pytorch "$MCF" inspect ref/ref/pytorch_model.bin.index.json; rc_is 0
    out_has "format:   torch, sharded: 4 shards + index"; out_has "pytorch_model-00003-of-00004.bin       10           877"; end
    # examples/tp_shard.c on PyTorch's checkpoint: rank 3 of 4 reads the rows PyTorch's t[a:b].float() holds
    t shard_tp_rank_pytorch "$EX/tp_shard" ref/ref/pytorch_model.bin.index.json 3 4; rc_is 0
    out_has "rank 3 loaded 8 weights, 912 bytes of F32"
    "$PY" - ref/ref >"$T/want" 2>>"$T/err" <<'EOF' || fail "python failed"
import json, os, sys, torch
d = sys.argv[1]
index = json.load(open(os.path.join(d, "pytorch_model.bin.index.json")))
for shard in sorted(set(index["weight_map"].values())):
    for k, t in torch.load(os.path.join(d, shard), weights_only=True).items():
        if t.dim() != 2:
            continue
        part = (t.shape[0] + 3) // 4
        s = 0.0
        for x in t[3 * part:4 * part].float().flatten().tolist():
            s += x
        print("%s sum %.9g" % (k, s))
EOF
    while read -r k _ v; do
        grep -F -- "sum $v  (" "$T/out" | grep -qF -- "$k" || fail "tp_shard lacks $k sum $v"
    done <"$T/want"
    check test "$(wc -l <"$T/want")" -eq 8; end
else
    skip shard_pytorch_checkpoint "no PyTorch (/usr/bin/python3 -c 'import torch')"
fi

# ---- hostile text: names, metadata, messages escaped for the terminal ---------
# Real PyTorch and the safetensors format (header JSON written by Python's json)
# carry names and metadata with ESC sequences, a C1 CSI (U+009B), BEL, CR, a
# newline, a bidirectional override, invalid UTF-8 (a lone surrogate, which
# pickle writes with surrogatepass) and valid non-ASCII. Every human output
# escapes them (\x1b, \u009b, \r, \n, \xed, a backslash as \\) and keeps valid
# UTF-8; --json gives the exact strings back through a JSON parser.
# no_raw_controls FILE: FILE is valid UTF-8 without C0 (but newline), DEL,
# C1, line/paragraph separators or bidirectional controls.
no_raw_controls() {
    "$PY" - "$1" >"$T/py" 2>&1 <<'EOF' || fail "raw control characters in $1: $(cat "$T/py")"
import sys
s = open(sys.argv[1], "rb").read().decode("utf-8")
bad = [hex(ord(c)) for c in s if (ord(c) < 0x20 and c != "\n") or 0x7f <= ord(c) <= 0x9f
       or ord(c) in (0x61c, 0x200e, 0x200f) or 0x2028 <= ord(c) <= 0x202e or 0x2066 <= ord(c) <= 0x2069]
assert not bad, bad
EOF
}
if [ "$TORCH" -eq 1 ]; then
    "$PY" - >"$T/py" 2>&1 <<'EOF' || echo "  hostile fixtures: $(cat "$T/py")" >&2
import json, struct, torch
t = torch.arange(3, dtype=torch.float32)
names = ["\x1b[31mRED", "csi\x9b2J", "bel\x07", "cr\rx", "nl\nx", "bidi\u202ex", "bad\udcff", "权重", "é", "back\\slash"]
torch.save({n: t for n in names}, "hostile.pt")
torch.save({"a": {"b\x1b[2J": t}, "a.b\x1b[2J": t}, "hostile_dup.pt")
torch.save({"权重": t, "é": t, "ab": t, "\x1b": t, "😀x": t, "longer_name": t}, "wide.pt")
hdr, off = {}, 0
for n in ["\x1b[31mRED", "csi\x9b2J", "bel\x07", "cr\rx", "nl\nx", "权重", "é"]:
    hdr[n] = {"dtype": "F32", "shape": [1], "data_offsets": [off, off + 4]}
    off += 4
hdr["__metadata__"] = {"title\x1b]0;pwned\x07": "v\x1b[2J\r\nline", "lang": "中文 é"}
h = json.dumps(hdr, ensure_ascii=False).encode("utf-8")
h += b" " * (-len(h) % 8)
open("hostile.safetensors", "wb").write(struct.pack("<Q", len(h)) + h + b"\0" * off)
EOF
    t escape_torch_inspect "$MCF" inspect hostile.pt; rc_is 0; no_raw_controls "$T/out"
    out_has '\x1b[31mRED'; out_has 'csi\u009b2J'; out_has 'bel\x07'; out_has 'cr\rx'; out_has 'nl\nx'; out_has 'bidi\u202ex'
    out_has 'bad\xed\xb3\xbf'; out_has '  权重  '; out_has '  é  '; out_has 'back\\slash  '
    check test "$(wc -l < "$T/out")" -eq 16; end
    t escape_torch_json "$MCF" inspect --json hostile.pt; rc_is 0; no_raw_controls "$T/out"
    "$PY" - "$T/out" >"$T/py" 2>&1 <<'EOF' || fail "$(cat "$T/py")"
import json, sys
got = [x["name"] for x in json.load(open(sys.argv[1], encoding="utf-8"))["tensors"]]
want = ["\x1b[31mRED", "csi\x9b2J", "bel\x07", "cr\rx", "nl\nx", "bidi\u202ex", "bad\ufffd\ufffd\ufffd", "权重", "é", "back\\slash"]
assert got == want, got
EOF
    end
    t escape_get_listing "$MCF" get hostile.pt nope -o nope.bin; rc_is 1; no_raw_controls "$T/err"
    err_has 'has 10 tensors: "\x1b[31mRED" "csi\u009b2J" "bel\x07" "cr\rx" "nl\nx" "bidi\u202ex" "bad\xed\xb3\xbf" "权重" "é" "back\\slash"'
    check test ! -e nope.bin; end
    t escape_error_message "$MCF" inspect hostile_dup.pt; rc_is 1; no_raw_controls "$T/err"
    err_has 'mcf: hostile_dup.pt: duplicate tensor name "a.b\x1b[2J"'; out_empty; end
    t escape_convert_error "$MCF" convert hostile.pt hostile_out.safetensors; rc_is 1; no_raw_controls "$T/err"
    err_has 'tensor name "bad\xed\xb3\xbf" is not valid UTF-8'; check test ! -e hostile_out.safetensors; end
    t escape_safetensors_inspect "$MCF" inspect hostile.safetensors; rc_is 0; no_raw_controls "$T/out"
    out_has '  \x1b[31mRED  F32'; out_has '  csi\u009b2J  F32'; out_has '  权重         F32'; out_has '  é            F32'
    out_has '    title\x1b]0;pwned\x07 = v\x1b[2J\r\nline'; out_has '    lang = 中文 é'; end
    t escape_safetensors_json "$MCF" inspect --json hostile.safetensors; rc_is 0; no_raw_controls "$T/out"
    "$PY" - "$T/out" >"$T/py" 2>&1 <<'EOF' || fail "$(cat "$T/py")"
import json, sys
got = json.load(open(sys.argv[1], encoding="utf-8"))
assert [x["name"] for x in got["tensors"]] == ["\x1b[31mRED", "csi\x9b2J", "bel\x07", "cr\rx", "nl\nx", "权重", "é"], got
assert got["metadata"] == {"title\x1b]0;pwned\x07": "v\x1b[2J\r\nline", "lang": "中文 é"}, got["metadata"]
EOF
    out_has '"csi\u009b2J"'; end
    # a file name is text from outside too: summaries escape it
    cp "$PT/rank4.pt" "$(printf 'name\033[2J.pt')"
    t escape_url_in_summary "$MCF" verify "$(printf 'name\033[2J.pt')"; rc_is 0; no_raw_controls "$T/out"
    out_has 'OK name\x1b[2J.pt: torch, 1 tensor'; end
    # columns line up on a terminal: display width, not bytes (CJK and emoji
    # take two columns, an escape its printed length)
    t inspect_align_wide "$MCF" inspect wide.pt; rc_is 0
    "$PY" - "$T/out" >"$T/py" 2>&1 <<'EOF' || fail "$(cat "$T/py")"
import sys, unicodedata
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
head = [l for l in lines if l.startswith("  name ")][0]
col = head.index("dtype")
def width(s):
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)
rows = [l for l in lines if " F32 " in l]
assert len(rows) == 6, rows
for l in rows:
    assert width(l[:l.index("F32")]) == col, (l, width(l[:l.index("F32")]), col)
EOF
    out_has '  \x1b         F32'; end
else
    skip escape_hostile_names "no PyTorch (/usr/bin/python3 -c 'import torch')"
fi

# ---- one rule for every command ----------------------------------------------
# '-' as cp's destination is stdout, as for get -o -; nothing else is printed there
t cp_stdout sh -c "'$MCF' cp '$ST/larger.safetensors' - > cp_stdout.bin"; rc_is 0; err_empty
check cmp -s "$ST/larger.safetensors" cp_stdout.bin; check test ! -e ./-; end
t cp_stdout_quiet_summary sh -c "'$MCF' cp '$PT/rank4.pt' - | wc -c"; rc_is 0; out_has "$(wc -c < "$PT/rank4.pt")"; end
# convert: the destination's suffix picks the format, an unknown one is refused
t convert_unknown_suffix "$MCF" convert "$PT/rank4.pt" out.gguf; rc_is 2; out_empty
err_has "mcf convert: cannot tell the output format from the name 'out.gguf'"
err_has "the known suffixes are .safetensors, .pt, .pth and .bin"; err_has "--format safetensors"; err_has "Try 'mcf convert --help'."
check test ! -e out.gguf; end
t convert_no_suffix "$MCF" convert --format auto "$PT/rank4.pt" model; rc_is 2; err_has "the name 'model'"; check test ! -e model; end
t convert_unknown_suffix_with_format "$MCF" convert --format safetensors "$PT/rank4.pt" out.gguf; rc_is 0
out_has "-> out.gguf (safetensors): 1 tensor"
"$MCF" inspect out.gguf >"$T/out" 2>&1; out_has "format:   safetensors"; end
t convert_suffix_bin "$MCF" convert "$ST/scalar.safetensors" pytorch_model.bin; rc_is 0; out_has "-> pytorch_model.bin (torch): 4 tensors"; end
t convert_suffix_pth "$MCF" convert "$ST/scalar.safetensors" m.pth; rc_is 0; out_has "-> m.pth (torch)"; end
t convert_suffix_case "$MCF" convert "$PT/rank4.pt" UPPER.SafeTensors; rc_is 0; out_has "-> UPPER.SafeTensors (safetensors)"; end
# the bare tensor of torch.save(t) gets the same name from mcf convert and
# examples/convert.c ("tensor"): the two files are byte-identical
t convert_bare_name "$MCF" convert -q "$PT/rank4.pt" bare_mcf.safetensors; rc_is 0
"$EX/convert" "$PT/rank4.pt" bare_ex.safetensors >/dev/null 2>>"$T/err" || fail "examples/convert failed"
check cmp -s bare_mcf.safetensors bare_ex.safetensors
"$MCF" inspect --json bare_mcf.safetensors >"$T/out" 2>>"$T/err"; out_has '{"name": "tensor", "dtype": "F32", "shape": [2, 3, 4, 5]'; end
t convert_bare_stays_bare "$MCF" convert -q "$PT/rank4.pt" bare.pt; rc_is 0
"$MCF" inspect bare.pt >"$T/out" 2>>"$T/err"; out_has "(bare tensor)  F32    [2, 3, 4, 5]"; end
# convert reports the time it took: a positive duration in us, ms or s, and at
# least the time the test hook sleeps in the progress callback
dur_s() { sed -n 's/.*, \([0-9][0-9.]*\) \([mu]*s\)$/\1 \2/p' "$T/out" | awk '{ v = $1; if ($2 == "ms") v /= 1e3; else if ($2 == "us") v /= 1e6; print v }'; }
t convert_duration "$MCF" convert "$PT/rank4.pt" dur.safetensors; rc_is 0
check awk -v v="$(dur_s)" 'BEGIN { exit !(v > 0) }'; end
t convert_duration_slow sh -c "MCF_PROGRESS_TEST_DELAY_MS=150 '$MCF' convert '$PT/nested_mixed.pt' dur2.safetensors"; rc_is 0
check awk -v v="$(dur_s)" 'BEGIN { exit !(v >= 0.15) }'; end
# -s options a backend does not use are refused, for local files and
# memory:// too (they take none), naming the key, the object and the backend
t storage_option_inspect "$MCF" inspect -s region=us-east-1 "$ST/scalar.safetensors"; rc_is 1; out_empty
err_has "mcf: file: unknown storage option \"region\" for \"$ST/scalar.safetensors\" (local files take no storage options)"; end
t storage_option_verify "$MCF" verify -s anon=1 "$PT/rank4.pt"; rc_is 1; err_has 'unknown storage option "anon"'; out_empty; end
t storage_option_get "$MCF" get -s endpoint_url=http://x "$PT/rank4.pt" "" -o so.bin; rc_is 1
err_has 'unknown storage option "endpoint_url"'; check test ! -e so.bin; end
t storage_option_convert "$MCF" convert -s key=k "$PT/rank4.pt" so.safetensors; rc_is 1
err_has 'unknown storage option "key"'; check test ! -e so.safetensors; end
t storage_option_cp "$MCF" cp --storage-option timeout=5 "$PT/rank4.pt" so.pt; rc_is 1
err_has 'file: unknown storage option "timeout"'; check test ! -e so.pt; end
t storage_option_memory "$MCF" cp -s timeout=5 memory://a/b memory://c/d; rc_is 1
err_has 'mcf: memory: unknown storage option "timeout" for "memory:///a/b" (memory objects take no storage options)'; end
# without libcurl, http(s):// and s3:// say how to rebuild the tool
t no_curl_http "$MCF" inspect http://127.0.0.1:1/x.pt; rc_is 1; out_empty
err_has 'mcf: "http://127.0.0.1:1/x.pt": http:// needs libcurl'; err_has "mcf: this mcf was built without libcurl; 'make CURL=1' rebuilds it"; end
t no_curl_s3_dst "$MCF" convert "$PT/rank4.pt" s3://bucket/x.safetensors; rc_is 1; err_has "s3:// needs libcurl"; err_has "make CURL=1"; end

# ---- non-tensor values of torch checkpoints: listed, noted, --strict ----------
if [ "$TORCH" -eq 1 ]; then
    "$PY" -c '
import torch
torch.manual_seed(0)
m = torch.nn.Linear(3, 2)
opt = torch.optim.SGD(m.parameters(), lr=0.01)
torch.save({"model": m.state_dict(), "optim": opt.state_dict(), "epoch": 3, "lr": 0.001, "name": "adam",
            "size": torch.Size([2, 3]), "\x1b[31mkey": "\x1b[0m"}, "ckpt.pt")
torch.save(torch.nn.Sequential(torch.nn.Linear(2, 2)), "whole_model.pt")' || fail "PyTorch could not write the checkpoints"
    t inspect_values_text "$MCF" inspect ckpt.pt; rc_is 0
    out_has "  tensors:  2 (32 bytes of data)"; out_has "  values:   15 (not tensors; convert drops them)"
    out_has "  name                                 type        value"
    out_has "  optim.state                          dict        {}"
    out_has "  optim.param_groups.0.lr              float       0.01"
    out_has "  optim.param_groups.0.params          list        [0, 1]"
    out_has "  epoch                                int         3"
    out_has "  lr                                   float       0.001"
    out_has "  name                                 str         'adam'"
    out_has "  size                                 torch.Size  torch.Size([2, 3])"
    out_has "  \x1b[31mkey                          str         '\\\\x1b[0m'"; err_empty; end
    t inspect_values_json "$MCF" inspect --json ckpt.pt; rc_is 0
    out_has '"metadata": {}, "values": ['
    out_has '{"name": "optim.param_groups.0.lr", "type": "float", "text": "0.01"}'
    out_has '{"name": "size", "type": "torch.Size", "text": "torch.Size([2, 3])"}'
    out_has '{"name": "\u001b[31mkey", "type": "str", "text": "'"'"'\\x1b[0m'"'"'"}'
    "$PY" -c 'import json, sys; d = json.load(open(sys.argv[1])); assert len(d["values"]) == 15 and len(d["tensors"]) == 2, d' "$T/out" \
        || fail "--json output is not the expected JSON"; end
    t inspect_values_none_safetensors "$MCF" inspect --json "$ST/scalar.safetensors"; rc_is 0; out_has '"values": []}'; end
    t convert_values_note "$MCF" convert ckpt.pt ckpt.safetensors; rc_is 0
    out_has "ckpt.pt (torch) -> ckpt.safetensors (safetensors): 2 tensors"
    err_has "mcf: note: dropped 15 non-tensor values: optim.state (dict), optim.param_groups.0.lr (float), optim.param_groups.0.momentum (int),"
    err_has "optim.param_groups.0.foreach (NoneType), ... (7 more)"; check test -s ckpt.safetensors; end
    t convert_values_strict "$MCF" convert --strict ckpt.pt strict.safetensors; rc_is 1
    err_has "mcf: ckpt.pt holds 15 non-tensor values that strict.safetensors cannot hold (--strict): optim.state (dict),"
    out_empty; check test ! -e strict.safetensors; end
    t convert_values_strict_torch "$MCF" convert --strict ckpt.pt strict.pt; rc_is 1; err_has "(--strict)"; check test ! -e strict.pt; end
    t convert_strict_no_values "$MCF" convert --strict -q ckpt.safetensors back.pt; rc_is 0; err_empty; check test -s back.pt; end
    t inspect_whole_model_hint "$MCF" inspect whole_model.pt; rc_is 1
    err_has "forbidden global torch.nn.modules.container.Sequential (torch.load(weights_only=True) refuses it too; nothing is executed)"
    err_has "save model.state_dict() instead"; out_empty; end
else
    skip values_cli "no PyTorch (/usr/bin/python3 -c 'import torch') to write checkpoints"
fi

# ---- seed: a checkpoint in the key layout of Mooncake's model loader -------------
if [ "$TORCH" -eq 1 ]; then
    "$PY" "$ROOT/tests/torch_checkpoint.py" seedck --shards 2 --no-index > seedck.txt || fail "PyTorch could not write the checkpoint"
    t seed_dry_run "$MCF" seed seedck llama --rank 3 --dry-run; rc_is 0
    out_has "llama/keys/rank_3/model.embed_tokens.weight 4096"
    out_has "llama/keys/rank_3/model.empty 0"; out_has "llama/keys/rank_3/model.layers.1.mask 3"
    out_has "llama/files/config.json 49"; out_has "llama/files/vocab.json 22"; out_lacks "tokenizer.model"
    check test "$(tail -n 1 "$T/out")" = "__index__llama/files/ 78"
    check test "$(grep -c '/keys/rank_3/' "$T/out")" -eq 12
    err_has "mcf seed: dry run: 16 keys, 20528 bytes"; end
    # every tensor's byte count is the one torch reports
    t seed_dry_run_bytes sh -c "'$MCF' seed -q seedck m --rank 0 --dry-run | grep /keys/ | sed 's|^m/keys/rank_0/||' | sort"; rc_is 0; err_empty
    check sh -c "cut -d' ' -f1,2 seedck.txt | sort | cmp -s - '$T/out'"; end
    t seed_dry_run_chunks "$MCF" seed seedck/model-00001-of-00002.safetensors m --rank 0 --chunk-bytes 4000 --dry-run; rc_is 0
    out_has "m/keys/rank_0/model.embed_tokens.weight.__chunk__.0 4000"
    out_has "m/keys/rank_0/model.embed_tokens.weight.__chunk__.1 96"
    out_has "m/keys/rank_0/model.embed_tokens.weight.__chunk_manifest__ 31"
    out_lacks "m/keys/rank_0/model.embed_tokens.weight 4096"; out_lacks "files/"; end
    t seed_dry_run_chunk_exact "$MCF" seed seedck/model-00001-of-00002.safetensors m --rank 0 --chunk-bytes 4096 --dry-run; rc_is 0
    out_has "m/keys/rank_0/model.embed_tokens.weight 4096"; out_lacks "__chunk"; end
    # with model.safetensors.index.json: the directory goes through it, and so does the index named alone
    "$PY" "$ROOT/tests/torch_checkpoint.py" seedidx --shards 3 > /dev/null || fail "PyTorch could not write the checkpoint"
    t seed_dry_run_index_dir "$MCF" seed -q seedidx m --rank 1 --dry-run; rc_is 0; err_empty
    check test "$(grep -c '^m/keys/rank_1/' "$T/out")" -eq 12; out_has "__index__m/files/ 66"; end
    t seed_dry_run_index_file "$MCF" seed seedidx/model.safetensors.index.json m --rank 1 --dry-run; rc_is 0
    check test "$(grep -c '^m/keys/rank_1/' "$T/out")" -eq 12; out_lacks "files/"; err_has "dry run: 12 keys, 20325 bytes"; end
else
    skip seed_cli "no PyTorch (/usr/bin/python3 -c 'import torch') to write the checkpoint"
fi
t seed_missing_rank "$MCF" seed "$ST/scalar.safetensors" m --dry-run; rc_is 2; err_has "mcf seed: missing --rank R"; out_empty; end
t seed_bad_rank "$MCF" seed "$ST/scalar.safetensors" m --rank x1 --dry-run; rc_is 2; err_has "--rank is not a number >= 0: 'x1'"; end
t seed_bad_chunk "$MCF" seed "$ST/scalar.safetensors" m --rank 0 --chunk-bytes -5 --dry-run; rc_is 2
err_has "--chunk-bytes is not a number >= 0: '-5'"; end
t seed_no_client "$MCF" seed "$ST/scalar.safetensors" m --rank 0; rc_is 1; err_has "this mcf has no Mooncake client; pass --dry-run"; out_empty; end
t seed_missing_checkpoint "$MCF" seed nothing-here m --rank 0 --dry-run; rc_is 1
err_has 'mcf: seeding "nothing-here": no such file or directory'; out_empty; end
t seed_not_safetensors "$MCF" seed "$PT/rank4.pt" m --rank 0 --dry-run; rc_is 1
err_has "rank4.pt\": not a .safetensors file, an .index.json or a directory"; out_empty; end
t seed_help "$MCF" seed --help; rc_is 0; out_has "usage: mcf seed CHECKPOINT MODEL --rank R"; end

# mcf seed built with the Mooncake client (here the fake of store_c.h, named
# store_c.h as Mooncake's is): the keys go through the adapter; the fake holds
# 64 keys, so a checkpoint cut into more chunks gets its NO_AVAILABLE_HANDLE back
mkdir -p "$T/mc" && cp "$ROOT/tests/fake_store_c.h" "$T/mc/store_c.h" && {
    printf '#define _POSIX_C_SOURCE 200809L\n#include "store_c.h"\n'; grep -v '#include "fake_store_c.h"' "$ROOT/tests/fake_store_c.c"; } > "$T/mc/client.c"
t seed_mooncake_build gcc -std=c99 $WARN -O1 -DMOONCAKE_FILEIO_MOONCAKE_STORE -I"$T/mc" "$ROOT/tools/mcf.c" "$T/mc/client.c" -o "$T/mc/mcf" -pthread -lm
rc_is 0; err_empty; end
if [ "$TORCH" -eq 1 ]; then
    t seed_mooncake "$T/mc/mcf" seed seedck llama --rank 0; rc_is 0; err_has "mcf seed: done"; out_empty; end
    t seed_mooncake_full "$T/mc/mcf" seed seedck llama --rank 0 --chunk-bytes 64; rc_is 1
    err_has "failed with -200 (NO_AVAILABLE_HANDLE)"; end
    t seed_mooncake_help "$T/mc/mcf" seed --help; rc_is 0; out_has "MOONCAKE_MASTER"; end
fi

# ---- progress bar: only on a terminal, only when slow -----------------------
head -c 4194304 /dev/zero > zeros.bin
t progress_piped sh -c "MCF_PROGRESS_TEST_DELAY_MS=250 '$MCF' cp -q zeros.bin z1.bin"; rc_is 0; err_empty; out_empty; end
if command -v script >/dev/null 2>&1 && script -qfec true /dev/null >/dev/null 2>&1; then
    t progress_tty script -qfec "MCF_PROGRESS_TEST_DELAY_MS=250 '$MCF' cp -q zeros.bin z2.bin" /dev/null; rc_is 0
    out_has "cp       [##########..........]  50%  2.0 MiB / 4.0 MiB"; out_has "ETA "
    out_has "[####################] 100%  4.0 MiB / 4.0 MiB"; out_has "done"; end
    t progress_tty_fast script -qfec "'$MCF' cp -q zeros.bin z3.bin" /dev/null; rc_is 0; out_lacks "%"; out_lacks "MiB"; end
    t progress_tty_convert script -qfec "MCF_PROGRESS_TEST_DELAY_MS=250 '$MCF' convert -q '$PT/rank4.pt' r4.safetensors" /dev/null; rc_is 0
    out_has "convert  [####################] 100%"; end
else
    skip progress_tty "no script(1) to run the tool under a pseudo-terminal"
fi

# ---- examples: C and C++ builds, output checked -------------------------------
for build in "$EX" "$EXX"; do
    lang=c; [ "$build" = "$EXX" ] && lang=cxx
    mkdir -p "$T/ex-$lang" && cd "$T/ex-$lang" || exit 1
    t "example_quickstart_$lang" "$build/quickstart"; rc_is 0; check diff -u "$ROOT/tests/expected/quickstart.txt" "$T/out"
    "$MCF" verify mcf-quickstart/model.pt >/dev/null 2>&1 || fail "quickstart's model.pt does not verify"; end
    t "example_kv_cache_$lang" "$build/kv_cache"; rc_is 0; check diff -u "$ROOT/tests/expected/kv_cache.txt" "$T/out"
    "$MCF" inspect mcf-kv/block.pt >"$T/out" 2>&1 || fail "kv_cache's block.pt does not open"
    out_has "(bare tensor)  BF16   [2, 2, 4, 16, 8]"; end
    t "example_convert_$lang" "$build/convert" "$PT/state_dict_sequential.pt" model.safetensors; rc_is 0
    check diff -u "$ROOT/tests/expected/convert.txt" "$T/out"; end
    t "example_convert_bare_$lang" "$build/convert" "$PT/rank4.pt" rank4.safetensors; rc_is 0; out_has "  tensor                   F32   [2, 3, 4, 5]"; end
    t "example_convert_usage_$lang" "$build/convert"; rc_is 2; err_has "usage:"; end
    t "example_convert_rejects_st_$lang" "$build/convert" "$ST/scalar.safetensors" x.safetensors; rc_is 1; err_has "convert: "; end
    t "example_tp_shard_$lang" "$build/tp_shard"; rc_is 0; check diff -u "$ROOT/tests/expected/tp_shard.txt" "$T/out"
    "$MCF" verify mcf-tp/model.safetensors.index.json >/dev/null 2>&1 || fail "tp_shard's checkpoint does not verify"; end
    t "example_tp_shard_usage_$lang" "$build/tp_shard" x 4 4; rc_is 2; err_has "usage: tp_shard [URL RANK N]"; end
    t "example_demo_$lang" "$build/demo"; rc_is 0
    out_has "demo ok: every file read back identical to what was saved"
    check test "$(grep -c 'ok, identical' "$T/out")" -eq 12
    out_has "ok, byte-identical to a direct save"; out_lacks "FAILED"; end
    cd "$T" || exit 1
done

# ---- remote: the tool and examples/remote.c over HTTP ---------------------------
# nginx on a free 127.0.0.1 port (tests/servers/mcf-servers.sh), stopped by PID.
MCFC="$ROOT/build/tools/mcf-curl"
t example_remote_needs_curl "$EX/remote" http://127.0.0.1:1/x.safetensors; rc_is 2; err_has "build with -DMOONCAKE_FILEIO_CURL"; end
NGINX=${MCF_NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
if [ -x "$NGINX" ] && [ -n "$PY" ]; then
    port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    sh "$ROOT/tests/servers/mcf-servers.sh" nginx "$T/nginx" "$port" >"$T/nginx.log" 2>&1 &
    npid=$!
    trap 'kill "$npid" 2>/dev/null' EXIT
    H="http://127.0.0.1:$port"
    tries=0
    until "$MCFC" cp -q notes.txt "$H/ready.txt" >/dev/null 2>&1; do
        tries=$((tries + 1))
        if [ "$tries" -ge 100 ] || ! kill -0 "$npid" 2>/dev/null; then break; fi
        sleep 0.1
    done
    t remote_cp_put "$MCFC" cp "$ST/larger.safetensors" "$H/m/larger.safetensors"; rc_is 0; out_has "$H/m/larger.safetensors"; end
    t remote_inspect "$MCFC" inspect --json "$H/m/larger.safetensors"; rc_is 0
    "$MCFC" inspect --json "$ST/larger.safetensors" | sed 's/^{"url": "[^"]*"//' > local.json
    sed 's/^{"url": "[^"]*"//' "$T/out" > remote.json; check cmp -s local.json remote.json; end
    t remote_cp_get "$MCFC" cp "$H/m/larger.safetensors" back.safetensors; rc_is 0; check cmp -s "$ST/larger.safetensors" back.safetensors; end
    t remote_convert "$MCFC" convert -q "$PT/nested_mixed.pt" "$H/m/nested.pt"; rc_is 0; end
    t remote_verify "$MCFC" verify "$H/m/nested.pt"; rc_is 0; out_has "OK $H/m/nested.pt: torch, 5 tensors, 59 bytes of data, zip CRC-32 checked"; end
    t remote_get "$MCFC" get "$H/m/nested.pt" model.w -o - ; rc_is 0
    "$MCFC" get "$PT/nested_mixed.pt" model.w -o local_w.bin 2>/dev/null; check cmp -s "$T/out" local_w.bin; end
    "$MCFC" cp -q "$PT/transpose_view.pt" "$H/m/tv.pt" >/dev/null 2>&1
    t remote_get_slice "$MCFC" get "$H/m/tv.pt" "" --slice '1:3,::2' --as F64 -o - ; rc_is 0
    "$MCFC" get "$PT/transpose_view.pt" "" --slice '1:3,::2' --as F64 -o local_tv.bin 2>/dev/null
    check test "$(wc -c < local_tv.bin)" -eq 32; check cmp -s "$T/out" local_tv.bin; end
    t remote_convert_to_st "$MCFC" convert -q "$H/m/nested.pt" "$H/m/nested.safetensors"; rc_is 0
    "$MCFC" convert -q "$PT/nested_mixed.pt" nested_local.safetensors 2>/dev/null
    "$MCFC" cp -q "$H/m/nested.safetensors" nested_remote.safetensors 2>/dev/null
    check cmp -s nested_local.safetensors nested_remote.safetensors; end
    # -s goes to the remote side only (the local source takes none), and the
    # http backend still refuses a key it does not use
    t remote_storage_option_remote_side "$MCFC" cp -s timeout=30 -s retries=1 "$ST/larger.safetensors" "$H/m/so.safetensors"; rc_is 0
    "$MCFC" cp -q "$H/m/so.safetensors" so_back.safetensors 2>>"$T/err"; check cmp -s "$ST/larger.safetensors" so_back.safetensors; end
    t remote_storage_option_convert "$MCFC" convert -q -s timeout=30 "$H/m/so.safetensors" so_local.pt; rc_is 0; end
    t remote_storage_option_unknown "$MCFC" cp -s region=x "$ST/larger.safetensors" "$H/m/so2.safetensors"; rc_is 1
    err_has 'mcf: http: unknown storage option "region"'; end
    t remote_missing "$MCFC" inspect "$H/m/nope.pt"; rc_is 1; err_has "mcf: "; err_has "$H/m/nope.pt"; out_empty; end
    t remote_needs_curl "$MCF" inspect "$H/m/nested.pt"; rc_is 1; err_has "mcf: "; err_has "http"; end
    # a sharded checkpoint written to nginx and read back through its index
    t remote_shard_convert "$MCFC" convert "$PT/many_tensors.pt" "$H/sh/model.safetensors" --max-shard-size 1KiB; rc_is 0
    out_has "-> $H/sh/model.safetensors.index.json (safetensors, 2 shards + index): 40 tensors"; end
    t remote_shard_inspect "$MCFC" inspect "$H/sh/model.safetensors.index.json"; rc_is 0
    out_has "format:   safetensors, sharded: 2 shards + index"; out_has "model-00002-of-00002.safetensors"; end
    t remote_shard_verify "$MCFC" verify "$H/sh/model.safetensors.index.json"; rc_is 0
    out_has "safetensors, 40 tensors in 2 shards, 1312 bytes of data"; end
    t remote_shard_join "$MCFC" convert -q "$H/sh/model.safetensors.index.json" joined_remote.pt; rc_is 0
    "$MCFC" convert -q "$PT/many_tensors.pt" sh_local.safetensors --max-shard-size 1KiB 2>>"$T/err"
    "$MCFC" convert -q sh_local.safetensors.index.json joined_local.pt 2>>"$T/err"
    check cmp -s joined_remote.pt joined_local.pt; end
    t example_remote_http_st "$ROOT/build/examples-curl/remote" "$H/models/demo.safetensors"; rc_is 0
    out_has "$H/models/demo.safetensors (safetensors, 2 tensors)"; out_has "layer.bias = [1 2 3 ... 8]"; out_has "open + one tensor: "; end
    t example_remote_http_pt "$ROOT/build/examples-curl/remote" "$H/models/demo.pt"; rc_is 0
    out_has "$H/models/demo.pt (torch, 2 tensors)"; out_has "layer.bias = [1 2 3 ... 8]"; end
    kill "$npid" 2>/dev/null; wait "$npid" 2>/dev/null; trap - EXIT
else
    skip remote_http "no nginx (apt-get install nginx) or no python3 to pick a free port"
fi
# A server that ignores Range: python3 -m http.server answers every GET with
# 200 and the whole file; inspect and get still read what the local file holds.
if [ -n "$PY" ]; then
    pyport=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    mkdir -p "$T/pyhttp" && cp "$ST/larger.safetensors" "$T/pyhttp/"
    sh "$ROOT/tests/servers/mcf-servers.sh" python-http "$T/pyhttp" "$pyport" >"$T/pyhttp.log" 2>&1 &
    pypid=$!
    trap 'kill "$pypid" 2>/dev/null' EXIT
    P="http://127.0.0.1:$pyport"
    tries=0
    until "$MCFC" inspect "$P/larger.safetensors" >/dev/null 2>&1; do
        tries=$((tries + 1))
        if [ "$tries" -ge 100 ] || ! kill -0 "$pypid" 2>/dev/null; then break; fi
        sleep 0.1
    done
    t remote_no_range_inspect "$MCFC" inspect --json "$P/larger.safetensors"; rc_is 0
    "$MCFC" inspect --json "$ST/larger.safetensors" | sed 's/^{"url": "[^"]*"//' > no_range_local.json
    sed 's/^{"url": "[^"]*"//' "$T/out" > no_range_remote.json; check cmp -s no_range_local.json no_range_remote.json; end
    t remote_no_range_get "$MCFC" get "$P/larger.safetensors" big_f32 -o -; rc_is 0
    "$MCFC" get "$ST/larger.safetensors" big_f32 -o no_range_f32.bin 2>/dev/null
    check test "$(wc -c < no_range_f32.bin)" -eq 4096; check cmp -s "$T/out" no_range_f32.bin; end
    kill "$pypid" 2>/dev/null; wait "$pypid" 2>/dev/null; trap - EXIT
else
    skip remote_no_range "no python3 for python3 -m http.server"
fi

# ---- include order with store_c.h, as the header and README state it -----------
# The adapter's file may include store_c.h (here tests/fake_store_c.h, the same
# interface) after the header, or first when the feature macros come first;
# store_c.h first without them stops at the header's #error under strict C99.
mkdir -p "$T/order" && cd "$T/order" || exit 1
IMPL='#define MOONCAKE_FILEIO_IMPLEMENTATION
#define MOONCAKE_FILEIO_MOONCAKE_STORE
#include "mooncake_fileio.h"'
FEAT='#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE 1
#define _FILE_OFFSET_BITS 64'
printf '%s\n#include "fake_store_c.h"\n' "$IMPL" > impl_first.c
printf '%s\n#include "fake_store_c.h"\n%s\n' "$FEAT" "$IMPL" > store_first.c
printf '#include "fake_store_c.h"\n%s\n' "$IMPL" > store_first_bare.c
printf '#define _POSIX_C_SOURCE 200809L\n#include "fake_store_c.h"\n%s\n' "$IMPL" > store_first_posix_only.c
printf '#include "fake_store_c.h"\n#define MOONCAKE_FILEIO_MOONCAKE_STORE\n#include "mooncake_fileio.h"\nint f(void *h) { mcf_store s; return mcf_mooncake_store_init(&s, h); }\n' > user_store_first.c
printf '#define MOONCAKE_FILEIO_MOONCAKE_STORE\n#include "mooncake_fileio.h"\n#include "fake_store_c.h"\nint f(void *h) { mcf_store s; return mcf_mooncake_store_init(&s, h); }\n' > user_header_first.c
INC="-I$ROOT -I$ROOT/tests"
for cc in gcc clang; do
    for f in impl_first store_first user_store_first user_header_first; do
        t "order_${f}_$cc" $cc -std=c99 $WARN $INC -c $f.c -o $f-$cc.o; rc_is 0; err_empty; end
    done
    t "order_store_first_bare_$cc" $cc -std=c99 $WARN $INC -c store_first_bare.c -o x.o
    rc_is 1; err_has "the implementation file must include mooncake_fileio.h before any system header"; end
done
for f in impl_first store_first; do
    t "order_${f}_cxx" g++ -x c++ -std=c++11 $WARN $INC -c $f.c -o $f-cxx.o; rc_is 0; err_empty; end
done
# 32-bit: off_t must be 64-bit, so _FILE_OFFSET_BITS belongs to the list
if command -v i686-linux-gnu-gcc >/dev/null 2>&1; then
    t order_store_first_i386 i686-linux-gnu-gcc -std=c99 $WARN $INC -c store_first.c -o x32.o; rc_is 0; err_empty; end
    t order_impl_first_i386 i686-linux-gnu-gcc -std=c99 $WARN $INC -c impl_first.c -o x32.o; rc_is 0; err_empty; end
    t order_posix_only_i386 i686-linux-gnu-gcc -std=c99 $WARN $INC -c store_first_posix_only.c -o x32.o
    rc_is 1; err_has "it needs _FILE_OFFSET_BITS=64 for files over 2 GiB"; end
else
    skip order_i386 "no i686-linux-gnu-gcc (apt-get install gcc-i686-linux-gnu)"
fi
cd "$T" || exit 1

# ---- CMake and pkg-config: the header as a package ---------------------------------
# tests/cmake/consumer (one C file with the implementation, a save/load round
# trip) built with real CMake through add_subdirectory and, after
# cmake --install, through find_package; then compiled with the flags of the
# installed mooncake_fileio.pc. Each way also with libcurl. Build trees go to
# build/cmake-test. The consumer's directory has no copy of the header, so
# each build uses the one its way provides.
if command -v cmake >/dev/null 2>&1 && command -v pkg-config >/dev/null 2>&1; then
    CM="$ROOT/build/cmake-test"
    CON="$ROOT/tests/cmake/consumer"
    VER=$(sed -n 's/^#define MCF_VERSION_STRING "\(.*\)"/\1/p' "$ROOT/mooncake_fileio.h")
    rm -rf "$CM" && mkdir -p "$CM"
    # add_subdirectory, without and with libcurl
    for curl in OFF ON; do
        case $curl in ON) want="curl: yes (0 requests)" ;; *) want="curl: no" ;; esac
        t "cmake_subdir_${curl}_configure" cmake -S "$CON" -B "$CM/sub-$curl" -DMCF_SOURCE_DIR="$ROOT" -DMOONCAKE_FILEIO_WITH_CURL=$curl
        rc_is 0; end
        t "cmake_subdir_${curl}_build" cmake --build "$CM/sub-$curl"; rc_is 0; end
        t "cmake_subdir_${curl}_runs" "$CM/sub-$curl/consumer" "$CM/sub-$curl.safetensors"
        rc_is 0; out_has "consumer $VER: round trip ok, $want"; end
    done
    # cmake --install, then find_package and pkg-config
    for curl in OFF ON; do
        case $curl in ON) want="curl: yes (0 requests)" ;; *) want="curl: no" ;; esac
        P="$CM/prefix-$curl"
        t "cmake_install_${curl}_configure" cmake -S "$ROOT" -B "$CM/lib-$curl" -DMOONCAKE_FILEIO_WITH_CURL=$curl; rc_is 0; end
        t "cmake_install_$curl" cmake --install "$CM/lib-$curl" --prefix "$P"; rc_is 0; end
        t "cmake_install_${curl}_files" ls "$P/include" "$P/share/cmake/mooncake_fileio" "$P/share/pkgconfig"; rc_is 0
        out_has "mooncake_fileio.h"; out_has "mooncake_fileio-config.cmake"; out_has "mooncake_fileio-config-version.cmake"
        out_has "mooncake_fileio-targets.cmake"; out_has "mooncake_fileio.pc"
        check cmp -s "$ROOT/mooncake_fileio.h" "$P/include/mooncake_fileio.h"; end
        t "cmake_find_package_${curl}_configure" cmake -S "$CON" -B "$CM/pkg-$curl" -DCMAKE_PREFIX_PATH="$P"; rc_is 0; end
        t "cmake_find_package_${curl}_build" cmake --build "$CM/pkg-$curl" -- VERBOSE=1; rc_is 0; out_has "$P/include"; end
        t "cmake_find_package_${curl}_runs" "$CM/pkg-$curl/consumer" "$CM/pkg-$curl.safetensors"
        rc_is 0; out_has "consumer $VER: round trip ok, $want"; end
        t "pkgconfig_${curl}_flags" env PKG_CONFIG_PATH="$P/share/pkgconfig" pkg-config --cflags --libs mooncake_fileio
        rc_is 0; out_has "-I"; out_has "-pthread"
        if [ $curl = ON ]; then out_has "-DMOONCAKE_FILEIO_CURL"; out_has "-lcurl"; else out_lacks "CURL"; out_lacks "curl"; fi
        flags=$(cat "$T/out"); end
        t "pkgconfig_${curl}_includedir" env PKG_CONFIG_PATH="$P/share/pkgconfig" pkg-config --variable=includedir mooncake_fileio
        rc_is 0; check test -f "$(cat "$T/out")/mooncake_fileio.h"; check test "$(cd "$(cat "$T/out")" && pwd -P)" = "$(cd "$P/include" && pwd -P)"; end
        t "pkgconfig_${curl}_compiles" sh -c "gcc -std=c99 $WARN '$CON/consumer.c' $flags -o '$CM/pc-$curl'"; rc_is 0; err_empty; end
        t "pkgconfig_${curl}_runs" "$CM/pc-$curl" "$CM/pc-$curl.safetensors"; rc_is 0; out_has "consumer $VER: round trip ok, $want"; end
    done
    # the version file: a newer minor version is not this package
    mkdir -p "$CM/newer"
    printf 'cmake_minimum_required(VERSION 3.14)\nproject(newer LANGUAGES C)\nfind_package(mooncake_fileio 0.99 REQUIRED)\n' > "$CM/newer/CMakeLists.txt"
    t cmake_find_package_version cmake -S "$CM/newer" -B "$CM/newer/build" -DCMAKE_PREFIX_PATH="$CM/prefix-OFF"
    rc_is 1; err_has "mooncake_fileio"; err_has "0.99"; end
else
    skip cmake_package "no cmake or pkg-config (apt-get install cmake pkg-config)"
fi

# ---- README: every ```c block compiles (C99 and C++11) and runs ----------------
# A block with main() is a program; a block defining the implementation is a
# translation unit (a main is appended); any other block is the body of main
# after the implementation and <stdio.h>/<string.h>/<stdlib.h>. The programs
# run in order in one directory (a later block may read what an earlier one
# wrote). ```cpp blocks (code that links with Mooncake) are compiled with -c.
mkdir -p "$T/readme/run" && cd "$T/readme" || exit 1
# the implementation once per language; body-only blocks link with it
t readme_impl_c99 gcc -x c -std=c99 $WARN -I"$ROOT" -c "$ROOT/tests/impl.c" -o impl-c.o; rc_is 0; end
t readme_impl_cxx g++ -x c++ -std=c++11 $WARN -I"$ROOT" -c "$ROOT/tests/impl.c" -o impl-cxx.o; rc_is 0; end
awk -v dir="$T/readme" '
    /^```c[ \t]*$/ { n++; f = sprintf("%s/block%02d.c.txt", dir, n); inb = 1; next }
    /^```cpp[ \t]*$/ { n++; f = sprintf("%s/block%02d.cpp.txt", dir, n); inb = 1; next }
    /^```/ && inb { inb = 0; close(f); next }
    inb { print > f }' "$ROOT/README.md"
nblocks=0
for b in "$T"/readme/block*.txt; do
    [ -f "$b" ] || continue
    nblocks=$((nblocks + 1))
    n=$(basename "$b" .txt)
    case "$n" in
    *.cpp)
        t "readme_${n}_compiles" g++ -x c++ -std=c++11 $WARN -I"$ROOT" -c "$b" -o "$n.o"; rc_is 0; end
        t "readme_${n}_clang" clang++ -x c++ -std=c++11 $WARN -I"$ROOT" -c "$b" -o "$n.o"; rc_is 0; end
        continue ;;
    esac
    src="$T/readme/$n"
    impl_c=impl-c.o; impl_cxx=impl-cxx.o
    if grep -q 'MOONCAKE_FILEIO_IMPLEMENTATION' "$b"; then
        impl_c=; impl_cxx=
        if grep -q 'main(' "$b"; then cp "$b" "$src"
        else { cat "$b"; printf '\nint main(void) { return 0; }\n'; } > "$src"; fi
    elif grep -q 'main(' "$b"; then cp "$b" "$src"
    else
        { printf '#include "mooncake_fileio.h"\n#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\nint main(void)\n{\n'
          cat "$b"; printf '    return 0;\n}\n'; } > "$src"
    fi
    t "readme_${n}_c99" gcc -x c -std=c99 $WARN -I"$ROOT" "$src" -x none $impl_c -o "$n.bin" -pthread -lm; rc_is 0; end
    t "readme_${n}_cxx" g++ -x c++ -std=c++11 $WARN -I"$ROOT" "$src" -x none $impl_cxx -o "$n-cxx.bin" -pthread -lm; rc_is 0; end
    cd run || exit 1
    t "readme_${n}_runs" "../$n.bin"; rc_is 0; end
    cd "$T/readme" || exit 1
done
t readme_has_blocks test "$nblocks" -ge 8; rc_is 0; end
cd "$T" || exit 1

# ---- README and the header's ERRORS manual state one out-parameter rule ----------
# The paragraph from "Out-parameters are written" to "fails midway." reads the
# same in both (comment stars, backticks and line breaks aside).
out_param_rule() {
    sed -n '/Out-parameters are written/,/fails midway\./p' "$1" | sed 's/^ \* //; s/`//g' | tr '\n' ' ' |
        sed 's/  */ /g; s/^.*\(Out-parameters are written\)/\1/; s/\(fails midway\.\).*$/\1/'
}
rule_readme=$(out_param_rule "$ROOT/README.md"); rule_header=$(out_param_rule "$ROOT/mooncake_fileio.h")
t doc_out_param_rule_same test -n "$rule_header" -a "$rule_readme" = "$rule_header"; rc_is 0
[ "$cur_fail" -eq 0 ] || printf '  README: %s\n  header: %s\n' "$rule_readme" "$rule_header" >&2; end
t doc_out_param_rule_exact printf '%s\n' "$rule_header"; rc_is 0
out_has "a failed call leaves them as they were, with these exceptions: mcf_open and mcf_open_memory set *r to NULL"
out_has "mcf_store_get_into sets *len so; the store batches mcf_store_put_tensors and mcf_store_get_tensors fill results and out for every key"
out_has "mcf_moon_encode_layout set *written to the size needed when they return MCF_BUFFER_OVERFLOW"
out_lacks "set to NULL on failure"; end

# ---- the repository stands alone: a clone has nothing beside it ------------------
# Every file the tests, tools and docs use lives in the repository; none names
# the directory beside it or an absolute path of the machine it was written on.
if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
    t repo_no_outside_paths git -C "$ROOT" grep -lIE -e '\.\./shared' -e "$(dirname "$ROOT")/"
    rc_is 1; out_empty; end
fi

# ---- build/mcf (the user's build) works too ---------------------------------------
t plain_build_inspect "$ROOT/build/mcf" inspect "$PT/rank4.pt"; rc_is 0; out_has "F32    [2, 3, 4, 5]"; end

if [ "$skipped" -gt 0 ]; then echo "$passed passed, $failed failed, $skipped skipped"; else echo "$passed passed, $failed failed"; fi
[ "$failed" -eq 0 ]
