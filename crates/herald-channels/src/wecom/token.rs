//! The WeCom corp access token: `GET {baseUrl}/cgi-bin/gettoken?corpid=..&corpsecret=..`
//! answers `{errcode, errmsg, access_token, expires_in}` (7200 s). One source per app, since
//! each app has its own secret.

use super::reply;
use crate::http::OutboundHttp;
use crate::tokens::{AccessToken, TokenError, TokenSource, cache_key};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

pub struct WeComTokenSource {
    pub http: OutboundHttp,
    pub base_url: String,
    pub corp_id: String,
    pub corp_secret: SecretString,
    pub agent_id: i64,
}

#[derive(Deserialize)]
struct TokenReply {
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
    #[serde(default)]
    access_token: String,
    #[serde(default)]
    expires_in: i64,
}

#[async_trait]
impl TokenSource for WeComTokenSource {
    fn cache_key(&self) -> String {
        let agent = self.agent_id.to_string();
        cache_key("wecom", &[&self.base_url, &self.corp_id, &agent, self.corp_secret.expose_secret()])
    }

    async fn fetch(&self, now: DateTime<Utc>) -> Result<AccessToken, TokenError> {
        let mut url = url::Url::parse(&format!("{}/cgi-bin/gettoken", self.base_url))
            .map_err(|e| TokenError { reason: format!("wecom gettoken URL: {e}"), retryable: false })?;
        url.query_pairs_mut()
            .append_pair("corpid", &self.corp_id)
            .append_pair("corpsecret", self.corp_secret.expose_secret());
        let response = self
            .http
            .send(Method::GET, url.as_str(), |r| r)
            .await
            .map_err(|e| TokenError { reason: format!("wecom gettoken failed: {e}"), retryable: e.is_retryable() })?;
        let status = response.status;
        if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            return Err(TokenError {
                reason: format!("wecom gettoken answered HTTP {}", status.as_u16()),
                retryable: true,
            });
        }
        let answer: TokenReply = serde_json::from_slice(&response.body).map_err(|e| TokenError {
            reason: format!("wecom gettoken answered HTTP {} without a JSON reply: {e}", status.as_u16()),
            retryable: false,
        })?;
        if answer.errcode != 0 {
            let reason = format!("wecom gettoken errcode {}: {}", answer.errcode, answer.errmsg);
            return Err(TokenError {
                reason: reply::scrub(&reason, self.corp_secret.expose_secret()),
                retryable: reply::is_passing(answer.errcode),
            });
        }
        if answer.access_token.is_empty() || answer.expires_in <= 0 {
            return Err(TokenError { reason: "wecom gettoken answered without a token".into(), retryable: false });
        }
        Ok(AccessToken { token: answer.access_token, expires_at: now + Duration::seconds(answer.expires_in) })
    }
}
