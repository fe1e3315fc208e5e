//! Every schedule herald runs, template and housekeeping alike, with its last and next fire.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::paging::{PageOf, PageQuery};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use herald_store::{FireRecord, ScheduleRecord};
use serde_json::Value;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/schedules", get(list)).route("/api/schedules/{id}/fires", get(fires))
}

#[utoipa::path(get, path = "/api/schedules", tag = "schedules", params(PageQuery),
    responses((status = 200, description = "a page of schedules", body = PageOf<ScheduleRecord>)))]
async fn list(State(state): State<AppState>, Query(page): Query<PageQuery>) -> Result<Json<Value>, ApiError> {
    let page = page.check()?;
    Ok(Json(page.answer(state.store.list_schedules().await?)))
}

/// Newest first; 404 for a schedule that does not exist.
#[utoipa::path(get, path = "/api/schedules/{id}/fires", tag = "schedules", params(("id" = i64, Path, description = "the schedule id"), PageQuery),
    responses((status = 200, description = "its fires, newest first", body = PageOf<FireRecord>)))]
async fn fires(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(page): Query<PageQuery>,
) -> Result<Json<Value>, ApiError> {
    let page = page.check()?;
    // The store has no single-schedule read; the list is one query over a small table.
    if !state.store.list_schedules().await?.iter().any(|s| s.id == id) {
        return Err(ApiError::NotFound(format!("schedule {id} not found")));
    }
    Ok(Json(page.answer(state.store.list_fires(id, page.fetch()).await?)))
}
