//! Run history and live progress, with the shards a run is streamed in and who holds them.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::{Path, Query, State};
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
    limit: Option<i64>,
}

fn with_fraction(run: &RunProgress) -> Value {
    let mut value = json!(run);
    value["fractionDone"] = json!(run.fraction_done());
    value
}

async fn list(State(state): State<AppState>, Query(q): Query<RunQuery>) -> Result<Json<Value>, ApiError> {
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    let runs = state.store.list_runs(q.template_id, limit).await?;
    Ok(Json(json!({ "items": runs.iter().map(with_fraction).collect::<Vec<_>>() })))
}

async fn read(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<Value>, ApiError> {
    Ok(Json(with_fraction(&state.store.get_run(id).await?)))
}

async fn shards(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<Value>, ApiError> {
    state.store.get_run(id).await?;
    Ok(Json(json!({ "items": state.store.list_shards(id).await? })))
}
