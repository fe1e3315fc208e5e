//! `/api/keys`: API keys listed (never their hashes), created (the key answered once) and
//! revoked. An admin key is needed for all three; the last usable admin key is never revoked.

use crate::AppState;
use crate::auth::create_api_key;
use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::json::JsonBody;
use crate::paging::{PageOf, PageQuery};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use herald_core::listing::{QUOTED_CHARS, clip};
use herald_store::{ApiKeyRecord, ApiKeyScope, Revoked};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The longest key name, in characters.
pub const MAX_KEY_NAME_CHARS: usize = 100;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/keys", get(list).post(create)).route("/api/keys/{id}", delete(revoke))
}

#[utoipa::path(get, path = "/api/keys", tag = "keys", params(PageQuery),
    responses((status = 200, description = "a page of API keys, newest first (never a key itself)", body = PageOf<ApiKeyRecord>)))]
async fn list(State(state): State<AppState>, Query(page): Query<PageQuery>) -> Result<Json<Value>, ApiError> {
    let page = page.check()?;
    let keys = state.store.list_api_keys(page.fetch(), 0).await?;
    Ok(Json(page.answer(keys)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct NewKeyBody {
    /// 1 to 100 characters, no control characters.
    name: String,
    /// `admin` (every route) or `send` (only /send and /batchSend).
    scope: String,
}

/// A new key, shown this once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct NewKey {
    id: i64,
    name: String,
    scope: ApiKeyScope,
    prefix: String,
    key: String,
    note: &'static str,
}

/// A revoked key.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct KeyRevoked {
    id: i64,
    revoked: bool,
}

/// A new key's name and scope, checked; the API and the console ask the same.
pub(crate) fn checked<'a>(name: &'a str, scope: &str) -> Result<(&'a str, ApiKeyScope), ApiError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ApiError::field("name", "is required"));
    }
    if name.chars().count() > MAX_KEY_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(ApiError::field("name", format!("at most {MAX_KEY_NAME_CHARS} characters, no control characters")));
    }
    let scope = ApiKeyScope::parse(scope).ok_or_else(|| {
        ApiError::field("scope", format!("{:?} is not a scope; give \"admin\" or \"send\"", clip(scope, QUOTED_CHARS)))
    })?;
    Ok((name, scope))
}

#[utoipa::path(post, path = "/api/keys", tag = "keys", request_body = NewKeyBody,
    responses((status = 201, description = "the new key, shown this once", body = NewKey)))]
async fn create(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<NewKeyBody>,
) -> Result<(StatusCode, Json<NewKey>), ApiError> {
    let (name, scope) = checked(&body.name, &body.scope)?;
    let (id, key) = create_api_key(state.store.as_ref(), name, scope, state.clock.now()).await?;
    tracing::info!(key_id = id, name = ?name, scope = scope.as_str(), "API key created");
    let answer = NewKey {
        id,
        name: name.to_string(),
        scope,
        prefix: key[..11].to_string(),
        key,
        note: "the key is shown this once; only its hash is kept",
    };
    Ok((StatusCode::CREATED, Json(answer)))
}

#[utoipa::path(delete, path = "/api/keys/{id}", tag = "keys", params(("id" = i64, Path, description = "the key id")),
    responses((status = 200, description = "revoked (again is harmless)", body = KeyRevoked)))]
async fn revoke(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<KeyRevoked>, ApiError> {
    revoke_key(&state, id).await?;
    Ok(Json(KeyRevoked { id, revoked: true }))
}

/// Revokes key `id` (again is harmless); the API and the console say the same refusals.
pub(crate) async fn revoke_key(state: &AppState, id: i64) -> Result<(), ApiError> {
    match state.store.revoke_api_key(id, state.clock.now()).await? {
        Revoked::Revoked | Revoked::Already => {
            tracing::info!(key_id = id, "API key revoked");
            Ok(())
        }
        Revoked::NotFound => Err(ApiError::NotFound(format!("no API key with id {id}"))),
        Revoked::LastAdmin => Err(ApiError::Conflict(format!(
            "API key {id} is the last usable admin key; create another admin key before revoking it"
        ))),
    }
}
