//! Retention: deleting trace, ledger and outbox rows past their time, in bounded statements,
//! status events still waiting for an endpoint that stayed down as long, and jobs' run log (a
//! job that keeps its own for a number of days by that number).

use super::Backend;
use super::dialect::db_time;
use crate::error::Result;
use crate::repos::RetentionRepo;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

/// The tables retention purges: name, primary key and time column, and a condition the rows
/// also meet. Claims whose message never became final (a dead-lettered batch) go once long
/// lapsed; runs of a job with its own retention go by it (`purge_kept_job_runs`).
const PURGED: [(&str, &str, &str, &str); 8] = [
    ("trace", "id", "at", ""),
    ("deliveries", "message_id", "at", ""),
    ("outbox", "id", "delivered_at", ""),
    ("send_claims", "message_id", "until", ""),
    ("send_requests", "message_id", "created_at", ""),
    ("status_events", "id", "at", ""),
    ("job_runs", "id", "started_at", OWN_RETENTION_ELSEWHERE),
    ("job_shards", "id", "planned_at", " AND status IN ('succeeded', 'failed')"),
];

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
    /// statements of at most `batch` rows: few and short locks on a busy node. The names and the
    /// condition come from this module, never from input.
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
            "DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} WHERE {column} < $1{also} LIMIT $2)"
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
