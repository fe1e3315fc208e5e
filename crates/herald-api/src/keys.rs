//! `/api/keys`: API keys listed (never their hashes), created (the key answered once) and
//! revoked. An admin key is needed for all three; the last usable admin key is never revoked.

use crate::AppState;
use crate::auth::create_api_key;
use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::json::JsonBody;
use crate::paging::PageQuery;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use herald_core::listing::{QUOTED_CHARS, clip};
use herald_store::{ApiKeyScope, Revoked};
use serde::Deserialize;
use serde_json::{Value, json};

/// The longest key name, in characters.
pub const MAX_KEY_NAME_CHARS: usize = 100;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/keys", get(list).post(create)).route("/api/keys/{id}", delete(revoke))
}

async fn list(State(state): State<AppState>, Query(page): Query<PageQuery>) -> Result<Json<Value>, ApiError> {
    let page = page.check()?;
    let keys = state.store.list_api_keys(page.fetch(), 0).await?;
    Ok(Json(page.answer(keys)))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct NewKeyBody {
    name: String,
    scope: String,
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

async fn create(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<NewKeyBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (name, scope) = checked(&body.name, &body.scope)?;
    let (id, key) = create_api_key(state.store.as_ref(), name, scope, state.clock.now()).await?;
    tracing::info!(key_id = id, name = ?name, scope = scope.as_str(), "API key created");
    let answer = json!({ "id": id, "name": name, "scope": scope, "prefix": &key[..11], "key": key,
        "note": "the key is shown this once; only its hash is kept" });
    Ok((StatusCode::CREATED, Json(answer)))
}

async fn revoke(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<Value>, ApiError> {
    revoke_key(&state, id).await?;
    Ok(Json(json!({ "id": id, "revoked": true })))
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
