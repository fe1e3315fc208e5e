//! Every schedule herald runs, template and housekeeping alike, with its last and next fire.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/schedules", get(list)).route("/api/schedules/{id}/fires", get(fires))
}

async fn list(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "items": state.store.list_schedules().await? })))
}

async fn fires(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "items": state.store.list_fires(id, 100).await? })))
}
