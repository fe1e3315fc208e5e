//! Every schedule herald runs, templates' and housekeeping alike (token refresh, quiet-hours
//! release, retention), with its wording, last and next fire, and its recent fires' outcomes.

use super::render::{Chrome, PageResult, ok, time_in, utc, utc_opt};
use super::session::Session;
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::routing::get;
use axum::{Extension, Router};
use herald_core::cron::CronSchedule;

/// Schedules listed on the page; past that, the REST API lists them all.
const MAX_SCHEDULES: usize = 500;
const RECENT_FIRES: i64 = 5;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/schedules", get(page))
}

struct ScheduleRow {
    id: i64,
    kind: String,
    template_id: Option<i64>,
    account_id: Option<i64>,
    cron: String,
    description: String,
    timezone: String,
    enabled: bool,
    next_fire: String,
    last_fire: String,
    last_error: Option<String>,
    recent: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "console/schedules.html")]
struct SchedulesPage {
    chrome: Chrome,
    rows: Vec<ScheduleRow>,
    total: usize,
}

async fn page(State(state): State<AppState>, Extension(session): Extension<Session>) -> PageResult {
    let schedules = state.store.list_schedules().await?;
    let total = schedules.len();
    let mut rows = Vec::new();
    for s in schedules.into_iter().take(MAX_SCHEDULES) {
        let parsed = CronSchedule::parse(&s.cron, &s.timezone).ok();
        let recent = state.store.list_fires(s.id, RECENT_FIRES).await?;
        rows.push(ScheduleRow {
            id: s.id,
            kind: s.kind,
            template_id: s.template_id,
            account_id: s.account_id,
            description: parsed.as_ref().map(CronSchedule::describe).unwrap_or_default(),
            next_fire: match (s.next_fire_at, &parsed) {
                (Some(at), Some(p)) => time_in(at, p.timezone()),
                (at, _) => utc_opt(at),
            },
            last_fire: s
                .last_fire
                .as_ref()
                .map(|f| format!("{} · {}", utc(f.fire_time), f.outcome))
                .unwrap_or_else(|| "never".into()),
            last_error: s.last_fire.and_then(|f| f.error),
            cron: s.cron,
            timezone: s.timezone,
            enabled: s.enabled,
            recent: recent
                .iter()
                .map(|f| {
                    let outcome = if f.error.is_some() { "error".to_string() } else { f.outcome.clone() };
                    (outcome, utc(f.fire_time))
                })
                .collect(),
        });
    }
    Ok(ok(&SchedulesPage { chrome: Chrome::new(&session, "/schedules"), rows, total }))
}
