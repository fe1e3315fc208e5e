//! Claiming a page of due fires as sets: the due schedules are read as one JSON row, their
//! fires decided in Rust (herald-core's `fire::decide`), then written with one multi-row INSERT
//! into the fire ledger and one multi-row UPDATE moving their schedules on, so the thousand
//! fires of one second cost a few statements and rows instead of two statements and rows each.

use super::dialect::{
    Db, DbRow, DbTime, JSON_ARRAY, JSON_ARRAY_AGG, PAGE_AS_JSON, SKIP_LOCKED, TRUE, Tx, db_time, from_db_time,
    insert_returning_ids,
};
use crate::error::Result;
use crate::model::ClaimedFire;
use chrono::{DateTime, Duration, Utc};
use const_format::formatcp;
use herald_core::fire::{self, DueSchedule, FireDecision, FireTarget};
use herald_core::{Cadence, MisfirePolicy, shaped_chunks};
use sqlx::types::Json;
use sqlx::{QueryBuilder, Row};
use std::collections::HashMap;

/// Rows per multi-row statement at most (seven bound values each, well inside SQLite's limit of
/// 32,766); fewer come in the few sizes of [`shaped_chunks`].
const ROWS_PER_STATEMENT: usize = 256;

/// A due schedule's columns, in [`DueRow`]'s field order, the last whether its template has a
/// crowd to send to.
const DUE_COLUMNS: &str = "s.id, s.kind, s.template_id, s.account_id, s.job_id, s.cron, s.timezone, s.misfire, \
     s.next_fire_at, s.end_at, s.exclude_dates, s.exclude_windows, s.cadence, s.period_ms, s.hold_ms, \
     s.last_fire_id, CASE WHEN EXISTS (SELECT 1 FROM templates t WHERE t.id = s.template_id AND t.crowd_id IS NOT NULL) \
     THEN 1 ELSE 0 END";

/// The due schedules, at most `$2`, soonest first. Under READ COMMITTED a row whose claim
/// committed while this one waited to lock it is re-checked against `next_fire_at <= $1` on
/// its new version, so it drops out.
const DUE_SCHEDULES: &str = formatcp!(
    "FROM (SELECT * FROM schedules WHERE enabled = {TRUE} AND next_fire_at <= $1 \
     ORDER BY next_fire_at, id LIMIT $2{SKIP_LOCKED}) s"
);

/// The page as one JSON array of arrays (where rows cross the driver one hand-off each).
const DUE_PAGE_AS_JSON: &str =
    formatcp!("SELECT COALESCE({JSON_ARRAY_AGG}({JSON_ARRAY}({DUE_COLUMNS})), '[]') {DUE_SCHEDULES}");
/// The page as rows.
const DUE_PAGE_AS_ROWS: &str = formatcp!("SELECT {DUE_COLUMNS} {DUE_SCHEDULES}");

/// A due schedule as [`DUE_COLUMNS`] reads it.
#[derive(serde::Deserialize)]
pub(super) struct DueRow {
    id: i64,
    kind: String,
    template_id: Option<i64>,
    account_id: Option<i64>,
    job_id: Option<i64>,
    cron: String,
    timezone: String,
    misfire: String,
    next_fire_at: DbTime,
    end_at: Option<DbTime>,
    exclude_dates: Option<String>,
    exclude_windows: Option<String>,
    cadence: String,
    period_ms: Option<i64>,
    hold_ms: Option<i64>,
    last_fire_id: Option<i64>,
    /// 1 when its template has a crowd to send to.
    has_crowd: i64,
}

impl DueRow {
    /// One row of [`DUE_PAGE_AS_ROWS`], its columns by position.
    fn of(row: &DbRow) -> Result<Self> {
        Ok(Self {
            id: row.try_get(0)?,
            kind: row.try_get(1)?,
            template_id: row.try_get(2)?,
            account_id: row.try_get(3)?,
            job_id: row.try_get(4)?,
            cron: row.try_get(5)?,
            timezone: row.try_get(6)?,
            misfire: row.try_get(7)?,
            next_fire_at: row.try_get(8)?,
            end_at: row.try_get(9)?,
            exclude_dates: row.try_get(10)?,
            exclude_windows: row.try_get(11)?,
            cadence: row.try_get(12)?,
            period_ms: row.try_get(13)?,
            hold_ms: row.try_get(14)?,
            last_fire_id: row.try_get(15)?,
            has_crowd: i64::from(row.try_get::<i32, _>(16)?),
        })
    }
}

/// At most `limit` schedules due at `now`, soonest first (locked against other claimers where
/// many nodes claim: rows another holds are passed over).
pub(super) async fn due_page(tx: &mut Tx, now: DateTime<Utc>, limit: i64) -> Result<Vec<DueRow>> {
    let mut due = if PAGE_AS_JSON {
        let page: Json<Vec<DueRow>> =
            sqlx::query_scalar(DUE_PAGE_AS_JSON).bind(db_time(now)).bind(limit).fetch_one(&mut **tx).await?;
        page.0
    } else {
        let rows = sqlx::query(DUE_PAGE_AS_ROWS).bind(db_time(now)).bind(limit).fetch_all(&mut **tx).await?;
        rows.iter().map(DueRow::of).collect::<Result<_>>()?
    };
    // Neither an aggregate nor an outer query keeps the subquery's order; the page is claimed
    // soonest first.
    due.sort_unstable_by(|a, b| (&a.next_fire_at, a.id).cmp(&(&b.next_fire_at, b.id)));
    Ok(due)
}

/// The schedule a fire belongs to.
pub(super) struct DueFire {
    pub schedule_id: i64,
    kind: String,
    template_id: Option<i64>,
    account_id: Option<i64>,
    job_id: Option<i64>,
    /// The schedule's newest fire in the ledger, the one this fire follows.
    last_fire_id: Option<i64>,
}

impl DueFire {
    pub fn of(row: &DbRow) -> Result<Self> {
        Ok(Self {
            schedule_id: row.try_get("id")?,
            kind: row.try_get("kind")?,
            template_id: row.try_get("template_id")?,
            account_id: row.try_get("account_id")?,
            job_id: row.try_get("job_id")?,
            last_fire_id: row.try_get("last_fire_id")?,
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
    row: DueRow,
    now: DateTime<Utc>,
    grace: Duration,
) -> Result<Option<Decided>> {
    let schedule_id = row.id;
    let exclude_dates = super::templates::excluded_dates(row.exclude_dates.as_deref())?;
    let exclude_windows = super::templates::excluded_windows(row.exclude_windows.as_deref())?;
    let Some(cadence) = Cadence::from_parts(&row.cadence, row.period_ms, row.hold_ms) else {
        tracing::error!(schedule_id, cadence = %row.cadence, "passing over a schedule whose cadence this version cannot read");
        return Ok(None);
    };
    let due = DueSchedule {
        cadence,
        cron: &row.cron,
        timezone: &row.timezone,
        misfire: MisfirePolicy::parse(&row.misfire).unwrap_or_default(),
        due_at: from_db_time(row.next_fire_at),
        target: match (row.template_id, row.job_id) {
            (Some(_), _) => FireTarget::Template { has_crowd: row.has_crowd != 0 },
            (None, Some(_)) => FireTarget::Job,
            (None, None) => FireTarget::Housekeeping,
        },
        end_at: row.end_at.map(from_db_time),
        exclude_dates: &exclude_dates,
        exclude_windows: &exclude_windows,
    };
    match fire::decide(&due, now, grace) {
        Ok(decision) => {
            let fire = DueFire {
                schedule_id,
                kind: row.kind,
                template_id: row.template_id,
                account_id: row.account_id,
                job_id: row.job_id,
                last_fire_id: row.last_fire_id,
            };
            Ok(Some(Decided { fire, decision }))
        }
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
    let inserts = shaped_chunks(decided, ROWS_PER_STATEMENT).map(|chunk| insert_fires(chunk, claimer, now));
    let fire_ids: HashMap<i64, i64> =
        insert_returning_ids(tx, "fires", "schedule_id", inserts.collect::<Vec<_>>()).await?.into_iter().collect();
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

/// One multi-row INSERT of ledger rows, a fire the ledger holds already left out.
fn insert_fires<'a>(chunk: &'a [Decided], claimer: &'a str, now: DateTime<Utc>) -> QueryBuilder<'a, Db> {
    let mut insert = QueryBuilder::<Db>::new(
        "INSERT INTO fires (schedule_id, fire_time, claimed_at, lateness_ms, outcome, claimed_by, prev_fire_id) ",
    );
    insert.push_values(chunk, |mut b, Decided { fire, decision }| {
        b.push_bind(fire.schedule_id)
            .push_bind(db_time(decision.fire_time))
            .push_bind(db_time(now))
            .push_bind(decision.lateness.num_milliseconds())
            .push_bind(decision.outcome.as_str())
            .push_bind(claimer)
            .push_bind(fire.last_fire_id);
    });
    insert.push(" ON CONFLICT (fire_time, schedule_id) DO NOTHING");
    insert
}

/// Creates the run a template's fire sends and links the fire to it.
async fn start_run(tx: &mut Tx, template_id: i64, fire_id: i64, now: DateTime<Utc>) -> Result<i64> {
    let run_id = super::runs::insert_run(tx, template_id, Some(fire_id), now).await?;
    sqlx::query("UPDATE fires SET run_id = $1 WHERE id = $2").bind(run_id).bind(fire_id).execute(&mut **tx).await?;
    Ok(run_id)
}

/// Moves each decided schedule on to its next fire (none: it has no more) and to the fire
/// `claimed` holds for it as its newest (kept where the ledger held that fire already), in
/// multi-row UPDATEs.
pub(super) async fn advance_schedules(
    tx: &mut Tx,
    decided: &[Decided],
    claimed: &[ClaimedFire],
    now: DateTime<Utc>,
) -> Result<()> {
    let fire_ids: HashMap<i64, i64> = claimed.iter().map(|c| (c.schedule_id, c.fire_id)).collect();
    for chunk in shaped_chunks(decided, ROWS_PER_STATEMENT) {
        let mut update = QueryBuilder::<Db>::new("WITH advanced (id, next_fire_at, last_fire_id) AS (");
        update.push_values(chunk, |mut b, Decided { fire, decision }| {
            b.push_bind(fire.schedule_id)
                .push_bind(decision.next_fire.map(db_time))
                .push_bind(fire_ids.get(&fire.schedule_id).copied());
        });
        update.push(
            ") UPDATE schedules SET next_fire_at = advanced.next_fire_at, \
             last_fire_id = COALESCE(advanced.last_fire_id, schedules.last_fire_id), updated_at = ",
        );
        update.push_bind(db_time(now));
        update.push(" FROM advanced WHERE schedules.id = advanced.id");
        update.build().execute(&mut **tx).await?;
    }
    Ok(())
}
