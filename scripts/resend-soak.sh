#!/usr/bin/env bash
# Resends the failed tenth of a large crowd run and counts at the receiver
# (crates/herald/tests/resend_failed.rs with HERALD_RESEND_ROWS rows; the suite runs it with
# 2,000). Prints how long the resend took to answer (the failed rows marked from the ledger and
# copied into a new crowd file); the test then checks that every failed receiver got exactly one
# more request and every other none.
#
#   scripts/resend-soak.sh                          # 200,000 rows, 20,000 resent
#   HERALD_RESEND_ROWS=1000000 scripts/resend-soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${HERALD_RESEND_ROWS:-200000}"
HERALD_RESEND_ROWS="$rows" cargo test --workspace --all-features --profile suite --locked --test resend_failed -- \
    --nocapture a_resend_reaches_exactly_the_failed_receivers_once_more
