//! Every schedule herald runs, template and housekeeping alike, with its last and next fire,
//! its fires, its run log (a job's attempts, or housekeeping's runs: token refreshes, the
//! quiet-hours release, retention, receipt pulls), and the alarm rules raised now on any of them.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::jobs::RunLogQuery;
use crate::paging::{DEFAULT_LIMIT, PageOf, PageQuery};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use herald_store::{FireRecord, JobRunRecord, RaisedAlarmRecord, ScheduleFilter, ScheduleRecord};
use serde::Deserialize;
use serde_json::Value;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/schedules", get(list))
        .route("/api/schedules/{id}/fires", get(fires))
        .route("/api/schedules/{id}/runs", get(runs))
        .route("/api/alarms", get(alarms))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ScheduleQuery {
    /// Only schedules of this kind: template, token_refresh, quiet_release, retention, receipt_pull,
    /// daily_report or job; or housekeeping, for every kind but template and job.
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
    schedule_exists(&state, id).await?;
    Ok(Json(page.answer(state.store.list_fires(id, page.fetch()).await?)))
}

/// The schedule's run log, newest first: a job's attempts, or each run of a housekeeping
/// schedule (start, end, node, outcome, error); 404 for a schedule that does not exist.
#[utoipa::path(get, path = "/api/schedules/{id}/runs", tag = "schedules", params(("id" = i64, Path, description = "the schedule id"), RunLogQuery),
    responses((status = 200, description = "a page of its run log, newest first", body = PageOf<JobRunRecord>)))]
async fn runs(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<RunLogQuery>,
) -> Result<Json<Value>, ApiError> {
    let (page, outcome) = q.checked()?;
    schedule_exists(&state, id).await?;
    let (items, next) = page.take_fetched(state.store.list_schedule_runs(id, outcome, page.window()).await?);
    Ok(Json(page.wrap(&items, next)))
}

/// Every alarm rule raised now, on jobs' and housekeeping schedules alike, by schedule and rule;
/// a rule leaves the list when its schedule next succeeds.
#[utoipa::path(get, path = "/api/alarms", tag = "schedules", params(PageQuery),
    responses((status = 200, description = "a page of the rules raised now", body = PageOf<RaisedAlarmRecord>)))]
async fn alarms(State(state): State<AppState>, Query(page): Query<PageQuery>) -> Result<Json<Value>, ApiError> {
    let page = page.check()?;
    let (items, next) = page.take_fetched(state.store.list_raised_alarms(page.window()).await?);
    Ok(Json(page.wrap(&items, next)))
}

async fn schedule_exists(state: &AppState, id: i64) -> Result<(), ApiError> {
    let this_one = ScheduleFilter { id: Some(id), ..ScheduleFilter::default() };
    if state.store.list_schedules(&this_one).await?.is_empty() {
        return Err(ApiError::NotFound(format!("schedule {id} not found")));
    }
    Ok(())
}
