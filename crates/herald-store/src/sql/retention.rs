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
const PURGED: [(&str, &str, &str, &str); 7] = [
    ("trace", "id", "at", ""),
    ("deliveries", "message_id", "at", ""),
    ("outbox", "id", "delivered_at", ""),
    ("send_claims", "message_id", "until", ""),
    ("send_requests", "message_id", "created_at", ""),
    ("status_events", "id", "at", ""),
    ("job_runs", "id", "started_at", OWN_RETENTION_ELSEWHERE),
];

/// Runs of jobs that keep their own run log are left to `purge_kept_job_runs`.
const OWN_RETENTION_ELSEWHERE: &str =
    " AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = job_runs.job_id AND j.keep_runs_days IS NOT NULL)";

#[async_trait]
impl RetentionRepo for Backend {
    async fn purge_before(&self, before: DateTime<Utc>, batch: i64) -> Result<u64> {
        // A batch below one would delete nothing forever (and PostgreSQL refuses a negative LIMIT).
        let batch = batch.max(1);
        let mut total = 0;
        for (table, key, column, also) in PURGED {
            loop {
                // Bounded batches keep each statement's locks few and short on a busy node.
                // The names come from PURGED above, never from input.
                let sql = format!(
                    "DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} WHERE {column} < $1{also} LIMIT $2)"
                );
                let done = sqlx::query(&sql).bind(db_time(before)).bind(batch).execute(&self.pool).await?;
                total += done.rows_affected();
                if done.rows_affected() < batch as u64 {
                    break;
                }
            }
        }
        Ok(total)
    }

    async fn purge_kept_job_runs(&self, now: DateTime<Utc>, batch: i64) -> Result<u64> {
        let batch = batch.max(1);
        let kept: Vec<(i64, i64)> =
            sqlx::query_as("SELECT id, keep_runs_days FROM jobs WHERE keep_runs_days IS NOT NULL ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        let mut total = 0;
        for (job_id, days) in kept {
            let before = now - Duration::days(days);
            loop {
                let done = sqlx::query(
                    "DELETE FROM job_runs WHERE id IN \
                     (SELECT id FROM job_runs WHERE job_id = $1 AND started_at < $2 LIMIT $3)",
                )
                .bind(job_id)
                .bind(db_time(before))
                .bind(batch)
                .execute(&self.pool)
                .await?;
                total += done.rows_affected();
                if done.rows_affected() < batch as u64 {
                    break;
                }
            }
        }
        Ok(total)
    }
}
