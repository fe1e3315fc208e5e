//! Claiming due fires. One `BEGIN IMMEDIATE` transaction writes the fire ledger row, creates
//! the fire's run and advances the schedule, so a fire is never lost or taken twice.

use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::model::{ClaimedFire, FireOutcome, FireRecord, ScheduleRecord};
use crate::repos::ScheduleRepo;
use crate::time::{from_ms, to_ms};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use herald_core::{CronSchedule, MisfirePolicy, plan_fire};
use sqlx::{Row, Sqlite, Transaction};

#[async_trait]
impl ScheduleRepo for SqliteStore {
    async fn claim_due_fires(
        &self,
        claimer: &str,
        now: DateTime<Utc>,
        grace: Duration,
        limit: i64,
    ) -> Result<Vec<ClaimedFire>> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let due = sqlx::query(
            "SELECT id, kind, template_id, account_id, cron, timezone, misfire, next_fire_at FROM schedules \
             WHERE enabled = 1 AND next_fire_at IS NOT NULL AND next_fire_at <= ? \
             ORDER BY next_fire_at, id LIMIT ?",
        )
        .bind(to_ms(now))
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        let mut claimed = Vec::with_capacity(due.len());
        for row in due {
            let schedule_id: i64 = row.try_get("id")?;
            let cron: String = row.try_get("cron")?;
            let timezone: String = row.try_get("timezone")?;
            let parsed = match CronSchedule::parse(&cron, &timezone) {
                Ok(parsed) => parsed,
                Err(e) => {
                    tracing::error!(schedule_id, error = %e, "disabling schedule with an unreadable cron");
                    sqlx::query("UPDATE schedules SET enabled = 0, next_fire_at = NULL WHERE id = ?")
                        .bind(schedule_id)
                        .execute(&mut *tx)
                        .await?;
                    continue;
                }
            };
            let misfire: String = row.try_get("misfire")?;
            let policy = MisfirePolicy::parse(&misfire).unwrap_or_default();
            let due_at = from_ms(row.try_get("next_fire_at")?);
            let plan = plan_fire(&parsed, due_at, now, grace, policy);
            let fire = DueFire {
                schedule_id,
                kind: row.try_get("kind")?,
                template_id: row.try_get("template_id")?,
                account_id: row.try_get("account_id")?,
                fire_time: plan.fire_time,
                lateness_ms: plan.lateness.num_milliseconds(),
                fires: plan.fire,
            };
            if let Some(c) = record_fire(&mut tx, &fire, claimer, now).await? {
                claimed.push(c);
            }
            sqlx::query("UPDATE schedules SET next_fire_at = ?, updated_at = ? WHERE id = ?")
                .bind(plan.next_fire.map(to_ms))
                .bind(to_ms(now))
                .bind(schedule_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(claimed)
    }

    async fn list_fires(&self, schedule_id: i64, limit: i64) -> Result<Vec<FireRecord>> {
        let rows = sqlx::query("SELECT * FROM fires WHERE schedule_id = ? ORDER BY fire_time DESC LIMIT ?")
            .bind(schedule_id)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(fire_from_row).collect()
    }

    async fn list_schedules(&self) -> Result<Vec<ScheduleRecord>> {
        let rows = sqlx::query(
            "SELECT s.*, f.id AS f_id, f.fire_time AS f_fire_time, f.claimed_at AS f_claimed_at, \
             f.lateness_ms AS f_lateness_ms, f.outcome AS f_outcome, f.run_id AS f_run_id, f.error AS f_error, \
             f.claimed_by AS f_claimed_by \
             FROM schedules s LEFT JOIN fires f ON f.id = (SELECT id FROM fires WHERE schedule_id = s.id \
             ORDER BY fire_time DESC LIMIT 1) ORDER BY s.id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let fire_id: Option<i64> = r.try_get("f_id")?;
                let last_fire = match fire_id {
                    Some(id) => Some(FireRecord {
                        id,
                        schedule_id: r.try_get("id")?,
                        fire_time: from_ms(r.try_get("f_fire_time")?),
                        claimed_at: from_ms(r.try_get("f_claimed_at")?),
                        lateness_ms: r.try_get("f_lateness_ms")?,
                        outcome: r.try_get("f_outcome")?,
                        run_id: r.try_get("f_run_id")?,
                        claimed_by: r.try_get("f_claimed_by")?,
                        error: r.try_get("f_error")?,
                    }),
                    None => None,
                };
                let next: Option<i64> = r.try_get("next_fire_at")?;
                Ok(ScheduleRecord {
                    id: r.try_get("id")?,
                    kind: r.try_get("kind")?,
                    template_id: r.try_get("template_id")?,
                    account_id: r.try_get("account_id")?,
                    cron: r.try_get("cron")?,
                    timezone: r.try_get("timezone")?,
                    enabled: r.try_get::<i64, _>("enabled")? != 0,
                    next_fire_at: next.map(from_ms),
                    last_fire,
                })
            })
            .collect()
    }

    async fn ensure_housekeeping(&self, kind: &str, cron: &str, now: DateTime<Utc>) -> Result<()> {
        let parsed = CronSchedule::parse(cron, "UTC").map_err(|e| StoreError::Conflict(e.to_string()))?;
        sqlx::query(
            "INSERT INTO schedules (kind, cron, timezone, misfire, enabled, next_fire_at, updated_at) \
             VALUES (?, ?, 'UTC', 'fire_once', 1, ?, ?) \
             ON CONFLICT (kind) WHERE template_id IS NULL AND account_id IS NULL DO NOTHING",
        )
        .bind(kind)
        .bind(cron)
        .bind(parsed.next_after(now).map(to_ms))
        .bind(to_ms(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn complete_fire(&self, fire_id: i64, error: Option<&str>, retry_at: Option<DateTime<Utc>>) -> Result<()> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let schedule_id: Option<i64> =
            sqlx::query_scalar("UPDATE fires SET outcome = ?, error = ? WHERE id = ? RETURNING schedule_id")
                .bind(if error.is_some() { "failed" } else { "succeeded" })
                .bind(error)
                .bind(fire_id)
                .fetch_optional(&mut *tx)
                .await?;
        let schedule_id = schedule_id.ok_or_else(|| StoreError::not_found("fire", fire_id))?;
        if let (Some(_), Some(at)) = (error, retry_at) {
            sqlx::query(
                "UPDATE schedules SET next_fire_at = MIN(COALESCE(next_fire_at, ?1), ?1) WHERE id = ?2 AND enabled = 1",
            )
            .bind(to_ms(at))
            .bind(schedule_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn schedule_id_of(&self, template_id: i64) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar("SELECT id FROM schedules WHERE template_id = ?")
            .bind(template_id)
            .fetch_optional(&self.pool)
            .await?)
    }
}

struct DueFire {
    schedule_id: i64,
    kind: String,
    template_id: Option<i64>,
    account_id: Option<i64>,
    fire_time: DateTime<Utc>,
    lateness_ms: i64,
    fires: bool,
}

/// Writes the ledger row (and the run of a template fire); None when the ledger already
/// holds this (schedule, fire time).
async fn record_fire(
    tx: &mut Transaction<'_, Sqlite>,
    fire: &DueFire,
    claimer: &str,
    now: DateTime<Utc>,
) -> Result<Option<ClaimedFire>> {
    let has_crowd = match fire.template_id {
        Some(id) => sqlx::query_scalar::<_, Option<String>>("SELECT crowd_id FROM templates WHERE id = ?")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?
            .flatten()
            .is_some(),
        None => false,
    };
    let outcome = match (fire.fires, fire.template_id) {
        (false, _) => FireOutcome::MisfireSkipped,
        (true, Some(_)) if !has_crowd => FireOutcome::NoCrowd,
        _ => FireOutcome::Fired,
    };
    let fire_id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO fires (schedule_id, fire_time, claimed_at, lateness_ms, outcome, claimed_by) \
         VALUES (?, ?, ?, ?, ?, ?) \
         ON CONFLICT (schedule_id, fire_time) DO NOTHING RETURNING id",
    )
    .bind(fire.schedule_id)
    .bind(to_ms(fire.fire_time))
    .bind(to_ms(now))
    .bind(fire.lateness_ms)
    .bind(outcome.as_str())
    .bind(claimer)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(fire_id) = fire_id else {
        tracing::warn!(schedule_id = fire.schedule_id, fire_time = %fire.fire_time, "fire already in the ledger");
        return Ok(None);
    };
    let mut run_id = None;
    if let (FireOutcome::Fired, Some(template_id)) = (outcome, fire.template_id) {
        let id = super::runs::insert_run(tx, template_id, Some(fire_id), now).await?;
        sqlx::query("UPDATE fires SET run_id = ? WHERE id = ?").bind(id).bind(fire_id).execute(&mut **tx).await?;
        run_id = Some(id);
    }
    if fire.lateness_ms > 0 && outcome != FireOutcome::Fired {
        tracing::warn!(
            schedule_id = fire.schedule_id,
            lateness_ms = fire.lateness_ms,
            outcome = outcome.as_str(),
            "fire not sent"
        );
    }
    Ok(Some(ClaimedFire {
        fire_id,
        schedule_id: fire.schedule_id,
        template_id: fire.template_id,
        account_id: fire.account_id,
        kind: fire.kind.clone(),
        fire_time: fire.fire_time,
        lateness_ms: fire.lateness_ms,
        outcome,
        run_id,
    }))
}

fn fire_from_row(r: &sqlx::sqlite::SqliteRow) -> Result<FireRecord> {
    Ok(FireRecord {
        id: r.try_get("id")?,
        schedule_id: r.try_get("schedule_id")?,
        fire_time: from_ms(r.try_get("fire_time")?),
        claimed_at: from_ms(r.try_get("claimed_at")?),
        lateness_ms: r.try_get("lateness_ms")?,
        outcome: r.try_get("outcome")?,
        run_id: r.try_get("run_id")?,
        error: r.try_get("error")?,
        claimed_by: r.try_get("claimed_by")?,
    })
}

pub(super) fn no_crowd(template_id: i64) -> StoreError {
    StoreError::Conflict(format!("template {template_id} has no crowd file to send to"))
}
