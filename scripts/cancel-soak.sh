#!/usr/bin/env bash
# Cancels a large crowd run mid-way and counts at the receiver (crates/herald/tests/run_cancel.rs,
# the embedded test, with HERALD_CANCEL_ROWS rows; the suite runs it with 100,000). Prints how
# long the cancel took to answer, how many requests arrived after the answer (at most the
# sends in flight, 16), what the receiver got and what ended cancelled.
#
#   scripts/cancel-soak.sh                          # 1,000,000 rows
#   HERALD_CANCEL_ROWS=5000000 scripts/cancel-soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${HERALD_CANCEL_ROWS:-1000000}"
HERALD_CANCEL_ROWS="$rows" cargo test --workspace --all-features --profile suite --locked --test run_cancel -- \
    --nocapture a_cancelled_run_sends_nothing_after_the_answer_on_the_embedded_node
