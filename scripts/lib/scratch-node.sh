# Shared by the scripts that run a herald node in a scratch directory (api-fuzz.sh,
# readme-check.sh, node-memory.sh): the directory and the node's pid, both cleaned up on exit,
# a free port, waiting for the node to answer and the API key it printed at first start.
# Source it after defining `fail`; start the node in the background and set `pid=$!`.

scratch=$(mktemp -d)
pid=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$scratch"
}
trap cleanup EXIT

# A TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for_node BASE SECONDS: until BASE/healthz answers; fails when the node exits first or
# does not answer in time.
wait_for_node() {
    local base=$1 seconds=$2
    for _ in $(seq 1 "$seconds"); do
        curl -sf "$base/healthz" >/dev/null 2>&1 && return 0
        kill -0 "$pid" 2>/dev/null || fail "the node exited before answering"
        sleep 1
    done
    fail "the node did not answer within $seconds s"
}

# api_key_in LOG: the admin API key a node printed in LOG at first start.
api_key_in() {
    local key
    key=$(grep -o 'hk_[A-Za-z0-9_]*' "$1" | head -1)
    [ -n "$key" ] || fail "no API key was printed at first start (in $1)"
    printf '%s\n' "$key"
}
