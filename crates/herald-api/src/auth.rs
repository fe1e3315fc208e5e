//! API keys: generated at first start (or by `POST /api/keys`, or the CLI) and shown once,
//! stored only as a sha256 hash, and checked on every request but `/healthz` and `/readyz`. A
//! revoked key is refused at once; a `send` key may call only the send API; each key's last use
//! is noted at most once a minute.

use crate::{AppState, error::ApiError};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use chrono::{DateTime, Utc};
use herald_store::{ApiKeyRepo, ApiKeyScope, NewApiKey, StoreError};
use rand::RngCore;
use sha2::{Digest, Sha256};

pub fn hash_api_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// A fresh random key: `hk_` and 64 hex digits.
pub fn new_api_key() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("hk_{}", hex::encode(bytes))
}

/// The routes a `send` key may call.
pub const SEND_ROUTES: [&str; 3] = ["/send", "/batchSend", "/recall"];

/// How often a key's last use is written.
const LAST_USE_EVERY: chrono::Duration = chrono::Duration::minutes(1);

/// Makes and stores a new key; returns its id and the key (to be shown once).
pub async fn create_api_key(
    store: &dyn ApiKeyRepo,
    name: &str,
    scope: ApiKeyScope,
    now: DateTime<Utc>,
) -> Result<(i64, String), StoreError> {
    let key = new_api_key();
    let hash = hash_api_key(&key);
    let id = store.insert_api_key(&NewApiKey { key_hash: &hash, prefix: &key[..11], name, scope }, now).await?;
    Ok((id, key))
}

/// Creates the first key when none exists and returns it (to be shown once); None when keys
/// exist already.
pub async fn ensure_api_key(store: &dyn ApiKeyRepo, now: DateTime<Utc>) -> Result<Option<String>, StoreError> {
    if store.count_api_keys().await? > 0 {
        return Ok(None);
    }
    Ok(Some(create_api_key(store, "first start", ApiKeyScope::Admin, now).await?.1))
}

fn presented_key(req: &Request) -> Option<&str> {
    let headers = req.headers();
    if let Some(v) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        return Some(v.trim());
    }
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

pub async fn require_api_key(State(state): State<AppState>, req: Request, next: Next) -> Result<Response, ApiError> {
    let Some(key) = presented_key(&req) else {
        return Err(ApiError::Unauthorized);
    };
    let Some(found) = state.store.find_api_key(&hash_api_key(key)).await? else {
        return Err(ApiError::Unauthorized);
    };
    if found.revoked_at.is_some() {
        return Err(ApiError::Unauthorized);
    }
    if found.scope == ApiKeyScope::Send && !SEND_ROUTES.contains(&req.uri().path()) {
        return Err(ApiError::Forbidden(format!(
            "this key's scope is \"send\": it may call only {}; use an admin key",
            SEND_ROUTES.join(" and ")
        )));
    }
    let now = state.clock.now();
    if found.last_used_at.is_none_or(|at| now - at >= LAST_USE_EVERY) {
        // A note for operators; a failed write does not refuse the request.
        if let Err(e) = state.store.touch_api_key(found.id, now, now - LAST_USE_EVERY).await {
            tracing::warn!(key_id = found.id, error = %e, "noting an API key's use failed");
        }
    }
    Ok(next.run(req).await)
}
