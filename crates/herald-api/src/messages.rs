//! Looking at what was sent: the outbox channel's deliveries and a message's trace.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Path, Query};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use herald_store::{OutboxEntry, OutboxFilter, TraceRecord};
use serde::{Deserialize, Serialize};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/outbox", get(outbox)).route("/api/trace/{message_id}", get(trace))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct OutboxQuery {
    template_id: Option<i64>,
    run_id: Option<i64>,
    receiver: Option<String>,
    after_id: Option<i64>,
    limit: Option<i64>,
}

/// A page of the outbox, by id: pass `nextAfterId` as `afterId` for the next.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OutboxPage {
    items: Vec<OutboxEntry>,
    total: i64,
    next_after_id: Option<i64>,
}

/// A message's trace, oldest event first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Trace {
    message_id: String,
    events: Vec<TraceRecord>,
}

#[utoipa::path(get, path = "/api/outbox", tag = "messages", params(OutboxQuery),
    responses((status = 200, description = "what the outbox channel delivered", body = OutboxPage)))]
async fn outbox(State(state): State<AppState>, Query(q): Query<OutboxQuery>) -> Result<Json<OutboxPage>, ApiError> {
    let filter = OutboxFilter {
        template_id: q.template_id,
        run_id: q.run_id,
        receiver: q.receiver,
        after_id: q.after_id.unwrap_or(0),
        limit: q.limit.unwrap_or(100).clamp(1, 1000),
    };
    let items = state.store.list_outbox(&filter).await?;
    let total = state.store.count_outbox(filter.template_id, filter.run_id).await?;
    let next_after_id = (items.len() as i64 == filter.limit).then(|| items.last().map(|e| e.id)).flatten();
    Ok(Json(OutboxPage { items, total, next_after_id }))
}

#[utoipa::path(get, path = "/api/trace/{message_id}", tag = "messages", params(("message_id" = String, Path, description = "the message id")),
    responses((status = 200, description = "every event of the message", body = Trace)))]
async fn trace(State(state): State<AppState>, Path(message_id): Path<String>) -> Result<Json<Trace>, ApiError> {
    let events = state.store.trace_of(&message_id).await?;
    if events.is_empty() {
        return Err(ApiError::NotFound(format!("no trace for message {message_id:?}")));
    }
    Ok(Json(Trace { message_id, events }))
}
