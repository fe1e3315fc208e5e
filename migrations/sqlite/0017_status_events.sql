-- Status events out: endpoints that receive signed, batched webhooks of what happened to
-- messages (sent, failed, delivered, undelivered, read, recalled, suppressed) and runs (finished).
CREATE TABLE event_endpoints (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    name            TEXT NOT NULL,
    url             TEXT NOT NULL,
    secret_sealed   TEXT NOT NULL,
    -- The event types it receives, each between commas: ',message.sent,run.finished,'.
    events          TEXT NOT NULL,
    -- A paused endpoint keeps queueing its events and sends none until it is enabled again.
    enabled         INTEGER NOT NULL DEFAULT 1,
    created_at      INTEGER NOT NULL,
    last_success_at INTEGER,
    last_error      TEXT,
    last_error_at   INTEGER
);

-- Events waiting for their endpoint's 2xx: written in the transaction that writes the trace
-- event or ends the run (the triggers below), deleted when the endpoint took them. A repeat
-- (a retry, a crash before the delete, a replay) carries the same event_id.
CREATE TABLE status_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id  INTEGER NOT NULL,
    event_id     TEXT NOT NULL,
    kind         TEXT NOT NULL,
    message_id   TEXT,
    template_id  INTEGER NOT NULL,
    run_id       INTEGER,
    receiver     TEXT,
    detail       TEXT,
    at           INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    due_at       INTEGER NOT NULL,
    holder       TEXT,
    held_until   INTEGER,
    last_error   TEXT
);
CREATE UNIQUE INDEX status_events_once ON status_events (endpoint_id, event_id);
CREATE INDEX status_events_due ON status_events (endpoint_id, due_at, id);

CREATE TRIGGER trace_status_events AFTER INSERT ON trace
WHEN NEW.event IN ('sent', 'failed', 'delivered', 'undelivered', 'read', 'recalled', 'suppressed')
BEGIN
    INSERT INTO status_events (endpoint_id, event_id, kind, message_id, template_id, run_id, receiver, detail, at, due_at)
    SELECT e.id, NEW.message_id || '.' || NEW.event, 'message.' || NEW.event, NEW.message_id, NEW.template_id,
           NEW.run_id, NEW.receiver, NEW.detail, NEW.at, NEW.at
    FROM event_endpoints e WHERE instr(e.events, ',message.' || NEW.event || ',') > 0
    ON CONFLICT (endpoint_id, event_id) DO NOTHING;
END;

CREATE TRIGGER runs_status_events AFTER UPDATE OF status ON runs
WHEN NEW.status IN ('completed', 'failed', 'cancelled') AND OLD.status NOT IN ('completed', 'failed', 'cancelled')
BEGIN
    INSERT INTO status_events (endpoint_id, event_id, kind, template_id, run_id, detail, at, due_at)
    SELECT e.id, 'run-' || NEW.id || '.finished', 'run.finished', NEW.template_id, NEW.id, NEW.status,
           COALESCE(NEW.finished_at, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)),
           COALESCE(NEW.finished_at, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
    FROM event_endpoints e WHERE instr(e.events, ',run.finished,') > 0
    ON CONFLICT (endpoint_id, event_id) DO NOTHING;
END;
