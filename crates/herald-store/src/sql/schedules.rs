//! Claiming due fires. One write transaction takes the due schedule rows (with SKIP LOCKED
//! where many nodes claim at once: rows another node is claiming are passed over, not waited
//! for), writes their fires to the ledger, creates the fires' runs and advances the schedules
//! (as sets: `fire_claims`), so a fire is never lost or taken twice. The ledger's unique
//! (schedule, fire time) key stands behind the locks. What a fire does is herald-core's
//! `fire::decide`.

use super::Backend;
use super::codec::{opt_time_of, time_of};
use super::dialect::{DbRow, DbTime, LEAST, SKIP_LOCKED, TRUE, Tx, begin_write, db_time, from_db_time};
use super::fire_claims::{Decided, DueFire, advance_schedules, decide_due, due_page, record_fires};
use crate::error::{Result, StoreError};
use crate::listing::ScheduleFilter;
use crate::model::{ClaimedFire, FireRecord, ScheduleRecord};
use crate::repos::ScheduleRepo;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use const_format::formatcp;
use herald_core::fire::FireDecision;
use herald_core::{CronSchedule, FireOutcome};
use sqlx::Row;

/// The ids of schedule `$1`'s newest `$2` fires as `chain (id, n)`, followed from the schedule's
/// newest back through each fire's previous one (the ledger is keyed by time, not by schedule).
const SCHEDULE_FIRES: &str = "WITH RECURSIVE chain (id, n) AS ( \
     SELECT last_fire_id, 1 FROM schedules WHERE id = $1 AND last_fire_id IS NOT NULL AND $2 > 0 \
     UNION ALL SELECT f.prev_fire_id, chain.n + 1 FROM chain JOIN fires f ON f.id = chain.id \
     WHERE f.prev_fire_id IS NOT NULL AND chain.n < $2)";

/// Joins each schedule `s` to its newest fire `f`.
const LAST_FIRE_JOIN: &str = "LEFT JOIN fires f ON f.id = s.last_fire_id";

/// The schedules a fire was asked of ("run now"), oldest ask first.
const TRIGGERED_SCHEDULES: &str = formatcp!(
    "SELECT id, kind, template_id, account_id, job_id, last_fire_id, trigger_at, trigger_param FROM schedules WHERE trigger_at <= $1 \
     ORDER BY trigger_at, id LIMIT $2{SKIP_LOCKED}"
);

#[async_trait]
impl ScheduleRepo for Backend {
    async fn claim_due_fires(
        &self,
        claimer: &str,
        now: DateTime<Utc>,
        grace: Duration,
        limit: i64,
    ) -> Result<Vec<ClaimedFire>> {
        let mut tx = begin_write(self.writer()).await?;
        let mut claimed = Vec::new();
        let triggered = sqlx::query(TRIGGERED_SCHEDULES).bind(db_time(now)).bind(limit).fetch_all(&mut *tx).await?;
        for row in &triggered {
            claimed.extend(claim_trigger(&mut tx, row, claimer, now).await?);
        }
        let due = due_page(&mut tx, now, limit).await?;
        let mut decided = Vec::with_capacity(due.len());
        for row in due {
            decided.extend(decide_due(&mut tx, row, now, grace).await?);
        }
        let fired = record_fires(&mut tx, &decided, claimer, now).await?;
        advance_schedules(&mut tx, &decided, &fired, now).await?;
        claimed.extend(fired);
        tx.commit().await?;
        Ok(claimed)
    }

    async fn list_fires(&self, schedule_id: i64, limit: i64) -> Result<Vec<FireRecord>> {
        let rows = sqlx::query(formatcp!(
            "{SCHEDULE_FIRES} SELECT f.* FROM chain JOIN fires f ON f.id = chain.id \
             ORDER BY f.fire_time DESC, f.id DESC"
        ))
        .bind(schedule_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| fire_from_row(r, "")).collect()
    }

    async fn list_schedules(&self, filter: &ScheduleFilter) -> Result<Vec<ScheduleRecord>> {
        let rows = sqlx::query(formatcp!(
            "SELECT s.id, s.kind, s.template_id, s.account_id, s.job_id, s.cron, s.timezone, s.enabled, s.next_fire_at, \
             tn.name AS template_name, an.name AS account_name, jn.name AS job_name, \
             f.id AS f_id, f.schedule_id AS f_schedule_id, f.fire_time AS f_fire_time, \
             f.claimed_at AS f_claimed_at, f.lateness_ms AS f_lateness_ms, f.outcome AS f_outcome, \
             f.run_id AS f_run_id, f.error AS f_error, f.claimed_by AS f_claimed_by \
             FROM schedules s LEFT JOIN templates tn ON tn.id = s.template_id \
             LEFT JOIN channel_accounts an ON an.id = s.account_id LEFT JOIN jobs jn ON jn.id = s.job_id {LAST_FIRE_JOIN} \
             WHERE ($1 IS NULL OR s.kind = $1) AND ($2 IS NULL OR s.id = $2) \
             AND (NOT $5 OR (s.template_id IS NULL AND s.job_id IS NULL)) ORDER BY s.id LIMIT $3 OFFSET $4"
        ))
        .bind(filter.kind.map(|k| k.as_str()))
        .bind(filter.id)
        .bind(filter.window.limit)
        .bind(filter.window.offset)
        .bind(filter.housekeeping)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(schedule_from_row).collect()
    }

    async fn remove_housekeeping(&self, kind: &str) -> Result<()> {
        sqlx::query(
            "DELETE FROM schedules WHERE kind = $1 AND template_id IS NULL AND account_id IS NULL AND job_id IS NULL",
        )
        .bind(kind)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    async fn ensure_housekeeping(&self, kind: &str, cron: &str, now: DateTime<Utc>) -> Result<()> {
        let parsed = CronSchedule::parse(cron, "UTC").map_err(|e| StoreError::Conflict(e.to_string()))?;
        sqlx::query(
            "INSERT INTO schedules (kind, cron, timezone, misfire, enabled, next_fire_at, updated_at) \
             VALUES ($1, $2, 'UTC', 'fire_once', TRUE, $3, $4) \
             ON CONFLICT (kind) WHERE template_id IS NULL AND account_id IS NULL AND job_id IS NULL DO UPDATE \
             SET cron = excluded.cron, next_fire_at = excluded.next_fire_at, updated_at = excluded.updated_at \
             WHERE schedules.cron <> excluded.cron",
        )
        .bind(kind)
        .bind(cron)
        .bind(parsed.next_after(now).map(db_time))
        .bind(db_time(now))
        .execute(self.writer())
        .await?;
        Ok(())
    }

    async fn complete_fire(&self, fire_id: i64, error: Option<&str>, retry_at: Option<DateTime<Utc>>) -> Result<()> {
        let mut tx = begin_write(self.writer()).await?;
        let schedule_id = record_fire_outcome(&mut tx, fire_id, error).await?;
        if let (Some(_), Some(at)) = (error, retry_at) {
            // Under READ COMMITTED a claim advancing this schedule meanwhile is waited for, and
            // the retry is compared with the next fire it set.
            sqlx::query(formatcp!(
                "UPDATE schedules SET next_fire_at = {LEAST}(COALESCE(next_fire_at, $1), $1) \
                 WHERE id = $2 AND enabled = {TRUE}"
            ))
            .bind(db_time(at))
            .bind(schedule_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn soonest_fire_at(&self) -> Result<Option<DateTime<Utc>>> {
        let soonest: Option<DbTime> =
            sqlx::query_scalar(formatcp!("SELECT MIN(next_fire_at) FROM schedules WHERE enabled = {TRUE}"))
                .fetch_one(&self.pool)
                .await?;
        Ok(soonest.map(from_db_time))
    }

    async fn schedule_id_of(&self, template_id: i64) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar("SELECT id FROM schedules WHERE template_id = $1")
            .bind(template_id)
            .fetch_optional(&self.pool)
            .await?)
    }
}

/// Writes how a fire's work ended (a housekeeping or scheduled job's: `succeeded`, or `failed` with
/// its error) to its ledger row; answers the fire's schedule.
pub(super) async fn record_fire_outcome(tx: &mut Tx, fire_id: i64, error: Option<&str>) -> Result<i64> {
    let schedule_id: Option<i64> =
        sqlx::query_scalar("UPDATE fires SET outcome = $1, error = $2 WHERE id = $3 RETURNING schedule_id")
            .bind(if error.is_some() { "failed" } else { "succeeded" })
            .bind(error)
            .bind(fire_id)
            .fetch_optional(&mut **tx)
            .await?;
    schedule_id.ok_or_else(|| StoreError::not_found("fire", fire_id))
}

/// Writes the fire asked of one schedule at its `trigger_at` and clears the ask; the schedule's
/// own next fire stays. None when the ledger held a fire at that time (the ask is that fire).
async fn claim_trigger(tx: &mut Tx, row: &DbRow, claimer: &str, now: DateTime<Utc>) -> Result<Option<ClaimedFire>> {
    let asked_at = time_of(row, "trigger_at")?;
    let param: Option<String> = row.try_get("trigger_param")?;
    let fire = DueFire::of(row)?;
    let schedule_id = fire.schedule_id;
    let decision = FireDecision {
        outcome: FireOutcome::Fired,
        fire_time: asked_at,
        lateness: (now - asked_at).max(Duration::zero()),
        next_fire: None,
        creates_run: false,
    };
    let claimed = record_fires(tx, &[Decided { fire, decision }], claimer, now).await?;
    sqlx::query(
        "UPDATE schedules SET trigger_at = NULL, trigger_param = NULL, \
         last_fire_id = COALESCE($2, last_fire_id) WHERE id = $1",
    )
    .bind(schedule_id)
    .bind(claimed.first().map(|c| c.fire_id))
    .execute(&mut **tx)
    .await?;
    Ok(claimed.into_iter().next().map(|claimed| ClaimedFire { param, ..claimed }))
}

/// A fire ledger row; `prefix` names its columns when it comes joined to its schedule.
fn fire_from_row(r: &DbRow, prefix: &str) -> Result<FireRecord> {
    let col = |name: &str| format!("{prefix}{name}");
    Ok(FireRecord {
        id: r.try_get(col("id").as_str())?,
        schedule_id: r.try_get(col("schedule_id").as_str())?,
        fire_time: time_of(r, &col("fire_time"))?,
        claimed_at: time_of(r, &col("claimed_at"))?,
        lateness_ms: r.try_get(col("lateness_ms").as_str())?,
        outcome: r.try_get(col("outcome").as_str())?,
        run_id: r.try_get(col("run_id").as_str())?,
        error: r.try_get(col("error").as_str())?,
        claimed_by: r.try_get(col("claimed_by").as_str())?,
    })
}

/// A schedules-list row (its last fire's columns prefixed `f_`) as a record.
fn schedule_from_row(r: &DbRow) -> Result<ScheduleRecord> {
    let fire_id: Option<i64> = r.try_get("f_id")?;
    Ok(ScheduleRecord {
        id: r.try_get("id")?,
        kind: r.try_get("kind")?,
        template_id: r.try_get("template_id")?,
        template_name: r.try_get("template_name")?,
        account_id: r.try_get("account_id")?,
        account_name: r.try_get("account_name")?,
        job_id: r.try_get("job_id")?,
        job_name: r.try_get("job_name")?,
        cron: r.try_get("cron")?,
        timezone: r.try_get("timezone")?,
        enabled: r.try_get("enabled")?,
        next_fire_at: opt_time_of(r, "next_fire_at")?,
        last_fire: match fire_id {
            Some(_) => Some(fire_from_row(r, "f_")?),
            None => None,
        },
    })
}
