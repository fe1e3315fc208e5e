//! Send-time policy controls and message queries: the discard list, per-channel flow control,
//! messages by receiver, template or run (with a time range), and a run's counts by state.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::json::JsonBody;
use crate::paging::{Items, PageOf, PageQuery};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use herald_core::{ChannelKind, TraceEvent};
use herald_store::{ChannelRate, DiscardEntry, MessageFilter, MessageState, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/discards", get(discards))
        .route("/api/templates/{id}/discard", post(discard).delete(undiscard))
        .route("/api/flow-control", get(rates))
        .route("/api/flow-control/{channel}", put(set_rate))
        .route("/api/messages", get(messages))
        .route("/api/runs/{id}/states", get(run_states))
}

/// The longest discard reason kept: a note for operators, logged and listed.
const MAX_REASON_CHARS: usize = 500;

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct DiscardBody {
    #[serde(default)]
    reason: Option<String>,
}

#[utoipa::path(get, path = "/api/discards", tag = "policies", params(PageQuery),
    responses((status = 200, description = "templates on the discard list", body = PageOf<DiscardEntry>)))]
async fn discards(State(state): State<AppState>, Query(page): Query<PageQuery>) -> Result<Json<Value>, ApiError> {
    let page = page.check()?;
    Ok(Json(page.answer(state.store.discarded().await?)))
}

#[utoipa::path(post, path = "/api/templates/{id}/discard", tag = "policies", params(("id" = i64, Path, description = "the template id")), request_body(content = Option<DiscardBody>, description = "an optional reason; an empty body is fine"),
    responses((status = 204, description = "its sends are discarded from now on")))]
async fn discard(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> Result<StatusCode, ApiError> {
    // The body is optional: an empty one discards without a reason.
    let body: DiscardBody =
        if body.iter().all(u8::is_ascii_whitespace) { DiscardBody::default() } else { crate::json::parse(&body)? };
    discard_template(&state, id, body.reason.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Puts a template on the discard list: its sends are dropped from now on. The reason is an
/// operator's note, at most [`MAX_REASON_CHARS`].
pub(crate) async fn discard_template(state: &AppState, id: i64, reason: Option<&str>) -> Result<(), ApiError> {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if let Some(r) = reason
        && r.chars().count() > MAX_REASON_CHARS
    {
        return Err(ApiError::field("reason", format!("longer than {MAX_REASON_CHARS} characters")));
    }
    state.store.discard_template(id, reason, state.clock.now()).await.map_err(|e| match e {
        StoreError::NotFound { .. } => ApiError::TemplateNotFound(format!("template {id} not found")),
        other => other.into(),
    })?;
    tracing::warn!(template_id = id, reason = ?reason.unwrap_or(""), "template put on the discard list");
    Ok(())
}

pub(crate) async fn undiscard_template(state: &AppState, id: i64) -> Result<(), ApiError> {
    state.store.undiscard_template(id).await?;
    tracing::info!(template_id = id, "template taken off the discard list");
    Ok(())
}

#[utoipa::path(delete, path = "/api/templates/{id}/discard", tag = "policies", params(("id" = i64, Path, description = "the template id")),
    responses((status = 204, description = "its sends go out again")))]
async fn undiscard(State(state): State<AppState>, Path(id): Path<i64>) -> Result<StatusCode, ApiError> {
    undiscard_template(&state, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct RateBody {
    /// Sends per second; null removes the limit.
    rate_per_second: Option<f64>,
}

/// A channel's rate as set.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RateSet {
    channel: ChannelKind,
    rate_per_second: Option<f64>,
}

/// The rate a body sets, checked against the accepted range; None removes the limit.
pub(crate) fn checked_rate(body: &RateBody) -> Result<Option<f64>, ApiError> {
    match body.rate_per_second {
        Some(rate) => {
            herald_core::rate::check_rate_per_second(rate).map(Some).map_err(|m| ApiError::field("ratePerSecond", m))
        }
        None => Ok(None),
    }
}

#[utoipa::path(get, path = "/api/flow-control", tag = "policies",
    responses((status = 200, description = "every channel rate set", body = Items<ChannelRate>)))]
async fn rates(State(state): State<AppState>) -> Result<Json<Items<ChannelRate>>, ApiError> {
    Ok(Json(Items { items: state.store.channel_rates().await? }))
}

#[utoipa::path(put, path = "/api/flow-control/{channel}", tag = "policies", params(("channel" = ChannelKind, Path, description = "the channel")), request_body = RateBody,
    responses((status = 200, description = "the rate as set", body = RateSet)))]
async fn set_rate(
    State(state): State<AppState>,
    Path(channel): Path<String>,
    JsonBody(body): JsonBody<RateBody>,
) -> Result<Json<RateSet>, ApiError> {
    let kind =
        ChannelKind::parse(&channel).ok_or_else(|| ApiError::NotFound(format!("no channel named {channel:?}")))?;
    set_channel_rate(&state, kind, body.rate_per_second).await?;
    Ok(Json(RateSet { channel: kind, rate_per_second: body.rate_per_second }))
}

/// Limits a channel's sends per second across the cluster; None removes the limit.
pub(crate) async fn set_channel_rate(state: &AppState, kind: ChannelKind, rate: Option<f64>) -> Result<(), ApiError> {
    checked_rate(&RateBody { rate_per_second: rate })?;
    state.store.set_channel_rate(kind, rate, state.clock.now()).await?;
    tracing::info!(channel = %kind, rate = ?rate, "channel rate changed");
    Ok(())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct MessageQuery {
    receiver: Option<String>,
    template_id: Option<i64>,
    run_id: Option<i64>,
    /// Only messages whose latest state is this one: sent, failed, dropped_quiet_hours,
    /// dropped_dedup, discarded, cancelled, test_skipped or suppressed.
    state: Option<String>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/messages", tag = "messages", params(MessageQuery),
    responses((status = 200, description = "messages and their latest state (at most `limit`)", body = Items<MessageState>)))]
async fn messages(
    State(state): State<AppState>,
    Query(q): Query<MessageQuery>,
) -> Result<Json<Items<MessageState>>, ApiError> {
    if q.receiver.is_none() && q.template_id.is_none() && q.run_id.is_none() {
        return Err(ApiError::field("receiver", "give a receiver, templateId or runId"));
    }
    if let (Some(from), Some(to)) = (q.from, q.to)
        && from >= to
    {
        return Err(ApiError::field("from", "must be before `to`"));
    }
    if let Some(s) = &q.state
        && !TraceEvent::TERMINAL.iter().any(|e| e.as_str() == s)
    {
        let states: Vec<&str> = TraceEvent::TERMINAL.iter().map(|e| e.as_str()).collect();
        let shown = herald_core::listing::clip(s, 40);
        return Err(ApiError::field(
            "state",
            format!("{shown:?} is not a final state: give one of {}", states.join(", ")),
        ));
    }
    let filter = MessageFilter {
        receiver: q.receiver,
        template_id: q.template_id,
        run_id: q.run_id,
        state: q.state,
        from: q.from,
        to: q.to,
        offset: 0,
        limit: q.limit.unwrap_or(100).clamp(1, 1000),
    };
    Ok(Json(Items { items: state.store.message_states(&filter).await? }))
}

/// A run's messages counted by their latest state.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RunStates {
    run_id: i64,
    rows_read: i64,
    rows_invalid: i64,
    states: BTreeMap<String, i64>,
    total: i64,
}

#[utoipa::path(get, path = "/api/runs/{id}/states", tag = "runs", params(("id" = i64, Path, description = "the run id")),
    responses((status = 200, description = "its messages by state", body = RunStates)))]
async fn run_states(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<RunStates>, ApiError> {
    let run = state.store.get_run(id).await?;
    let states: BTreeMap<String, i64> = state.store.run_state_counts(id).await?.into_iter().collect();
    let total = states.values().sum();
    Ok(Json(RunStates { run_id: id, rows_read: run.rows_read, rows_invalid: run.rows_invalid, states, total }))
}
