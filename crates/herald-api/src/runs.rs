//! Run history and live progress, with the shards a run is streamed in and who holds them.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::paging::{MAX_LIMIT, PageQuery};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use herald_core::RunProgress;
use serde::Deserialize;
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/runs", get(list))
        .route("/api/runs/{id}", get(read))
        .route("/api/runs/{id}/shards", get(shards))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RunQuery {
    template_id: Option<i64>,
    /// 1 to 500, default 50; larger values are clamped (as they always were).
    limit: Option<i64>,
    offset: Option<i64>,
}

fn with_fraction(run: &RunProgress) -> Value {
    let mut value = json!(run);
    value["fractionDone"] = json!(run.fraction_done());
    value
}

async fn list(State(state): State<AppState>, Query(q): Query<RunQuery>) -> Result<Json<Value>, ApiError> {
    let page = PageQuery::new(q.limit.unwrap_or(50).clamp(1, MAX_LIMIT), q.offset).check()?;
    let (runs, next) = page.take(state.store.list_runs(q.template_id, page.fetch()).await?);
    Ok(Json(page.wrap(&runs.iter().map(with_fraction).collect::<Vec<_>>(), next)))
}

async fn read(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<Value>, ApiError> {
    Ok(Json(with_fraction(&state.store.get_run(id).await?)))
}

async fn shards(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(page): Query<PageQuery>,
) -> Result<Json<Value>, ApiError> {
    let page = page.check()?;
    state.store.get_run(id).await?;
    Ok(Json(page.answer(state.store.list_shards(id).await?)))
}
