-- herald's embedded schema. Every timestamp is INTEGER unix milliseconds (UTC).

CREATE TABLE api_keys (
    id          INTEGER PRIMARY KEY,
    key_hash    TEXT NOT NULL UNIQUE,   -- sha256 hex of the key; the key itself is never stored
    label       TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE crowds (
    id              TEXT PRIMARY KEY,   -- uuid, also the file name in crowd storage
    original_name   TEXT NOT NULL,      -- shown to people only, never used as a path
    receiver_column TEXT NOT NULL,
    columns_json    TEXT NOT NULL,      -- variable columns in header order
    rows            INTEGER NOT NULL,
    valid_rows      INTEGER NOT NULL,
    bad_rows        INTEGER NOT NULL,
    size_bytes      INTEGER NOT NULL,
    created_at      INTEGER NOT NULL
);

CREATE TABLE templates (
    id               INTEGER PRIMARY KEY,
    name             TEXT NOT NULL,
    channel          TEXT NOT NULL,
    channel_account  TEXT,
    msg_type         INTEGER NOT NULL,
    receiver_id_type TEXT NOT NULL,
    content_json     TEXT NOT NULL,
    quiet_hours      TEXT NOT NULL,
    crowd_id         TEXT REFERENCES crowds(id),
    status           TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);

-- Schedules are rows: a template's cron, and later the housekeeping jobs.
CREATE TABLE schedules (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL,               -- 'template' or a housekeeping job kind
    template_id  INTEGER UNIQUE REFERENCES templates(id) ON DELETE CASCADE,
    cron         TEXT NOT NULL,
    timezone     TEXT NOT NULL,
    misfire      TEXT NOT NULL,
    enabled      INTEGER NOT NULL,
    next_fire_at INTEGER,                     -- NULL when disabled or exhausted
    updated_at   INTEGER NOT NULL
);
CREATE INDEX schedules_due ON schedules (next_fire_at) WHERE enabled = 1;

-- The fire ledger: one row per (schedule, scheduled time), written in the same transaction
-- that advances the schedule's next_fire_at.
CREATE TABLE fires (
    id           INTEGER PRIMARY KEY,
    schedule_id  INTEGER NOT NULL REFERENCES schedules(id) ON DELETE CASCADE,
    fire_time    INTEGER NOT NULL,
    claimed_at   INTEGER NOT NULL,
    lateness_ms  INTEGER NOT NULL,
    outcome      TEXT NOT NULL,               -- 'fired', 'misfire_skipped', 'no_crowd'
    run_id       INTEGER,
    UNIQUE (schedule_id, fire_time)
);

CREATE TABLE runs (
    id              INTEGER PRIMARY KEY,
    template_id     INTEGER NOT NULL REFERENCES templates(id) ON DELETE CASCADE,
    fire_id         INTEGER REFERENCES fires(id) ON DELETE SET NULL,
    crowd_id        TEXT NOT NULL,
    status          TEXT NOT NULL,
    rows_total      INTEGER NOT NULL,
    rows_read       INTEGER NOT NULL DEFAULT 0,
    rows_invalid    INTEGER NOT NULL DEFAULT 0,
    batches         INTEGER NOT NULL DEFAULT 0,
    delivered       INTEGER NOT NULL DEFAULT 0,
    failed          INTEGER NOT NULL DEFAULT 0,
    checkpoint_json TEXT NOT NULL DEFAULT '{}',
    lease_owner     TEXT,
    lease_until     INTEGER,
    error           TEXT,
    created_at      INTEGER NOT NULL,
    finished_at     INTEGER
);
CREATE INDEX runs_open ON runs (status) WHERE status IN ('pending', 'streaming');
CREATE INDEX runs_template ON runs (template_id, id);

-- The delivery ledger: one row per message that reached a final state.
CREATE TABLE deliveries (
    message_id   TEXT PRIMARY KEY,
    template_id  INTEGER NOT NULL,
    run_id       INTEGER,
    receiver     TEXT NOT NULL,
    state        TEXT NOT NULL,               -- 'sent' or 'failed'
    detail       TEXT,
    at           INTEGER NOT NULL
);
CREATE INDEX deliveries_run ON deliveries (run_id);

-- What the outbox channel delivered: exactly one row per message.
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY,
    message_id   TEXT NOT NULL UNIQUE,
    template_id  INTEGER NOT NULL,
    run_id       INTEGER,
    receiver     TEXT NOT NULL,
    content_json TEXT NOT NULL,
    delivered_at INTEGER NOT NULL
);
CREATE INDEX outbox_template ON outbox (template_id, id);
CREATE INDEX outbox_run ON outbox (run_id, id);

CREATE TABLE trace (
    id           INTEGER PRIMARY KEY,
    message_id   TEXT NOT NULL,
    template_id  INTEGER NOT NULL,
    run_id       INTEGER,
    receiver     TEXT NOT NULL,
    event        TEXT NOT NULL,
    detail       TEXT,
    at           INTEGER NOT NULL
);
CREATE INDEX trace_message ON trace (message_id, id);
-- A message is accepted once, however often its batch is re-read after a crash.
CREATE UNIQUE INDEX trace_accepted_once ON trace (message_id) WHERE event = 'accepted';
