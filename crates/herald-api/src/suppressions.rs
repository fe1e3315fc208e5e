//! The suppression list's admin API: list, add, remove and import opt-outs. What the list
//! means to a send (the worker drops suppressed receivers, traced `suppressed`) is
//! `herald_core::suppression`'s and the worker's.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::Query;
use crate::json::JsonBody;
use crate::paging::{DEFAULT_LIMIT, PageOf, PageQuery};
pub(crate) use crate::suppression_import::{ImportReport, import_body_limit, receive_import};
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use herald_core::suppression::receiver_key;
use herald_core::{ChannelKind, MessageKind, Suppression, SuppressionSource};
use herald_store::{StoreError, SuppressionEntry};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The `channel` value that means "every channel".
pub(crate) const EVERY_CHANNEL: &str = "all";

pub fn router(limits: &crate::ApiLimits) -> Router<AppState> {
    Router::new()
        .route("/api/suppressions", get(list).post(add).delete(remove))
        .route("/api/suppressions/import", post(import).layer(DefaultBodyLimit::max(import_body_limit(limits))))
}

/// An entry as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SuppressionView {
    /// As the list compares it: trimmed, emails in lower case, phone numbers without spaces,
    /// dashes or a mainland `+86`.
    receiver: String,
    /// The channel it covers; null for every channel.
    channel: Option<ChannelKind>,
    /// The kinds of message it covers.
    kinds: Vec<MessageKind>,
    source: SuppressionSource,
    note: Option<String>,
    created_at: DateTime<Utc>,
}

impl From<&SuppressionEntry> for SuppressionView {
    fn from(e: &SuppressionEntry) -> Self {
        Self {
            receiver: e.entry.receiver.clone(),
            channel: e.entry.channel,
            kinds: e.entry.kinds.list(),
            source: e.entry.source,
            note: e.entry.note.clone(),
            created_at: e.created_at,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Part of the receiver (any case).
    q: Option<String>,
    /// Only entries for this channel; `all` for entries covering every channel.
    channel: Option<String>,
    /// Only entries from this source: api, import, console, sms_reply, unsubscribe, bounce.
    source: Option<String>,
    /// Items per page: 1 to 500, 100 when absent.
    limit: Option<i64>,
    /// Items to skip: 0 to 100,000.
    offset: Option<i64>,
}

#[utoipa::path(get, path = "/api/suppressions", tag = "suppressions", params(ListQuery),
    responses((status = 200, description = "a page of the suppression list, newest first", body = PageOf<SuppressionView>)))]
async fn list(State(state): State<AppState>, Query(q): Query<ListQuery>) -> Result<Json<Value>, ApiError> {
    let page = PageQuery::new(q.limit.unwrap_or(DEFAULT_LIMIT), q.offset).check()?;
    let filter =
        crate::filters::suppressions(q.q.as_deref(), q.channel.as_deref(), q.source.as_deref(), page.window())?;
    let (entries, next) = page.take_fetched(state.store.list_suppressions(&filter).await?);
    let items: Vec<SuppressionView> = entries.iter().map(SuppressionView::from).collect();
    Ok(Json(page.wrap(&items, next)))
}

/// An entry to add.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct NewSuppression {
    /// Who: a phone number, email address or user id, as the crowds hold it.
    receiver: String,
    /// One channel, or absent (or `all`) for every channel.
    #[serde(default)]
    channel: Option<String>,
    /// The kinds of message it covers; `["marketing"]` when absent.
    #[serde(default)]
    kinds: Option<Vec<MessageKind>>,
    /// Why, for operators (at most 500 characters).
    #[serde(default)]
    note: Option<String>,
}

#[utoipa::path(post, path = "/api/suppressions", tag = "suppressions", request_body = NewSuppression,
    responses((status = 201, description = "on the list: sends to this receiver stop from the next batch", body = SuppressionView)))]
async fn add(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<NewSuppression>,
) -> Result<(StatusCode, Json<SuppressionView>), ApiError> {
    let channel = channel_choice(body.channel.as_deref())?;
    let entry =
        Suppression::new(&body.receiver, channel, body.kinds.as_deref(), SuppressionSource::Api, body.note.as_deref())
            .map_err(ApiError::Invalid)?;
    let stored = add_entry(&state, entry).await?;
    Ok((StatusCode::CREATED, Json(SuppressionView::from(&stored))))
}

/// Adds one entry and reads it back as stored (merged with one that was there).
pub(crate) async fn add_entry(state: &AppState, entry: Suppression) -> Result<SuppressionEntry, ApiError> {
    state.store.suppress(std::slice::from_ref(&entry), state.clock.now()).await?;
    tracing::info!(channel = channel_name(entry.channel), source = entry.source.as_str(), "receiver suppressed");
    Ok(state.store.get_suppression(&entry.receiver, entry.channel).await?)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct RemoveQuery {
    /// The receiver, as given when it was added (compared as the list stores it).
    receiver: String,
    /// The entry's channel; `all` (or absent) for the entry covering every channel.
    channel: Option<String>,
}

#[utoipa::path(delete, path = "/api/suppressions", tag = "suppressions", params(RemoveQuery),
    responses((status = 204, description = "removed: the receiver is sent to again"),
        (status = 404, description = "no such entry", body = crate::error::ErrorBody)))]
async fn remove(State(state): State<AppState>, Query(q): Query<RemoveQuery>) -> Result<StatusCode, ApiError> {
    let channel = channel_choice(q.channel.as_deref())?;
    remove_entry(&state, &q.receiver, channel).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes one entry; an absent one is a 404 naming it.
pub(crate) async fn remove_entry(
    state: &AppState,
    receiver: &str,
    channel: Option<ChannelKind>,
) -> Result<(), ApiError> {
    let key = receiver_key(receiver);
    if key.is_empty() {
        return Err(ApiError::field("receiver", "must not be blank"));
    }
    match state.store.unsuppress(&key, channel).await {
        Err(StoreError::NotFound { .. }) => Err(ApiError::NotFound(format!(
            "{} is not on the suppression list for {}",
            herald_core::listing::clip(&key, 64),
            channel.map_or("every channel", ChannelKind::as_str)
        ))),
        other => {
            other?;
            tracing::info!(channel = channel_name(channel), "suppression removed");
            Ok(())
        }
    }
}

/// A multipart import: optional `channel` and `kinds` fields (the defaults of rows that name
/// none), then `file`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct SuppressionUpload {
    /// The channel of rows without one: a channel name, or `all` (the default).
    channel: Option<String>,
    /// The kinds of rows without their own, comma-separated; `marketing` when absent.
    kinds: Option<String>,
    /// A CSV file: with a header naming `receiver` (and optionally `channel`, `kinds`,
    /// `note`), or without one, the receiver in the first column.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

#[utoipa::path(post, path = "/api/suppressions/import", tag = "suppressions",
    request_body(content = SuppressionUpload, content_type = "multipart/form-data"),
    responses((status = 200, description = "imported: every good row is on the list; bad rows are named by line and skipped", body = ImportReport)))]
async fn import(
    State(state): State<AppState>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Json<ImportReport>, ApiError> {
    let multipart =
        multipart.map_err(|e| ApiError::BadRequest(format!("not a multipart upload: {}", e.body_text())))?;
    Ok(Json(receive_import(&state, multipart, SuppressionSource::Import).await?))
}

/// An entry's channel as the API and the console's forms name it: `all` for every channel.
pub(crate) fn channel_name(channel: Option<ChannelKind>) -> &'static str {
    channel.map_or(EVERY_CHANNEL, ChannelKind::as_str)
}

/// A channel as an entry names it: absent, blank or `all` for every channel.
pub(crate) fn channel_choice(value: Option<&str>) -> Result<Option<ChannelKind>, ApiError> {
    match value.map(str::trim) {
        None | Some("") | Some(EVERY_CHANNEL) => Ok(None),
        Some(name) => ChannelKind::parse(name).map(Some).ok_or_else(|| {
            ApiError::field(
                "channel",
                format!(
                    "{:?} is not a channel: give {EVERY_CHANNEL} or one of {}",
                    herald_core::listing::clip(name, 40),
                    ChannelKind::ALL.map(ChannelKind::as_str).join(", ")
                ),
            )
        }),
    }
}
