#!/usr/bin/env bash
# Runs the README's run command exactly as written, in a scratch copy of the repository (the
# committed tree), and checks what the README promises a new user: an API key printed once,
# the sample schedule's first delivery within 60 s of the node answering and within 5 minutes
# of the command starting, build included, and the README's curl lines answering JSON.
# scripts/test.sh runs it after the test suite; the suite builds in its own profile, so on a
# fresh clone this build is as cold as a new user's (only the crates' downloads are shared).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
log() { printf '==> readme: %s\n' "$*" >&2; }
fail() { log "FAILED: $*"; [ -f "${scratch:-}/serve.log" ] && tail -20 "$scratch/serve.log" >&2; exit 1; }

# The first line of the README's first sh block, without its comment.
line=$(awk '/^```sh$/ { inside = 1; next } inside { print; exit }' "$root/README.md")
run_command=$(printf '%s' "${line%%#*}" | sed 's/[[:space:]]*$//')
[ "$run_command" = "cargo run -p herald -- serve" ] || fail "the README's first command is now '$run_command'; update this check"

source "$root/scripts/lib/scratch-node.sh"
if git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
    git -C "$root" archive HEAD | tar -x -C "$scratch"
else
    cp -r "$root/." "$scratch" && rm -rf "$scratch/target" "$scratch/data"
fi

port=$(free_port)
base="http://127.0.0.1:$port"
log "running '$run_command' in $scratch (listening on $port)"
launched=$(date +%s)
(
    cd "$scratch"
    export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}" HERALD_SERVER__LISTEN="127.0.0.1:$port"
    exec bash -c "$run_command"
) >"$scratch/serve.log" 2>&1 &
pid=$!

# Building may take minutes on a cold cache; the clock for the first delivery starts once it answers.
wait_for_node "$base" 900
key=$(api_key_in "$scratch/serve.log")

started=$(date +%s)
delivered=""
while [ $(( $(date +%s) - started )) -lt 60 ]; do
    answer=$(curl -s -H "X-API-Key: $key" "$base/api/outbox?limit=3")
    if printf '%s' "$answer" | python3 -c 'import json, sys; sys.exit(0 if json.load(sys.stdin)["items"] else 1)' 2>/dev/null; then
        delivered=$(( $(date +%s) - started ))
        break
    fi
    sleep 1
done
[ -n "$delivered" ] || fail "no sample delivery in the outbox within 60 s"
total=$(( $(date +%s) - launched ))
log "first sample delivery ${delivered} s after the node answered, ${total} s after the command started (build included)"
[ "$total" -le 300 ] || fail "the first delivery came ${total} s after the command started, build included; a new user must see one within 5 minutes"

# The README's curl lines (its first-minute block), against this node, each answering JSON.
checked=0
while IFS= read -r curl_line; do
    command=$(printf '%s' "${curl_line%%  #*}" | sed "s|127.0.0.1:8080|127.0.0.1:$port|")
    out=$(HERALD_API_KEY="$key" bash -c "$command") || fail "'$command' failed"
    printf '%s' "$out" | python3 -c 'import json, sys; json.load(sys.stdin)' 2>/dev/null \
        || fail "'$command' did not answer JSON: ${out:0:200}"
    checked=$((checked + 1))
done < <(awk '/^```sh$/ { n++ } n == 2 && /^curl -s -H/' "$root/README.md")
[ "$checked" -ge 3 ] || fail "found $checked curl lines in the README's first-minute block"
log "ok: the run command, the key, a delivery and $checked curl lines"
