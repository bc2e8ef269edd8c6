#!/bin/sh
# Runs the cross legs of `make cross`. Each argument is "name|dir|runner":
# the test binaries in dir run through tests/run.sh with MCF_TEST_RUNNER set
# to runner (qemu-<cpu>-static, wine64, or empty for native). Prints every
# leg's output, then one "[name] N passed, N failed" line per leg, then the
# grand total as the last line (the same shape as `make test`).
# Interop tests that need real PyTorch or servers may skip on these legs (with
# the reason printed), so CI's MCF_TEST_REQUIRE_ALL=1 does not apply here unless
# MCF_CROSS_REQUIRE_ALL=1 asks for it.
MCF_TEST_REQUIRE_ALL=${MCF_CROSS_REQUIRE_ALL:-0}; export MCF_TEST_REQUIRE_ALL
total_p=0; total_f=0; total_s=0; summary=""
for leg in "$@"; do
    name=${leg%%|*}; rest=${leg#*|}; dir=${rest%%|*}; runner=${rest#*|}
    echo "== $name ($runner)"
    start=$(date +%s)
    out=$(MCF_TEST_RUNNER="$runner" sh tests/run.sh "$name:$dir"); status=$?
    printf '%s\n' "$out"
    last=$(printf '%s\n' "$out" | tail -n 1 | tr -d '\r')
    p=$(printf '%s' "$last" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
    f=$(printf '%s' "$last" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
    s=$(printf '%s' "$last" | sed -n 's/.* \([0-9]*\) skipped.*/\1/p')
    if [ -z "$p" ] || [ -z "$f" ]; then p=0; f=1; fi
    [ "$status" -ne 0 ] && [ "$f" -eq 0 ] && f=1
    total_p=$((total_p+p)); total_f=$((total_f+f)); total_s=$((total_s+${s:-0}))
    summary="$summary[$name] $last ($(( $(date +%s) - start )) s)
"
done
printf '%s' "$summary"
if [ "$total_s" -gt 0 ]; then echo "$total_p passed, $total_f failed, $total_s skipped"; else echo "$total_p passed, $total_f failed"; fi
[ "$total_f" -eq 0 ]
