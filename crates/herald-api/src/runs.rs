//! Run history and live progress, with the shards a run is streamed in and who holds them, and
//! an operator's cancel of a run.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::paging::{MAX_LIMIT, PageOf, PageQuery};
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use herald_core::{CANCEL_SEEN_WITHIN, RunProgress};
use herald_store::ShardRecord;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/runs", get(list))
        .route("/api/runs/{id}", get(read))
        .route("/api/runs/{id}/shards", get(shards))
        .route("/api/runs/{id}/cancel", post(cancel))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct RunQuery {
    /// Only this template's runs.
    template_id: Option<i64>,
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
    let (runs, next) = page.take(state.store.list_runs(q.template_id, page.fetch()).await?);
    Ok(Json(page.wrap(&runs.into_iter().map(with_fraction).collect::<Vec<_>>(), next)))
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
const CANCEL_MARGIN: std::time::Duration = std::time::Duration::from_millis(100);

/// Cancels a run and answers once every node has seen it: from then on no send of the run
/// starts (the sends already in flight finish). Its queued and deferred messages end as
/// `cancelled`; its rows not yet read are never read.
pub(crate) async fn cancel_run(state: &AppState, id: i64) -> Result<RunProgress, ApiError> {
    let started = std::time::Instant::now();
    state.store.cancel_run(id, state.clock.now()).await?;
    let store_ms = started.elapsed().as_millis() as u64;
    tracing::info!(run_id = id, store_ms, "run cancelled; answering once every node has seen it");
    tokio::time::sleep(CANCEL_SEEN_WITHIN + CANCEL_MARGIN).await;
    Ok(state.store.get_run(id).await?)
}

#[utoipa::path(post, path = "/api/runs/{id}/cancel", tag = "runs", params(("id" = i64, Path, description = "the run id")),
    responses((status = 200, description = "cancelled: from this answer on no send of the run starts; the sends \
        already in flight finish, its queued and deferred messages end as `cancelled` (counted in `dropped`), \
        and its rows not yet read are never read. A run that has ended answers 409.", body = RunView)))]
async fn cancel(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<RunView>, ApiError> {
    Ok(Json(with_fraction(cancel_run(&state, id).await?)))
}
