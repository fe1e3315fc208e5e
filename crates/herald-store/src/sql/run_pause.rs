//! An operator's pause and resume of a run. A pause marks the run row (`paused_at`) in one short
//! transaction: streamers stop at their next checkpoint keeping their place, and workers hold
//! the run's messages (`hold_for_pause`) instead of sending them. A resume clears the mark,
//! turns the held messages due a page per transaction (so a million held rows never make one
//! long write), and brings the quiet-hours release forward so it publishes them as soon as every
//! worker has seen the resume; streamers go on from where they stopped.

use super::Backend;
use super::codec::{opt_time_of, run_status};
use super::dialect::{FOR_UPDATE, TRUE, Tx, begin_write, db_time};
use crate::deferral::due_after_resume;
use crate::error::{Result, StoreError};
use chrono::{DateTime, Utc};
use const_format::formatcp;
use herald_core::RunStatus;
use sqlx::Row;

/// Held messages turned due per transaction.
const PAGE: i64 = 1_000;

impl Backend {
    pub(super) async fn pause(&self, run_id: i64, now: DateTime<Utc>) -> Result<()> {
        let mut tx = begin_write(self.writer()).await?;
        let (status, paused_at) = locked_state(&mut tx, run_id, "paused").await?;
        if let Some(since) = paused_at {
            return Err(StoreError::Conflict(format!("run {run_id} is paused already (since {})", since.to_rfc3339())));
        }
        sqlx::query("UPDATE runs SET paused_at = $1 WHERE id = $2")
            .bind(db_time(now))
            .bind(run_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(run_id, status = status.as_str(), "run paused");
        Ok(())
    }

    pub(super) async fn resume(&self, run_id: i64, now: DateTime<Utc>) -> Result<()> {
        let mut tx = begin_write(self.writer()).await?;
        let (status, paused_at) = locked_state(&mut tx, run_id, "resumed").await?;
        if paused_at.is_none() {
            return Err(StoreError::Conflict(format!("run {run_id} is not paused")));
        }
        sqlx::query("UPDATE runs SET paused_at = NULL WHERE id = $1").bind(run_id).execute(&mut *tx).await?;
        tx.commit().await?;
        let mut due = 0;
        loop {
            let page = self.turn_held_due(run_id, now).await?;
            if page == 0 {
                break;
            }
            due += page;
        }
        let mut tx = begin_write(self.writer()).await?;
        bring_release_forward(&mut tx, due_after_resume(now)).await?;
        tx.commit().await?;
        tracing::info!(run_id, status = status.as_str(), held_now_due = due, "run resumed");
        Ok(())
    }

    /// Turns one page of the run's held messages due; none once the run was paused again.
    async fn turn_held_due(&self, run_id: i64, now: DateTime<Utc>) -> Result<u64> {
        let mut tx = begin_write(self.writer()).await?;
        if paused_in(&mut tx, run_id).await? {
            return Ok(0);
        }
        let turned = sqlx::query(formatcp!(
            "UPDATE deferred_messages SET paused = $1, release_at = $2 WHERE seq IN ( \
               SELECT seq FROM deferred_messages WHERE run_id = $3 AND paused = {TRUE} ORDER BY seq LIMIT {PAGE})"
        ))
        .bind(false)
        .bind(db_time(due_after_resume(now)))
        .bind(run_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(turned.rows_affected())
    }
}

/// The run's status and pause, its row locked; refused (`action`: "paused", "resumed",
/// "cancelled") for a run that has ended.
pub(super) async fn locked_state(tx: &mut Tx, run_id: i64, action: &str) -> Result<(RunStatus, Option<DateTime<Utc>>)> {
    let row = sqlx::query(formatcp!("SELECT status, paused_at FROM runs WHERE id = $1{FOR_UPDATE}"))
        .bind(run_id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found("run", run_id))?;
    let status = run_status(&row.try_get::<String, _>("status")?)?;
    if let Some(refusal) = status.refuses_control(action) {
        return Err(StoreError::Conflict(format!("run {run_id}: {refusal}")));
    }
    Ok((status, opt_time_of(&row, "paused_at")?))
}

/// Whether the run is paused, its row locked so a pause or resume waits for this transaction.
pub(super) async fn paused_in(tx: &mut Tx, run_id: i64) -> Result<bool> {
    let row = sqlx::query(formatcp!("SELECT paused_at FROM runs WHERE id = $1{FOR_UPDATE}"))
        .bind(run_id)
        .fetch_optional(&mut **tx)
        .await?;
    let paused = match row {
        Some(row) => opt_time_of(&row, "paused_at")?.is_some(),
        None => false,
    };
    Ok(paused)
}

/// Brings the quiet-hours release's next fire forward to `at`, so the scheduler runs it then.
pub(super) async fn bring_release_forward(tx: &mut Tx, at: DateTime<Utc>) -> Result<()> {
    sqlx::query(formatcp!(
        "UPDATE schedules SET next_fire_at = $1 WHERE kind = 'quiet_release' AND template_id IS NULL \
         AND account_id IS NULL AND enabled = {TRUE} AND next_fire_at > $1"
    ))
    .bind(db_time(at))
    .execute(&mut **tx)
    .await?;
    Ok(())
}
