#!/bin/sh
# Runs every test binary of each variant (arguments: name:dir) from the
# repository root, echoes each binary's summary and prints the grand total
# as the last line: "N passed, N failed[, N skipped]". MCF_TEST_RUNNER, if
# set, prefixes each binary (qemu-aarch64-static, wine64: see make cross).
total_p=0; total_f=0; total_s=0; broken=0
for spec in "$@"; do
    name=${spec%%:*}; dir=${spec#*:}
    for bin in "$dir"/test_*; do
        [ -x "$bin" ] || continue
        out=$($MCF_TEST_RUNNER "$bin" 2>"$dir/$(basename "$bin").log"); status=$?
        last=$(printf '%s\n' "$out" | tail -n 1)
        p=$(printf '%s' "$last" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
        f=$(printf '%s' "$last" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
        s=$(printf '%s' "$last" | sed -n 's/.* \([0-9]*\) skipped.*/\1/p')
        if [ -z "$p" ] || [ -z "$f" ]; then
            echo "[$name] $(basename "$bin"): crashed or printed no summary (exit $status)"; broken=$((broken+1))
            tail -n 20 "$dir/$(basename "$bin").log"; continue
        fi
        s=${s:-0}
        if [ "$f" -ne 0 ] || [ "$status" -ne 0 ]; then
            echo "[$name] $(basename "$bin"): $last (exit $status)"; cat "$dir/$(basename "$bin").log"
            [ "$f" -eq 0 ] && broken=$((broken+1))
        else
            echo "[$name] $(basename "$bin"): $last"
            grep -h '^  skipped' "$dir/$(basename "$bin").log" | sed "s/^/[$name] $(basename "$bin"):/"
        fi
        total_p=$((total_p+p)); total_f=$((total_f+f)); total_s=$((total_s+s))
    done
done
total_f=$((total_f+broken))
if [ "$total_s" -gt 0 ]; then echo "$total_p passed, $total_f failed, $total_s skipped"; else echo "$total_p passed, $total_f failed"; fi
[ "$total_f" -eq 0 ]
