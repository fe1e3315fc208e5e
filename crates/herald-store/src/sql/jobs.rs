//! Scheduled jobs: the saved spec in `jobs`, and its schedule row (kind `job`) that the fire
//! claim reads, written together in one transaction. A trigger ("run now") is a time on the
//! schedule row that the next claim takes, on whichever node claims.

use super::Backend;
use super::codec::{name_taken, opt_time_of, time_of};
use super::dialect::{DbRow, FOR_UPDATE, Tx, begin_write, db_time};
use crate::error::{Result, StoreError};
use crate::listing::Window;
use crate::model::JobRecord;
use crate::repos::JobRepo;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use const_format::formatcp;
use herald_core::scheduled_job::JobSpec;
use sqlx::Row;

const JOB_COLUMNS: &str = "SELECT j.id, j.spec_json, j.created_at, j.updated_at, \
     s.id AS schedule_id, s.enabled, s.next_fire_at FROM jobs j JOIN schedules s ON s.job_id = j.id";

#[async_trait]
impl JobRepo for Backend {
    async fn create_job(&self, spec: &JobSpec, now: DateTime<Utc>) -> Result<JobRecord> {
        let mut tx = begin_write(self.writer()).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO jobs (name, kind, spec_json, created_at, updated_at, keep_runs_days) \
             VALUES ($1, $4, $2, $3, $3, $5) \
             RETURNING id",
        )
        .bind(spec.name.trim())
        .bind(spec_json(spec)?)
        .bind(db_time(now))
        .bind(kind_of(spec))
        .bind(spec.keep_runs_days.map(i64::from))
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| name_taken(e, "job", spec.name.trim()))?;
        write_schedule(&mut tx, id, spec, true, now).await?;
        let job = job_in(&mut tx, id).await?;
        tx.commit().await?;
        Ok(job)
    }

    async fn update_job(&self, id: i64, spec: &JobSpec, now: DateTime<Utc>) -> Result<JobRecord> {
        let mut tx = begin_write(self.writer()).await?;
        let enabled = lock_job(&mut tx, id).await?;
        sqlx::query(
            "UPDATE jobs SET name = $1, spec_json = $2, updated_at = $3, kind = $5, keep_runs_days = $6 WHERE id = $4",
        )
        .bind(spec.name.trim())
        .bind(spec_json(spec)?)
        .bind(db_time(now))
        .bind(id)
        .bind(kind_of(spec))
        .bind(spec.keep_runs_days.map(i64::from))
        .execute(&mut *tx)
        .await
        .map_err(|e| name_taken(e, "job", spec.name.trim()))?;
        write_schedule(&mut tx, id, spec, enabled, now).await?;
        let job = job_in(&mut tx, id).await?;
        tx.commit().await?;
        Ok(job)
    }

    async fn job_id_named(&self, name: &str) -> Result<i64> {
        let id: Option<i64> = sqlx::query_scalar("SELECT id FROM jobs WHERE name = $1")
            .bind(name.trim())
            .fetch_optional(&self.pool)
            .await?;
        id.ok_or_else(|| StoreError::not_found("job", name.trim()))
    }

    async fn get_job(&self, id: i64) -> Result<JobRecord> {
        let row = sqlx::query(formatcp!("{JOB_COLUMNS} WHERE j.id = $1")).bind(id).fetch_optional(&self.pool).await?;
        job_from_row(&row.ok_or_else(|| StoreError::not_found("job", id))?)
    }

    async fn list_jobs(&self, window: Window) -> Result<Vec<JobRecord>> {
        let rows = sqlx::query(formatcp!("{JOB_COLUMNS} ORDER BY j.id LIMIT $1 OFFSET $2"))
            .bind(window.limit)
            .bind(window.offset)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(job_from_row).collect()
    }

    async fn delete_job(&self, id: i64) -> Result<()> {
        let deleted = sqlx::query("DELETE FROM jobs WHERE id = $1").bind(id).execute(self.writer()).await?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::not_found("job", id));
        }
        Ok(())
    }

    async fn set_job_enabled(&self, id: i64, enabled: bool, now: DateTime<Utc>) -> Result<JobRecord> {
        let mut tx = begin_write(self.writer()).await?;
        let was = lock_job(&mut tx, id).await?;
        if was != enabled {
            let spec = job_in(&mut tx, id).await?.spec;
            write_schedule(&mut tx, id, &spec, enabled, now).await?;
        }
        let job = job_in(&mut tx, id).await?;
        tx.commit().await?;
        Ok(job)
    }

    async fn trigger_job(&self, id: i64, now: DateTime<Utc>, param: Option<&str>) -> Result<()> {
        let asked = sqlx::query(
            "UPDATE schedules SET trigger_at = COALESCE(trigger_at, $1), trigger_param = $3 WHERE job_id = $2",
        )
        .bind(db_time(now))
        .bind(id)
        .bind(param)
        .execute(self.writer())
        .await?;
        if asked.rows_affected() == 0 {
            return Err(StoreError::not_found("job", id));
        }
        Ok(())
    }
}

/// What the job runs, as the `kind` column says it.
fn kind_of(spec: &JobSpec) -> &'static str {
    if spec.command.is_some() { "command" } else { "http" }
}

fn spec_json(spec: &JobSpec) -> Result<String> {
    let mut stored = spec.clone();
    stored.name = spec.name.trim().to_string();
    serde_json::to_string(&stored).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Locks the job's schedule row (the lock order of a fire claim) and reads whether it is enabled.
async fn lock_job(tx: &mut Tx, id: i64) -> Result<bool> {
    let enabled: Option<bool> =
        sqlx::query_scalar(formatcp!("SELECT enabled FROM schedules WHERE job_id = $1{FOR_UPDATE}"))
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
    enabled.ok_or_else(|| StoreError::not_found("job", id))
}

async fn job_in(tx: &mut Tx, id: i64) -> Result<JobRecord> {
    let row = sqlx::query(formatcp!("{JOB_COLUMNS} WHERE j.id = $1")).bind(id).fetch_one(&mut **tx).await?;
    job_from_row(&row)
}

/// Writes the job's schedule row from its spec: armed from `now` when enabled, else paused.
async fn write_schedule(tx: &mut Tx, job_id: i64, spec: &JobSpec, enabled: bool, now: DateTime<Utc>) -> Result<()> {
    let row = spec.schedule.row();
    let cadence = spec.cadence();
    let next_fire = if enabled { spec.first_fire_after(now) } else { None };
    sqlx::query(
        "INSERT INTO schedules (kind, job_id, cron, timezone, misfire, enabled, next_fire_at, updated_at, \
         start_at, end_at, exclude_dates, cadence, period_ms, hold_ms, exclude_windows) \
         VALUES ('job', $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
         ON CONFLICT (job_id) WHERE job_id IS NOT NULL DO UPDATE SET cron = excluded.cron, \
         timezone = excluded.timezone, misfire = excluded.misfire, enabled = excluded.enabled, \
         next_fire_at = excluded.next_fire_at, updated_at = excluded.updated_at, start_at = excluded.start_at, \
         end_at = excluded.end_at, exclude_dates = excluded.exclude_dates, cadence = excluded.cadence, \
         period_ms = excluded.period_ms, hold_ms = excluded.hold_ms, exclude_windows = excluded.exclude_windows",
    )
    .bind(job_id)
    .bind(row.cron)
    .bind(row.timezone)
    .bind(row.misfire.to_string())
    .bind(enabled)
    .bind(next_fire.map(db_time))
    .bind(db_time(now))
    .bind(row.start_at.map(db_time))
    .bind(row.end_at.map(db_time))
    .bind(super::templates::json_list(row.exclude_dates))
    .bind(cadence.as_str())
    .bind(cadence.period_ms())
    .bind(cadence.hold_ms())
    .bind(super::templates::json_list(row.exclude_windows))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn job_from_row(r: &DbRow) -> Result<JobRecord> {
    let spec: String = r.try_get("spec_json")?;
    Ok(JobRecord {
        id: r.try_get("id")?,
        spec: serde_json::from_str(&spec).map_err(|e| StoreError::Corrupt(format!("job spec: {e}")))?,
        enabled: r.try_get("enabled")?,
        next_fire_at: opt_time_of(r, "next_fire_at")?,
        schedule_id: r.try_get("schedule_id")?,
        created_at: time_of(r, "created_at")?,
        updated_at: time_of(r, "updated_at")?,
    })
}
