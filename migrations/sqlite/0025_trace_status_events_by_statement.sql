-- A trace row's status events are queued by the store, one statement per write over the rows it
-- added (`queue_status_events` in crates/herald-store/src/sqlite/batch.rs), in the same
-- transaction, instead of by a row trigger: SQLite runs a trigger's program for every row, in a
-- frame of its own, even where its WHEN clause is false, and this one doubled the cost of every
-- trace row (about 6 us of 11 on the writer, measured; two trace rows per message delivered).
-- The runs' trigger stays: a run ends once.
DROP TRIGGER trace_status_events;
