-- Crowd runs stream in shards: byte ranges of the crowd file aligned to row starts. A run is
-- planned (split into shards) once; then any streamer on any node leases a shard with
-- FOR UPDATE SKIP LOCKED, publishes its batches and checkpoints it, and a dead node's shard is
-- taken over after its lease lapses.
CREATE TABLE run_shards (
    run_id          BIGINT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    shard_no        INTEGER NOT NULL,
    -- Where the next shard starts; NULL for the last shard (read to the end of the file).
    end_offset      BIGINT,
    -- The crowd reader's position within the shard.
    checkpoint_json JSONB NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending',   -- pending, streaming or done
    lease_owner     TEXT,
    lease_until     TIMESTAMPTZ,
    rows_read       BIGINT NOT NULL DEFAULT 0,
    batches         BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, shard_no)
);
CREATE INDEX run_shards_open ON run_shards (run_id, shard_no) WHERE status <> 'done';

-- Runs that were streaming whole before shards existed go on as one shard from their checkpoint.
INSERT INTO run_shards (run_id, shard_no, end_offset, checkpoint_json, status, rows_read, batches)
SELECT id, 0, NULL, checkpoint_json, 'pending', rows_read, batches FROM runs WHERE status = 'streaming';
UPDATE runs SET lease_owner = NULL, lease_until = NULL WHERE status = 'streaming';

-- Which node claimed each fire, for operators and for failover checks.
ALTER TABLE fires ADD COLUMN claimed_by TEXT;
