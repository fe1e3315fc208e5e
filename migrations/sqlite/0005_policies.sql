-- Send-time policies: per-run counts of dropped and deferred messages, the discard list,
-- per-channel flow control, messages deferred by quiet hours, and a run that waits for the
-- end of quiet hours before it streams.

ALTER TABLE runs ADD COLUMN dropped INTEGER NOT NULL DEFAULT 0;
-- A run fired inside quiet hours under `defer` streams from this time (unix ms).
ALTER TABLE runs ADD COLUMN not_before INTEGER;

-- A template's quiet-hours window and dedup rules, as JSON (NULL = the node's defaults).
ALTER TABLE templates ADD COLUMN policy_json TEXT;

-- Templates whose messages are dropped at consume time: an operator's brake.
CREATE TABLE discarded_templates (
    template_id INTEGER PRIMARY KEY REFERENCES templates(id) ON DELETE CASCADE,
    reason      TEXT,
    since       INTEGER NOT NULL
);

-- Sends per second per channel, shared by the node's workers; no row = unlimited.
CREATE TABLE channel_rates (
    channel         TEXT PRIMARY KEY,
    rate_per_second REAL NOT NULL,
    updated_at      INTEGER NOT NULL
);

-- Messages held until the end of their quiet hours, released in `seq` order.
CREATE TABLE deferred_messages (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id     TEXT NOT NULL UNIQUE,
    template_id    INTEGER NOT NULL,
    run_id         INTEGER,
    receiver       TEXT NOT NULL,
    variables_json TEXT NOT NULL,
    -- The message's place in its run or request (the row number), for release in order.
    position       INTEGER NOT NULL,
    release_at     INTEGER NOT NULL,
    created_at     INTEGER NOT NULL
);
CREATE INDEX deferred_due ON deferred_messages (release_at, run_id, position, seq);
CREATE INDEX deferred_run ON deferred_messages (run_id);

CREATE INDEX deliveries_at ON deliveries (at);
CREATE INDEX deliveries_receiver ON deliveries (receiver, at);
CREATE INDEX deliveries_template ON deliveries (template_id, at);
CREATE INDEX trace_at ON trace (at);
CREATE INDEX outbox_delivered_at ON outbox (delivered_at);

-- Housekeeping schedules that belong to no template or account (quiet-hours release,
-- retention) exist once per kind.
CREATE UNIQUE INDEX schedules_global_kind ON schedules (kind) WHERE template_id IS NULL AND account_id IS NULL;
