-- The embedded bus: a durable queue table living in the same SQLite file as the rest of herald's
-- state. Times are INTEGER unix milliseconds taken from herald's Clock, not from SQLite.
--
-- A row is 'ready' (claimable once visible_at has passed; a retry sets visible_at in the future),
-- 'inflight' (claimed; visible_at is when the claim lapses and the row may be claimed again) or
-- 'dead' (kept for operators, with last_error). Acked rows are deleted.
CREATE TABLE bus_messages (
    -- AUTOINCREMENT: ids are never reused, so FIFO order and lease checks stay sound after deletes.
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    topic       TEXT    NOT NULL,
    msg_key     TEXT    NOT NULL,
    payload     BLOB    NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'ready' CHECK (status IN ('ready', 'inflight', 'dead')),
    -- Claims counted toward max_attempts; reset when an operator requeues a dead letter.
    attempts    INTEGER NOT NULL DEFAULT 0,
    -- Bumped on every claim and never reset: the lease token an ack or retry must present.
    lease       INTEGER NOT NULL DEFAULT 0,
    visible_at  INTEGER NOT NULL,
    last_error  TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- Claim: walk one topic's live rows in id order and filter on visible_at inside the index, so the
-- head of a queue of a million rows is found without touching the table. status makes it
-- covering for stats too.
CREATE INDEX bus_messages_claim
    ON bus_messages (topic, id, visible_at, status)
    WHERE status <> 'dead';

-- Lapsed claims that have used up their attempts are dead-lettered before each claim; in-flight
-- rows are few, so this index stays small.
CREATE INDEX bus_messages_inflight
    ON bus_messages (topic, visible_at)
    WHERE status = 'inflight';

-- Operators list a topic's dead letters.
CREATE INDEX bus_messages_dead
    ON bus_messages (topic, id)
    WHERE status = 'dead';
