#!/usr/bin/env bash
# Runs schemathesis against a live node with the node's own /openapi.json: every operation is
# called with generated valid and invalid input; no answer may be a server error, and every
# answer must match the status codes, content types and schemas the description gives.
# scripts/test.sh runs it after the suite with a modest number of examples per operation;
# `EXAMPLES=1000 scripts/api-fuzz.sh` is the long run quoted in notes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
examples=${EXAMPLES:-25}
log() { printf '==> api-fuzz: %s\n' "$*" >&2; }
fail() { log "FAILED: $*"; [ -f "${scratch:-}/serve.log" ] && tail -20 "$scratch/serve.log" >&2; exit 1; }

herald="${CARGO_TARGET_DIR:-$root/target}/debug/herald"
[ -x "$herald" ] || (cd "$root" && cargo build --locked -p herald --bin herald)
python3 -c 'import schemathesis' 2>/dev/null || python3 -m pip install --quiet schemathesis 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages schemathesis
st=$(command -v schemathesis || echo "$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/schemathesis")

source "$root/scripts/lib/scratch-node.sh"
# The sample data gives the fuzzer real templates, crowds and runs to find.
cp -r "$root/sample-data" "$scratch/sample-data"
port=$(free_port)
base="http://127.0.0.1:$port"
(cd "$scratch" && HERALD_SERVER__LISTEN="127.0.0.1:$port" exec "$herald" serve) >"$scratch/serve.log" 2>&1 &
pid=$!
wait_for_node "$base" 60
key=$(api_key_in "$scratch/serve.log")

log "schemathesis, $examples examples an operation, against $base"
# Revoking keys would lock the fuzzer out of the rest of the run (the last admin key is kept, but
# a key it made itself may be the one it revokes first): that one operation is left out.
set +e
(cd "$scratch" && "$st" run "$base/openapi.json" \
    --header "X-API-Key: $key" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-examples "$examples" \
    --exclude-operation-id revoke \
    --request-timeout 20 \
    --seed "${SEED:-1}" \
    --workers 1 \
    --no-color) >"$scratch/schemathesis.log" 2>&1
status=$?
set -e
tail -40 "$scratch/schemathesis.log"
[ -n "${REPORT:-}" ] && cp "$scratch/schemathesis.log" "$REPORT"
grep -q "panicked" "$scratch/serve.log" && fail "the node panicked during the run"
[ "$status" -eq 0 ] || fail "schemathesis found failures (exit $status); the cases are above"
log "no server error, every answer as described"
