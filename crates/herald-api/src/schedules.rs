//! Every schedule herald runs, template and housekeeping alike, with its last and next fire.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::paging::{DEFAULT_LIMIT, PageOf, PageQuery};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use herald_store::{FireRecord, ScheduleFilter, ScheduleRecord};
use serde::Deserialize;
use serde_json::Value;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/schedules", get(list)).route("/api/schedules/{id}/fires", get(fires))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ScheduleQuery {
    /// Only schedules of this kind: template, token_refresh, quiet_release, retention, receipt_pull
    /// or job.
    kind: Option<String>,
    /// Items per page: 1 to 500, 100 when absent.
    limit: Option<i64>,
    /// Items to skip: 0 to 100,000.
    offset: Option<i64>,
}

#[utoipa::path(get, path = "/api/schedules", tag = "schedules", params(ScheduleQuery),
    responses((status = 200, description = "a page of schedules, by id", body = PageOf<ScheduleRecord>)))]
async fn list(State(state): State<AppState>, Query(q): Query<ScheduleQuery>) -> Result<Json<Value>, ApiError> {
    let page = PageQuery::new(q.limit.unwrap_or(DEFAULT_LIMIT), q.offset).check()?;
    let filter = crate::filters::schedules(q.kind.as_deref(), page.window())?;
    let (items, next) = page.take_fetched(state.store.list_schedules(&filter).await?);
    Ok(Json(page.wrap(&items, next)))
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
    let this_one = ScheduleFilter { id: Some(id), ..ScheduleFilter::default() };
    if state.store.list_schedules(&this_one).await?.is_empty() {
        return Err(ApiError::NotFound(format!("schedule {id} not found")));
    }
    Ok(Json(page.answer(state.store.list_fires(id, page.fetch()).await?)))
}
