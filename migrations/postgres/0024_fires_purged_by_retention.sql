-- Retention now deletes fires (crates/herald-store/src/sql/retention.rs): at 100,000 schedules
-- firing every 10 s the ledger grew by 864 million rows a day and nothing took any away. A fire
-- a run or a job run still names is kept, so that look-up, and PostgreSQL's own foreign-key
-- action on each deleted fire (job runs point at fires ON DELETE SET NULL), find job runs by
-- index instead of scanning the table once per fire. Runs have `runs_fire` (0001) and job
-- shards their UNIQUE (fire_id, shard).
CREATE INDEX job_runs_fire ON job_runs (fire_id);
