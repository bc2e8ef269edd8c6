#!/bin/sh
# Runs each test binary (arguments after the valgrind command line) under
# valgrind memcheck from the repository root; prints each binary's summary and
# fails on any memcheck error or definite/indirect leak (exit 1).
vg=$1; shift
status=0
for bin in "$@"; do
    log=$bin.valgrind.log
    $vg --log-file="$log" "$bin" >"$bin.valgrind.out" 2>&1; rc=$?
    last=$(tail -n 1 "$bin.valgrind.out")
    if [ $rc -ne 0 ] || [ -s "$log" ]; then
        echo "[valgrind] $(basename "$bin"): FAILED (exit $rc): $last"; cat "$log"; tail -n 20 "$bin.valgrind.out"; status=1
    else
        echo "[valgrind] $(basename "$bin"): $last, 0 memcheck errors, 0 leaks"
    fi
done
exit $status
