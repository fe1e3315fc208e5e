-- Exactly once at the provider.

-- Who this installation is: message ids carry it, so ids from a database that was recreated
-- beside a surviving Redis or Kafka never meet the old ones.
CREATE TABLE installation (
    id          TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
INSERT INTO installation (id, created_at)
VALUES (lower(hex(randomblob(6))), CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));

-- Templates are deleted softly: their runs, fires, traces and ledger stay, and their ids (and
-- so their runs' ids and message ids) are never handed out again.
ALTER TABLE templates ADD COLUMN deleted_at INTEGER;

-- A message being sent: claimed for a whole batch before its channel is called, extended while
-- its holder works, removed when its outcome is recorded. Another holder of the same batch skips
-- a message whose claim is live; a claim whose holder died lapses at `until`.
CREATE TABLE send_claims (
    message_id  TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,              -- node/worker, for people
    token       INTEGER NOT NULL,           -- the fencing token: one per handling of a batch
    until       INTEGER NOT NULL
);

-- Send API requests by business id: a repeat with the same bizId and receiver for the same
-- template within the window is answered with the first request's message ids.
CREATE TABLE send_requests (
    template_id INTEGER NOT NULL,
    biz_id      TEXT NOT NULL,
    receiver    TEXT NOT NULL,
    message_id  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (template_id, biz_id, receiver)
);
CREATE INDEX send_requests_age ON send_requests (created_at);
