//! The webhook channel: POSTs each message as JSON to the URL in the template content's `url`
//! field, with a timeout, a few quick retries for passing faults, and a capped response read.

use crate::{Channel, OutgoingMessage, SendResult};
use async_trait::async_trait;
use herald_core::ChannelKind;
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookConfig {
    /// Per request.
    pub timeout_ms: u64,
    /// Attempts within one delivery before the worker's own retry takes over.
    pub attempts: u32,
    /// Wait before the second attempt; doubled each time.
    pub backoff_ms: u64,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self { timeout_ms: 5_000, attempts: 3, backoff_ms: 200 }
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
        let response = match self.client.post(url).json(&body).send().await {
            Ok(r) => r,
            Err(e) if e.is_timeout() => return retry(format!("timed out after {} ms", self.config.timeout_ms)),
            Err(e) if e.is_builder() => return SendResult::Permanent { reason: format!("bad url {url:?}") },
            Err(e) => return retry(format!("request failed: {}", without_url(&e))),
        };
        classify(response.status())
    }
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
