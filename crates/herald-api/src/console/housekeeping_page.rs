//! Housekeeping as jobs in the console: the token refreshes, the quiet-hours release, retention
//! and receipt pulls listed under the jobs (each with its schedule, next fire and how many of
//! its last runs succeeded), and a page of its own for each, with its alarms raised now, its
//! fires over time and its run log, as a job's page shows them.

use super::job_chart;
use super::job_page::raised_rows;
use super::jobs_page::{RATE_OF, RUNNING_SLACK, SuccessShare};
use super::language::{filters, text_with};
use super::pager::Pager;
use super::render::{Chrome, PageResult, ok, shown_at_opt};
use super::run_log::{RunLog, RunsOf};
use super::schedules_page::kind_word;
use super::session::Session;
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Extension, Router};
use herald_core::cron::CronSchedule;
use herald_store::{ScheduleFilter, ScheduleRecord, Window};
use serde::Deserialize;

/// Housekeeping schedules the jobs list shows (one per node-wide kind, one or two per channel
/// account); the schedules page lists every one of them.
const LISTED: i64 = 100;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/housekeeping/{id}", get(page))
}

/// A housekeeping schedule as the jobs list shows it.
pub(crate) struct HousekeepingRow {
    pub schedule_id: i64,
    /// Its kind in words, with the account it keeps for.
    pub name: String,
    pub cron: String,
    pub timezone: String,
    /// The cron in words.
    pub detail: String,
    pub next_fire: String,
    pub share: SuccessShare,
}

/// The housekeeping schedules, first [`LISTED`] of them, each with its last runs' share.
pub(crate) async fn rows(state: &AppState) -> Result<Vec<HousekeepingRow>, ApiError> {
    let filter = ScheduleFilter { housekeeping: true, window: Window::first(LISTED), ..ScheduleFilter::default() };
    let mut rows = Vec::new();
    for schedule in state.store.list_schedules(&filter).await? {
        let newest = Window::first(RATE_OF as i64 + RUNNING_SLACK);
        let runs = state.store.list_schedule_runs(schedule.id, None, newest).await?;
        rows.push(HousekeepingRow {
            schedule_id: schedule.id,
            name: name_of(&schedule),
            detail: cron_words(&schedule),
            next_fire: shown_at_opt(schedule.next_fire_at),
            share: SuccessShare::of(&runs, RATE_OF),
            cron: schedule.cron,
            timezone: schedule.timezone,
        });
    }
    Ok(rows)
}

fn name_of(schedule: &ScheduleRecord) -> String {
    housekeeping_label(&schedule.kind, schedule.account_name.as_deref(), schedule.account_id)
}

/// `token_refresh · ops-robot`: a housekeeping schedule's kind in words and the account it
/// keeps for.
pub(crate) fn housekeeping_label(kind: &str, account_name: Option<&str>, account_id: Option<i64>) -> String {
    let kind = kind_word(kind);
    match (account_name, account_id) {
        (Some(account), _) => format!("{kind} · {account}"),
        (None, Some(id)) => format!("{kind} · #{id}"),
        (None, None) => kind,
    }
}

fn cron_words(schedule: &ScheduleRecord) -> String {
    CronSchedule::parse(&schedule.cron, &schedule.timezone).map(|c| c.describe()).unwrap_or_default()
}

#[derive(Template)]
#[template(path = "console/housekeeping.html")]
struct HousekeepingPage {
    chrome: Chrome,
    schedule_id: i64,
    /// Its kind as a value, for the schedules page's filter.
    kind: String,
    name: String,
    cron: String,
    timezone: String,
    detail: String,
    next_fire: String,
    enabled: bool,
    /// Each rule raised now: its name, its last alarm, raises kept quiet since.
    raised: Vec<(String, String, i64)>,
    /// Its last fires' successes and failures over time, as the chart's series.
    chart: Option<String>,
    log: RunLog,
    pager: Pager,
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    outcome: Option<String>,
    page: Option<i64>,
}

async fn page(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<i64>,
    Query(q): Query<PageQuery>,
) -> PageResult {
    let this_one = ScheduleFilter { id: Some(id), housekeeping: true, ..ScheduleFilter::default() };
    let Some(schedule) = state.store.list_schedules(&this_one).await?.into_iter().next() else {
        return Err(ApiError::NotFound(text_with("hk-not-found", &[("id", &id)])).into());
    };
    let (log, pager) =
        RunLog::read(&state, RunsOf::Schedule(id), format!("/housekeeping/{id}"), q.outcome, q.page).await?;
    let fires = state.store.list_fires(id, job_chart::FIRES).await?;
    let chart = job_chart::series(&fires, session.zone).map(|series| series.to_string());
    let raised = raised_rows(state.store.raised_alarms(id).await?);
    Ok(ok(&HousekeepingPage {
        chrome: Chrome::new(&session, "/jobs"),
        schedule_id: id,
        name: name_of(&schedule),
        detail: cron_words(&schedule),
        next_fire: shown_at_opt(schedule.next_fire_at),
        enabled: schedule.enabled,
        kind: schedule.kind,
        cron: schedule.cron,
        timezone: schedule.timezone,
        raised,
        chart,
        log,
        pager,
    }))
}
