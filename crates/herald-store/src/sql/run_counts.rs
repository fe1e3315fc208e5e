//! A run's final-state counters and its completion. Workers' outcomes are counted in here and a
//! finishing shard publishes its run here; either may be what completes the run, by herald-core's
//! rule (`RunTally::is_complete`). Every write runs inside the caller's write transaction, on
//! the run row the statement itself locks, so the figures it decides on stay true until commit.

use super::dialect::{DbRow, Tx, db_time};
use crate::error::Result;
use chrono::{DateTime, Utc};
use const_format::formatcp;
use herald_core::{RunCounts, RunTally};
use sqlx::Row;

/// The columns [`tally_of`] reads, for a statement's RETURNING.
const TALLY: &str = "status, rows_read, rows_invalid, delivered, failed, dropped";

/// Adds newly final messages to the run's counters, then completes the run if that was its last.
pub(super) async fn count_final_states(tx: &mut Tx, run_id: i64, counts: &RunCounts, now: DateTime<Utc>) -> Result<()> {
    let row = sqlx::query(formatcp!(
        "UPDATE runs SET delivered = delivered + $1, failed = failed + $2, dropped = dropped + $3 WHERE id = $4 \
         RETURNING {TALLY}"
    ))
    .bind(counts.delivered)
    .bind(counts.failed)
    .bind(counts.dropped)
    .bind(run_id)
    .fetch_optional(&mut **tx)
    .await?;
    complete_if_done(tx, run_id, row.as_ref(), now).await
}

/// Marks a streaming run published when no shard of it is left undone, then completes it if
/// every row it read is final already (workers can be quicker than the streamer).
pub(super) async fn publish_if_streamed(tx: &mut Tx, run_id: i64, now: DateTime<Utc>) -> Result<()> {
    let row = sqlx::query(formatcp!(
        "UPDATE runs SET status = 'published', rows_total = rows_read WHERE id = $1 AND status = 'streaming' \
         AND NOT EXISTS (SELECT 1 FROM run_shards WHERE run_id = $1 AND status <> 'done') RETURNING {TALLY}"
    ))
    .bind(run_id)
    .fetch_optional(&mut **tx)
    .await?;
    complete_if_done(tx, run_id, row.as_ref(), now).await
}

/// Completes the run when `tally` (the run row as the caller's update left it) says so.
async fn complete_if_done(tx: &mut Tx, run_id: i64, tally: Option<&DbRow>, now: DateTime<Utc>) -> Result<()> {
    let Some(tally) = tally else { return Ok(()) };
    if !tally_of(tally)?.is_complete() {
        return Ok(());
    }
    sqlx::query("UPDATE runs SET status = 'completed', finished_at = $1 WHERE id = $2 AND status = 'published'")
        .bind(db_time(now))
        .bind(run_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

fn tally_of(row: &DbRow) -> Result<RunTally> {
    let status: String = row.try_get("status")?;
    Ok(RunTally {
        status: super::codec::run_status(&status)?,
        rows_read: row.try_get("rows_read")?,
        rows_invalid: row.try_get("rows_invalid")?,
        counts: RunCounts {
            delivered: row.try_get("delivered")?,
            failed: row.try_get("failed")?,
            dropped: row.try_get("dropped")?,
        },
    })
}
