#!/usr/bin/env bash
# Runs each property-test target with many generated cases (PROPTEST_CASES, default
# 1,000,000 per test) and prints the time and result of each. The test suite runs the same
# tests with proptest's default of 256 cases. The suite's build profile; expect about a
# minute per million cases per test on two cores.
#
#   scripts/fuzz-props.sh              # every target, a million cases each
#   PROPTEST_CASES=10000 scripts/fuzz-props.sh
set -uo pipefail
cd "$(dirname "$0")/.."
cases="${PROPTEST_CASES:-1000000}"

# package, cargo test selector, test-name filter, what it covers
targets=(
    "herald-crowd|--test csv_props||crowd CSV parser and reader"
    "herald-core|--test placeholder_props||placeholder renderer"
    "herald-core|--test cron_properties||cron parser"
    "herald-api|--lib|send::props|/send and /batchSend decoders"
    "herald-api|--lib|decoder_props|template, account and flow-control decoders"
)

cargo test --all-features --profile suite -p herald-crowd -p herald-core -p herald-api --no-run -q || exit 1
failed=0
printf '%-46s %10s %10s  %s\n' "target" "cases" "seconds" "result"
for target in "${targets[@]}"; do
    IFS='|' read -r package selector filter what <<<"$target"
    log="$(mktemp)"
    started=$(date +%s)
    # shellcheck disable=SC2086 # the selector is two words on purpose
    if PROPTEST_CASES="$cases" cargo test --all-features --profile suite -q -p "$package" $selector -- $filter >"$log" 2>&1; then
        result="passed ($(grep -o '[0-9]* passed' "$log" | tail -1))"
    else
        result="FAILED (log: $log)"
        failed=1
    fi
    printf '%-46s %10s %10s  %s\n' "$what" "$cases" "$(($(date +%s) - started))" "$result"
    case "$result" in passed*) rm -f "$log" ;; esac
done
exit "$failed"
