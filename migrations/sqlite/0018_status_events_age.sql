-- Status events waiting for an endpoint that stays down are not kept forever: retention deletes
-- those whose state is older than retention.days, with the trace they came from, by this index.
CREATE INDEX status_events_at ON status_events (at);
