//! The webhook channel: POSTs each message as JSON to the URL in the template content's `url`
//! field, with a timeout and a few quick retries for passing faults. Every request carries
//! `Idempotency-Key: {message id}`: a receiver that keeps the keys it has seen drops a repeat
//! (herald repeats a send only when it cannot know whether the first arrived). With a signing
//! secret, each request also carries `X-Herald-Timestamp` (unix seconds) and `X-Herald-Signature:
//! sha256=HEX(HMAC-SHA256(secret, "{timestamp}.{idempotency key}.{body}"))`, so receivers can
//! check origin, freshness and the key.

use crate::http::{HttpError, OutboundHttp};
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
    http: OutboundHttp,
    config: WebhookConfig,
}

impl WebhookChannel {
    /// Every request goes through `http`: its URL policy refuses private targets unless
    /// allowed, and its response cap applies.
    pub fn new(config: WebhookConfig, http: OutboundHttp) -> Self {
        Self { http, config }
    }

    /// One request, and whether trying again within this delivery is safe: only when the
    /// request surely did not arrive (no connection) or the receiver answered that it did not
    /// take it (5xx, 429, 408).
    async fn attempt(&self, url: &str, message: &OutgoingMessage) -> (SendResult, bool) {
        let body = json!({
            "messageId": message.message_id,
            "templateId": message.template_id,
            "runId": message.run_id,
            "receiver": message.receiver,
            "msgType": message.msg_type,
            "content": message.content,
        });
        let body = serde_json::to_vec(&body).unwrap_or_default();
        let signature = self.config.signing_secret.as_ref().map(|secret| {
            let timestamp = chrono::Utc::now().timestamp().to_string();
            let signature = sign(secret.expose_secret(), &timestamp, message.message_id.as_str(), &body);
            (timestamp, signature)
        });
        let timeout = Duration::from_millis(self.config.timeout_ms);
        let sent = self
            .http
            .send(reqwest::Method::POST, url, |mut request| {
                request = request
                    .timeout(timeout)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .header("Idempotency-Key", message.message_id.as_str());
                if let Some((timestamp, signature)) = signature {
                    request = request.header("X-Herald-Timestamp", timestamp).header("X-Herald-Signature", signature);
                }
                request.body(body)
            })
            .await;
        match sent {
            Ok(response) => {
                let result = classify(response.status);
                let again = matches!(result, SendResult::Retryable { .. });
                (result, again)
            }
            Err(HttpError::Timeout) => (retry(format!("timed out after {} ms", self.config.timeout_ms)), false),
            Err(e @ HttpError::Refused { .. }) => (SendResult::Permanent { reason: e.to_string() }, false),
            Err(e) if e.is_retryable() => (retry(format!("request failed: {e}")), !e.may_have_arrived()),
            // A response over the cap was received: the receiver answered.
            Err(HttpError::TooLarge { .. }) => {
                (SendResult::Sent { detail: Some("response over the size cap".into()) }, false)
            }
            Err(e) => (SendResult::Permanent { reason: e.to_string() }, false),
        }
    }
}

/// `sha256=` and the hex HMAC-SHA256 of `{timestamp}.{idempotency_key}.{body}` under `secret`.
pub fn sign(secret: &str, timestamp: &str, idempotency_key: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(idempotency_key.as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// How long after the first try a try within the delivery may start: the shortest time a
/// worker's claim still has when it sends (a third of `worker.claim_secs`, at least 3 s).
const RETRY_WITHIN: Duration = Duration::from_secs(1);

fn retry(reason: String) -> SendResult {
    SendResult::Retryable { reason, after: None }
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
        let started = std::time::Instant::now();
        let mut backoff = Duration::from_millis(self.config.backoff_ms);
        let (mut result, mut again) = self.attempt(url, message).await;
        // A request that may have arrived (timed out, or cut off before its answer) goes back to
        // the worker, which sends it again only while its claim stands and the ledger does not
        // hold it as sent (a worker resumed after a long pause finds its timers expired and
        // must not resend).
        // Tries within the delivery stay inside the worker's claim: the worker sends only while
        // its claim has at least a third of its time left (one second at the shortest), so a
        // try that would start later (a slow answer, a pause) is the worker's to make.
        for _ in 1..self.config.attempts.max(1) {
            if !again || started.elapsed() + backoff >= RETRY_WITHIN {
                break;
            }
            tokio::time::sleep(backoff).await;
            backoff *= 2;
            (result, again) = self.attempt(url, message).await;
        }
        result
    }
}
