//! Run history and live progress, with the shards a run is streamed in and who holds them, an
//! operator's pause, resume and cancel of a run, and the resend of its failed messages.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::paging::{MAX_LIMIT, PageOf, PageQuery};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use herald_core::{RUN_CONTROL_SEEN_WITHIN, RunProgress};
use herald_store::{RunFilter, ShardRecord};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/runs", get(list))
        .route("/api/runs/{id}", get(read))
        .route("/api/runs/{id}/shards", get(shards))
        .route("/api/runs/{id}/cancel", post(cancel))
        .route("/api/runs/{id}/pause", post(pause))
        .route("/api/runs/{id}/resume", post(resume))
        .route("/api/runs/{id}/resend-failed", post(resend))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct RunQuery {
    /// Only this template's runs.
    template_id: Option<i64>,
    /// Only runs shown with this status: pending, streaming, published, paused, completed,
    /// failed or cancelled.
    status: Option<String>,
    /// Only runs created at or after this time (RFC 3339).
    from: Option<DateTime<Utc>>,
    /// Only runs created before this time (RFC 3339).
    to: Option<DateTime<Utc>>,
    /// 1 to 500, default 50; larger values are clamped (as they always were).
    limit: Option<i64>,
    /// Runs to skip: 0 to 100,000.
    offset: Option<i64>,
}

/// A run with how much of it is done.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RunView {
    #[serde(flatten)]
    run: RunProgress,
    /// Final messages over rows read, 0 to 1.
    fraction_done: f64,
}

fn with_fraction(run: RunProgress) -> RunView {
    RunView { fraction_done: run.fraction_done(), run }
}

#[utoipa::path(get, path = "/api/runs", tag = "runs", params(RunQuery),
    responses((status = 200, description = "a page of runs, newest first", body = PageOf<RunView>)))]
async fn list(State(state): State<AppState>, Query(q): Query<RunQuery>) -> Result<Json<Value>, ApiError> {
    let page = PageQuery::new(q.limit.unwrap_or(50).clamp(1, MAX_LIMIT), q.offset).check()?;
    let filter = RunFilter {
        template_id: q.template_id,
        status: checked_status(q.status)?,
        from: q.from,
        to: q.to,
        offset: page.offset as i64,
        limit: page.limit as i64 + 1,
    };
    let (runs, next) = page.take_fetched(state.store.list_runs(&filter).await?);
    Ok(Json(page.wrap(&runs.into_iter().map(with_fraction).collect::<Vec<_>>(), next)))
}

/// A status filter, refused (naming the statuses there are) unless runs can be shown with it.
pub(crate) fn checked_status(status: Option<String>) -> Result<Option<String>, ApiError> {
    let shown = crate::filters::one_of("status", status.as_deref(), &RunProgress::SHOWN_STATUSES, |s| s)?;
    Ok(shown.map(str::to_string))
}

#[utoipa::path(get, path = "/api/runs/{id}", tag = "runs", params(("id" = i64, Path, description = "the run id")),
    responses((status = 200, description = "the run", body = RunView)))]
async fn read(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<RunView>, ApiError> {
    Ok(Json(with_fraction(state.store.get_run(id).await?)))
}

#[utoipa::path(get, path = "/api/runs/{id}/shards", tag = "runs", params(("id" = i64, Path, description = "the run id"), PageQuery),
    responses((status = 200, description = "its crowd shards and their holders", body = PageOf<ShardRecord>)))]
async fn shards(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(page): Query<PageQuery>,
) -> Result<Json<Value>, ApiError> {
    let page = page.check()?;
    state.store.get_run(id).await?;
    Ok(Json(page.answer(state.store.list_shards(id).await?)))
}

/// Beyond the workers' promise, for timers and clocks running at slightly different rates.
const SEEN_MARGIN: std::time::Duration = std::time::Duration::from_millis(100);

/// Waits until every node has seen a pause or cancel committed `started` (the store's part
/// logged): from then on no send of the run starts.
pub(crate) async fn until_every_node_has_seen(run_id: i64, action: &str, started: std::time::Instant) {
    let store_ms = started.elapsed().as_millis() as u64;
    tracing::info!(run_id, store_ms, "run {action}; answering once every node has seen it");
    tokio::time::sleep(RUN_CONTROL_SEEN_WITHIN + SEEN_MARGIN).await;
}

/// Cancels a run and answers once every node has seen it: from then on no send of the run
/// starts (the sends already in flight finish). Its queued and deferred messages end as
/// `cancelled`; its rows not yet read are never read.
pub(crate) async fn cancel_run(state: &AppState, id: i64) -> Result<RunProgress, ApiError> {
    let started = std::time::Instant::now();
    state.store.cancel_run(id, state.clock.now()).await?;
    until_every_node_has_seen(id, "cancelled", started).await;
    Ok(state.store.get_run(id).await?)
}

/// Pauses a run and answers once every node has seen it: from then on no send of the run starts
/// (the sends already in flight finish); its messages are held, and its streamers stop where
/// they are, until it is resumed.
pub(crate) async fn pause_run(state: &AppState, id: i64) -> Result<RunProgress, ApiError> {
    let started = std::time::Instant::now();
    state.store.pause_run(id, state.clock.now()).await?;
    until_every_node_has_seen(id, "paused", started).await;
    Ok(state.store.get_run(id).await?)
}

/// Resumes a paused run: its held messages are published again and its streamers go on.
pub(crate) async fn resume_run(state: &AppState, id: i64) -> Result<RunProgress, ApiError> {
    state.store.resume_run(id, state.clock.now()).await?;
    Ok(state.store.get_run(id).await?)
}

#[utoipa::path(post, path = "/api/runs/{id}/pause", tag = "runs", params(("id" = i64, Path, description = "the run id")),
    responses((status = 200, description = "paused: from this answer on no send of the run starts; the sends already \
        in flight finish, its other messages are held (counted in `held`) and its crowd is not read further until \
        it is resumed. A run that has ended, or is paused already, answers 409.", body = RunView)))]
async fn pause(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<RunView>, ApiError> {
    Ok(Json(with_fraction(pause_run(&state, id).await?)))
}

#[utoipa::path(post, path = "/api/runs/{id}/resume", tag = "runs", params(("id" = i64, Path, description = "the run id")),
    responses((status = 200, description = "resumed: its held messages are published again (each sent once, \
        skipping the screens it already passed) and its crowd is read on from where it stopped. A run that has \
        ended, or is not paused, answers 409.", body = RunView)))]
async fn resume(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<RunView>, ApiError> {
    Ok(Json(with_fraction(resume_run(&state, id).await?)))
}

#[utoipa::path(post, path = "/api/runs/{id}/cancel", tag = "runs", params(("id" = i64, Path, description = "the run id")),
    responses((status = 200, description = "cancelled: from this answer on no send of the run starts; the sends \
        already in flight finish, its queued and deferred messages end as `cancelled` (counted in `dropped`), \
        and its rows not yet read are never read. A run that has ended answers 409.", body = RunView)))]
async fn cancel(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<RunView>, ApiError> {
    Ok(Json(with_fraction(cancel_run(&state, id).await?)))
}

#[utoipa::path(post, path = "/api/runs/{id}/resend-failed", tag = "runs", params(("id" = i64, Path, description = "the run id")),
    responses((status = 201, description = "the resend run: the same template, sent now to only the receivers whose \
        messages failed in this run (a new crowd file `failed of run N` holds their rows, each with its variables). \
        Dedup does not count its messages again; the suppression list, test mode and quiet hours apply as to any run. \
        Its `resendOf` names this run.", body = RunView),
        (status = 404, description = "no such run"),
        (status = 409, description = "the run has not ended, has no failed messages (or none left in the ledger), \
            was resent already (resend the resend's failures instead), or its template or crowd file was deleted")))]
async fn resend(State(state): State<AppState>, Path(id): Path<i64>) -> Result<(StatusCode, Json<RunView>), ApiError> {
    let run = crate::resend::resend_failed(&state, id).await?;
    Ok((StatusCode::CREATED, Json(with_fraction(run))))
}
