#!/usr/bin/env bash
# The cluster topology of docker-compose.yml, as processes on this machine: PostgreSQL and Redis
# (the local servers), a Kafka-protocol peer (herald-kafka-mock: librdkafka's mock cluster, three
# brokers), an S3 API server (moto), and N herald nodes, each `herald serve` with
# config/cluster.toml and HERALD_* overrides. The multi-process tests drive it; so can you.
#
#   scripts/local-cluster.sh up DIR [--nodes N]    start everything; state, logs and pids in DIR
#   scripts/local-cluster.sh kill DIR I [SIGNAL]   send SIGNAL (default KILL) to node I
#   scripts/local-cluster.sh start DIR I           start node I again, as it was first started
#   scripts/local-cluster.sh down DIR              stop every process of the cluster
#
# `up` writes DIR/cluster.env (API_KEY, NODES, NODE_<i>_URL, NODE_<i>_PID, KAFKA_BROKERS, ...).
# Settings (environment):
#   HERALD_BIN, HERALD_KAFKA_MOCK_BIN  binaries (default target/debug/..., built with --features cluster)
#   DATABASE_URL    the PostgreSQL database the nodes share (default: a fresh database named
#                   after DIR on HERALD_TEST_POSTGRES_URL's server)
#   REDIS_URL       default redis://127.0.0.1:6379 (keys under a prefix unique to DIR)
#   NODE_ROLES      roles per node, space separated (default: every node runs every role)
#   KAFKA_PARTITIONS  partitions of each channel topic in the Kafka mock (default 6). The mock
#                   keeps at most 5 MiB of each partition's log and drops the oldest messages
#                   past that, read or not; a run publishing far ahead of its delivery needs more.
#   Any other HERALD_<SECTION>__<KEY> variable reaches every node (e.g. HERALD_STREAMER__LEASE_SECS).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'local-cluster: %s\n' "$*" >&2; exit 1; }

# The PostgreSQL server's admin database, where cluster databases are created and dropped.
admin_url() { echo "${HERALD_TEST_POSTGRES_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres}"; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
    local seconds=$1 what=$2; shift 2
    for _ in $(seq 1 $((seconds * 10))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
    die "$what did not come up within ${seconds}s"
}

binaries() {
    [ -n "${HERALD_BIN:-}" ] && [ -n "${HERALD_KAFKA_MOCK_BIN:-}" ] && HERALD_BIN_GIVEN=1
    HERALD_BIN="${HERALD_BIN:-$ROOT/target/debug/herald}"
    HERALD_KAFKA_MOCK_BIN="${HERALD_KAFKA_MOCK_BIN:-$ROOT/target/debug/herald-kafka-mock}"
    # The cluster backends are a cargo feature (the README's `cargo run` builds without them), so
    # the default binaries are (re)built with it; cargo makes this a no-op when they are current.
    if [ -z "${HERALD_BIN_GIVEN:-}" ]; then
        log "building herald with the cluster backends"
        (cd "$ROOT" && cargo build -p herald --bins --features cluster --locked)
    fi
}

start_node() { # start_node DIR I
    local dir=$1 i=$2
    # shellcheck disable=SC1090
    (set -a; . "$dir/node-$i.env"; set +a
     exec "$HERALD_BIN" --config "$ROOT/config/cluster.toml" serve --roles "$ROLES") \
        >>"$dir/node-$i.log" 2>&1 &
    echo $! >"$dir/node-$i.pid"
}

node_ready() { # node_ready DIR I: the API answers, or (no api role) the process is alive after start
    local dir=$1 i=$2
    # shellcheck disable=SC1090
    . "$dir/node-$i.env"
    kill -0 "$(cat "$dir/node-$i.pid")" 2>/dev/null || return 1
    case ",$ROLES," in
        *,api,*) curl -fsS "http://$HERALD_SERVER__LISTEN/healthz" >/dev/null ;;
        *) grep -q '^herald node .* started' "$dir/node-$i.log" ;;
    esac
}

up() {
    local dir=$1; shift
    local nodes=3
    while [ $# -gt 0 ]; do
        case "$1" in
            --nodes) nodes=$2; shift 2 ;;
            *) die "unknown option $1" ;;
        esac
    done
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    [ -e "$dir/cluster.env" ] && die "$dir already holds a cluster; run down first"
    binaries
    local id
    id="c$(printf '%s' "$dir" | sha256sum | cut -c1-10)"

    local database_url="${DATABASE_URL:-}"
    if [ -z "$database_url" ]; then
        local admin; admin=$(admin_url)
        PGOPTIONS='--client-min-messages=warning' psql "$admin" -qc "DROP DATABASE IF EXISTS herald_$id WITH (FORCE)" >/dev/null
        PGOPTIONS='--client-min-messages=warning' psql "$admin" -qc "CREATE DATABASE herald_$id" >/dev/null
        database_url="${admin%/*}/herald_$id"
        echo "herald_$id" >"$dir/created-database"
    fi
    local redis_url="${REDIS_URL:-redis://127.0.0.1:6379}"

    log "starting the Kafka mock cluster"
    "$HERALD_KAFKA_MOCK_BIN" --bootstrap-file "$dir/kafka.bootstrap" --partitions "${KAFKA_PARTITIONS:-6}" \
        >"$dir/kafka.log" 2>&1 &
    echo $! >"$dir/kafka.pid"
    wait_for 30 "the Kafka mock cluster" test -s "$dir/kafka.bootstrap"

    log "starting the S3 API server (moto)"
    python3 -c 'import moto.server' 2>/dev/null || die "moto's server is missing: python3 -m pip install 'moto[server]'"
    local s3_port
    s3_port=$(free_port)
    python3 -c 'import sys; from moto.server import main; main(sys.argv[1:])' -H 127.0.0.1 -p "$s3_port" \
        >"$dir/s3.log" 2>&1 &
    echo $! >"$dir/s3.pid"
    wait_for 60 "moto" curl -fsS "http://127.0.0.1:$s3_port/"
    curl -fsS -X PUT "http://127.0.0.1:$s3_port/herald-crowds" >/dev/null

    local sealing_key
    sealing_key=$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')
    local common="$dir/common.env"
    # Settings given to `up` (HERALD_<SECTION>__<KEY>) are kept, so `start` brings a node back
    # with them too; the cluster's own wiring below comes after and wins.
    local name
    : >"$common"
    for name in $(compgen -e | grep -E '^HERALD_[A-Z0-9_]+__'); do
        printf '%s=%q\n' "$name" "${!name}" >>"$common"
    done
    cat >>"$common" <<EOF
HERALD_DATABASE__URL=$database_url
HERALD_BUS__KAFKA__BROKERS=$(cat "$dir/kafka.bootstrap")
HERALD_BUS__KAFKA__CREATE_TOPICS=false
HERALD_BUS__KAFKA__GROUP_ID=herald-workers-$id
HERALD_REDIS__URL=$redis_url
HERALD_REDIS__KEY_PREFIX=herald-$id
HERALD_CROWD__S3__ENDPOINT=http://127.0.0.1:$s3_port
HERALD_CROWD__S3__ACCESS_KEY_ID=local
HERALD_CROWD__S3__SECRET_ACCESS_KEY=local-secret
HERALD_SECURITY__SEALING_KEY=$sealing_key
HERALD_SECURITY__SEALING_KEY_FILE=$dir/herald.key
EOF

    log "migrating and creating an API key"
    (set -a; . "$common"; set +a
     HERALD_CROWD__DIR="$dir/cli" HERALD_CROWD__S3__LOCAL_CACHE_DIR="$dir/cli/cache" \
        "$HERALD_BIN" --config "$ROOT/config/cluster.toml" migrate >/dev/null
     HERALD_CROWD__DIR="$dir/cli" HERALD_CROWD__S3__LOCAL_CACHE_DIR="$dir/cli/cache" \
        "$HERALD_BIN" --config "$ROOT/config/cluster.toml" apikey create --label local-cluster) \
        | tail -n 1 >"$dir/api-key"
    [ -s "$dir/api-key" ] || die "no API key was created"

    read -r -a roles <<<"${NODE_ROLES:-}"
    {
        echo "API_KEY=$(cat "$dir/api-key")"
        echo "NODES=$nodes"
        echo "KAFKA_BROKERS=$(cat "$dir/kafka.bootstrap")"
        echo "S3_ENDPOINT=http://127.0.0.1:$s3_port"
        echo "DATABASE_URL=$database_url"
    } >"$dir/cluster.env.partial"
    for i in $(seq 1 "$nodes"); do
        local port role="${roles[$((i - 1))]:-api,scheduler,worker}"
        port=$(free_port)
        mkdir -p "$dir/node-$i"
        { cat "$common"
          echo "ROLES=$role"
          echo "HERALD_SERVER__LISTEN=127.0.0.1:$port"
          echo "HERALD_CROWD__DIR=$dir/node-$i/crowds"
          echo "HERALD_CROWD__S3__LOCAL_CACHE_DIR=$dir/node-$i/cache"
        } >"$dir/node-$i.env"
        start_node "$dir" "$i"
        echo "NODE_${i}_URL=http://127.0.0.1:$port" >>"$dir/cluster.env.partial"
        echo "NODE_${i}_ROLES=$role" >>"$dir/cluster.env.partial"
    done
    for i in $(seq 1 "$nodes"); do
        wait_for 60 "node $i (log: $dir/node-$i.log)" node_ready "$dir" "$i"
        echo "NODE_${i}_PID=$(cat "$dir/node-$i.pid")" >>"$dir/cluster.env.partial"
    done
    mv "$dir/cluster.env.partial" "$dir/cluster.env"
    log "cluster up: $nodes nodes; see $dir/cluster.env"
}

stop_pid_file() { # stop_pid_file FILE: TERM, then KILL after 10 s
    local file=$1 pid
    [ -f "$file" ] || return 0
    pid=$(cat "$file")
    if kill -TERM "$pid" 2>/dev/null; then
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$file"
}

down() {
    local dir=$1
    [ -d "$dir" ] || return 0
    for file in "$dir"/node-*.pid; do stop_pid_file "$file"; done
    stop_pid_file "$dir/kafka.pid"
    stop_pid_file "$dir/s3.pid"
    # The cluster's Redis keys (dedup windows, ledger window, rates, tokens) go with it: a
    # million-row run leaves a million ledger keys, and later clusters get new prefixes.
    if [ -f "$dir/common.env" ]; then
        local redis_url prefix
        redis_url=$(sed -n 's/^HERALD_REDIS__URL=//p' "$dir/common.env")
        prefix=$(sed -n 's/^HERALD_REDIS__KEY_PREFIX=//p' "$dir/common.env")
        if [ -n "$prefix" ] && command -v redis-cli >/dev/null; then
            redis-cli -u "$redis_url" --scan --pattern "$prefix:*" \
                | xargs -r -n 5000 redis-cli -u "$redis_url" unlink >/dev/null 2>&1 || true
        fi
    fi
    if [ -f "$dir/created-database" ]; then
        local admin; admin=$(admin_url)
        PGOPTIONS='--client-min-messages=warning' psql "$admin" -qc "DROP DATABASE IF EXISTS $(cat "$dir/created-database") WITH (FORCE)" >/dev/null 2>&1 || true
        rm -f "$dir/created-database"
    fi
    rm -f "$dir/cluster.env"
}

command=${1:-}; shift || true
case "$command" in
    up) [ $# -ge 1 ] || die "usage: $0 up DIR [--nodes N]"; up "$@" ;;
    down) [ $# -eq 1 ] || die "usage: $0 down DIR"; down "$1" ;;
    kill)
        [ $# -ge 2 ] || die "usage: $0 kill DIR I [SIGNAL]"
        kill "-${3:-KILL}" "$(cat "$1/node-$2.pid")"
        ;;
    start)
        [ $# -eq 2 ] || die "usage: $0 start DIR I"
        binaries
        start_node "$1" "$2"
        wait_for 60 "node $2" node_ready "$1" "$2"
        sed -i "/^NODE_$2_PID=/d" "$1/cluster.env"
        echo "NODE_$2_PID=$(cat "$1/node-$2.pid")" >>"$1/cluster.env"
        ;;
    *) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
