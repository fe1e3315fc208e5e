//! Funnels: what became of a run's messages, or of a template's messages on one day of its
//! time zone — accepted, dropped by reason, held, sent, failed, and what receipts said of the
//! sent ones — with the failure reasons ranked.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Path, Query};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::NaiveDate;
use herald_core::funnel::Funnel;
use herald_store::{DeliveryScope, Template};
use serde::Deserialize;

/// The most failure reasons a funnel ranks.
pub(crate) const FAILURE_REASONS: i64 = 10;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/runs/{id}/funnel", get(run_funnel))
        .route("/api/templates/{id}/funnel", get(template_funnel))
}

#[utoipa::path(get, path = "/api/runs/{id}/funnel", tag = "runs", params(("id" = i64, Path, description = "the run id")),
    responses((status = 200, description = "its messages stage by stage, failure reasons ranked", body = Funnel)))]
async fn run_funnel(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<Funnel>, ApiError> {
    Ok(Json(of_run(&state, id).await?))
}

/// The funnel of run `id`: its published rows are its accepted messages.
pub(crate) async fn of_run(state: &AppState, id: i64) -> Result<Funnel, ApiError> {
    let run = state.store.get_run(id).await?;
    let published = run.rows_read - run.rows_invalid;
    funnel_of(state, DeliveryScope::Run(id), Some(published)).await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct DayQuery {
    /// The day (YYYY-MM-DD) in the template's time zone; today there when absent.
    day: Option<String>,
}

#[utoipa::path(get, path = "/api/templates/{id}/funnel", tag = "templates",
    params(("id" = i64, Path, description = "the template id"), DayQuery),
    responses((status = 200, description = "the day's messages of the template stage by stage, failure reasons ranked", body = Funnel)))]
async fn template_funnel(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<DayQuery>,
) -> Result<Json<Funnel>, ApiError> {
    let template = crate::templates::get_template(&state, id).await?;
    let day = match q.day.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
            ApiError::field("day", format!("{:?} is not a date (YYYY-MM-DD)", herald_core::listing::clip(text, 40)))
        })?),
    };
    Ok(Json(of_template_day(&state, &template, day).await?))
}

/// The funnel of `template`'s messages on `day` in its time zone (today there when None).
pub(crate) async fn of_template_day(
    state: &AppState,
    template: &Template,
    day: Option<NaiveDate>,
) -> Result<Funnel, ApiError> {
    let zone = template.spec.timezone();
    let day = day.unwrap_or_else(|| state.clock.now().with_timezone(&zone).date_naive());
    let (from, to) = herald_core::days::day_span(day, zone);
    funnel_of(state, DeliveryScope::TemplateBetween { template_id: template.id, from, to }, None).await
}

async fn funnel_of(state: &AppState, scope: DeliveryScope, published: Option<i64>) -> Result<Funnel, ApiError> {
    let states = state.store.state_counts(scope).await?;
    let failures = state.store.failure_reasons(scope, FAILURE_REASONS).await?;
    let receipts = state.store.receipt_counts(scope).await?;
    Ok(Funnel::of(&states, published, failures).with_receipts(receipts))
}
