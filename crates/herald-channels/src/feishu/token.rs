//! The Feishu app's tenant access token: `POST {baseUrl}/open-apis/auth/v3/tenant_access_token/internal`
//! with `{app_id, app_secret}` answers `{code, msg, tenant_access_token, expire}` (seconds, at
//! most 7200). One source per app.

use super::open_api;
use crate::http::OutboundHttp;
use crate::tokens::{AccessToken, TokenError, TokenSource, cache_key};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

pub struct FeishuTenantToken {
    pub(crate) http: OutboundHttp,
    /// `{baseUrl}/open-apis/auth/v3/tenant_access_token/internal`.
    pub(crate) url: String,
    pub(crate) app_id: String,
    pub(crate) app_secret: SecretString,
}

impl std::fmt::Debug for FeishuTenantToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeishuTenantToken").field("app_id", &self.app_id).finish_non_exhaustive()
    }
}

#[async_trait]
impl TokenSource for FeishuTenantToken {
    fn cache_key(&self) -> String {
        cache_key("feishu", &[&self.url, &self.app_id, self.app_secret.expose_secret()])
    }

    async fn fetch(&self, now: DateTime<Utc>) -> Result<AccessToken, TokenError> {
        let body = json!({"app_id": self.app_id, "app_secret": self.app_secret.expose_secret()});
        let answer = open_api::check(self.http.post_json(&self.url, &body).await, "feishu tenant_access_token")
            .map_err(open_api::Fault::into_token_error)?;
        let token = answer.get("tenant_access_token").and_then(Value::as_str).unwrap_or_default();
        let expire = answer.get("expire").and_then(Value::as_i64).unwrap_or_default();
        if token.is_empty() || expire <= 0 {
            let reason = "feishu tenant_access_token: answer has no token".to_string();
            return Err(TokenError { reason, retryable: false });
        }
        Ok(AccessToken { token: token.to_string(), expires_at: now + Duration::seconds(expire) })
    }
}
