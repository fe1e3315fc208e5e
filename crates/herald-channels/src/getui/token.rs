//! The Getui auth token: `POST {baseUrl}/v2/{appId}/auth` with
//! `{sign: sha256_hex(appKey + timestamp + masterSecret), timestamp, appkey}`, the timestamp in
//! milliseconds, answers `{code: 0, data: {token, expire_time}}` with `expire_time` in epoch
//! milliseconds (about a day ahead).

use super::reply;
use crate::http::OutboundHttp;
use crate::tokens::{AccessToken, TokenError, TokenSource, cache_key};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub struct GetuiTokenSource {
    pub http: OutboundHttp,
    /// `{baseUrl}/v2/{appId}`.
    pub api_url: String,
    pub app_id: String,
    pub app_key: String,
    pub master_secret: SecretString,
}

/// The auth signature: hex SHA-256 of appKey, timestamp and masterSecret, in that order.
pub fn sign(app_key: &str, timestamp: &str, master_secret: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(app_key.as_bytes());
    hasher.update(timestamp.as_bytes());
    hasher.update(master_secret.as_bytes());
    hex::encode(hasher.finalize())
}

#[async_trait]
impl TokenSource for GetuiTokenSource {
    fn cache_key(&self) -> String {
        cache_key("getui", &[&self.api_url, &self.app_id, &self.app_key, self.master_secret.expose_secret()])
    }

    async fn fetch(&self, now: DateTime<Utc>) -> Result<AccessToken, TokenError> {
        let timestamp = now.timestamp_millis().to_string();
        let body = json!({
            "sign": sign(&self.app_key, &timestamp, self.master_secret.expose_secret()),
            "timestamp": timestamp,
            "appkey": self.app_key,
        });
        let response = self.http.post_json(&format!("{}/auth", self.api_url), &body).await;
        let answer = reply::parse(response).map_err(|(reason, retryable)| TokenError { reason, retryable })?;
        if answer.code != 0 {
            return Err(TokenError {
                reason: format!("getui auth code {}: {}", answer.code, answer.msg),
                retryable: reply::is_passing(answer.code),
            });
        }
        let token = answer.data.get("token").and_then(Value::as_str).unwrap_or_default();
        let expires_at = answer.data.get("expire_time").and_then(millis).and_then(DateTime::from_timestamp_millis);
        match expires_at {
            Some(expires_at) if !token.is_empty() => Ok(AccessToken { token: token.to_string(), expires_at }),
            _ => Err(TokenError {
                reason: "getui auth answered without a token and expire_time".into(),
                retryable: false,
            }),
        }
    }
}

/// Getui writes `expire_time` as a string of milliseconds; accept a number too.
fn millis(value: &Value) -> Option<i64> {
    match value {
        Value::String(s) => s.trim().parse().ok(),
        other => other.as_i64(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_is_sha256_of_key_timestamp_secret() {
        // echo -n 'k1700000000000s' | sha256sum
        assert_eq!(sign("k", "1700000000000", "s"), "ea69308234fc809599f8b5934fae803c77be085338d5c57d31e2fd18afe3752e");
        assert_eq!(millis(&json!("1700000000000")), Some(1_700_000_000_000));
        assert_eq!(millis(&json!(5)), Some(5));
    }
}
