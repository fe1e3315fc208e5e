//! Runs: the history (all, or one template's) and a live page per run whose progress bar and
//! counters refresh every second (htmx polling) until the run is final, with pause and resume
//! buttons and a cancel button that asks first; once it has ended with failures, a button that
//! resends them (asking first).

use super::dashboard::RunRow;
use super::form::Form;
use super::language::filters;
use super::language::{text, text_with};
use super::pager::Pager;
use super::render::{Chrome, PageResult, ok, shown_at, shown_at_opt, thousands};
use super::run_story::Story;
use super::session::Session;
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Extension, Router};
use chrono::{DateTime, Days, NaiveDate, Utc};
use herald_core::RunProgress;
use herald_store::{RunFilter, StoreError, TemplateFilter, Window};
use serde::Deserialize;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/runs", get(list))
        .route("/runs/{id}", get(page))
        .route("/runs/{id}/progress", get(progress))
        .route("/runs/{id}/cancel", post(cancel))
        .route("/runs/{id}/pause", post(pause))
        .route("/runs/{id}/resume", post(resume))
        .route("/runs/{id}/resend", post(resend))
}

/// Templates the filter's picker offers, by id; the API filters by any template id.
const TEMPLATES_OFFERED: i64 = 500;

#[derive(Debug, Deserialize)]
struct ListQuery {
    /// A template id; empty for any.
    template: Option<String>,
    /// A status as shown (`paused` included); empty for any.
    status: Option<String>,
    /// Created on or after this day (UTC, YYYY-MM-DD); empty for any.
    from: Option<String>,
    /// Created on or before this day (UTC, YYYY-MM-DD); empty for any.
    to: Option<String>,
    page: Option<i64>,
}

#[derive(Template)]
#[template(path = "console/runs_list.html")]
struct ListPage {
    chrome: Chrome,
    templates: Vec<(i64, String)>,
    template: Option<i64>,
    /// Each status a run can show: its value and its word.
    statuses: Vec<(&'static str, String)>,
    status: String,
    from: String,
    to: String,
    /// Why the filter was refused, shown above the list.
    error: Option<String>,
    runs: Vec<RunRow>,
    pager: Pager,
}

async fn list(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let offered = TemplateFilter { window: Window::first(TEMPLATES_OFFERED), ..TemplateFilter::default() };
    let templates = state.store.list_templates(&offered).await?;
    let template = q.template.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let status = q.status.clone().unwrap_or_default();
    let (from, to) = (q.from.clone().unwrap_or_default(), q.to.clone().unwrap_or_default());
    let page = Pager::page_of(q.page);
    let window = Pager::window(page);
    let checked = (|| -> Result<RunFilter, ApiError> {
        let template_id = template
            .map(|t| t.parse::<i64>().map_err(|_| ApiError::field("template", text("run-filter-template-id"))))
            .transpose()?;
        Ok(RunFilter {
            template_id,
            status: crate::runs::checked_status((!status.is_empty()).then(|| status.clone()))?,
            from: day_start("from", &from, 0)?,
            to: day_start("to", &to, 1)?,
            offset: window.offset,
            limit: window.limit,
        })
    })();
    let (mut runs, error) = match checked {
        Ok(filter) => (state.store.list_runs(&filter).await?, None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    let pager = Pager::of(
        "/runs",
        &[("template", template.unwrap_or_default()), ("status", &status), ("from", &from), ("to", &to)],
        page,
        &mut runs,
    );
    let names = super::dashboard::names_of(&state, runs.iter().map(|r| r.template_id)).await?;
    Ok(ok(&ListPage {
        chrome: Chrome::new(&session, "/runs"),
        templates: templates.iter().map(|t| (t.id, t.spec.name.clone())).collect(),
        template: template.and_then(|t| t.parse().ok()),
        statuses: RunProgress::SHOWN_STATUSES.iter().map(|s| (*s, status_word(s))).collect(),
        status,
        from,
        to,
        error,
        runs: runs.iter().map(|r| RunRow::of(r, &names)).collect(),
        pager,
    }))
}

/// The start of the day `text` names (YYYY-MM-DD) plus `days`, in the reader's zone; None when
/// empty; refused, naming `field`, when it is not a date.
fn day_start(field: &str, text: &str, days: u64) -> Result<Option<DateTime<Utc>>, ApiError> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let day = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        let value = format!("{:?}", herald_core::listing::clip(text, 40));
        ApiError::field(field, text_with("run-filter-not-date", &[("value", &value)]))
    })?;
    let day = day.checked_add_days(Days::new(days)).unwrap_or(day);
    Ok(Some(herald_core::days::day_start(day, super::render::display_zone())))
}

/// A run's status (as [`RunProgress::shown_status`] gives it) in the reader's words; an unknown
/// one as it is.
pub(crate) fn status_word(status: &str) -> String {
    match status {
        "pending" => text("run-status-pending"),
        "streaming" => text("run-status-streaming"),
        "published" => text("run-status-published"),
        "paused" => text("run-status-paused"),
        "completed" => text("run-status-completed"),
        "failed" => text("run-status-failed"),
        "cancelled" => text("run-status-cancelled"),
        other => other.to_string(),
    }
}

/// The figures of the progress panel.
pub(crate) struct Progress {
    id: i64,
    live: bool,
    /// Paused and not ended: its messages are held.
    paused: bool,
    /// The status as a value (the badge's class).
    status: &'static str,
    /// The status in words.
    status_label: String,
    percent: i64,
    rows_read: String,
    rows_total: String,
    rows_invalid: String,
    batches: String,
    delivered: String,
    failed: String,
    dropped: String,
    deferred: String,
    held: String,
    finished_at: String,
    error: Option<String>,
    /// Ended with failed messages: they can be resent.
    resendable: bool,
    /// The run whose failed messages this one resends.
    resend_of: Option<i64>,
}

impl Progress {
    fn of(run: &RunProgress) -> Self {
        Self {
            id: run.id,
            live: !run.status.is_finished(),
            paused: run.is_paused(),
            status: run.shown_status(),
            status_label: status_word(run.shown_status()),
            percent: (run.fraction_done() * 100.0).floor() as i64,
            rows_read: thousands(run.rows_read),
            rows_total: thousands(run.rows_total),
            rows_invalid: thousands(run.rows_invalid),
            batches: thousands(run.batches),
            delivered: thousands(run.delivered),
            failed: thousands(run.failed),
            dropped: thousands(run.dropped),
            deferred: thousands(run.deferred),
            held: thousands(run.held),
            finished_at: shown_at_opt(run.finished_at),
            error: run.error.clone(),
            resendable: run.resend_refusal().is_none(),
            resend_of: run.resend_of,
        }
    }
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    done: Option<String>,
    /// The page (from 0) of the run's failed messages.
    failures: Option<i64>,
}

#[derive(Template)]
#[template(path = "console/run.html")]
struct RunPage {
    chrome: Chrome,
    notice: Option<String>,
    template_id: i64,
    template_name: String,
    created_at: String,
    progress: Progress,
    story: Story,
}

#[derive(Template)]
#[template(path = "console/run_progress.html")]
struct ProgressFragment {
    progress: Progress,
}

async fn run_of(state: &AppState, id: i64) -> Result<RunProgress, ApiError> {
    state.store.get_run(id).await.map_err(|e| match e {
        StoreError::NotFound { .. } => ApiError::NotFound(text_with("run-not-found", &[("id", &id)])),
        other => other.into(),
    })
}

async fn template_name(state: &AppState, run: &RunProgress) -> String {
    match state.store.get_template(run.template_id).await {
        Ok(t) => t.spec.name,
        Err(_) => text_with("dash-template-id", &[("id", &run.template_id)]),
    }
}

async fn page(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<i64>,
    Query(q): Query<PageQuery>,
) -> PageResult {
    let run = run_of(&state, id).await?;
    let template_name = template_name(&state, &run).await;
    let notice = match q.done.as_deref() {
        Some("cancelled") => Some(text("run-done-cancelled")),
        Some("paused") => Some(text("run-done-paused")),
        Some("resumed") => Some(text("run-done-resumed")),
        Some("resent") => Some(text("run-done-resent")),
        _ => None,
    };
    Ok(ok(&RunPage {
        chrome: Chrome::new(&session, "/runs"),
        notice,
        template_id: run.template_id,
        template_name,
        created_at: shown_at(run.created_at),
        story: Story::of(&state, &run, q.failures.unwrap_or(0).clamp(0, 5_000)).await?,
        progress: Progress::of(&run),
    }))
}

async fn progress(State(state): State<AppState>, Path(id): Path<i64>) -> PageResult {
    let run = run_of(&state, id).await?;
    Ok(ok(&ProgressFragment { progress: Progress::of(&run) }))
}

#[derive(Template)]
#[template(path = "console/run_cancel.html")]
struct CancelPage {
    chrome: Chrome,
    template_name: String,
    progress: Progress,
}

/// Asks first (how much is sent, how much would not be); cancels on the confirming post.
async fn cancel(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<i64>,
    form: Form,
) -> PageResult {
    let run = run_of(&state, id).await?;
    if form.get("confirm") != Some("yes") {
        let template_name = template_name(&state, &run).await;
        let page = CancelPage { chrome: Chrome::new(&session, "/runs"), template_name, progress: Progress::of(&run) };
        return Ok(ok(&page));
    }
    match crate::runs::cancel_run(&state, id).await {
        Ok(_) | Err(ApiError::Conflict(_)) => Ok(Redirect::to(&format!("/runs/{id}?done=cancelled")).into_response()),
        Err(e) => Err(e.into()),
    }
}

/// Pauses at once (nothing is lost: the run's messages are held until it is resumed).
async fn pause(State(state): State<AppState>, Path(id): Path<i64>) -> PageResult {
    run_of(&state, id).await?;
    match crate::runs::pause_run(&state, id).await {
        Ok(_) | Err(ApiError::Conflict(_)) => Ok(Redirect::to(&format!("/runs/{id}?done=paused")).into_response()),
        Err(e) => Err(e.into()),
    }
}

async fn resume(State(state): State<AppState>, Path(id): Path<i64>) -> PageResult {
    run_of(&state, id).await?;
    match crate::runs::resume_run(&state, id).await {
        Ok(_) | Err(ApiError::Conflict(_)) => Ok(Redirect::to(&format!("/runs/{id}?done=resumed")).into_response()),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "console/run_resend.html")]
struct ResendPage {
    chrome: Chrome,
    template_name: String,
    progress: Progress,
    /// Why it cannot be resent (resent already, nothing left in the ledger, ...).
    problem: Option<String>,
}

/// Asks first (how many receivers, what applies); resends on the confirming post and opens the
/// resend run, or says why it cannot.
async fn resend(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<i64>,
    form: Form,
) -> PageResult {
    let run = run_of(&state, id).await?;
    let mut problem = run.resend_refusal();
    if problem.is_none() && form.get("confirm") == Some("yes") {
        match crate::resend::resend_failed(&state, id).await {
            Ok(resend) => return Ok(Redirect::to(&format!("/runs/{}?done=resent", resend.id)).into_response()),
            Err(ApiError::Conflict(why)) => problem = Some(why),
            Err(e) => return Err(e.into()),
        }
    }
    let template_name = template_name(&state, &run).await;
    Ok(ok(&ResendPage { chrome: Chrome::new(&session, "/runs"), template_name, progress: Progress::of(&run), problem }))
}
