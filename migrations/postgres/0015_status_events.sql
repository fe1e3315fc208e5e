-- Status events out: endpoints that receive signed, batched webhooks of what happened to
-- messages (sent, failed, delivered, undelivered, read, recalled, suppressed) and runs (finished).
CREATE TABLE event_endpoints (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name            TEXT NOT NULL,
    url             TEXT NOT NULL,
    secret_sealed   TEXT NOT NULL,
    -- The event types it receives, each between commas: ',message.sent,run.finished,'.
    events          TEXT NOT NULL,
    -- A paused endpoint keeps queueing its events and sends none until it is enabled again.
    enabled         BOOLEAN NOT NULL DEFAULT TRUE,
    created_at      TIMESTAMPTZ NOT NULL,
    last_success_at TIMESTAMPTZ,
    last_error      TEXT,
    last_error_at   TIMESTAMPTZ
);

-- Events waiting for their endpoint's 2xx: written in the transaction that writes the trace
-- event or ends the run (the triggers below), deleted when the endpoint took them. A repeat
-- (a retry, a crash before the delete, a replay) carries the same event_id.
CREATE TABLE status_events (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    endpoint_id  BIGINT NOT NULL,
    event_id     TEXT NOT NULL,
    kind         TEXT NOT NULL,
    message_id   TEXT,
    template_id  BIGINT NOT NULL,
    run_id       BIGINT,
    receiver     TEXT,
    detail       TEXT,
    at           TIMESTAMPTZ NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    due_at       TIMESTAMPTZ NOT NULL,
    holder       TEXT,
    held_until   TIMESTAMPTZ,
    last_error   TEXT
);
CREATE UNIQUE INDEX status_events_once ON status_events (endpoint_id, event_id);
CREATE INDEX status_events_due ON status_events (endpoint_id, due_at, id);

CREATE FUNCTION trace_status_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO status_events (endpoint_id, event_id, kind, message_id, template_id, run_id, receiver, detail, at, due_at)
    SELECT e.id, NEW.message_id || '.' || NEW.event, 'message.' || NEW.event, NEW.message_id, NEW.template_id,
           NEW.run_id, NEW.receiver, NEW.detail, NEW.at, NEW.at
    FROM event_endpoints e WHERE position(',message.' || NEW.event || ',' IN e.events) > 0
    ON CONFLICT (endpoint_id, event_id) DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER trace_status_events AFTER INSERT ON trace FOR EACH ROW
WHEN (NEW.event IN ('sent', 'failed', 'delivered', 'undelivered', 'read', 'recalled', 'suppressed'))
EXECUTE FUNCTION trace_status_events();

CREATE FUNCTION runs_status_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO status_events (endpoint_id, event_id, kind, template_id, run_id, detail, at, due_at)
    SELECT e.id, 'run-' || NEW.id || '.finished', 'run.finished', NEW.template_id, NEW.id, NEW.status,
           COALESCE(NEW.finished_at, now()), COALESCE(NEW.finished_at, now())
    FROM event_endpoints e WHERE position(',run.finished,' IN e.events) > 0
    ON CONFLICT (endpoint_id, event_id) DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER runs_status_events AFTER UPDATE OF status ON runs FOR EACH ROW
WHEN (NEW.status IN ('completed', 'failed', 'cancelled') AND OLD.status NOT IN ('completed', 'failed', 'cancelled'))
EXECUTE FUNCTION runs_status_events();
