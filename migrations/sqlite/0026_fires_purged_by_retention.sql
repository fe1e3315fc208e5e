-- Retention now deletes fires (crates/herald-store/src/sql/retention.rs): at 100,000 schedules
-- firing every 10 s the ledger grew by 864 million rows a day and nothing took any away. A fire
-- a run or a job run still names is kept, so these look-ups, and SQLite's own foreign-key check
-- of each deleted fire (runs and job runs point at fires ON DELETE SET NULL), find those rows by
-- index instead of scanning both tables once per fire. Job shards are found by their
-- UNIQUE (fire_id, shard).
CREATE INDEX runs_fire ON runs (fire_id);
CREATE INDEX job_runs_fire ON job_runs (fire_id);
