//! Crowd runs: creation, planning leases, and the progress figures. Planning leases are taken
//! with SKIP LOCKED where many nodes plan at once, so two planners never take the same run; the
//! shards streamers work on are in `shards.rs`.

use super::Backend;
use super::codec::{opt_time_of, time_of};
use super::dialect::{DbRow, SKIP_LOCKED, Tx, begin_write, db_time};
use crate::error::{Result, StoreError};
use crate::model::{RunFilter, RunLease, ShardLease, ShardPlan, ShardRecord, StreamStep};
use crate::repos::RunRepo;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use const_format::formatcp;
use herald_core::{Installation, MessageId, RunProgress, RunSendState, RunStatus};
use sqlx::Row;

/// Creates a pending run of the template's current crowd file. A `defer` template's run created
/// inside its quiet hours waits for their end (`not_before`).
pub(super) async fn insert_run(tx: &mut Tx, template_id: i64, fire_id: Option<i64>, now: DateTime<Utc>) -> Result<i64> {
    let template = super::templates::template_in(tx, template_id).await?;
    let not_before = template.and_then(|t| t.spec.run_not_before(now));
    if let Some(at) = not_before {
        tracing::info!(template_id, start_at = %at, "run fired inside quiet hours; it streams when they end");
    }
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO runs (template_id, fire_id, crowd_id, status, rows_total, created_at, not_before) \
         SELECT t.id, $1, t.crowd_id, 'pending', c.rows, $2, $3 FROM templates t JOIN crowds c ON c.id = t.crowd_id \
         WHERE t.id = $4 RETURNING id",
    )
    .bind(fire_id)
    .bind(db_time(now))
    .bind(not_before.map(db_time))
    .bind(template_id)
    .fetch_optional(&mut **tx)
    .await?;
    id.ok_or_else(|| StoreError::no_crowd(template_id))
}

/// A run with the count of its messages waiting for the end of quiet hours and of those held
/// for its pause.
const SELECT_RUN: &str = "SELECT r.id, r.template_id, r.crowd_id, r.status, r.rows_total, r.rows_read, r.rows_invalid, \
     r.batches, r.delivered, r.failed, r.dropped, r.created_at, r.finished_at, r.error, r.paused_at, r.resend_of, \
     (SELECT f.fire_time FROM fires f WHERE f.id = r.fire_id) AS fire_time, \
     (SELECT COUNT(*) FROM deferred_messages d WHERE d.run_id = r.id AND NOT d.paused) AS deferred, \
     (SELECT COUNT(*) FROM deferred_messages d WHERE d.run_id = r.id AND d.paused) AS held, \
     (SELECT i.id FROM installation i ORDER BY i.created_at LIMIT 1) AS installation FROM runs r";

/// The run's status as people see it (`RunProgress::shown_status` in SQL): `paused` for a paused
/// run that has not ended, `failed` for a completed run that delivered nothing and failed some,
/// else the stored status.
const SHOWN_STATUS: &str = "CASE \
     WHEN r.paused_at IS NOT NULL AND r.status IN ('pending', 'streaming', 'published') THEN 'paused' \
     WHEN r.status = 'completed' AND r.delivered = 0 AND r.failed > 0 THEN 'failed' \
     ELSE r.status END";

fn progress_from_row(row: &DbRow) -> Result<RunProgress> {
    let status: String = row.try_get("status")?;
    let id: i64 = row.try_get("id")?;
    let installation: String = row.try_get("installation")?;
    Ok(RunProgress {
        id,
        message_id_prefix: Installation::new(&installation).run_prefix(id),
        template_id: row.try_get("template_id")?,
        crowd_id: row.try_get("crowd_id")?,
        status: super::codec::run_status(&status)?,
        rows_total: row.try_get("rows_total")?,
        rows_read: row.try_get("rows_read")?,
        rows_invalid: row.try_get("rows_invalid")?,
        batches: row.try_get("batches")?,
        delivered: row.try_get("delivered")?,
        failed: row.try_get("failed")?,
        dropped: row.try_get("dropped")?,
        deferred: row.try_get("deferred")?,
        held: row.try_get("held")?,
        paused_at: opt_time_of(row, "paused_at")?,
        fire_time: opt_time_of(row, "fire_time")?,
        created_at: time_of(row, "created_at")?,
        finished_at: opt_time_of(row, "finished_at")?,
        error: row.try_get("error")?,
        resend_of: row.try_get("resend_of")?,
    })
}

#[async_trait]
impl RunRepo for Backend {
    async fn create_run(&self, template_id: i64, now: DateTime<Utc>) -> Result<i64> {
        let mut tx = begin_write(self.writer()).await?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM templates WHERE id = $1 AND deleted_at IS NULL")
            .bind(template_id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::not_found("template", template_id));
        }
        let id = insert_run(&mut tx, template_id, None, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn lease_run(&self, owner: &str, now: DateTime<Utc>, lease: Duration) -> Result<Option<RunLease>> {
        let row = sqlx::query(formatcp!(
            "UPDATE runs SET lease_owner = $1, lease_until = $2 WHERE id = ( \
               SELECT id FROM runs WHERE status = 'pending' \
               AND (lease_until IS NULL OR lease_until < $3) AND (not_before IS NULL OR not_before <= $3) \
               ORDER BY id LIMIT 1{SKIP_LOCKED}) \
             RETURNING id, template_id, crowd_id"
        ))
        .bind(owner)
        .bind(db_time(now + lease))
        .bind(db_time(now))
        .fetch_optional(self.writer())
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(RunLease {
            run_id: row.try_get("id")?,
            template_id: row.try_get("template_id")?,
            crowd_id: row.try_get("crowd_id")?,
            owner: owner.to_string(),
        }))
    }

    async fn plan_run(&self, lease: &RunLease, shards: &[ShardPlan], _now: DateTime<Utc>) -> Result<bool> {
        super::shards::plan(self.writer(), lease, shards).await
    }

    async fn release_run(&self, lease: &RunLease) -> Result<()> {
        sqlx::query("UPDATE runs SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2")
            .bind(lease.run_id)
            .bind(&lease.owner)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    async fn fail_run(&self, run_id: i64, error: &str, now: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "UPDATE runs SET status = 'failed', error = $1, finished_at = $2, lease_owner = NULL, \
             lease_until = NULL WHERE id = $3",
        )
        .bind(error)
        .bind(db_time(now))
        .bind(run_id)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    async fn lease_shard(&self, owner: &str, now: DateTime<Utc>, lease: Duration) -> Result<Option<ShardLease>> {
        super::shards::lease(self.writer(), owner, now, lease).await
    }

    async fn checkpoint_shard(
        &self,
        lease: &ShardLease,
        step: &StreamStep,
        now: DateTime<Utc>,
        lease_for: Duration,
    ) -> Result<bool> {
        super::shards::checkpoint(self.writer(), lease, step, now + lease_for).await
    }

    async fn finish_shard(&self, lease: &ShardLease, now: DateTime<Utc>) -> Result<()> {
        super::shards::finish(self.writer(), lease, now).await
    }

    async fn release_shard(&self, lease: &ShardLease) -> Result<()> {
        super::shards::release(self.writer(), lease).await
    }

    async fn list_shards(&self, run_id: i64) -> Result<Vec<ShardRecord>> {
        super::shards::list(&self.pool, run_id).await
    }

    async fn get_run(&self, run_id: i64) -> Result<RunProgress> {
        let row = sqlx::query(formatcp!("{SELECT_RUN} WHERE r.id = $1"))
            .bind(run_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found("run", run_id))?;
        progress_from_row(&row)
    }

    async fn run_send_state(&self, run_id: i64) -> Result<RunSendState> {
        let row = sqlx::query("SELECT status, paused_at FROM runs WHERE id = $1")
            .bind(run_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found("run", run_id))?;
        let status = super::codec::run_status(&row.try_get::<String, _>("status")?)?;
        Ok(match (status, opt_time_of(&row, "paused_at")?) {
            (RunStatus::Cancelled, _) => RunSendState::Cancelled,
            (_, Some(_)) => RunSendState::Paused,
            _ => RunSendState::Open,
        })
    }

    async fn cancel_run(&self, run_id: i64, now: DateTime<Utc>) -> Result<()> {
        self.cancel(run_id, now).await
    }

    async fn pause_run(&self, run_id: i64, now: DateTime<Utc>) -> Result<()> {
        self.pause(run_id, now).await
    }

    async fn resume_run(&self, run_id: i64, now: DateTime<Utc>) -> Result<()> {
        self.resume(run_id, now).await
    }

    async fn visit_failed_messages(&self, run_id: i64, visit: &mut (dyn FnMut(MessageId) + Send)) -> Result<u64> {
        self.visit_failed(run_id, visit).await
    }

    async fn create_resend_run(&self, parent: i64, crowd_id: &str, rows: i64, now: DateTime<Utc>) -> Result<i64> {
        self.insert_resend(parent, crowd_id, rows, now).await
    }

    async fn resend_of_run(&self, run_id: i64) -> Result<Option<i64>> {
        self.resend_of(run_id).await
    }

    async fn count_runs_by_status(&self) -> Result<Vec<(String, i64)>> {
        Ok(sqlx::query_as("SELECT status, COUNT(*) FROM runs GROUP BY status ORDER BY status")
            .fetch_all(&self.pool)
            .await?)
    }

    async fn list_runs(&self, filter: &RunFilter) -> Result<Vec<RunProgress>> {
        let rows = sqlx::query(formatcp!(
            "{SELECT_RUN} WHERE ($1 IS NULL OR r.template_id = $1) AND ($2 IS NULL OR {SHOWN_STATUS} = $2) \
             AND ($3 IS NULL OR r.created_at >= $3) AND ($4 IS NULL OR r.created_at < $4) \
             ORDER BY r.id DESC LIMIT $5 OFFSET $6"
        ))
        .bind(filter.template_id)
        .bind(filter.status.as_deref())
        .bind(filter.from.map(db_time))
        .bind(filter.to.map(db_time))
        .bind(filter.limit)
        .bind(filter.offset)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(progress_from_row).collect()
    }
}
