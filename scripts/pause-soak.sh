#!/usr/bin/env bash
# Pauses a large crowd run mid-way, keeps it paused, resumes it and counts at the receiver
# (crates/herald/tests/run_pause.rs, the embedded test, with HERALD_PAUSE_ROWS rows; the suite
# runs it with 20,000). Prints how long the pause took to answer, how many requests arrived
# after the answer while paused (at most the sends in flight, 16), how many messages the run
# held, and, once resumed and completed, what the receiver got (every row once).
#
#   scripts/pause-soak.sh                               # 1,000,000 rows, receiver answering at once
#   HERALD_PAUSE_ROWS=200000 HERALD_PAUSE_DELAY_MS=5 scripts/pause-soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${HERALD_PAUSE_ROWS:-1000000}"
delay="${HERALD_PAUSE_DELAY_MS:-0}"
HERALD_PAUSE_ROWS="$rows" HERALD_PAUSE_DELAY_MS="$delay" \
    cargo test --workspace --all-features --profile suite --locked --test run_pause -- --nocapture \
    a_paused_run_sends_nothing_until_resumed_then_every_row_once_on_the_embedded_node
