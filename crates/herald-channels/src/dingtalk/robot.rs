//! DingTalk custom group robot: POSTs to `{baseUrl}/robot/send?access_token=..`, signed with
//! `timestamp` (ms) and `sign` = urlencode(base64(HmacSHA256(key = secret,
//! msg = "{timestamp}\n{secret}"))) when the robot's security setting is signing (加签).
//!
//! Content: `msgtype` ("text" by default, "markdown", "link" or "actionCard"), `content`, and
//! the fields each type adds (see `dingtalk::content`). A group robot posts to its one group, so the receiver does not
//! route the message: it is @-mentioned by mobile number (`at.atMobiles`), as austin does;
//! `@all` mentions everyone and an empty receiver mentions no one. DingTalk only highlights a
//! markdown mention when the text itself contains `@{mobile}`.
//!
//! Answers: errcode 0 is sent; 130101 (more than 20 messages a minute) and the other passing
//! codes are retryable; 310000 (sign, timestamp, keyword or IP check failed), 300001 (unknown
//! access_token) and the rest are permanent (see `dingtalk::reply`).

use super::{DEFAULT_BASE_URL, content, reply};
use crate::account::{BuildContext, BuildError, Built, ChannelAccount, parse_config};
use crate::http::OutboundHttp;
use crate::{Channel, OutgoingMessage, SendResult};
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use herald_core::{ChannelKind, Clock};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::Sha256;
use std::sync::Arc;
use url::Url;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DingTalkRobotConfig {
    /// The `access_token` of the robot's webhook URL. Required.
    #[serde(default)]
    pub access_token: Option<SecretString>,
    /// The signing secret ("SEC..."); absent when the robot checks keywords or IPs instead.
    #[serde(default)]
    pub secret: Option<SecretString>,
    #[serde(default = "default_base_url")]
    pub base_url: String,
}

fn default_base_url() -> String {
    DEFAULT_BASE_URL.to_string()
}

pub struct DingTalkRobot {
    http: OutboundHttp,
    clock: Arc<dyn Clock>,
    access_token: SecretString,
    secret: Option<SecretString>,
    send_url: Url,
}

pub fn build(account: &ChannelAccount, ctx: &BuildContext) -> Result<Built, BuildError> {
    let config: DingTalkRobotConfig = parse_config(account)?;
    let access_token = super::required_secret(config.access_token, "accessToken")?;
    let secret = config.secret.filter(|s| !s.expose_secret().trim().is_empty());
    let base = crate::account::base_url(&config.base_url, "baseUrl")?;
    let send_url = Url::parse(&format!("{base}/robot/send"))
        .map_err(|e| BuildError::Config { field: "baseUrl".into(), message: e.to_string() })?;
    let channel = DingTalkRobot { http: ctx.http.clone(), clock: ctx.clock.clone(), access_token, secret, send_url };

    // The robot has no read-only endpoint; anything that proves the token posts to the group.
    // So the healthcheck only checks that the URL passes the outbound policy and resolves.
    let http = ctx.http.clone();
    let check_url = channel.send_url.to_string();
    let healthcheck = Box::pin(async move { http.check_url(&check_url).await.map(|_| ()).map_err(|e| e.to_string()) });
    Ok(Built { channel: Arc::new(channel), healthcheck, token_source: None })
}

/// base64(HmacSHA256(key = secret, msg = "{timestamp_ms}\n{secret}")), before URL encoding.
pub fn sign(secret: &str, timestamp_ms: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(format!("{timestamp_ms}\n{secret}").as_bytes());
    BASE64.encode(mac.finalize().into_bytes())
}

impl DingTalkRobot {
    /// The send URL with the token and, for a signing robot, a fresh timestamp and signature.
    fn url(&self) -> Url {
        let mut url = self.send_url.clone();
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("access_token", self.access_token.expose_secret());
            if let Some(secret) = &self.secret {
                let timestamp = self.clock.now().timestamp_millis();
                query.append_pair("timestamp", &timestamp.to_string());
                query.append_pair("sign", &sign(secret.expose_secret(), timestamp));
            }
        }
        url
    }
}

/// Who the message @-mentions in the group.
fn at(receiver: &str) -> Option<Value> {
    match receiver.trim() {
        "" => None,
        "@all" => Some(json!({ "isAtAll": true })),
        mobile => Some(json!({ "atMobiles": [mobile], "isAtAll": false })),
    }
}

#[async_trait]
impl Channel for DingTalkRobot {
    fn kind(&self) -> ChannelKind {
        ChannelKind::DingTalkRobot
    }

    async fn send(&self, message: &OutgoingMessage) -> SendResult {
        let mut body = match content::message(&message.content, content::Sender::Robot) {
            Ok(body) => body,
            Err(reason) => return SendResult::Permanent { reason },
        };
        if let Some(at) = at(&message.receiver) {
            body["at"] = at;
        }
        let result = self.http.post_json(self.url().as_str(), &body).await;
        match reply::check(result, "dingtalk") {
            Ok(_) => SendResult::Sent { detail: None },
            Err(fault) => fault.into_send_result(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_core::TestClock;

    #[test]
    fn sign_matches_the_documented_algorithm() {
        // Computed independently with the Python sample from DingTalk's robot documentation.
        assert_eq!(sign("SECtest", 1_599_360_473_000), "9uMBwWNha8Pcr4QQCL9YQitwL0E0g2JIxycWz23gAkE=");
    }

    #[test]
    fn url_carries_token_timestamp_and_encoded_sign() {
        let at = chrono::DateTime::from_timestamp_millis(1_599_360_473_000).unwrap();
        let robot = DingTalkRobot {
            http: OutboundHttp::new(Default::default()).unwrap(),
            clock: Arc::new(TestClock::new(at)),
            access_token: SecretString::from("tok"),
            secret: Some(SecretString::from("SECtest")),
            send_url: Url::parse("https://oapi.dingtalk.com/robot/send").unwrap(),
        };
        assert_eq!(
            robot.url().as_str(),
            "https://oapi.dingtalk.com/robot/send?access_token=tok&timestamp=1599360473000\
             &sign=9uMBwWNha8Pcr4QQCL9YQitwL0E0g2JIxycWz23gAkE%3D"
        );
    }

    #[test]
    fn receiver_becomes_a_mention() {
        assert_eq!(at(""), None);
        assert_eq!(at("@all"), Some(json!({"isAtAll": true})));
        assert_eq!(at("13800000000"), Some(json!({"atMobiles": ["13800000000"], "isAtAll": false})));
    }
}
