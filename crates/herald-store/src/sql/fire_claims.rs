//! Writing claimed fires as sets: the due schedules' fires are decided in Rust (herald-core's
//! `fire::decide`), then written with one multi-row INSERT into the fire ledger and one
//! multi-row UPDATE moving their schedules on, so the thousand fires of one second cost a few
//! statements instead of two each.

use super::codec::{opt_time_of, time_of};
use super::dialect::{Db, DbRow, Tx, db_time};
use crate::error::Result;
use crate::model::ClaimedFire;
use chrono::{DateTime, Duration, Utc};
use herald_core::fire::{self, DueSchedule, FireDecision, FireTarget};
use herald_core::{Cadence, MisfirePolicy, shaped_chunks};
use sqlx::{QueryBuilder, Row};
use std::collections::HashMap;

/// Rows per multi-row statement at most (six bound values each, well inside SQLite's limit of
/// 32,766); fewer come in the few sizes of [`shaped_chunks`].
const ROWS_PER_STATEMENT: usize = 256;

/// The schedule a fire belongs to.
pub(super) struct DueFire {
    pub schedule_id: i64,
    kind: String,
    template_id: Option<i64>,
    account_id: Option<i64>,
    job_id: Option<i64>,
}

impl DueFire {
    pub fn of(row: &DbRow) -> Result<Self> {
        Ok(Self {
            schedule_id: row.try_get("id")?,
            kind: row.try_get("kind")?,
            template_id: row.try_get("template_id")?,
            account_id: row.try_get("account_id")?,
            job_id: row.try_get("job_id")?,
        })
    }
}

/// A fire decided and waiting to be written.
pub(super) struct Decided {
    pub fire: DueFire,
    pub decision: FireDecision,
}

/// Decides the fire of one due schedule. None when its cadence is a newer version's (left for
/// the nodes that read it) or its cron no longer reads (the schedule is disabled here).
pub(super) async fn decide_due(
    tx: &mut Tx,
    row: &DbRow,
    now: DateTime<Utc>,
    grace: Duration,
) -> Result<Option<Decided>> {
    let fire = DueFire::of(row)?;
    let schedule_id = fire.schedule_id;
    let cron: String = row.try_get("cron")?;
    let timezone: String = row.try_get("timezone")?;
    let misfire: String = row.try_get("misfire")?;
    let exclude_dates = super::templates::excluded_dates_of(row)?;
    let exclude_windows = super::templates::excluded_windows_of(row)?;
    let name: String = row.try_get("cadence")?;
    let Some(cadence) = Cadence::from_parts(&name, row.try_get("period_ms")?, row.try_get("hold_ms")?) else {
        tracing::error!(schedule_id, cadence = %name, "passing over a schedule whose cadence this version cannot read");
        return Ok(None);
    };
    let due = DueSchedule {
        cadence,
        cron: &cron,
        timezone: &timezone,
        misfire: MisfirePolicy::parse(&misfire).unwrap_or_default(),
        due_at: time_of(row, "next_fire_at")?,
        target: match (fire.template_id, fire.job_id) {
            (Some(_), _) => FireTarget::Template { has_crowd: row.try_get("has_crowd")? },
            (None, Some(_)) => FireTarget::Job,
            (None, None) => FireTarget::Housekeeping,
        },
        end_at: opt_time_of(row, "end_at")?,
        exclude_dates: &exclude_dates,
        exclude_windows: &exclude_windows,
    };
    match fire::decide(&due, now, grace) {
        Ok(decision) => Ok(Some(Decided { fire, decision })),
        Err(e) => {
            tracing::error!(schedule_id, error = %e, "disabling schedule with an unreadable cron");
            sqlx::query("UPDATE schedules SET enabled = FALSE, next_fire_at = NULL WHERE id = $1")
                .bind(schedule_id)
                .execute(&mut **tx)
                .await?;
            Ok(None)
        }
    }
}

/// Writes the ledger rows of `decided` (and the runs of template fires that send), in its
/// order; a fire the ledger already held (schedule, fire time) is left out with a warning.
pub(super) async fn record_fires(
    tx: &mut Tx,
    decided: &[Decided],
    claimer: &str,
    now: DateTime<Utc>,
) -> Result<Vec<ClaimedFire>> {
    let mut fire_ids = HashMap::with_capacity(decided.len());
    for chunk in shaped_chunks(decided, ROWS_PER_STATEMENT) {
        fire_ids.extend(insert_fires(tx, chunk, claimer, now).await?);
    }
    let mut claimed = Vec::with_capacity(decided.len());
    for Decided { fire, decision } in decided {
        let Some(&fire_id) = fire_ids.get(&fire.schedule_id) else {
            tracing::warn!(schedule_id = fire.schedule_id, fire_time = %decision.fire_time, "fire already in the ledger");
            continue;
        };
        let run_id = match (decision.creates_run, fire.template_id) {
            (true, Some(template_id)) => Some(start_run(tx, template_id, fire_id, now).await?),
            _ => None,
        };
        let lateness_ms = decision.lateness.num_milliseconds();
        claimed.push(ClaimedFire {
            fire_id,
            schedule_id: fire.schedule_id,
            template_id: fire.template_id,
            account_id: fire.account_id,
            kind: fire.kind.clone(),
            fire_time: decision.fire_time,
            lateness_ms,
            outcome: decision.outcome,
            run_id,
            job_id: fire.job_id,
            param: None,
        });
    }
    Ok(claimed)
}

/// One multi-row INSERT of ledger rows; answers the new rows' ids by schedule.
async fn insert_fires(tx: &mut Tx, chunk: &[Decided], claimer: &str, now: DateTime<Utc>) -> Result<Vec<(i64, i64)>> {
    let mut insert = QueryBuilder::<Db>::new(
        "INSERT INTO fires (schedule_id, fire_time, claimed_at, lateness_ms, outcome, claimed_by) ",
    );
    insert.push_values(chunk, |mut b, Decided { fire, decision }| {
        b.push_bind(fire.schedule_id)
            .push_bind(db_time(decision.fire_time))
            .push_bind(db_time(now))
            .push_bind(decision.lateness.num_milliseconds())
            .push_bind(decision.outcome.as_str())
            .push_bind(claimer);
    });
    insert.push(" ON CONFLICT (schedule_id, fire_time) DO NOTHING RETURNING schedule_id, id");
    Ok(insert.build_query_as::<(i64, i64)>().fetch_all(&mut **tx).await?)
}

/// Creates the run a template's fire sends and links the fire to it.
async fn start_run(tx: &mut Tx, template_id: i64, fire_id: i64, now: DateTime<Utc>) -> Result<i64> {
    let run_id = super::runs::insert_run(tx, template_id, Some(fire_id), now).await?;
    sqlx::query("UPDATE fires SET run_id = $1 WHERE id = $2").bind(run_id).bind(fire_id).execute(&mut **tx).await?;
    Ok(run_id)
}

/// Moves each decided schedule on to its next fire (none: it has no more), in multi-row UPDATEs.
pub(super) async fn advance_schedules(tx: &mut Tx, decided: &[Decided], now: DateTime<Utc>) -> Result<()> {
    for chunk in shaped_chunks(decided, ROWS_PER_STATEMENT) {
        let mut update = QueryBuilder::<Db>::new("WITH advanced (id, next_fire_at) AS (");
        update.push_values(chunk, |mut b, Decided { fire, decision }| {
            b.push_bind(fire.schedule_id).push_bind(decision.next_fire.map(db_time));
        });
        update.push(") UPDATE schedules SET next_fire_at = advanced.next_fire_at, updated_at = ");
        update.push_bind(db_time(now));
        update.push(" FROM advanced WHERE schedules.id = advanced.id");
        update.build().execute(&mut **tx).await?;
    }
    Ok(())
}
