//! Claiming due fires on a cluster. One transaction locks the due schedule rows with
//! `FOR UPDATE SKIP LOCKED` (rows another node is claiming are passed over, not waited for),
//! writes each fire to the ledger, creates the fire's run and advances the schedule. The
//! ledger's unique (schedule, fire time) key stands behind the row locks.

use super::PgStore;
use crate::error::{Result, StoreError};
use crate::model::{ClaimedFire, FireOutcome, FireRecord, ScheduleRecord};
use crate::repos::ScheduleRepo;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use herald_core::{CronSchedule, MisfirePolicy, plan_fire};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, Row, Transaction};

#[async_trait]
impl ScheduleRepo for PgStore {
    async fn ensure_housekeeping(&self, kind: &str, cron: &str, now: DateTime<Utc>) -> Result<()> {
        let parsed = CronSchedule::parse(cron, "UTC").map_err(|e| StoreError::Conflict(e.to_string()))?;
        sqlx::query(
            "INSERT INTO schedules (kind, cron, timezone, misfire, enabled, next_fire_at, updated_at) \
             VALUES ($1, $2, 'UTC', 'fire_once', TRUE, $3, $4) \
             ON CONFLICT (kind) WHERE template_id IS NULL AND account_id IS NULL DO NOTHING",
        )
        .bind(kind)
        .bind(cron)
        .bind(parsed.next_after(now))
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn claim_due_fires(
        &self,
        claimer: &str,
        now: DateTime<Utc>,
        grace: Duration,
        limit: i64,
    ) -> Result<Vec<ClaimedFire>> {
        let mut tx = self.pool.begin().await?;
        // Under READ COMMITTED a row whose claim committed while we waited to lock it is
        // re-checked against `next_fire_at <= $1` on its new version, so it drops out here.
        let due = sqlx::query(
            "SELECT s.id, s.kind, s.template_id, s.account_id, s.cron, s.timezone, s.misfire, s.next_fire_at, \
             t.crowd_id IS NOT NULL AS has_crowd \
             FROM schedules s LEFT JOIN templates t ON t.id = s.template_id \
             WHERE s.enabled AND s.next_fire_at <= $1 \
             ORDER BY s.next_fire_at, s.id LIMIT $2 FOR UPDATE OF s SKIP LOCKED",
        )
        .bind(now)
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
                    sqlx::query("UPDATE schedules SET enabled = false, next_fire_at = NULL WHERE id = $1")
                        .bind(schedule_id)
                        .execute(&mut *tx)
                        .await?;
                    continue;
                }
            };
            let misfire: String = row.try_get("misfire")?;
            let policy = MisfirePolicy::parse(&misfire).unwrap_or_default();
            let due_at: DateTime<Utc> = row.try_get("next_fire_at")?;
            let plan = plan_fire(&parsed, due_at, now, grace, policy);
            let fire = DueFire {
                schedule_id,
                kind: row.try_get("kind")?,
                template_id: row.try_get("template_id")?,
                account_id: row.try_get("account_id")?,
                has_crowd: row.try_get("has_crowd")?,
                fire_time: plan.fire_time,
                lateness_ms: plan.lateness.num_milliseconds(),
                fires: plan.fire,
            };
            if let Some(c) = record_fire(&mut tx, &fire, claimer, now).await? {
                claimed.push(c);
            }
            sqlx::query("UPDATE schedules SET next_fire_at = $1, updated_at = $2 WHERE id = $3")
                .bind(plan.next_fire)
                .bind(now)
                .bind(schedule_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(claimed)
    }

    async fn list_fires(&self, schedule_id: i64, limit: i64) -> Result<Vec<FireRecord>> {
        let rows = sqlx::query("SELECT * FROM fires WHERE schedule_id = $1 ORDER BY fire_time DESC LIMIT $2")
            .bind(schedule_id)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| fire_from_row(r, "")).collect()
    }

    async fn list_schedules(&self) -> Result<Vec<ScheduleRecord>> {
        let rows = sqlx::query(
            "SELECT s.id, s.kind, s.template_id, s.account_id, s.cron, s.timezone, s.enabled, s.next_fire_at, \
             f.id AS f_id, f.schedule_id AS f_schedule_id, f.fire_time AS f_fire_time, \
             f.claimed_at AS f_claimed_at, f.lateness_ms AS f_lateness_ms, f.outcome AS f_outcome, \
             f.run_id AS f_run_id, f.error AS f_error, f.claimed_by AS f_claimed_by \
             FROM schedules s LEFT JOIN LATERAL ( \
               SELECT * FROM fires WHERE schedule_id = s.id ORDER BY fire_time DESC LIMIT 1) f ON true \
             ORDER BY s.id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let fire_id: Option<i64> = r.try_get("f_id")?;
                Ok(ScheduleRecord {
                    id: r.try_get("id")?,
                    kind: r.try_get("kind")?,
                    template_id: r.try_get("template_id")?,
                    account_id: r.try_get("account_id")?,
                    cron: r.try_get("cron")?,
                    timezone: r.try_get("timezone")?,
                    enabled: r.try_get("enabled")?,
                    next_fire_at: r.try_get("next_fire_at")?,
                    last_fire: match fire_id {
                        Some(_) => Some(fire_from_row(r, "f_")?),
                        None => None,
                    },
                })
            })
            .collect()
    }

    async fn complete_fire(&self, fire_id: i64, error: Option<&str>, retry_at: Option<DateTime<Utc>>) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let schedule_id: Option<i64> =
            sqlx::query_scalar("UPDATE fires SET outcome = $1, error = $2 WHERE id = $3 RETURNING schedule_id")
                .bind(if error.is_some() { "failed" } else { "succeeded" })
                .bind(error)
                .bind(fire_id)
                .fetch_optional(&mut *tx)
                .await?;
        let schedule_id = schedule_id.ok_or_else(|| StoreError::not_found("fire", fire_id))?;
        if let (Some(_), Some(at)) = (error, retry_at) {
            // Under READ COMMITTED a claim advancing this schedule meanwhile is waited for, and
            // the retry is compared with the next fire it set.
            sqlx::query(
                "UPDATE schedules SET next_fire_at = LEAST(COALESCE(next_fire_at, $1), $1) WHERE id = $2 AND enabled",
            )
            .bind(at)
            .bind(schedule_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn schedule_id_of(&self, template_id: i64) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar("SELECT id FROM schedules WHERE template_id = $1")
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
    has_crowd: bool,
    fire_time: DateTime<Utc>,
    lateness_ms: i64,
    fires: bool,
}

/// Writes the ledger row (and the run of a template fire); None when the ledger already
/// holds this (schedule, fire time).
async fn record_fire(
    tx: &mut Transaction<'_, Postgres>,
    fire: &DueFire,
    claimer: &str,
    now: DateTime<Utc>,
) -> Result<Option<ClaimedFire>> {
    let outcome = match (fire.fires, fire.template_id) {
        (false, _) => FireOutcome::MisfireSkipped,
        (true, Some(_)) if !fire.has_crowd => FireOutcome::NoCrowd,
        _ => FireOutcome::Fired,
    };
    let fire_id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO fires (schedule_id, fire_time, claimed_at, lateness_ms, outcome, claimed_by) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (schedule_id, fire_time) DO NOTHING RETURNING id",
    )
    .bind(fire.schedule_id)
    .bind(fire.fire_time)
    .bind(now)
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
        sqlx::query("UPDATE fires SET run_id = $1 WHERE id = $2").bind(id).bind(fire_id).execute(&mut **tx).await?;
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

/// A fire ledger row; `prefix` names its columns when it comes joined to its schedule.
fn fire_from_row(r: &PgRow, prefix: &str) -> Result<FireRecord> {
    let col = |name: &str| format!("{prefix}{name}");
    Ok(FireRecord {
        id: r.try_get(col("id").as_str())?,
        schedule_id: r.try_get(col("schedule_id").as_str())?,
        fire_time: r.try_get(col("fire_time").as_str())?,
        claimed_at: r.try_get(col("claimed_at").as_str())?,
        lateness_ms: r.try_get(col("lateness_ms").as_str())?,
        outcome: r.try_get(col("outcome").as_str())?,
        run_id: r.try_get(col("run_id").as_str())?,
        error: r.try_get(col("error").as_str())?,
        claimed_by: r.try_get(col("claimed_by").as_str())?,
    })
}

pub(super) fn no_crowd(template_id: i64) -> StoreError {
    StoreError::Conflict(format!("template {template_id} has no crowd file to send to"))
}
