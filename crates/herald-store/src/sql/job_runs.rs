//! The run log of scheduled jobs (one row per attempt: start, end, node, outcome, the answer's
//! start), the stop a replacing fire asks of a running attempt, and a job fire's end: its
//! outcome in the fire ledger and a fixed delay's next fire counted from the run's end.

use super::Backend;
use super::codec::{opt_time_of, time_of};
use super::dialect::{Db, DbRow, FOR_NO_KEY_UPDATE, TRUE, begin_write, db_time};
use crate::error::{Result, StoreError};
use crate::listing::{JobRunFilter, Window};
use crate::model::{JobRunEnd, JobRunOutcome, JobRunRecord, JobRunStart};
use crate::repos::JobRunRepo;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use const_format::formatcp;
use herald_core::Cadence;
use sqlx::Row;

/// A window of runs by `$2` outcome (any when NULL), newest first: `$3` of them from `$4`.
const PAGE_OF_RUNS: &str = " AND ($2 IS NULL OR outcome = $2) ORDER BY id DESC LIMIT $3 OFFSET $4";

#[async_trait]
impl JobRunRepo for Backend {
    async fn start_job_run(&self, run: &JobRunStart<'_>) -> Result<i64> {
        insert_run(self.writer(), run).await
    }

    async fn start_job_run_within(&self, run: &JobRunStart<'_>, limit: u32) -> Result<Option<i64>> {
        let mut tx = begin_write(self.writer()).await?;
        // The job's schedule row locked (the lock order of a fire claim and a job's edit): two
        // nodes admitting a fire of the job at once take turns.
        sqlx::query(formatcp!("SELECT id FROM schedules WHERE job_id = $1{FOR_NO_KEY_UPDATE}"))
            .bind(run.job_id)
            .fetch_optional(&mut *tx)
            .await?;
        let running: i64 = sqlx::query_scalar(
            "SELECT COUNT(DISTINCT COALESCE(fire_id, -id)) FROM job_runs WHERE job_id = $1 AND outcome = 'running'",
        )
        .bind(run.job_id)
        .fetch_one(&mut *tx)
        .await?;
        if running >= i64::from(limit.max(1)) {
            return Ok(None);
        }
        let id = insert_run(&mut *tx, run).await?;
        tx.commit().await?;
        Ok(Some(id))
    }

    async fn finish_job_run(&self, run_id: i64, end: &JobRunEnd<'_>) -> Result<()> {
        sqlx::query(
            "UPDATE job_runs SET outcome = $1, ended_at = $2, status_code = $3, output = $4, error = $5 \
             WHERE id = $6 AND outcome = 'running'",
        )
        .bind(end.outcome.as_str())
        .bind(db_time(end.at))
        .bind(end.status_code)
        .bind(end.output)
        .bind(end.error)
        .bind(run_id)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    async fn running_job_runs(&self, job_id: i64) -> Result<Vec<JobRunRecord>> {
        let rows = sqlx::query("SELECT * FROM job_runs WHERE job_id = $1 AND outcome = 'running' ORDER BY id")
            .bind(job_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(run_from_row).collect()
    }

    async fn ask_job_run_stop(&self, run_id: i64) -> Result<bool> {
        let asked =
            sqlx::query(formatcp!("UPDATE job_runs SET stop_asked = {TRUE} WHERE id = $1 AND outcome = 'running'"))
                .bind(run_id)
                .execute(self.writer())
                .await?;
        Ok(asked.rows_affected() > 0)
    }

    async fn job_run_stop_asked(&self, run_id: i64) -> Result<bool> {
        let asked: Option<bool> = sqlx::query_scalar("SELECT stop_asked FROM job_runs WHERE id = $1")
            .bind(run_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(asked.unwrap_or(true))
    }

    async fn list_job_runs(&self, filter: &JobRunFilter) -> Result<Vec<JobRunRecord>> {
        let rows = sqlx::query(formatcp!("SELECT * FROM job_runs WHERE job_id = $1{PAGE_OF_RUNS}"))
            .bind(filter.job_id)
            .bind(filter.outcome.map(JobRunOutcome::as_str))
            .bind(filter.window.limit)
            .bind(filter.window.offset)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(run_from_row).collect()
    }

    async fn start_housekeeping_run(
        &self,
        schedule_id: i64,
        fire_id: i64,
        node: &str,
        at: DateTime<Utc>,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO job_runs (schedule_id, fire_id, attempt, node, outcome, started_at) \
             VALUES ($1, $2, 1, $3, 'running', $4) RETURNING id",
        )
        .bind(schedule_id)
        .bind(fire_id)
        .bind(node)
        .bind(db_time(at))
        .fetch_one(self.writer())
        .await?)
    }

    async fn list_schedule_runs(
        &self,
        schedule_id: i64,
        outcome: Option<JobRunOutcome>,
        window: Window,
    ) -> Result<Vec<JobRunRecord>> {
        let rows = sqlx::query(formatcp!("SELECT * FROM job_runs WHERE schedule_id = $1{PAGE_OF_RUNS}"))
            .bind(schedule_id)
            .bind(outcome.map(JobRunOutcome::as_str))
            .bind(window.limit)
            .bind(window.offset)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(run_from_row).collect()
    }

    async fn complete_job_fire(&self, fire_id: i64, error: Option<&str>, ended: DateTime<Utc>) -> Result<()> {
        let mut tx = begin_write(self.writer()).await?;
        let schedule_id = super::schedules::record_fire_outcome(&mut tx, fire_id, error).await?;
        let cadence = sqlx::query(formatcp!(
            "SELECT cadence, period_ms, hold_ms FROM schedules WHERE id = $1 AND enabled = {TRUE}"
        ))
        .bind(schedule_id)
        .fetch_optional(&mut *tx)
        .await?;
        let next = match cadence {
            Some(row) => {
                let name: String = row.try_get("cadence")?;
                Cadence::from_parts(&name, row.try_get("period_ms")?, row.try_get("hold_ms")?)
                    .and_then(|c| c.next_after_run(ended))
            }
            None => None,
        };
        if let Some(next) = next {
            sqlx::query("UPDATE schedules SET next_fire_at = $1 WHERE id = $2")
                .bind(db_time(next))
                .bind(schedule_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Writes an attempt's start (already ended when it is not `running`, a discarded fire's).
async fn insert_run<'e>(db: impl sqlx::Executor<'e, Database = Db>, run: &JobRunStart<'_>) -> Result<i64> {
    let ended = (run.outcome != JobRunOutcome::Running).then(|| db_time(run.at));
    Ok(sqlx::query_scalar(
        "INSERT INTO job_runs (job_id, schedule_id, fire_id, attempt, node, outcome, started_at, ended_at, shard, shards) \
         VALUES ($1, (SELECT id FROM schedules WHERE job_id = $1), $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(run.job_id)
    .bind(run.fire_id)
    .bind(run.attempt)
    .bind(run.node)
    .bind(run.outcome.as_str())
    .bind(db_time(run.at))
    .bind(ended)
    .bind(run.shard.map(|s| s.index as i32))
    .bind(run.shard.map(|s| s.total as i32))
    .fetch_one(db)
    .await?)
}

fn run_from_row(r: &DbRow) -> Result<JobRunRecord> {
    let outcome: String = r.try_get("outcome")?;
    let started_at = time_of(r, "started_at")?;
    let ended_at = opt_time_of(r, "ended_at")?;
    Ok(JobRunRecord {
        id: r.try_get("id")?,
        job_id: r.try_get("job_id")?,
        schedule_id: r.try_get("schedule_id")?,
        fire_id: r.try_get("fire_id")?,
        attempt: r.try_get("attempt")?,
        node: r.try_get("node")?,
        outcome: JobRunOutcome::parse(&outcome)
            .ok_or_else(|| StoreError::Corrupt(format!("job run outcome {outcome:?}")))?,
        started_at,
        ended_at,
        duration_ms: ended_at.map(|end| (end - started_at).num_milliseconds()),
        status_code: r.try_get("status_code")?,
        output: r.try_get("output")?,
        error: r.try_get("error")?,
        shard: r.try_get("shard")?,
        shards: r.try_get("shards")?,
    })
}
