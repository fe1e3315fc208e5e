//! WeCom group robot: `POST {baseUrl}/cgi-bin/webhook/send?key=..` with a text or markdown
//! message; the robot posts it in its group.
//!
//! Content fields read: `msgtype` (`text`, the default, or `markdown`), `body` (or austin's
//! `content`; required) and `title` (optional, put on the first line). The receiver is the
//! person to @-mention in a text message: digits are a mobile number
//! (`mentioned_mobile_list`), `@all` mentions everyone, anything else is a userid
//! (`mentioned_list`); an empty receiver mentions no one. Markdown messages cannot mention
//! through these lists, so they ignore the receiver.
//!
//! Healthcheck: a POST with no `msgtype`, which WeCom refuses without posting anything; an
//! unknown key is reported as errcode 93000 (invalid webhook url) and fails the check.

use super::reply::{self, Verdict};
use super::{check_base_url, config_error, default_base_url, message_text};
use crate::account::{BuildContext, BuildError, Built, ChannelAccount};
use crate::http::OutboundHttp;
use crate::{Channel, OutgoingMessage, SendResult};
use async_trait::async_trait;
use herald_core::ChannelKind;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

/// errcode for an unknown or removed robot key.
pub const INVALID_WEBHOOK_URL: i64 = 93000;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WeComRobotConfig {
    /// The `key` of the robot's webhook URL.
    pub key: SecretString,
    #[serde(default = "default_base_url")]
    pub base_url: String,
}

pub struct WeComRobot {
    http: OutboundHttp,
    base_url: String,
    key: SecretString,
}

pub fn build(account: &ChannelAccount, ctx: &BuildContext) -> Result<Built, BuildError> {
    let config: WeComRobotConfig = super::parse(account)?;
    let key = config.key.expose_secret();
    if key.trim().is_empty() {
        return Err(config_error("key", "must not be empty"));
    }
    if key.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(config_error("key", "must be the key alone, without spaces"));
    }
    let robot =
        Arc::new(WeComRobot { http: ctx.http.clone(), base_url: check_base_url(&config.base_url)?, key: config.key });
    let probe = robot.clone();
    Ok(Built { channel: robot, healthcheck: Box::pin(async move { probe.healthcheck().await }), token_source: None })
}

impl WeComRobot {
    fn send_url(&self) -> String {
        let mut url = url::Url::parse(&format!("{}/cgi-bin/webhook/send", self.base_url))
            .expect("base URL was checked when the channel was built");
        url.query_pairs_mut().append_pair("key", self.key.expose_secret());
        url.into()
    }

    async fn healthcheck(&self) -> Result<(), String> {
        let response = self.http.post_json(&self.send_url(), &json!({})).await;
        let response = response.map_err(|e| format!("wecom request failed: {e}"))?;
        if !response.status.is_success() {
            return Err(format!("wecom answered HTTP {}", response.status.as_u16()));
        }
        let answer: reply::Reply =
            serde_json::from_slice(&response.body).map_err(|e| format!("wecom answered without a JSON reply: {e}"))?;
        if answer.errcode == INVALID_WEBHOOK_URL {
            let reason = format!("wecom errcode {}: {}", answer.errcode, answer.errmsg);
            return Err(reply::scrub(&reason, self.key.expose_secret()));
        }
        // Any other answer is WeCom judging the (empty) body, so the key was accepted.
        Ok(())
    }
}

/// The robot request for one message.
pub fn request_body(message: &OutgoingMessage) -> Result<Value, String> {
    let text = message_text(&message.content)?;
    if text.msgtype == "markdown" {
        return Ok(json!({"msgtype": "markdown", "markdown": {"content": text.content}}));
    }
    let mut body = json!({"msgtype": "text", "text": {"content": text.content}});
    let receiver = message.receiver.trim();
    let list = if receiver.is_empty() {
        None
    } else if receiver.chars().all(|c| c.is_ascii_digit() || c == '+') {
        Some("mentioned_mobile_list")
    } else {
        Some("mentioned_list")
    };
    if let Some(list) = list {
        body["text"][list] = json!([receiver]);
    }
    Ok(body)
}

#[async_trait]
impl Channel for WeComRobot {
    fn kind(&self) -> ChannelKind {
        ChannelKind::WeComRobot
    }

    async fn send(&self, message: &OutgoingMessage) -> SendResult {
        let body = match request_body(message) {
            Ok(body) => body,
            Err(reason) => return SendResult::Permanent { reason },
        };
        let response = self.http.post_json(&self.send_url(), &body).await;
        match reply::read(response, self.key.expose_secret()) {
            Verdict::Ok(_) => SendResult::Sent { detail: None },
            // A robot has no access token; a token complaint cannot be cured by retrying.
            Verdict::TokenRejected(reason) => SendResult::Permanent { reason },
            Verdict::Failed(result) => result,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_core::MessageId;

    fn message(receiver: &str, content: Value) -> OutgoingMessage {
        OutgoingMessage {
            message_id: MessageId("r1-1".into()),
            template_id: 1,
            run_id: Some(1),
            receiver: receiver.into(),
            msg_type: 10,
            content,
        }
    }

    #[test]
    fn receivers_become_mentions() {
        let body = request_body(&message("13800138000", json!({"body": "hi"}))).unwrap();
        assert_eq!(
            body,
            json!({"msgtype": "text", "text": {"content": "hi", "mentioned_mobile_list": ["13800138000"]}})
        );
        let body = request_body(&message("zhangsan", json!({"body": "hi"}))).unwrap();
        assert_eq!(body["text"]["mentioned_list"], json!(["zhangsan"]));
        let body = request_body(&message("", json!({"body": "hi"}))).unwrap();
        assert_eq!(body, json!({"msgtype": "text", "text": {"content": "hi"}}));
        let body = request_body(&message("zhangsan", json!({"msgtype": "markdown", "body": "**hi**"}))).unwrap();
        assert_eq!(body, json!({"msgtype": "markdown", "markdown": {"content": "**hi**"}}));
    }
}
