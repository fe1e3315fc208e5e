//! The DingTalk app access token: `GET {baseUrl}/gettoken?appkey=..&appsecret=..` answers
//! `{errcode, errmsg, access_token, expires_in}` (7200 s). One source per app key, cached by
//! `crate::tokens` under `dingtalk:{appKey}`, refreshed by housekeeping and once on a rejected
//! token.

use super::reply;
use crate::http::OutboundHttp;
use crate::tokens::{AccessToken, TokenError, TokenSource, cache_key};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use url::Url;

/// DingTalk's documented lifetime, used when an answer leaves `expires_in` out.
const DEFAULT_EXPIRES_IN_SECS: i64 = 7200;

pub struct DingTalkAppToken {
    http: OutboundHttp,
    gettoken_url: Url,
    app_key: String,
    app_secret: SecretString,
}

impl DingTalkAppToken {
    /// `base_url` without a trailing slash, e.g. `https://oapi.dingtalk.com`.
    pub fn new(http: OutboundHttp, base_url: &str, app_key: String, app_secret: SecretString) -> Result<Self, String> {
        let gettoken_url = Url::parse(&format!("{base_url}/gettoken")).map_err(|e| e.to_string())?;
        Ok(Self { http, gettoken_url, app_key, app_secret })
    }
}

impl std::fmt::Debug for DingTalkAppToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DingTalkAppToken").field("app_key", &self.app_key).finish_non_exhaustive()
    }
}

#[async_trait]
impl TokenSource for DingTalkAppToken {
    fn cache_key(&self) -> String {
        cache_key("dingtalk", &[self.gettoken_url.as_str(), &self.app_key, self.app_secret.expose_secret()])
    }

    async fn fetch(&self, now: DateTime<Utc>) -> Result<AccessToken, TokenError> {
        let mut url = self.gettoken_url.clone();
        url.query_pairs_mut()
            .append_pair("appkey", &self.app_key)
            .append_pair("appsecret", self.app_secret.expose_secret());
        let result = self.http.send(Method::GET, url.as_str(), |request| request).await;
        let body = reply::check(result, "dingtalk gettoken").map_err(reply::Fault::into_token_error)?;
        let token = match body.get("access_token").and_then(Value::as_str) {
            Some(token) if !token.is_empty() => token.to_string(),
            _ => {
                return Err(TokenError {
                    reason: "dingtalk gettoken: answer has no access_token".into(),
                    retryable: false,
                });
            }
        };
        let expires_in = body.get("expires_in").and_then(Value::as_i64).unwrap_or(DEFAULT_EXPIRES_IN_SECS);
        Ok(AccessToken { token, expires_at: now + Duration::seconds(expires_in) })
    }
}
