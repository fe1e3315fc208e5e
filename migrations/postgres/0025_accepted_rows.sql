-- A crowd run's messages are recorded as accepted a published window at a time: one row per
-- window (about 3,200 messages: its run, the message id prefix, each message's data row and
-- receiver as a JSON array of [row, receiver]) instead of one trace row per message, which cost
-- the table and three indexes a message before each window was published. A message's trace
-- reads its `accepted` event from the window holding its row (crates/herald-store/src/sql/ledger.rs);
-- send API and alarm messages keep theirs in the trace. A window read again after a crash starts
-- at the same row: its row is kept, with the longer span of the two.
CREATE TABLE accepted_rows (
    run_id          BIGINT NOT NULL,
    first_row       BIGINT NOT NULL,
    last_row        BIGINT NOT NULL,
    template_id     BIGINT NOT NULL,
    message_prefix  TEXT NOT NULL,
    receivers       JSONB NOT NULL,
    at              TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (run_id, first_row)
);
-- Retention deletes by age.
CREATE INDEX accepted_rows_at ON accepted_rows (at);
