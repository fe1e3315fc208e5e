//! API keys: generated at first start and shown once, stored only as a sha256 hash, and
//! checked on every request but `/healthz` and `/readyz`.

use crate::{AppState, error::ApiError};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use chrono::{DateTime, Utc};
use herald_store::{ApiKeyRepo, StoreError};
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

/// Creates the first key when none exists and returns it (to be shown once); None when keys
/// exist already.
pub async fn ensure_api_key(store: &dyn ApiKeyRepo, now: DateTime<Utc>) -> Result<Option<String>, StoreError> {
    if store.count_api_keys().await? > 0 {
        return Ok(None);
    }
    let key = new_api_key();
    store.insert_api_key(&hash_api_key(&key), "first start", now).await?;
    Ok(Some(key))
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
    if !state.store.api_key_exists(&hash_api_key(key)).await? {
        return Err(ApiError::Unauthorized);
    }
    Ok(next.run(req).await)
}
