-- herald's cluster schema: the same tables as the embedded one (migrations/sqlite/0001_init.sql),
-- shared by every node. Times are timestamptz (UTC instants); ids are identity BIGINTs.
-- Claiming (fires, run leases) relies on row locks with SKIP LOCKED, never a global lock row.

CREATE TABLE api_keys (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key_hash    TEXT NOT NULL UNIQUE,   -- sha256 hex of the key; the key itself is never stored
    label       TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE crowds (
    id              TEXT PRIMARY KEY,   -- uuid, also the object name in crowd storage
    original_name   TEXT NOT NULL,      -- shown to people only, never used as a path
    receiver_column TEXT NOT NULL,
    columns         TEXT[] NOT NULL,    -- variable columns in header order
    rows            BIGINT NOT NULL,
    valid_rows      BIGINT NOT NULL,
    bad_rows        BIGINT NOT NULL,
    size_bytes      BIGINT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE templates (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name             TEXT NOT NULL,
    channel          TEXT NOT NULL,
    channel_account  TEXT,
    msg_type         INTEGER NOT NULL,
    receiver_id_type TEXT NOT NULL,
    content_json     JSONB NOT NULL,
    quiet_hours      TEXT NOT NULL,
    crowd_id         TEXT REFERENCES crowds(id),
    status           TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);

-- Schedules are rows: a template's cron, and the housekeeping jobs. A claimer locks the due
-- rows it takes (FOR UPDATE SKIP LOCKED), so N scheduler nodes split them without waiting.
CREATE TABLE schedules (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         TEXT NOT NULL,               -- 'template' or a housekeeping job kind
    template_id  BIGINT UNIQUE REFERENCES templates(id) ON DELETE CASCADE,
    cron         TEXT NOT NULL,
    timezone     TEXT NOT NULL,
    misfire      TEXT NOT NULL,
    enabled      BOOLEAN NOT NULL,
    next_fire_at TIMESTAMPTZ,                 -- NULL when disabled or exhausted
    updated_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX schedules_due ON schedules (next_fire_at, id) WHERE enabled;

-- The fire ledger: one row per (schedule, scheduled time), written in the same transaction
-- that advances the schedule's next_fire_at. The unique key is the last line of defence
-- against a doubled fire.
CREATE TABLE fires (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    schedule_id  BIGINT NOT NULL REFERENCES schedules(id) ON DELETE CASCADE,
    fire_time    TIMESTAMPTZ NOT NULL,
    claimed_at   TIMESTAMPTZ NOT NULL,
    lateness_ms  BIGINT NOT NULL,
    outcome      TEXT NOT NULL,               -- 'fired', 'misfire_skipped', 'no_crowd'
    run_id       BIGINT,
    UNIQUE (schedule_id, fire_time)
);

CREATE TABLE runs (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    template_id     BIGINT NOT NULL REFERENCES templates(id) ON DELETE CASCADE,
    fire_id         BIGINT REFERENCES fires(id) ON DELETE SET NULL,
    crowd_id        TEXT NOT NULL,
    status          TEXT NOT NULL,
    rows_total      BIGINT NOT NULL,
    rows_read       BIGINT NOT NULL DEFAULT 0,
    rows_invalid    BIGINT NOT NULL DEFAULT 0,
    batches         BIGINT NOT NULL DEFAULT 0,
    delivered       BIGINT NOT NULL DEFAULT 0,
    failed          BIGINT NOT NULL DEFAULT 0,
    checkpoint_json JSONB NOT NULL DEFAULT '{}',
    lease_owner     TEXT,
    lease_until     TIMESTAMPTZ,
    error           TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    finished_at     TIMESTAMPTZ
);
CREATE INDEX runs_open ON runs (id) WHERE status IN ('pending', 'streaming');
CREATE INDEX runs_template ON runs (template_id, id);
CREATE INDEX runs_fire ON runs (fire_id);

-- The delivery ledger: one row per message that reached a final state. Its primary key decides
-- which of several racing workers counts a message into its run.
CREATE TABLE deliveries (
    message_id   TEXT PRIMARY KEY,
    template_id  BIGINT NOT NULL,
    run_id       BIGINT,
    receiver     TEXT NOT NULL,
    state        TEXT NOT NULL,               -- 'sent' or 'failed'
    detail       TEXT,
    at           TIMESTAMPTZ NOT NULL
);
CREATE INDEX deliveries_run ON deliveries (run_id);

-- What the outbox channel delivered: exactly one row per message.
CREATE TABLE outbox (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id   TEXT NOT NULL UNIQUE,
    template_id  BIGINT NOT NULL,
    run_id       BIGINT,
    receiver     TEXT NOT NULL,
    content_json JSONB NOT NULL,
    delivered_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX outbox_template ON outbox (template_id, id);
CREATE INDEX outbox_run ON outbox (run_id, id);

CREATE TABLE trace (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id   TEXT NOT NULL,
    template_id  BIGINT NOT NULL,
    run_id       BIGINT,
    receiver     TEXT NOT NULL,
    event        TEXT NOT NULL,
    detail       TEXT,
    at           TIMESTAMPTZ NOT NULL
);
CREATE INDEX trace_message ON trace (message_id, id);
-- A message is accepted once, however often its batch is re-read after a crash.
CREATE UNIQUE INDEX trace_accepted_once ON trace (message_id) WHERE event = 'accepted';
