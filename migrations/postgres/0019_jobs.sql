-- Scheduled jobs beside templates: an HTTP call on a cadence (cron, fixed rate, fixed delay,
-- once, or only when triggered), each execution written to job_runs.
CREATE TABLE jobs (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL,            -- 'http'
    spec_json   TEXT NOT NULL,            -- the JobSpec as saved
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

ALTER TABLE schedules ADD COLUMN job_id BIGINT REFERENCES jobs(id) ON DELETE CASCADE;
-- How fires come: 'cron' (the cron column), 'fixed_rate', 'fixed_delay', 'once' or 'api'.
ALTER TABLE schedules ADD COLUMN cadence TEXT NOT NULL DEFAULT 'cron';
ALTER TABLE schedules ADD COLUMN period_ms BIGINT;    -- a fixed rate's or delay's period
ALTER TABLE schedules ADD COLUMN hold_ms BIGINT;      -- a fixed delay's longest run
-- A fire asked for now (POST /api/jobs/{id}/run), claimed like a due one, paused or not.
ALTER TABLE schedules ADD COLUMN trigger_at TIMESTAMPTZ;
CREATE UNIQUE INDEX schedules_job ON schedules (job_id) WHERE job_id IS NOT NULL;
CREATE INDEX schedules_triggered ON schedules (trigger_at) WHERE trigger_at IS NOT NULL;
-- Housekeeping schedules are one per kind; jobs' schedules (kind 'job') are one per job.
DROP INDEX schedules_global_kind;
CREATE UNIQUE INDEX schedules_global_kind ON schedules (kind)
    WHERE template_id IS NULL AND account_id IS NULL AND job_id IS NULL;

-- Every attempt of every run: the run log.
CREATE TABLE job_runs (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id        BIGINT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    fire_id       BIGINT REFERENCES fires(id) ON DELETE SET NULL,
    attempt       INTEGER NOT NULL,
    node          TEXT NOT NULL,
    outcome       TEXT NOT NULL,          -- running, succeeded, failed, timed_out, discarded, replaced, abandoned
    started_at    TIMESTAMPTZ NOT NULL,
    ended_at      TIMESTAMPTZ,
    status_code   INTEGER,
    output        TEXT,                   -- the answer's start, capped
    error         TEXT,
    stop_asked    BOOLEAN NOT NULL DEFAULT FALSE -- a replacing fire asks the running node to stop it
);
CREATE INDEX job_runs_job ON job_runs (job_id, id);
CREATE INDEX job_runs_running ON job_runs (job_id) WHERE outcome = 'running';
CREATE INDEX job_runs_started ON job_runs (started_at);
