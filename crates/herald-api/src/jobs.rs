//! Scheduled jobs: create, list, read, update, delete, pause, resume, run now, and each job's
//! run log. Secret-looking header values are masked in answers; an update may send them back
//! masked to keep them.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::job_children::{check_children, check_unreferenced};
use crate::json::{JsonBody, parse};
use crate::paging::{DEFAULT_LIMIT, Page, PageOf, PageQuery};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use herald_core::placeholders::placeholder_names;
use herald_core::scheduled_job::{AlarmSpec, JobSpec, children};
use herald_store::{JobRecord, JobRunFilter, JobRunOutcome, JobRunRecord, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/jobs", get(list).post(create))
        .route("/api/jobs/{id}", get(read).put(update).delete(remove))
        .route("/api/jobs/{id}/pause", post(pause))
        .route("/api/jobs/{id}/resume", post(resume))
        .route("/api/jobs/{id}/run", post(run_now))
        .route("/api/jobs/{id}/runs", get(runs))
}

fn not_found(id: i64) -> impl FnOnce(StoreError) -> ApiError {
    move |e| match e {
        StoreError::NotFound { .. } => ApiError::NotFound(format!("job {id} not found")),
        other => other.into(),
    }
}

/// The job as answers show it: secret header values masked.
fn shown(mut job: JobRecord) -> JobRecord {
    job.spec = job.spec.masked();
    job
}

/// Refuses a spec that breaks a rule, naming every field at fault, a URL the node's outbound
/// policy would refuse (a private address, another scheme), a command it does not run and an
/// alarm template that is missing or asks for variables an alarm does not fill, and children
/// that are missing or would run in a circle.
async fn checked(state: &AppState, stored: Option<&JobRecord>, spec: &JobSpec) -> Result<(), ApiError> {
    let errors = spec.validate(state.clock.now());
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    if let Some(call) = &spec.http {
        let http = &state.accounts.context().http;
        http.check_url(&call.url).await.map_err(|e| ApiError::field("http.url", e.to_string()))?;
    }
    if let Some(refusal) = spec.command.as_ref().and_then(|command| state.commands.refusal(command)) {
        return Err(ApiError::Invalid(vec![refusal]));
    }
    if let Some(alarms) = &spec.alarms {
        check_alarm_template(state, alarms.template_id).await?;
    }
    check_children(state, stored, spec).await
}

/// An alarm's template must exist and use only the variables an alarm fills.
async fn check_alarm_template(state: &AppState, id: i64) -> Result<(), ApiError> {
    let template = state.store.get_template(id).await.map_err(|e| match e {
        StoreError::NotFound { .. } => ApiError::field("alarms.templateId", format!("template {id} not found")),
        other => other.into(),
    })?;
    let names = placeholder_names(&template.spec.content);
    match AlarmSpec::template_problem(names.iter().map(String::as_str)) {
        Some(fault) => Err(ApiError::Invalid(vec![fault])),
        None => Ok(()),
    }
}

#[utoipa::path(post, path = "/api/jobs", tag = "jobs", request_body = JobSpec,
    responses((status = 201, description = "created and scheduled; secret header values masked", body = JobRecord)))]
async fn create(
    State(state): State<AppState>,
    JsonBody(spec): JsonBody<JobSpec>,
) -> Result<(StatusCode, Json<JobRecord>), ApiError> {
    Ok((StatusCode::CREATED, Json(shown(create_job(&state, &spec).await?))))
}

/// Checks and creates a job (the API's and the console's way in).
pub(crate) async fn create_job(state: &AppState, spec: &JobSpec) -> Result<JobRecord, ApiError> {
    checked(state, None, spec).await?;
    let job = state.store.create_job(spec, state.clock.now()).await?;
    tracing::info!(job_id = job.id, job = ?job.spec.name, schedule = job.spec.cadence().as_str(), "job created");
    Ok(job)
}

/// Checks and saves job `id`, keeping each secret sent back masked.
pub(crate) async fn update_job(state: &AppState, id: i64, mut spec: JobSpec) -> Result<JobRecord, ApiError> {
    let stored = state.store.get_job(id).await.map_err(not_found(id))?;
    spec.keep_masked_from(&stored.spec);
    checked(state, Some(&stored), &spec).await?;
    let job = state.store.update_job(id, &spec, state.clock.now()).await.map_err(not_found(id))?;
    tracing::info!(job_id = id, job = ?job.spec.name, "job updated");
    Ok(job)
}

/// Deletes job `id` unless another lists it as a child.
pub(crate) async fn delete_job(state: &AppState, id: i64) -> Result<(), ApiError> {
    check_unreferenced(state, id).await?;
    state.store.delete_job(id).await.map_err(not_found(id))?;
    tracing::info!(job_id = id, "job deleted");
    Ok(())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct JobQuery {
    /// Items per page: 1 to 500, 100 when absent.
    limit: Option<i64>,
    /// Items to skip: 0 to 100,000.
    offset: Option<i64>,
}

#[utoipa::path(get, path = "/api/jobs", tag = "jobs", params(JobQuery),
    responses((status = 200, description = "a page of jobs, by id", body = PageOf<JobRecord>)))]
async fn list(State(state): State<AppState>, Query(q): Query<JobQuery>) -> Result<Json<Value>, ApiError> {
    let page = PageQuery::new(q.limit.unwrap_or(DEFAULT_LIMIT), q.offset).check()?;
    let (jobs, next) = page.take_fetched(state.store.list_jobs(page.window()).await?);
    let items: Vec<JobRecord> = jobs.into_iter().map(shown).collect();
    Ok(Json(page.wrap(&items, next)))
}

#[utoipa::path(get, path = "/api/jobs/{id}", tag = "jobs", params(("id" = i64, Path, description = "the job id")),
    responses((status = 200, description = "the job; secret header values masked", body = JobRecord)))]
async fn read(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<JobRecord>, ApiError> {
    Ok(Json(shown(state.store.get_job(id).await.map_err(not_found(id))?)))
}

/// Its schedule starts over from now; a paused job stays paused.
#[utoipa::path(put, path = "/api/jobs/{id}", tag = "jobs", params(("id" = i64, Path, description = "the job id")), request_body = JobSpec,
    responses((status = 200, description = "the job as saved", body = JobRecord)))]
async fn update(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    JsonBody(spec): JsonBody<JobSpec>,
) -> Result<Json<JobRecord>, ApiError> {
    Ok(Json(shown(update_job(&state, id, spec).await?)))
}

#[utoipa::path(delete, path = "/api/jobs/{id}", tag = "jobs", params(("id" = i64, Path, description = "the job id")),
    responses((status = 204, description = "deleted with its schedule and run log")))]
async fn remove(State(state): State<AppState>, Path(id): Path<i64>) -> Result<StatusCode, ApiError> {
    delete_job(&state, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/jobs/{id}/pause", tag = "jobs", params(("id" = i64, Path, description = "the job id")),
    responses((status = 200, description = "paused: no scheduled fire until resumed (a run now still runs)", body = JobRecord)))]
async fn pause(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<JobRecord>, ApiError> {
    let job = state.store.set_job_enabled(id, false, state.clock.now()).await.map_err(not_found(id))?;
    tracing::info!(job_id = id, "job paused");
    Ok(Json(shown(job)))
}

#[utoipa::path(post, path = "/api/jobs/{id}/resume", tag = "jobs", params(("id" = i64, Path, description = "the job id")),
    responses((status = 200, description = "resumed: it fires next at its first time after now", body = JobRecord)))]
async fn resume(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<JobRecord>, ApiError> {
    let job = state.store.set_job_enabled(id, true, state.clock.now()).await.map_err(not_found(id))?;
    tracing::info!(job_id = id, "job resumed");
    Ok(Json(shown(job)))
}

/// A run asked for now.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct RunAsked {
    job_id: i64,
    asked_at: DateTime<Utc>,
}

/// What a run now may give the fire: its parameter (`{$param}` in an HTTP job's body,
/// `HERALD_PARAM` for a command).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RunParam {
    /// At most 16 KiB.
    param: Option<String>,
}

/// The next claim on any node fires it, paused or not, beside its own schedule; asking again
/// before then asks once, with the latest param. Its run shows in the run log. The body is
/// optional.
#[utoipa::path(post, path = "/api/jobs/{id}/run", tag = "jobs", params(("id" = i64, Path, description = "the job id")),
    request_body(content = RunParam, description = "optional"),
    responses((status = 202, description = "a fire is asked for", body = RunAsked)))]
async fn run_now(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<RunAsked>), ApiError> {
    let asked: RunParam = if body.iter().all(u8::is_ascii_whitespace) { RunParam::default() } else { parse(&body)? };
    if asked.param.as_ref().is_some_and(|p| p.len() > children::MAX_PARAM_BYTES) {
        return Err(ApiError::field("param", format!("longer than {} bytes", children::MAX_PARAM_BYTES)));
    }
    let now = state.clock.now();
    state.store.trigger_job(id, now, asked.param.as_deref()).await.map_err(not_found(id))?;
    tracing::info!(job_id = id, "job run asked for");
    Ok((StatusCode::ACCEPTED, Json(RunAsked { job_id: id, asked_at: now })))
}

/// A run log's query, a job's or any schedule's: a page, and an outcome to keep.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct RunLogQuery {
    /// Only attempts that ended so: running, succeeded, failed, timed_out, discarded, replaced
    /// or abandoned.
    outcome: Option<String>,
    /// Items per page: 1 to 500, 100 when absent.
    limit: Option<i64>,
    /// Items to skip: 0 to 100,000.
    offset: Option<i64>,
}

impl RunLogQuery {
    /// The page asked for and the outcome kept, each refused naming its field.
    pub(crate) fn checked(&self) -> Result<(Page, Option<JobRunOutcome>), ApiError> {
        let page = PageQuery::new(self.limit.unwrap_or(DEFAULT_LIMIT), self.offset).check()?;
        Ok((page, crate::filters::run_outcome(self.outcome.as_deref())?))
    }
}

/// Every attempt, newest first: start, end, duration, node, attempt, outcome, the answer's
/// status and start (at most 4 KiB).
#[utoipa::path(get, path = "/api/jobs/{id}/runs", tag = "jobs", params(("id" = i64, Path, description = "the job id"), RunLogQuery),
    responses((status = 200, description = "a page of the job's run log, newest first", body = PageOf<JobRunRecord>)))]
async fn runs(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<RunLogQuery>,
) -> Result<Json<Value>, ApiError> {
    let (page, outcome) = q.checked()?;
    state.store.get_job(id).await.map_err(not_found(id))?;
    let filter = JobRunFilter { job_id: id, outcome, window: page.window() };
    let (items, next) = page.take_fetched(state.store.list_job_runs(&filter).await?);
    Ok(Json(page.wrap(&items, next)))
}
