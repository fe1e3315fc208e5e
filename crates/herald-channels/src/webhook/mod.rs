//! The webhook channel: POSTs each message as JSON to the URL in the template content's `url`
//! field, with a timeout and a few quick retries for passing faults. With a signing secret,
//! each request carries `X-Herald-Timestamp` (unix seconds) and `X-Herald-Signature:
//! sha256=HEX(HMAC-SHA256(secret, "{timestamp}.{body}"))`, so receivers can check origin and
//! freshness.

use crate::{Channel, OutgoingMessage, SendResult};
use async_trait::async_trait;
use herald_core::ChannelKind;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;
use sha2::Sha256;
use std::time::Duration;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookConfig {
    /// Signs every request when set.
    pub signing_secret: Option<SecretString>,
    /// Per request.
    pub timeout_ms: u64,
    /// Attempts within one delivery before the worker's own retry takes over.
    pub attempts: u32,
    /// Wait before the second attempt; doubled each time.
    pub backoff_ms: u64,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self { signing_secret: None, timeout_ms: 5_000, attempts: 3, backoff_ms: 200 }
    }
}

pub struct WebhookChannel {
    client: reqwest::Client,
    config: WebhookConfig,
}

impl WebhookChannel {
    pub fn new(config: WebhookConfig) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(config.timeout_ms))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self { client, config })
    }

    async fn attempt(&self, url: &str, message: &OutgoingMessage) -> SendResult {
        let body = json!({
            "messageId": message.message_id,
            "templateId": message.template_id,
            "runId": message.run_id,
            "receiver": message.receiver,
            "msgType": message.msg_type,
            "content": message.content,
        });
        let body = serde_json::to_vec(&body).unwrap_or_default();
        let mut request = self.client.post(url).header(reqwest::header::CONTENT_TYPE, "application/json");
        if let Some(secret) = &self.config.signing_secret {
            let timestamp = chrono::Utc::now().timestamp().to_string();
            request = request
                .header("X-Herald-Timestamp", &timestamp)
                .header("X-Herald-Signature", sign(secret.expose_secret(), &timestamp, &body));
        }
        let response = match request.body(body).send().await {
            Ok(r) => r,
            Err(e) if e.is_timeout() => return retry(format!("timed out after {} ms", self.config.timeout_ms)),
            Err(e) if e.is_builder() => return SendResult::Permanent { reason: format!("bad url {url:?}") },
            Err(e) => return retry(format!("request failed: {}", without_url(&e))),
        };
        classify(response.status())
    }
}

/// `sha256=` and the hex HMAC-SHA256 of `{timestamp}.{body}` under `secret`.
pub fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn retry(reason: String) -> SendResult {
    SendResult::Retryable { reason, after: None }
}

/// reqwest errors print the URL, which may carry a token in its query.
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(url.as_str(), "<url>");
    }
    text
}

fn classify(status: reqwest::StatusCode) -> SendResult {
    if status.is_success() {
        return SendResult::Sent { detail: Some(format!("HTTP {}", status.as_u16())) };
    }
    let reason = format!("HTTP {}", status.as_u16());
    if status.is_server_error()
        || status == reqwest::StatusCode::TOO_MANY_REQUESTS
        || status == reqwest::StatusCode::REQUEST_TIMEOUT
    {
        retry(reason)
    } else {
        SendResult::Permanent { reason }
    }
}

#[async_trait]
impl Channel for WebhookChannel {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Webhook
    }

    async fn send(&self, message: &OutgoingMessage) -> SendResult {
        let Some(url) = message.content.get("url").and_then(|u| u.as_str()) else {
            return SendResult::Permanent { reason: "content has no url".into() };
        };
        let mut backoff = Duration::from_millis(self.config.backoff_ms);
        let mut result = self.attempt(url, message).await;
        for _ in 1..self.config.attempts.max(1) {
            if !matches!(result, SendResult::Retryable { .. }) {
                break;
            }
            tokio::time::sleep(backoff).await;
            backoff *= 2;
            result = self.attempt(url, message).await;
        }
        result
    }
}
