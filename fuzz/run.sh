#!/bin/sh
# Runs each libFuzzer target for SECONDS (first argument) on its seed corpus,
# with the CI limits: a crash, leak, 5 s timeout or 512 MB RSS (or a single
# malloc above it) fails. Prints executions per target; exit 1 on any finding.
# Findings are copied to build/fuzz/artifacts/ (crash-*, leak-*, timeout-*, oom-*).
# A finding, once fixed, goes to tests/data/regress/ with a line in its EXPECT
# file: tests/test_regress.c replays every input there in each test variant,
# and the targets below take them as seeds.
secs=$1; shift
B=build/fuzz
mkdir -p $B/artifacts
cat fuzz/json.dict fuzz/pickle.dict > $B/formats.dict
status=0
for t in "$@"; do
    corpus=$B/corpus/$t
    mkdir -p "$corpus"
    case $t in
        fuzz_url) seeds="fuzz/seeds/url/*"; dict=fuzz/url.dict; maxlen=4096 ;;
        fuzz_safetensors) seeds="tests/data/safetensors/*.safetensors tests/data/regress/*"; dict=fuzz/json.dict; maxlen=65536 ;;
        fuzz_torch) seeds="tests/data/torch/*.pt tests/data/regress/*"; dict=fuzz/pickle.dict; maxlen=65536 ;;
        fuzz_pickle) seeds="fuzz/seeds/pickle/*"; dict=fuzz/pickle.dict; maxlen=65536 ;;
        fuzz_moon) seeds="fuzz/seeds/moon/*"; dict=""; maxlen=65536 ;;
        fuzz_index) seeds="fuzz/seeds/index/*"; dict=fuzz/index.dict; maxlen=4096 ;;
        *) seeds="tests/data/safetensors/*.safetensors tests/data/torch/*.pt tests/data/regress/*"; dict=$B/formats.dict; maxlen=65536 ;;
    esac
    for f in $seeds; do [ -f "$f" ] && cp -n "$f" "$corpus/" 2>/dev/null; done
    log=$B/$t.log
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
        ./$B/$t -max_total_time="$secs" -rss_limit_mb=512 -malloc_limit_mb=512 -timeout=5 -max_len=$maxlen \
        ${dict:+-dict=$dict} -artifact_prefix=$B/artifacts/$t- -print_final_stats=1 "$corpus" >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
    if [ $rc -ne 0 ]; then
        status=1
        echo "$t: FAILED (exit $rc) after ${runs:-?} executions"
        grep -E 'ERROR|SUMMARY|Test unit written|contract broken' "$log" | head -n 10
    else
        echo "$t: ${runs:-?} executions in ${secs} s (${speed:-?}/s, $cov, corpus $(ls "$corpus" | wc -l) inputs), no findings"
    fi
done
exit $status
