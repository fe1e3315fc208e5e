//! Every schedule herald runs, templates', jobs' and housekeeping alike (token refresh, quiet-hours
//! release, retention), paged and filtered by kind, with the name of what it belongs to, its
//! wording, last and next fire, and its recent fires' outcomes.

use super::language::filters;
use super::language::{text, text_with};
use super::pager::Pager;
use super::render::{Chrome, PageResult, ok, shown_at, shown_at_opt, time_in};
use super::session::Session;
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Extension, Router};
use herald_core::ScheduleKind;
use herald_core::cron::CronSchedule;
use herald_store::ScheduleRecord;
use serde::Deserialize;

const RECENT_FIRES: i64 = 5;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/schedules", get(page))
}

struct ScheduleRow {
    id: i64,
    /// The kind as a value (the filter's).
    kind: String,
    /// The kind in words.
    kind_label: String,
    /// What it belongs to: a template's or an account's path and name.
    owner: Option<(String, String)>,
    cron: String,
    description: String,
    timezone: String,
    enabled: bool,
    next_fire: String,
    last_fire: String,
    last_error: Option<String>,
    /// The recent fires: outcome as a value (the badge's class), in words, and when.
    recent: Vec<(String, String, String)>,
}

#[derive(Template)]
#[template(path = "console/schedules.html")]
struct SchedulesPage {
    chrome: Chrome,
    kind: String,
    /// Each kind: its value and its word.
    kinds: Vec<(&'static str, String)>,
    /// Why the filter was refused, shown above the list.
    error: Option<String>,
    rows: Vec<ScheduleRow>,
    pager: Pager,
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    kind: Option<String>,
    page: Option<i64>,
}

async fn page(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let kind = q.kind.unwrap_or_default();
    let page = Pager::page_of(q.page);
    let (mut schedules, error) = match crate::filters::schedules(Some(&kind), Pager::window(page)) {
        Ok(filter) => (state.store.list_schedules(&filter).await?, None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    let pager = Pager::of("/schedules", &[("kind", &kind)], page, &mut schedules);
    let mut rows = Vec::with_capacity(schedules.len());
    for s in schedules {
        let parsed = CronSchedule::parse(&s.cron, &s.timezone).ok();
        let recent = state.store.list_fires(s.id, RECENT_FIRES).await?;
        rows.push(ScheduleRow {
            id: s.id,
            owner: owner_of(&s),
            kind_label: kind_word(&s.kind),
            kind: s.kind,
            description: parsed.as_ref().map(CronSchedule::describe).unwrap_or_default(),
            next_fire: match (s.next_fire_at, &parsed) {
                (Some(at), Some(p)) => time_in(at, p.timezone()),
                (at, _) => shown_at_opt(at),
            },
            last_fire: s
                .last_fire
                .as_ref()
                .map(|f| format!("{} · {}", shown_at(f.fire_time), outcome_word(&f.outcome)))
                .unwrap_or_else(|| text("sched-never")),
            last_error: s.last_fire.and_then(|f| f.error),
            cron: s.cron,
            timezone: s.timezone,
            enabled: s.enabled,
            recent: recent
                .iter()
                .map(|f| {
                    let outcome = if f.error.is_some() { "error".to_string() } else { f.outcome.clone() };
                    let label = outcome_word(&outcome);
                    (outcome, label, shown_at(f.fire_time))
                })
                .collect(),
        });
    }
    Ok(ok(&SchedulesPage {
        chrome: Chrome::new(&session, "/schedules"),
        kind,
        kinds: ScheduleKind::ALL.iter().map(|k| (k.as_str(), kind_word(k.as_str()))).collect(),
        error,
        rows,
        pager,
    }))
}

/// The link to and name of the job, template or account a schedule belongs to; None for a
/// node-wide one.
fn owner_of(s: &ScheduleRecord) -> Option<(String, String)> {
    if let Some(j) = s.job_id {
        return Some((
            format!("/jobs/{j}"),
            s.job_name.clone().unwrap_or_else(|| text_with("sched-owner-job", &[("id", &j)])),
        ));
    }
    match (s.template_id, s.account_id) {
        (Some(t), _) => Some((
            format!("/templates/{t}"),
            s.template_name.clone().unwrap_or_else(|| text_with("sched-owner-template", &[("id", &t)])),
        )),
        (None, Some(a)) => Some((
            format!("/accounts/{a}"),
            s.account_name.clone().unwrap_or_else(|| text_with("sched-owner-account", &[("id", &a)])),
        )),
        (None, None) => None,
    }
}

/// A schedule's kind (a [`ScheduleKind`] value) in the reader's words; an unknown one as it is.
pub(crate) fn kind_word(kind: &str) -> String {
    match kind {
        "template" => text("sched-kind-template"),
        "token_refresh" => text("sched-kind-token-refresh"),
        "quiet_release" => text("sched-kind-quiet-release"),
        "retention" => text("sched-kind-retention"),
        "receipt_pull" => text("sched-kind-receipt-pull"),
        "job" => text("sched-kind-job"),
        "daily_report" => text("sched-kind-daily-report"),
        other => other.to_string(),
    }
}

/// How a fire ended (a [`herald_core::FireOutcome`] value, or `error`) in the reader's words; an
/// unknown one as it is.
fn outcome_word(outcome: &str) -> String {
    match outcome {
        "fired" => text("sched-outcome-fired"),
        "misfire_skipped" => text("sched-outcome-misfire-skipped"),
        "no_crowd" => text("sched-outcome-no-crowd"),
        "error" => text("sched-outcome-error"),
        other => other.to_string(),
    }
}
