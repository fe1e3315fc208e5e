//! `/api/event-endpoints`: where status events go. An endpoint is a URL (checked by the outbound
//! address policy, as a webhook's), the event types it receives and a secret herald signs each
//! call with, shown once when made (and when rotated). The list shows each endpoint's backlog
//! and last error; a replay queues a window's events again under their own ids.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::json::JsonBody;
use crate::paging::{PageOf, PageQuery};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use herald_core::listing::{QUOTED_CHARS, clip};
use herald_core::status_events::EventType;
use herald_store::{EndpointSpec, EventEndpoint, ReplayWindow};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The longest endpoint name, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// The longest endpoint URL, in bytes.
pub const MAX_URL_BYTES: usize = 2_000;
/// What a secret starts with, so one pasted in the wrong place is recognised.
pub const SECRET_PREFIX: &str = "whsec_";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/event-endpoints", get(list).post(create))
        .route("/api/event-endpoints/{id}", get(read).put(update).delete(remove))
        .route("/api/event-endpoints/{id}/rotate-secret", post(rotate))
        .route("/api/event-endpoints/{id}/replay", post(replay))
}

/// An endpoint as made or changed.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct EndpointBody {
    /// 1 to 100 characters, no control characters.
    pub name: String,
    /// http or https, at most 2,000 bytes; a private or loopback address only where the node
    /// allows private networks.
    pub url: String,
    /// The types it receives; all of them when absent. Not empty.
    #[serde(default)]
    pub events: Option<Vec<EventType>>,
    /// False holds its events (queued, not sent) until it is enabled; true when absent.
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// A new endpoint, with its secret shown this once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NewEndpoint {
    #[serde(flatten)]
    pub endpoint: EventEndpoint,
    /// The key of each call's `X-Herald-Signature`: `t=<unix seconds>,v1=<hex HMAC-SHA256 of
    /// "<t>.<body>" keyed by this secret>`. Shown this once; rotate it to get a new one.
    pub secret: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Rotated {
    pub id: i64,
    /// The new secret, shown this once; the old one signs nothing from now on.
    pub secret: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct EndpointDeleted {
    pub id: i64,
    pub deleted: bool,
    /// Events that were waiting for it, dropped with it.
    pub dropped: i64,
}

/// What to send again.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ReplayBody {
    /// The window's start (RFC 3339), inclusive.
    pub from: DateTime<Utc>,
    /// Its end, exclusive; now when absent.
    #[serde(default)]
    pub to: Option<DateTime<Utc>>,
    /// Only this run's events (its messages' and its `run.finished`).
    #[serde(default)]
    pub run_id: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Replayed {
    /// Events queued again; events already waiting are not counted twice.
    pub queued: u64,
}

/// A body checked: the name trimmed, the URL allowed, the types not empty.
pub(crate) async fn checked(state: &AppState, body: EndpointBody) -> Result<EndpointSpec, ApiError> {
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(ApiError::field("name", format!("1 to {MAX_NAME_CHARS} characters, no control characters")));
    }
    let url = body.url.trim();
    if url.len() > MAX_URL_BYTES {
        return Err(ApiError::field("url", format!("at most {MAX_URL_BYTES} bytes")));
    }
    if let Err(e) = state.accounts.context().http.check_url(url).await {
        return Err(ApiError::field("url", format!("{:?}: {e}", clip(url, QUOTED_CHARS))));
    }
    let events = body.events.unwrap_or_else(|| EventType::ALL.to_vec());
    if events.is_empty() {
        return Err(ApiError::field("events", "name at least one event type"));
    }
    Ok(EndpointSpec { name: name.to_string(), url: url.to_string(), events, enabled: body.enabled.unwrap_or(true) })
}

/// A new secret and its sealed form.
fn new_secret(state: &AppState) -> (String, String) {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    let secret = format!("{SECRET_PREFIX}{}", hex::encode(bytes));
    let sealed = state.accounts.sealer().seal(secret.as_bytes());
    (secret, sealed)
}

/// Makes an endpoint; the API and the console ask the same.
pub(crate) async fn create_endpoint(state: &AppState, body: EndpointBody) -> Result<NewEndpoint, ApiError> {
    let spec = checked(state, body).await?;
    let (secret, sealed) = new_secret(state);
    let id = state.store.create_event_endpoint(&spec, &sealed, state.clock.now()).await?;
    tracing::info!(endpoint = id, "status event endpoint created");
    Ok(NewEndpoint { endpoint: state.store.get_event_endpoint(id).await?, secret })
}

/// Queues a window's events again for endpoint `id`; the API and the console ask the same.
pub(crate) async fn replay_window(state: &AppState, id: i64, body: ReplayBody) -> Result<Replayed, ApiError> {
    let now = state.clock.now();
    let to = body.to.unwrap_or(now);
    if body.from >= to {
        return Err(ApiError::field("from", format!("{} is not before the window's end {to}", body.from)));
    }
    let window = ReplayWindow { from: body.from, to, run_id: body.run_id };
    let queued = state.store.replay_status_events(id, &window, now).await?;
    tracing::info!(endpoint = id, queued, "status events queued again");
    Ok(Replayed { queued })
}

#[utoipa::path(get, path = "/api/event-endpoints", tag = "events", params(PageQuery),
    responses((status = 200, description = "a page of endpoints in id order, each with its backlog (never a secret)", body = PageOf<EventEndpoint>)))]
async fn list(State(state): State<AppState>, Query(page): Query<PageQuery>) -> Result<Json<Value>, ApiError> {
    let page = page.check()?;
    Ok(Json(page.answer(state.store.list_event_endpoints(0, page.fetch()).await?)))
}

/// Makes an endpoint that receives signed, batched status events: at most 100 events a call,
/// none waiting more than 10 seconds for its batch (the node's `[status_events]` settings), a
/// failed call tried again with a doubling backoff, each event with an id its repeats share.
#[utoipa::path(post, path = "/api/event-endpoints", tag = "events", request_body = EndpointBody,
    responses((status = 201, description = "the endpoint, with its secret shown this once", body = NewEndpoint)))]
async fn create(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<EndpointBody>,
) -> Result<(StatusCode, Json<NewEndpoint>), ApiError> {
    Ok((StatusCode::CREATED, Json(create_endpoint(&state, body).await?)))
}

#[utoipa::path(get, path = "/api/event-endpoints/{id}", tag = "events",
    params(("id" = i64, Path, description = "the endpoint id")),
    responses((status = 200, description = "the endpoint and its backlog", body = EventEndpoint)))]
async fn read(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<EventEndpoint>, ApiError> {
    Ok(Json(state.store.get_event_endpoint(id).await?))
}

#[utoipa::path(put, path = "/api/event-endpoints/{id}", tag = "events", request_body = EndpointBody,
    params(("id" = i64, Path, description = "the endpoint id")),
    responses((status = 200, description = "changed; its secret and waiting events are kept", body = EventEndpoint)))]
async fn update(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<EndpointBody>,
) -> Result<Json<EventEndpoint>, ApiError> {
    let spec = checked(&state, body).await?;
    state.store.update_event_endpoint(id, &spec).await?;
    Ok(Json(state.store.get_event_endpoint(id).await?))
}

/// Deletes an endpoint with the events waiting for it.
pub(crate) async fn delete_endpoint(state: &AppState, id: i64) -> Result<EndpointDeleted, ApiError> {
    let dropped = state.store.get_event_endpoint(id).await?.backlog;
    state.store.delete_event_endpoint(id).await?;
    tracing::info!(endpoint = id, dropped, "status event endpoint deleted");
    Ok(EndpointDeleted { id, deleted: true, dropped })
}

#[utoipa::path(delete, path = "/api/event-endpoints/{id}", tag = "events",
    params(("id" = i64, Path, description = "the endpoint id")),
    responses((status = 200, description = "deleted, with the events waiting for it", body = EndpointDeleted)))]
async fn remove(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<EndpointDeleted>, ApiError> {
    Ok(Json(delete_endpoint(&state, id).await?))
}

#[utoipa::path(post, path = "/api/event-endpoints/{id}/rotate-secret", tag = "events",
    params(("id" = i64, Path, description = "the endpoint id")),
    responses((status = 200, description = "the new secret, shown this once", body = Rotated)))]
async fn rotate(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<Rotated>, ApiError> {
    let (secret, sealed) = new_secret(&state);
    state.store.set_event_endpoint_secret(id, &sealed).await?;
    tracing::info!(endpoint = id, "status event endpoint secret rotated");
    Ok(Json(Rotated { id, secret }))
}

/// Sends a window's events again: those of the endpoint's types still in the trace (its
/// retention), and runs that ended in it, with the ids they were first sent with.
#[utoipa::path(post, path = "/api/event-endpoints/{id}/replay", tag = "events", request_body = ReplayBody,
    params(("id" = i64, Path, description = "the endpoint id")),
    responses((status = 200, description = "how many events were queued again", body = Replayed)))]
async fn replay(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<ReplayBody>,
) -> Result<Json<Replayed>, ApiError> {
    Ok(Json(replay_window(&state, id, body).await?))
}
