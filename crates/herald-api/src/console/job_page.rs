//! A scheduled job's page: its HTTP call (secret header values masked, the URL without its query
//! or user info), its schedule and rules, Pause / Resume / Run now buttons, and its run log
//! (`run_log.rs`).

use super::job_chart;
use super::jobs_page::{ScheduleShown, millis_words, overlap_word, retries_words};
use super::language::filters;
use super::language::{text, text_with};
use super::pager::Pager;
use super::render::{Chrome, PageResult, ok, shown_at};
use super::run_log::{RunLog, RunsOf};
use super::session::Session;
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Extension, Router};
use herald_channels::http::redact_url;
use herald_core::scheduled_job::{AlarmSpec, ChildWhen, CommandCall, HttpCall};
use herald_store::{JobRecord, RaisedAlarm, StoreError};
use serde::Deserialize;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/jobs/{id}", get(page))
        .route("/jobs/{id}/pause", post(pause))
        .route("/jobs/{id}/resume", post(resume))
        .route("/jobs/{id}/run", post(run_now))
}

/// A job the console cannot find, as a 404 in the reader's language.
pub(super) fn not_found(id: i64) -> impl FnOnce(StoreError) -> ApiError {
    move |e| match e {
        StoreError::NotFound { .. } => ApiError::NotFound(text_with("job-not-found", &[("id", &id)])),
        other => other.into(),
    }
}

/// The job's call, as shown: secrets masked, the URL redacted; a command as its program and
/// arguments, its variables in place of headers.
struct CallShown {
    /// The message id naming what `url` holds.
    target_label: &'static str,
    method: String,
    url: String,
    headers_label: &'static str,
    headers: Vec<(String, String)>,
    body: Option<String>,
    /// What makes an answer a success, in words.
    expect: String,
}

impl CallShown {
    fn of(job: &JobRecord) -> Self {
        let shown = job.spec.masked();
        match (shown.http, shown.command) {
            (Some(http), _) => Self::of_http(http),
            (None, Some(command)) => Self::of_command(command),
            (None, None) => Self::of_command(CommandCall::default()),
        }
    }

    fn of_http(http: HttpCall) -> Self {
        let statuses: Vec<String> = http.expect.status.iter().map(u16::to_string).collect();
        let mut expect = if statuses.is_empty() {
            text("job-expect-any-2xx")
        } else {
            text_with("job-expect-status", &[("statuses", &statuses.join(", "))])
        };
        if let (Some(pointer), Some(value)) = (&http.expect.json_pointer, &http.expect.json_value) {
            expect = format!("{expect} · {}", text_with("job-expect-json", &[("pointer", pointer), ("value", value)]));
        }
        Self {
            target_label: "job-method-url",
            method: http.method,
            url: redact_url(&http.url),
            headers_label: "job-headers",
            headers: http.headers.into_iter().collect(),
            body: http.body,
            expect,
        }
    }

    fn of_command(command: CommandCall) -> Self {
        let codes = if command.success_codes.is_empty() { vec![0] } else { command.success_codes.clone() };
        let codes: Vec<String> = codes.iter().map(i32::to_string).collect();
        let words = std::iter::once(&command.program).chain(&command.args);
        let line: Vec<String> = words
            .map(|w| if w.is_empty() || w.contains(char::is_whitespace) { format!("{w:?}") } else { w.clone() })
            .collect();
        Self {
            target_label: "job-command",
            method: if command.shell { "sh -c".into() } else { "exec".into() },
            url: line.join(" "),
            headers_label: "job-env",
            headers: command.env.into_iter().collect(),
            body: None,
            expect: text_with("job-expect-exit", &[("codes", &codes.join(", "))]),
        }
    }
}

/// The rules that raise an alarm, in words: `failure`, `50% of fires failed in 60 min`, ...
pub(crate) fn alarm_rules_words(spec: &AlarmSpec) -> Vec<String> {
    let mut rules: Vec<String> = spec.on.iter().map(|r| r.as_str().to_string()).collect();
    if let Some(rate) = &spec.failure_rate {
        let (percent, mins) = (rate.percent.to_string(), rate.window_mins.to_string());
        rules.push(text_with("job-alarm-rate", &[("percent", &percent), ("mins", &mins)]));
    }
    if let Some(secs) = spec.stuck_after_secs {
        rules.push(text_with("job-alarm-stuck", &[("secs", &secs.to_string())]));
    }
    rules
}

/// Raised rules as the pages show them: each rule, its last alarm, raises kept quiet since.
pub(crate) fn raised_rows(raised: Vec<RaisedAlarm>) -> Vec<(String, String, i64)> {
    raised.into_iter().map(|r| (r.rule, last_alarm_words(r.last_sent_at), r.quieted)).collect()
}

/// When a rule's last alarm went, or a dash.
pub(crate) fn last_alarm_words(at: Option<chrono::DateTime<chrono::Utc>>) -> String {
    at.map(shown_at).unwrap_or_else(|| "—".into())
}

/// The job's alarms, as shown: who is told through which template of what, and the rules
/// raised now.
struct AlarmsShown {
    template_id: i64,
    receivers: String,
    /// The rules that raise an alarm, in words.
    rules: Vec<String>,
    quiet: String,
    recovery: bool,
    /// Each raised rule: its name, its last alarm, raises kept quiet since.
    raised: Vec<(String, String, i64)>,
}

impl AlarmsShown {
    fn of(spec: &AlarmSpec, raised: Vec<RaisedAlarm>) -> Self {
        let rules = alarm_rules_words(spec);
        Self {
            template_id: spec.template_id,
            receivers: spec.receivers.join(", "),
            rules,
            quiet: text_with("job-alarm-quiet-mins", &[("n", &spec.quiet_mins.to_string())]),
            recovery: spec.recovery,
            raised: raised_rows(raised),
        }
    }
}

#[derive(Template)]
#[template(path = "console/job.html")]
struct JobPage {
    chrome: Chrome,
    notice: Option<String>,
    id: i64,
    name: String,
    description: String,
    enabled: bool,
    schedule_id: i64,
    schedule: ScheduleShown,
    call: CallShown,
    timeout: String,
    retries: String,
    overlap: &'static str,
    overlap_label: String,
    /// How its fires are split, in words; None when they are not.
    sharding: Option<String>,
    created_at: String,
    updated_at: String,
    log: RunLog,
    pager: Pager,
    /// Its last fires' successes and failures over time, as the chart's series.
    chart: Option<String>,
    alarms: Option<AlarmsShown>,
    /// Each child's name and when it is triggered.
    children: Vec<(String, String)>,
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    done: Option<String>,
    outcome: Option<String>,
    page: Option<i64>,
}

async fn page(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<i64>,
    Query(q): Query<PageQuery>,
) -> PageResult {
    let job = state.store.get_job(id).await.map_err(not_found(id))?;
    let (log, pager) = RunLog::read(&state, RunsOf::Job(id), format!("/jobs/{id}"), q.outcome, q.page).await?;
    let fires = state.store.list_fires(job.schedule_id, job_chart::FIRES).await?;
    let chart = job_chart::series(&fires, session.zone).map(|series| series.to_string());
    let alarms = match &job.spec.alarms {
        Some(spec) => Some(AlarmsShown::of(spec, state.store.raised_alarms(job.schedule_id).await?)),
        None => None,
    };
    let children = job
        .spec
        .children
        .iter()
        .map(|c| {
            (c.job.clone(), text(if c.on == ChildWhen::Always { "job-child-always" } else { "job-child-on-success" }))
        })
        .collect();
    let notice = match q.done.as_deref() {
        Some("paused") => Some(text("job-done-paused")),
        Some("resumed") => Some(text("job-done-resumed")),
        Some("asked") => Some(text("job-done-asked")),
        Some("created") => Some(text("job-done-created")),
        Some("saved") => Some(text("job-done-saved")),
        _ => None,
    };
    Ok(ok(&JobPage {
        chrome: Chrome::new(&session, "/jobs"),
        notice,
        id,
        enabled: job.enabled,
        schedule_id: job.schedule_id,
        schedule: ScheduleShown::of(&job),
        call: CallShown::of(&job),
        timeout: millis_words(job.spec.timeout_ms),
        retries: retries_words(&job.spec.retries),
        overlap: job.spec.overlap.as_str(),
        overlap_label: overlap_word(job.spec.overlap),
        sharding: job.spec.sharding.as_ref().map(sharding_words),
        created_at: shown_at(job.created_at),
        updated_at: shown_at(job.updated_at),
        name: job.spec.name,
        description: job.spec.description,
        log,
        pager,
        chart,
        alarms,
        children,
    }))
}

/// Pauses at once: no scheduled fire until resumed (a run now still runs).
async fn pause(State(state): State<AppState>, Path(id): Path<i64>) -> PageResult {
    state.store.set_job_enabled(id, false, state.clock.now()).await.map_err(not_found(id))?;
    tracing::info!(job_id = id, "job paused from the console");
    Ok(Redirect::to(&format!("/jobs/{id}?done=paused")).into_response())
}

/// Resumes: it fires next at its first time after now.
async fn resume(State(state): State<AppState>, Path(id): Path<i64>) -> PageResult {
    state.store.set_job_enabled(id, true, state.clock.now()).await.map_err(not_found(id))?;
    tracing::info!(job_id = id, "job resumed from the console");
    Ok(Redirect::to(&format!("/jobs/{id}?done=resumed")).into_response())
}

/// Asks for a fire now, which the next claim on any node runs, paused or not.
async fn run_now(State(state): State<AppState>, Path(id): Path<i64>) -> PageResult {
    state.store.trigger_job(id, state.clock.now(), None).await.map_err(not_found(id))?;
    tracing::info!(job_id = id, "job run asked for from the console");
    Ok(Redirect::to(&format!("/jobs/{id}?done=asked")).into_response())
}

/// How a job's fires are split, in words.
fn sharding_words(sharding: &herald_core::scheduled_job::Sharding) -> String {
    match sharding.mode {
        herald_core::scheduled_job::ShardMode::Shards => {
            text_with("job-sharding-shards", &[("count", &sharding.count.unwrap_or_default().to_string())])
        }
        herald_core::scheduled_job::ShardMode::Broadcast => text("job-sharding-broadcast"),
    }
}
