//! Retention: deleting trace, ledger and outbox rows past their time, in bounded statements,
//! status events still waiting for an endpoint that stayed down as long, and jobs' run log.

use super::Backend;
use super::dialect::db_time;
use crate::error::Result;
use crate::repos::RetentionRepo;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// The tables retention purges: name, primary key and time column.
/// Claims whose message never became final (a dead-lettered batch) go once long lapsed.
const PURGED: [(&str, &str, &str); 7] = [
    ("trace", "id", "at"),
    ("deliveries", "message_id", "at"),
    ("outbox", "id", "delivered_at"),
    ("send_claims", "message_id", "until"),
    ("send_requests", "message_id", "created_at"),
    ("status_events", "id", "at"),
    ("job_runs", "id", "started_at"),
];

#[async_trait]
impl RetentionRepo for Backend {
    async fn purge_before(&self, before: DateTime<Utc>, batch: i64) -> Result<u64> {
        // A batch below one would delete nothing forever (and PostgreSQL refuses a negative LIMIT).
        let batch = batch.max(1);
        let mut total = 0;
        for (table, key, column) in PURGED {
            loop {
                // Bounded batches keep each statement's locks few and short on a busy node.
                // The names come from PURGED above, never from input.
                let sql = format!(
                    "DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} WHERE {column} < $1 LIMIT $2)"
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
}
