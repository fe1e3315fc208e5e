-- Alarm rules as raised, per schedule (a job's, or a housekeeping one's such as a token
-- refresh): one alarm per rule per quiet window across nodes, and a recovery message once a
-- raised rule is over.
CREATE TABLE schedule_alarms (
    schedule_id   BIGINT NOT NULL REFERENCES schedules(id) ON DELETE CASCADE,
    rule          TEXT NOT NULL,          -- failure, timeout, discarded, misfire, failure_rate, stuck
    raised        BOOLEAN NOT NULL DEFAULT FALSE,
    last_sent_at  TIMESTAMPTZ,            -- the last alarm sent for it
    quieted       BIGINT NOT NULL DEFAULT 0, -- raises kept quiet since that alarm
    PRIMARY KEY (schedule_id, rule)
);

-- The parameter a fire asked for ("run now" with a param, or a parent job's output for its
-- child), taken with trigger_at by the claim. jobs.kind is now 'http' or 'command'.
ALTER TABLE schedules ADD COLUMN trigger_param TEXT;

-- A job's own run-log retention in days (retention.days when NULL).
ALTER TABLE jobs ADD COLUMN keep_runs_days BIGINT;
CREATE INDEX job_runs_job_started ON job_runs (job_id, started_at);
