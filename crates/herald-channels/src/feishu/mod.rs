//! Feishu (Lark) custom bot: POSTs `{timestamp, sign, msg_type, content | card}` to the bot's
//! webhook URL. With signature verification (签名校验) on, `timestamp` is in seconds
//! and `sign` = base64(HmacSHA256(key = "{timestamp}\n{secret}", msg = "")) — the key and
//! message are the other way round from DingTalk's robot.
//!
//! Content: `msgtype` (text, post or interactive), `content` and `title` (see `feishu::content`).
//! A custom bot posts to its one group, so the receiver does not route the message; `@all`
//! mentions everyone and any other receiver is ignored.
//!
//! The webhook URL's last path segment is the bot's credential, so reasons never carry it.
//! Answers are classified in `reply`. An app bot, whose messages have ids to recall and ask
//! about, is `app`.

pub mod app;
mod content;
mod open_api;
pub(crate) mod receipts;
mod reply;
pub mod token;

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
pub struct FeishuBotConfig {
    /// The bot's webhook, e.g. `https://open.feishu.cn/open-apis/bot/v2/hook/{id}`. Required;
    /// held as a secret because the hook id is the credential.
    #[serde(default)]
    pub webhook_url: Option<SecretString>,
    /// The signing secret, when the bot has signature verification on.
    #[serde(default)]
    pub secret: Option<SecretString>,
}

pub struct FeishuBot {
    http: OutboundHttp,
    clock: Arc<dyn Clock>,
    webhook: Url,
    /// The credential part of the webhook URL, scrubbed from every reason.
    hook_id: String,
    secret: Option<SecretString>,
}

impl std::fmt::Debug for FeishuBot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeishuBot").field("signed", &self.secret.is_some()).finish_non_exhaustive()
    }
}

pub fn build(account: &ChannelAccount, ctx: &BuildContext) -> Result<Built, BuildError> {
    let config: FeishuBotConfig = parse_config(account)?;
    let invalid = |message: &str| BuildError::Config { field: "webhookUrl".into(), message: message.into() };
    let webhook = match &config.webhook_url {
        Some(url) if !url.expose_secret().trim().is_empty() => url.expose_secret().trim(),
        _ => return Err(invalid("is required")),
    };
    // The parse error could quote the URL, so it is not passed on.
    let webhook = Url::parse(webhook).map_err(|_| invalid("is not a URL"))?;
    if !matches!(webhook.scheme(), "http" | "https") {
        return Err(invalid("must be an http or https URL"));
    }
    let hook_id = webhook.path_segments().and_then(|mut s| s.rfind(|s| !s.is_empty())).unwrap_or("").to_string();
    if hook_id.is_empty() {
        return Err(invalid("has no hook id in its path"));
    }
    let secret = config.secret.filter(|s| !s.expose_secret().trim().is_empty());
    let bot = Arc::new(FeishuBot { http: ctx.http.clone(), clock: ctx.clock.clone(), webhook, hook_id, secret });

    // Any request that proves the hook posts to the group, so the healthcheck only checks that
    // the URL passes the outbound policy and resolves.
    let check = bot.clone();
    let healthcheck = Box::pin(async move {
        check.http.check_url(check.webhook.as_str()).await.map(|_| ()).map_err(|e| check.scrub(e.to_string()))
    });
    Ok(Built { channel: bot, healthcheck, token_source: None })
}

/// base64(HmacSHA256(key = "{timestamp_secs}\n{secret}", msg = empty)).
pub fn sign(secret: &str, timestamp_secs: i64) -> String {
    let key = format!("{timestamp_secs}\n{secret}");
    let mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes a key of any length");
    BASE64.encode(mac.finalize().into_bytes())
}

impl FeishuBot {
    fn body(&self, message: &OutgoingMessage) -> Result<Value, String> {
        let mut body = content::message(&message.content, message.receiver.trim() == "@all")?;
        if let Some(secret) = &self.secret {
            let timestamp = self.clock.now().timestamp();
            body["timestamp"] = json!(timestamp.to_string());
            body["sign"] = json!(sign(secret.expose_secret(), timestamp));
        }
        Ok(body)
    }

    fn scrub(&self, text: String) -> String {
        text.replace(&self.hook_id, "…")
    }
}

#[async_trait]
impl Channel for FeishuBot {
    fn kind(&self) -> ChannelKind {
        ChannelKind::FeishuBot
    }

    async fn send(&self, message: &OutgoingMessage) -> SendResult {
        let body = match self.body(message) {
            Ok(body) => body,
            Err(reason) => return SendResult::Permanent { reason },
        };
        let result = match self.http.post_json(self.webhook.as_str(), &body).await {
            Ok(response) => reply::classify(&response),
            Err(e) if e.is_retryable() => SendResult::Retryable { reason: format!("feishu: {e}"), after: None },
            Err(e) => SendResult::Permanent { reason: format!("feishu: {e}") },
        };
        match result {
            SendResult::Retryable { reason, after } => SendResult::Retryable { reason: self.scrub(reason), after },
            SendResult::Permanent { reason } => SendResult::Permanent { reason: self.scrub(reason) },
            sent => sent,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_matches_the_documented_algorithm() {
        // Computed independently with the Python sample from Feishu's custom bot guide.
        assert_eq!(sign("feishu-secret", 1_599_360_473), "GnmU6lMJMtXPkxW7kXxgtXI0SJxjk0TQFnFuz93Dt+0=");
    }
}
