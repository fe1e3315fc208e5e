-- Nodes that run scheduled jobs, each seen at its last heartbeat: a broadcast job's fire has
-- one shard per node seen lately, and a pending shard whose node is gone is taken by another.
CREATE TABLE cluster_nodes (
    name        TEXT PRIMARY KEY,
    started_at  TIMESTAMPTZ NOT NULL,
    seen_at     TIMESTAMPTZ NOT NULL
);

-- The shards of a sharded or broadcast job's fire: each runs once (its attempts in job_runs),
-- on its own node for a broadcast, leased so a dead node's shard is taken over; the node
-- that ends the last one ends the fire.
CREATE TABLE job_shards (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    fire_id      BIGINT NOT NULL REFERENCES fires(id) ON DELETE CASCADE,
    job_id       BIGINT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    schedule_id  BIGINT NOT NULL,
    shard        INTEGER NOT NULL,      -- 0 to total - 1
    total        INTEGER NOT NULL,
    node         TEXT,                  -- a broadcast shard's node; any node when NULL
    param        TEXT,                  -- the fire's parameter
    status       TEXT NOT NULL DEFAULT 'pending', -- pending, running, succeeded, failed
    lease_owner  TEXT,
    lease_until  TIMESTAMPTZ,
    takeovers    INTEGER NOT NULL DEFAULT 0, -- times another node took it from a lapsed lease
    output       TEXT,
    error        TEXT,
    planned_at   TIMESTAMPTZ NOT NULL,  -- retention purges ended shards by it
    UNIQUE (fire_id, shard)
);
CREATE INDEX job_shards_open ON job_shards (status, id) WHERE status IN ('pending', 'running');

-- The run log takes housekeeping's runs too (a token refresh, the quiet-hours release,
-- retention, receipt pulls: job_id NULL, schedule_id theirs), and which shard an attempt ran
-- (NULL for a job that is not sharded).
ALTER TABLE job_runs ALTER COLUMN job_id DROP NOT NULL;
ALTER TABLE job_runs ADD COLUMN schedule_id BIGINT REFERENCES schedules(id) ON DELETE CASCADE;
UPDATE job_runs r SET schedule_id = s.id FROM schedules s WHERE s.job_id = r.job_id;
ALTER TABLE job_runs ADD COLUMN shard INTEGER;
ALTER TABLE job_runs ADD COLUMN shards INTEGER;
CREATE INDEX job_runs_schedule ON job_runs (schedule_id, id);

-- Times of day a schedule does not fire in (Quartz's daily calendar), as a JSON array of
-- {"from": "22:00:00", "to": "06:00:00"} read in the schedule's time zone; NULL for none.
ALTER TABLE schedules ADD COLUMN exclude_windows TEXT;
