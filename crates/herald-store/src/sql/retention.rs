//! Retention: deleting trace (runs' accepted windows too), ledger and outbox rows past their
//! time, in bounded statements, status events still waiting for an endpoint that stayed down as
//! long, jobs' run log (a job that keeps its own for a number of days by that number), and the
//! fire ledger's old fires.

use super::Backend;
use super::dialect::{AMONG_SELECTED, END_SELECTED, ROW_ID, db_time};
use crate::error::Result;
use crate::repos::RetentionRepo;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

/// The tables retention purges, in this order: name, primary key and time column, and a
/// condition the rows also meet. Claims whose message never became final (a dead-lettered
/// batch) go once long lapsed; runs of a job with its own retention go by it
/// (`purge_kept_job_runs`); fires come last, once the job runs and shards naming them are gone.
/// A run's accepted windows go by their row id too (their key is two columns).
/// Send requests are keyed by template, business id and receiver, and their `message_id` has no
/// index: they go by their row's own id. By `message_id` each statement scanned the whole table
/// (at 1,000,000 rows: SQLite 174 ms, PostgreSQL 194 ms; as an array of ids PostgreSQL compared
/// every row with all 5,000, 54.6 s); by row id 21 and 8 ms.
const PURGED: [(&str, &str, &str, &str); 10] = [
    ("trace", "id", "at", ""),
    ("accepted_rows", ROW_ID, "at", ""),
    ("deliveries", "message_id", "at", ""),
    ("outbox", "id", "delivered_at", ""),
    ("send_claims", "message_id", "until", ""),
    ("send_requests", ROW_ID, "created_at", ""),
    ("status_events", "id", "at", ""),
    ("job_runs", "id", "started_at", OWN_RETENTION_ELSEWHERE),
    ("job_shards", "id", "planned_at", " AND status IN ('succeeded', 'failed')"),
    ("fires", "id", "fire_time", NOTHING_NAMES_THE_FIRE),
];

/// A fire goes only when nothing names it: a run it started (the run's story tells its fire, and
/// runs are kept), a job run or shard of it (a kept run log, a sharded job still running: shards
/// cascade from their fire), or its schedule as its newest fire (the schedules list shows it,
/// the next fire links to it). Each is a look-up by index (`runs_fire`, `job_runs_fire`, the
/// shards' unique key, the schedule's primary key).
const NOTHING_NAMES_THE_FIRE: &str = " AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.fire_id = fires.id) \
     AND NOT EXISTS (SELECT 1 FROM job_runs jr WHERE jr.fire_id = fires.id) \
     AND NOT EXISTS (SELECT 1 FROM job_shards js WHERE js.fire_id = fires.id) \
     AND NOT EXISTS (SELECT 1 FROM schedules s WHERE s.id = fires.schedule_id AND s.last_fire_id = fires.id)";

/// Runs of jobs that keep their own run log are left to `purge_kept_job_runs`.
const OWN_RETENTION_ELSEWHERE: &str =
    " AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = job_runs.job_id AND j.keep_runs_days IS NOT NULL)";

#[async_trait]
impl RetentionRepo for Backend {
    async fn purge_before(&self, before: DateTime<Utc>, batch: i64) -> Result<u64> {
        let mut total = 0;
        for (table, key, column, also) in PURGED {
            total += self.purge_in_batches(table, key, column, also, before, batch).await?;
        }
        Ok(total)
    }

    async fn purge_kept_job_runs(&self, now: DateTime<Utc>, batch: i64) -> Result<u64> {
        let kept: Vec<(i64, i64)> =
            sqlx::query_as("SELECT id, keep_runs_days FROM jobs WHERE keep_runs_days IS NOT NULL ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        let mut total = 0;
        for (job_id, days) in kept {
            // An id read from the table just now, written as a number.
            let this_job = format!(" AND job_id = {job_id}");
            total += self
                .purge_in_batches("job_runs", "id", "started_at", &this_job, now - Duration::days(days), batch)
                .await?;
        }
        Ok(total)
    }
}

impl Backend {
    /// Deletes the rows of `table` whose `column` is before `before` (and that meet `also`), in
    /// statements of at most `batch` rows: few and short locks on a busy node. Oldest first, so
    /// each statement walks the time column's index from its start to the cut and no further:
    /// unordered, PostgreSQL walked the fire ledger's primary key, to its end on the last
    /// statement. The names and the condition come from this module, never from input.
    async fn purge_in_batches(
        &self,
        table: &str,
        key: &str,
        column: &str,
        also: &str,
        before: DateTime<Utc>,
        batch: i64,
    ) -> Result<u64> {
        // A batch below one would delete nothing forever (and PostgreSQL refuses a negative LIMIT).
        let batch = batch.max(1);
        let sql = format!(
            "DELETE FROM {table} WHERE {key}{AMONG_SELECTED}SELECT {key} FROM {table} WHERE {column} < $1{also} ORDER BY {column} LIMIT $2{END_SELECTED}"
        );
        let mut total = 0;
        loop {
            let done = sqlx::query(&sql).bind(db_time(before)).bind(batch).execute(self.writer()).await?;
            total += done.rows_affected();
            if done.rows_affected() < batch as u64 {
                return Ok(total);
            }
        }
    }
}
