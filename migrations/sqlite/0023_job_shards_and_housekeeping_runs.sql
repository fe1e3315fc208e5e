-- Nodes that run scheduled jobs, each seen at its last heartbeat: a broadcast job's fire has
-- one shard per node seen lately, and a pending shard whose node is gone is taken by another.
CREATE TABLE cluster_nodes (
    name        TEXT PRIMARY KEY,
    started_at  INTEGER NOT NULL,
    seen_at     INTEGER NOT NULL
);

-- The shards of a sharded or broadcast job's fire: each runs once (its attempts in job_runs),
-- on its own node for a broadcast, leased so a dead node's shard is taken over; the node
-- that ends the last one ends the fire.
CREATE TABLE job_shards (
    id           INTEGER PRIMARY KEY,
    fire_id      INTEGER NOT NULL REFERENCES fires(id) ON DELETE CASCADE,
    job_id       INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    schedule_id  INTEGER NOT NULL,
    shard        INTEGER NOT NULL,      -- 0 to total - 1
    total        INTEGER NOT NULL,
    node         TEXT,                  -- a broadcast shard's node; any node when NULL
    param        TEXT,                  -- the fire's parameter
    status       TEXT NOT NULL DEFAULT 'pending', -- pending, running, succeeded, failed
    lease_owner  TEXT,
    lease_until  INTEGER,
    takeovers    INTEGER NOT NULL DEFAULT 0, -- times another node took it from a lapsed lease
    output       TEXT,
    error        TEXT,
    planned_at   INTEGER NOT NULL,      -- retention purges ended shards by it
    UNIQUE (fire_id, shard)
);
CREATE INDEX job_shards_open ON job_shards (status, id) WHERE status IN ('pending', 'running');

-- The run log takes housekeeping's runs too (a token refresh, the quiet-hours release,
-- retention, receipt pulls: job_id NULL, schedule_id theirs), and which shard an attempt ran
-- (NULL for a job that is not sharded). SQLite cannot drop a NOT NULL, so the table is made
-- anew with the same rows.
CREATE TABLE job_runs_new (
    id            INTEGER PRIMARY KEY,
    job_id        INTEGER REFERENCES jobs(id) ON DELETE CASCADE,
    schedule_id   INTEGER REFERENCES schedules(id) ON DELETE CASCADE,
    fire_id       INTEGER REFERENCES fires(id) ON DELETE SET NULL,
    attempt       INTEGER NOT NULL,
    node          TEXT NOT NULL,
    outcome       TEXT NOT NULL,          -- running, succeeded, failed, timed_out, discarded, replaced, abandoned
    started_at    INTEGER NOT NULL,
    ended_at      INTEGER,
    status_code   INTEGER,
    output        TEXT,                   -- the answer's start, capped
    error         TEXT,
    stop_asked    INTEGER NOT NULL DEFAULT 0, -- a replacing fire asks the running node to stop it
    shard         INTEGER,
    shards        INTEGER
);
INSERT INTO job_runs_new (id, job_id, schedule_id, fire_id, attempt, node, outcome, started_at, ended_at,
                          status_code, output, error, stop_asked)
    SELECT r.id, r.job_id, (SELECT s.id FROM schedules s WHERE s.job_id = r.job_id), r.fire_id, r.attempt,
           r.node, r.outcome, r.started_at, r.ended_at, r.status_code, r.output, r.error, r.stop_asked
    FROM job_runs r;
DROP TABLE job_runs;
ALTER TABLE job_runs_new RENAME TO job_runs;
CREATE INDEX job_runs_job ON job_runs (job_id, id);
CREATE INDEX job_runs_running ON job_runs (job_id) WHERE outcome = 'running';
CREATE INDEX job_runs_started ON job_runs (started_at);
CREATE INDEX job_runs_job_started ON job_runs (job_id, started_at);
CREATE INDEX job_runs_schedule ON job_runs (schedule_id, id);

-- Times of day a schedule does not fire in (Quartz's daily calendar), as a JSON array of
-- {"from": "22:00:00", "to": "06:00:00"} read in the schedule's time zone; NULL for none.
ALTER TABLE schedules ADD COLUMN exclude_windows TEXT;
