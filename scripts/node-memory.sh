#!/usr/bin/env bash
# The node's own memory over one large send, as a user runs it: a release `herald serve` on the
# embedded default in a scratch directory, a generated crowd (`userId,name,code`) uploaded with
# curl, a template on the outbox channel, run-now, and the process's peak RSS (VmHWM, reset just
# before the run) with the times to published and completed. BENCHMARKS.md quotes its figures.
#   scripts/node-memory.sh [ROWS ...]      (default: 1000000 5000000; one fresh node per size)
# HERALD_BIN picks the binary (default target/release/herald, built if missing).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
log() { printf '==> node-memory: %s\n' "$*" >&2; }
fail() { log "FAILED: $*"; exit 1; }
if [ -n "${HERALD_BIN:-}" ]; then
    [ -x "$HERALD_BIN" ] || fail "HERALD_BIN=$HERALD_BIN is not an executable"
    bin=$(realpath "$HERALD_BIN")
else
    bin=$root/target/release/herald
    [ -x "$bin" ] || (cd "$root" && cargo build --release -p herald --bin herald) || fail "could not build $bin"
fi
[ "$#" -gt 0 ] || set -- 1000000 5000000

source "$root/scripts/lib/scratch-node.sh"

hwm_kib() { awk '/^VmHWM/ { print $2 }' "/proc/$pid/status"; }
# Resident now: anonymous (heap, stacks) and file-backed (the binary's pages), in MiB.
resident() { awk '/^Rss(Anon|File)/ { printf "%s %.1f MiB ", $1, $2 / 1024 }' "/proc/$pid/status"; }
json() { python3 -c "import json, sys; print(json.load(sys.stdin)$1)"; }
now() { date +%s.%N; }

one_size() {
    local rows=$1 dir="$scratch/$1" port key base crowd template run status published="" started
    mkdir -p "$dir"
    python3 - "$rows" >"$dir/crowd.csv" <<'EOF'
import sys
out = sys.stdout
out.write("userId,name,code\n")
for n in range(1, int(sys.argv[1]) + 1):
    out.write(f"139{n:08},用户{n},{n * 7 % 1000000:06}\n")
EOF
    port=$(free_port)
    base="http://127.0.0.1:$port"
    (cd "$dir" && HERALD_SAMPLE_DATA__LOAD=false HERALD_SERVER__LISTEN="127.0.0.1:$port" HERALD_LOG__FILTER=warn \
        exec "$bin" serve) >"$dir/serve.log" 2>&1 &
    pid=$!
    wait_for_node "$base" 60
    key=$(api_key_in "$dir/serve.log")
    crowd=$(curl -sf -H "X-API-Key: $key" -F "file=@$dir/crowd.csv;type=text/csv" "$base/api/crowds" | json '["crowd"]["id"]')
    log "$rows rows: crowd $crowd uploaded, VmHWM $(hwm_kib) KiB after the upload"
    template=$(curl -sf -H "X-API-Key: $key" -H 'Content-Type: application/json' "$base/api/templates" \
        -d "{\"name\": \"memory $rows\", \"channel\": \"outbox\", \"crowdId\": \"$crowd\",
             \"content\": {\"title\": \"Hi {\$name}\", \"body\": \"Your code is {\$code}\"}}" | json '["id"]')
    echo 5 >"/proc/$pid/clear_refs"
    started=$(now)
    run=$(curl -sf -X POST -H "X-API-Key: $key" -H 'Content-Type: application/json' -d '{}' \
        "$base/api/templates/$template/run" | json '["runId"]')
    while :; do
        status=$(curl -sf -H "X-API-Key: $key" "$base/api/runs/$run" | json '["status"]')
        case "$status" in
            published) [ -n "$published" ] || published=$(now) ;;
            completed) break ;;
            failed | cancelled) fail "run $run ended $status" ;;
        esac
        sleep 0.2
    done
    local done_at; done_at=$(now)
    [ -n "$published" ] || published=$done_at
    curl -sf -H "X-API-Key: $key" "$base/api/runs/$run" >"$dir/run.json"
    python3 - "$rows" "$started" "$published" "$done_at" "$(hwm_kib)" "$dir/run.json" "$(resident)" <<'EOF'
import json, sys
rows, started, published, done, hwm = int(sys.argv[1]), *map(float, sys.argv[2:5]), int(sys.argv[5])
run = json.load(open(sys.argv[6]))
assert run["delivered"] == rows and run["failed"] == 0, f"run ended with {run}"
print(f"{rows} rows: published {published - started:.1f} s, completed {done - started:.1f} s "
      f"({rows / (done - started):,.0f} rows/s), VmHWM over the run {hwm / 1024:.1f} MiB; at the end {sys.argv[7]}")
EOF
    kill "$pid" && wait "$pid" 2>/dev/null || true
    pid=""
    rm -rf "$dir"
}

for rows in "$@"; do one_size "$rows"; done
