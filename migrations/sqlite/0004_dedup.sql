-- Dedup windows for the embedded mode (cluster mode keeps them in Redis). Times are INTEGER
-- unix milliseconds; purge_expired deletes rows whose expires_at has passed.

-- Content dedup: one row per admitted event of a sliding window.
CREATE TABLE dedup_events (
    key        TEXT NOT NULL,
    at_ms      INTEGER NOT NULL,
    expires_at INTEGER NOT NULL   -- at_ms + the window: after this the event counts for nothing
);
CREATE INDEX dedup_events_key_at ON dedup_events (key, at_ms);
CREATE INDEX dedup_events_expires ON dedup_events (expires_at);

-- Frequency dedup: one counter per key and fixed bucket (a calendar day).
CREATE TABLE dedup_counters (
    key        TEXT NOT NULL,
    bucket     TEXT NOT NULL,
    count      INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (key, bucket)
);
CREATE INDEX dedup_counters_expires ON dedup_counters (expires_at);
