#!/bin/sh
# test_cli - tests of the mcf tool, the examples and the README's code.
#
# `make test` copies this script to build/tools/test_cli and tests/run.sh runs
# it from the repository root. It drives build/tools/mcf (an ASan+UBSan build
# of tools/mcf.c) on the reference files in tests/data, runs every example
# (C and C++ builds) against tests/expected/, and compiles and runs every
# ```c block of README.md. Each check asserts the exact exit status and a
# substring of the output. Last line: "N passed, N failed[, N skipped]".

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
t convert_no_overwrite "$MCF" convert --no-overwrite "$ST/scalar.safetensors" notes.txt; rc_is 1; err_has "already exists"
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
    out_has "  \x1b[31mkey                          str         '\x1b[0m'"; err_empty; end
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
    t remote_convert_to_st "$MCFC" convert -q "$H/m/nested.pt" "$H/m/nested.safetensors"; rc_is 0
    "$MCFC" convert -q "$PT/nested_mixed.pt" nested_local.safetensors 2>/dev/null
    "$MCFC" cp -q "$H/m/nested.safetensors" nested_remote.safetensors 2>/dev/null
    check cmp -s nested_local.safetensors nested_remote.safetensors; end
    t remote_missing "$MCFC" inspect "$H/m/nope.pt"; rc_is 1; err_has "mcf: "; err_has "$H/m/nope.pt"; out_empty; end
    t remote_needs_curl "$MCF" inspect "$H/m/nested.pt"; rc_is 1; err_has "mcf: "; err_has "http"; end
    t example_remote_http_st "$ROOT/build/examples-curl/remote" "$H/models/demo.safetensors"; rc_is 0
    out_has "$H/models/demo.safetensors (safetensors, 2 tensors)"; out_has "layer.bias = [1 2 3 ... 8]"; out_has "open + one tensor: "; end
    t example_remote_http_pt "$ROOT/build/examples-curl/remote" "$H/models/demo.pt"; rc_is 0
    out_has "$H/models/demo.pt (torch, 2 tensors)"; out_has "layer.bias = [1 2 3 ... 8]"; end
    kill "$npid" 2>/dev/null; wait "$npid" 2>/dev/null; trap - EXIT
else
    skip remote_http "no nginx (apt-get install nginx) or no python3 to pick a free port"
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
