//! Channel accounts: create, list, read, update, delete, send a test message, refresh the
//! access token. Configs are validated by building the channel, sealed before they are
//! stored, and answered with every secret masked; an update may send masked secrets back
//! unchanged to keep them.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::json::JsonBody;
use crate::paging::{DEFAULT_LIMIT, PageOf, PageQuery};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use herald_channels::account::token_refresh_cron;
use herald_channels::registry::RefreshError;
use herald_channels::sealing::{masked, merge_masked};
use herald_channels::{BuildError, ChannelAccount, OutgoingMessage, SendResult};
use herald_core::ScheduleKind;
use herald_core::{ChannelKind, MessageId};
use herald_store::{AccountRecord, AccountWrite, HousekeepingSpec, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/accounts", get(list).post(create))
        .route("/api/accounts/{id}", get(read).put(update).delete(remove))
        .route("/api/accounts/{id}/test", post(test_send))
        .route("/api/accounts/{id}/refresh-token", post(refresh_token))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct AccountBody {
    /// 1 to 100 characters, unique.
    pub name: String,
    pub channel: ChannelKind,
    /// The channel's settings (see the README's channel table); a secret given back as it
    /// was shown (masked) keeps its stored value while nothing that decides where it is sent
    /// changes.
    #[schema(value_type = Object)]
    pub config: Value,
    #[serde(default)]
    pub rate_per_second: Option<f64>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct TestBody {
    pub receiver: String,
    /// The message content as a template's; absent for a short test text.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub content: Option<Value>,
}

pub(crate) fn not_found(id: i64) -> impl FnOnce(StoreError) -> ApiError {
    move |e| match e {
        StoreError::NotFound { .. } => ApiError::NotFound(format!("channel account {id} not found")),
        other => other.into(),
    }
}

/// A channel account as the API shows it: secrets masked.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AccountView {
    pub id: i64,
    pub name: String,
    pub channel: ChannelKind,
    /// Its settings, every secret shown as `****` and its last characters.
    #[schema(value_type = Object)]
    pub config: Value,
    pub rate_per_second: Option<f64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// SMS accounts: the URLs to give each provider for replies (a reply such as `TD` or `退订`
    /// opts the number out of marketing SMS) and status reports; Getui accounts: the receipt
    /// callback URL. Absolute when `server.public_url` is set, else paths to put after
    /// herald's public address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_callbacks: Option<crate::inbound::ReplyCallbacks>,
}

/// What a test send did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TestOutcome {
    pub message_id: MessageId,
    /// `sent`, `retryable` or `permanent`.
    pub outcome: &'static str,
    pub detail: Option<String>,
}

/// A refreshed access token's expiry (never the token).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TokenRefreshed {
    pub refreshed: bool,
    pub expires_at: DateTime<Utc>,
}

/// The account as the API shows it: secrets masked.
pub(crate) fn shown(state: &AppState, record: &AccountRecord) -> Result<AccountView, ApiError> {
    let config =
        state.accounts.sealer().unseal_json(&record.config_sealed).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(AccountView {
        id: record.id,
        name: record.name.clone(),
        channel: record.channel,
        config: masked(&config),
        rate_per_second: record.rate_per_second,
        created_at: record.created_at,
        updated_at: record.updated_at,
        reply_callbacks: crate::inbound::reply_callbacks(state, record),
    })
}

/// The checks on an account body that need no channel: name, channel kind, rate.
pub(crate) fn check_fields(body: &AccountBody) -> Result<(), ApiError> {
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::field("name", "must be 1 to 100 characters"));
    }
    if !body.channel.needs_account() {
        return Err(ApiError::field("channel", format!("{} sends without an account", body.channel)));
    }
    if let Some(rate) = body.rate_per_second {
        herald_core::rate::check_rate_per_second(rate).map_err(|m| ApiError::field("ratePerSecond", m))?;
    }
    Ok(())
}

/// Checks the body and builds the channel from it, so a bad config is refused naming its field.
fn to_write(state: &AppState, body: &AccountBody, id: i64) -> Result<AccountWrite, ApiError> {
    check_fields(body)?;
    let name = body.name.trim();
    let account = ChannelAccount { id, name: name.to_string(), channel: body.channel, config: body.config.clone() };
    let built = state.accounts.build(&account).map_err(|e| match e {
        BuildError::Config { field, message } => ApiError::field(&format!("config.{field}"), message),
        other => ApiError::BadRequest(other.to_string()),
    })?;
    let housekeeping = match (&built.token_source, token_refresh_cron(body.channel)) {
        (Some(_), Some(cron)) => {
            vec![HousekeepingSpec { kind: ScheduleKind::TokenRefresh.as_str().to_string(), cron: cron.to_string() }]
        }
        _ => Vec::new(),
    };
    Ok(AccountWrite {
        name: name.to_string(),
        channel: body.channel,
        config_sealed: state.accounts.sealer().seal_json(&body.config),
        rate_per_second: body.rate_per_second,
        housekeeping,
    })
}

#[utoipa::path(post, path = "/api/accounts", tag = "accounts", request_body = AccountBody,
    responses((status = 201, description = "created; secrets masked", body = AccountView)))]
async fn create(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<AccountBody>,
) -> Result<(StatusCode, Json<AccountView>), ApiError> {
    let record = create_account(&state, &body).await?;
    Ok((StatusCode::CREATED, Json(shown(&state, &record)?)))
}

pub(crate) async fn create_account(state: &AppState, body: &AccountBody) -> Result<AccountRecord, ApiError> {
    let write = to_write(state, body, 0)?;
    let record = state.store.create_account(&write, state.clock.now()).await?;
    tracing::info!(account_id = record.id, account = ?record.name, channel = %record.channel, "channel account created");
    Ok(record)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct AccountQuery {
    /// Part of the name (any case), or the id.
    q: Option<String>,
    /// Only accounts of this channel.
    channel: Option<String>,
    /// Items per page: 1 to 500, 100 when absent.
    limit: Option<i64>,
    /// Items to skip: 0 to 100,000.
    offset: Option<i64>,
}

#[utoipa::path(get, path = "/api/accounts", tag = "accounts", params(AccountQuery),
    responses((status = 200, description = "a page of accounts, by id", body = PageOf<AccountView>)))]
async fn list(State(state): State<AppState>, Query(q): Query<AccountQuery>) -> Result<Json<Value>, ApiError> {
    let page = PageQuery::new(q.limit.unwrap_or(DEFAULT_LIMIT), q.offset).check()?;
    let filter = crate::filters::accounts(q.q.as_deref(), q.channel.as_deref(), page.window())?;
    let (records, next) = page.take_fetched(state.store.list_accounts(&filter).await?);
    let items = records.iter().map(|r| shown(&state, r)).collect::<Result<Vec<_>, _>>()?;
    Ok(Json(page.wrap(&items, next)))
}

#[utoipa::path(get, path = "/api/accounts/{id}", tag = "accounts", params(("id" = i64, Path, description = "the account id")),
    responses((status = 200, description = "the account; secrets masked", body = AccountView)))]
async fn read(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<AccountView>, ApiError> {
    let record = state.store.get_account(id).await.map_err(not_found(id))?;
    Ok(Json(shown(&state, &record)?))
}

#[utoipa::path(put, path = "/api/accounts/{id}", tag = "accounts", params(("id" = i64, Path, description = "the account id")), request_body = AccountBody,
    responses((status = 200, description = "the account as saved", body = AccountView)))]
async fn update(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<AccountBody>,
) -> Result<Json<AccountView>, ApiError> {
    let record = update_account(&state, id, body).await?;
    Ok(Json(shown(&state, &record)?))
}

/// Masked secrets in `body` keep their stored values.
pub(crate) async fn update_account(
    state: &AppState,
    id: i64,
    mut body: AccountBody,
) -> Result<AccountRecord, ApiError> {
    let record = state.store.get_account(id).await.map_err(not_found(id))?;
    let stored =
        state.accounts.sealer().unseal_json(&record.config_sealed).map_err(|e| ApiError::Internal(e.to_string()))?;
    body.config = merge_masked(&body.config, &stored).map_err(|e| {
        ApiError::field(
            &format!("config.{}", e.field),
            format!("give the secret again: the stored one is kept only while {} stays the same", e.changed),
        )
    })?;
    let write = to_write(state, &body, id)?;
    let record = state.store.update_account(id, &write, state.clock.now()).await.map_err(not_found(id))?;
    tracing::info!(account_id = id, account = ?record.name, "channel account updated");
    Ok(record)
}

#[utoipa::path(delete, path = "/api/accounts/{id}", tag = "accounts", params(("id" = i64, Path, description = "the account id")),
    responses((status = 204, description = "deleted")))]
async fn remove(State(state): State<AppState>, Path(id): Path<i64>) -> Result<StatusCode, ApiError> {
    delete_account(&state, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn delete_account(state: &AppState, id: i64) -> Result<(), ApiError> {
    state.store.delete_account(id).await.map_err(not_found(id))?;
    tracing::info!(account_id = id, "channel account deleted");
    Ok(())
}

/// Sends one message through the account right now, outside the bus, and reports how it went.
#[utoipa::path(post, path = "/api/accounts/{id}/test", tag = "accounts", params(("id" = i64, Path, description = "the account id")), request_body = TestBody,
    responses((status = 200, description = "what the provider answered", body = TestOutcome)))]
async fn test_send(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<TestBody>,
) -> Result<Json<TestOutcome>, ApiError> {
    Ok(Json(send_test(&state, id, body).await?))
}

/// Sends one message through the account now; answers `{messageId, outcome, detail}`.
pub(crate) async fn send_test(state: &AppState, id: i64, body: TestBody) -> Result<TestOutcome, ApiError> {
    let record = state.store.get_account(id).await.map_err(not_found(id))?;
    if body.receiver.trim().is_empty() {
        return Err(ApiError::field("receiver", "must not be empty"));
    }
    let account = state.accounts.unseal(&record).map_err(|e| ApiError::Internal(e.to_string()))?;
    let built = state.accounts.build(&account).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let content = body.content.unwrap_or_else(|| default_test_content(record.channel));
    let message = OutgoingMessage {
        message_id: test_message_id(),
        template_id: 0,
        run_id: None,
        receiver: body.receiver.trim().to_string(),
        msg_type: 10,
        content,
    };
    tracing::info!(account_id = id, "test message through an account");
    Ok(send_once(&*built.channel, message).await)
}

/// Sends one message through `channel` now, outside the bus, and says what the provider answered.
pub(crate) async fn send_once(channel: &dyn herald_channels::Channel, message: OutgoingMessage) -> TestOutcome {
    let result = channel.send(&message).await;
    tracing::info!(message_id = %message.message_id, outcome = ?outcome_name(&result), "test message sent");
    let (outcome, detail) = match result {
        SendResult::Sent { detail } => ("sent", detail),
        SendResult::Retryable { reason, .. } => ("retryable", Some(reason)),
        SendResult::Permanent { reason } => ("permanent", Some(reason)),
    };
    TestOutcome { message_id: message.message_id, outcome, detail }
}

/// A test message's id: never one a run or the send API makes.
pub(crate) fn test_message_id() -> MessageId {
    MessageId(format!("test-{}", uuid::Uuid::new_v4().simple()))
}

fn outcome_name(result: &SendResult) -> &'static str {
    match result {
        SendResult::Sent { .. } => "sent",
        SendResult::Retryable { .. } => "retryable",
        SendResult::Permanent { .. } => "permanent",
    }
}

fn default_test_content(channel: ChannelKind) -> Value {
    let text = "This is a test message from herald.";
    match channel {
        ChannelKind::Email => json!({"subject": "herald test", "text": text}),
        ChannelKind::Sms => json!({"params": {}}),
        _ => json!({"title": "herald test", "body": text, "content": text, "text": text}),
    }
}

#[utoipa::path(post, path = "/api/accounts/{id}/refresh-token", tag = "accounts", params(("id" = i64, Path, description = "the account id")),
    responses((status = 200, description = "a fresh token was fetched", body = TokenRefreshed)))]
async fn refresh_token(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<TokenRefreshed>, ApiError> {
    Ok(Json(refresh_account_token(&state, id).await?))
}

pub(crate) async fn refresh_account_token(state: &AppState, id: i64) -> Result<TokenRefreshed, ApiError> {
    state.store.get_account(id).await.map_err(not_found(id))?;
    match state.accounts.refresh_token(id).await {
        Ok(Some(token)) => Ok(TokenRefreshed { refreshed: true, expires_at: token.expires_at }),
        Ok(None) => Err(ApiError::Conflict(format!("channel account {id} does not use access tokens"))),
        Err(RefreshError::Token(e)) => {
            Err(ApiError::Conflict(format!("the provider refused the token request: {}", e.reason)))
        }
        Err(RefreshError::Resolve(e)) => Err(ApiError::Conflict(e.to_string())),
    }
}
