//! The status-event dispatcher: each tick it takes, for every enabled endpoint, the batches its
//! queue has ready (at most 100 events, or fewer once the oldest waited `max_wait_secs`), posts
//! each signed with the endpoint's secret, and deletes it on a 2xx or puts it back with a
//! doubling backoff. A batch is held under a lease while it is posted, so another node (or this
//! one after a crash) sends it again only once the lease has lapsed, with the same event ids.

use chrono::{DateTime, Utc};
use herald_channels::http::{HttpError, OutboundHttp};
use herald_channels::sealing::Sealer;
use herald_core::Clock;
use herald_core::status_events::{Batching, EventType, MAX_BATCH};
use herald_store::{EndpointTarget, QueuedEvent, Store};
use hmac::{Hmac, Mac};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Sha256;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// `[status_events]`: how the dispatcher batches, retries and paces itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StatusEventsConfig {
    /// How often each endpoint's queue is looked at, in milliseconds.
    pub poll_ms: u64,
    /// The most events in one call, 1 to 100.
    pub max_batch: usize,
    /// The longest an event waits for its batch to fill, in seconds.
    pub max_wait_secs: i64,
    /// The wait after a batch's first failed call, doubled after each further failure.
    pub first_backoff_secs: i64,
    /// The longest wait between tries of a batch.
    pub max_backoff_secs: i64,
    /// How long a node holds a batch it is posting before another may take it.
    pub lease_secs: i64,
    /// Batches one endpoint may send per tick, so a long backlog does not starve the others.
    pub batches_per_tick: usize,
}

impl Default for StatusEventsConfig {
    fn default() -> Self {
        let b = Batching::default();
        Self {
            poll_ms: 1_000,
            max_batch: b.max_batch,
            max_wait_secs: b.max_wait.num_seconds(),
            first_backoff_secs: b.first_backoff.num_seconds(),
            max_backoff_secs: b.max_backoff.num_seconds(),
            lease_secs: 60,
            batches_per_tick: 10,
        }
    }
}

impl StatusEventsConfig {
    pub fn validate(&self) -> Result<(), herald_core::settings::InvalidSetting> {
        use herald_core::settings::InvalidSetting as S;
        S::check_range("poll_ms", self.poll_ms, 10, 60_000)?;
        S::check_range("max_batch", self.max_batch, 1, MAX_BATCH)?;
        S::check_range("max_wait_secs", self.max_wait_secs, 0, 3_600)?;
        S::check_range("first_backoff_secs", self.first_backoff_secs, 0, 86_400)?;
        S::check_range("max_backoff_secs", self.max_backoff_secs, self.first_backoff_secs, 7 * 86_400)?;
        S::check_range("lease_secs", self.lease_secs, 5, 3_600)?;
        S::check_range("batches_per_tick", self.batches_per_tick, 1, 1_000)
    }

    pub fn batching(&self) -> Batching {
        Batching {
            max_batch: self.max_batch,
            max_wait: chrono::Duration::seconds(self.max_wait_secs),
            first_backoff: chrono::Duration::seconds(self.first_backoff_secs),
            max_backoff: chrono::Duration::seconds(self.max_backoff_secs),
        }
    }
}

/// The header that carries a call's signature: `t=<unix seconds>,v1=<hex HMAC-SHA256>`.
pub const SIGNATURE_HEADER: &str = "X-Herald-Signature";

/// The signature of a call's `body` sent at `t` (unix seconds): HMAC-SHA256, keyed by the
/// endpoint's secret as shown at its creation, over `"<t>.<body>"`, in lowercase hex.
pub fn signature(secret: &[u8], t: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

pub struct Dispatcher {
    pub store: Arc<dyn Store>,
    pub http: OutboundHttp,
    pub sealer: Sealer,
    pub clock: Arc<dyn Clock>,
    /// This node's name, holding the batches it posts.
    pub holder: String,
    pub config: StatusEventsConfig,
}

impl Dispatcher {
    pub async fn run(self, shutdown: CancellationToken) {
        let pause = Duration::from_millis(self.config.poll_ms);
        loop {
            if let Err(e) = self.tick().await {
                tracing::warn!(error = %e, "status events: reading the endpoints failed; trying again");
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(pause) => {}
            }
        }
    }

    async fn tick(&self) -> Result<(), herald_store::StoreError> {
        let targets = self.store.enabled_event_targets().await?;
        futures::future::join_all(targets.iter().map(|t| self.drain(t))).await;
        Ok(())
    }

    /// Sends the endpoint's ready batches, up to `batches_per_tick`; stops at a failure.
    async fn drain(&self, target: &EndpointTarget) {
        let batching = self.config.batching();
        for _ in 0..self.config.batches_per_tick {
            let now = self.clock.now();
            let until = now + chrono::Duration::seconds(self.config.lease_secs);
            let claimed = self.store.claim_status_events(target.id, &self.holder, now, until, &batching).await;
            let events = match claimed {
                Ok(events) if events.is_empty() => return,
                Ok(events) => events,
                Err(e) => {
                    tracing::warn!(endpoint = target.id, error = %e, "status events: claiming a batch failed");
                    return;
                }
            };
            if !self.deliver(target, &events, &batching).await {
                return;
            }
        }
    }

    /// Posts one batch and records how it went; true when the endpoint took it.
    async fn deliver(&self, target: &EndpointTarget, events: &[QueuedEvent], batching: &Batching) -> bool {
        let ids: Vec<i64> = events.iter().map(|e| e.id).collect();
        let outcome = self.post(target, events).await;
        let now = self.clock.now();
        let recorded = match &outcome {
            Ok(()) => self.store.acknowledge_status_events(target.id, &self.holder, &ids, now).await,
            Err(error) => {
                let attempts = events.iter().map(|e| e.attempts).max().unwrap_or(0).max(0) as u32 + 1;
                let due = now + batching.backoff(attempts);
                tracing::warn!(endpoint = target.id, events = ids.len(), attempts, error = %error,
                    "status events: the endpoint did not take a batch; trying again later");
                self.store.retry_status_events(target.id, &self.holder, &ids, due, error, now).await
            }
        };
        if let Err(e) = &recorded {
            // The lease lapses and the batch is sent again with the same ids.
            tracing::warn!(endpoint = target.id, error = %e, "status events: recording a call's outcome failed");
        }
        outcome.is_ok() && recorded.is_ok()
    }

    async fn post(&self, target: &EndpointTarget, events: &[QueuedEvent]) -> Result<(), String> {
        let secret = self
            .sealer
            .unseal(&target.secret_sealed)
            .map_err(|e| format!("the endpoint's secret does not unseal with this node's key: {e}"))?;
        let mut payload = Vec::with_capacity(events.len());
        for event in events {
            payload.push(self.event_json(event).await);
        }
        let body = serde_json::to_vec(&json!({ "events": payload })).map_err(|e| e.to_string())?;
        let t = self.clock.now().timestamp();
        let signed = format!("t={t},v1={}", signature(&secret, t, &body));
        let count = events.len().to_string();
        let answer = self
            .http
            .send(Method::POST, &target.url, |r| {
                r.header("Content-Type", "application/json")
                    .header(SIGNATURE_HEADER, signed)
                    .header("X-Herald-Event-Count", count)
                    .body(body)
            })
            .await
            .map_err(|e: HttpError| e.to_string())?;
        if answer.status.is_success() { Ok(()) } else { Err(format!("answered HTTP {}", answer.status.as_u16())) }
    }

    /// One event as the endpoint receives it; a run's carries its counts as they are now.
    async fn event_json(&self, e: &QueuedEvent) -> Value {
        let mut event = json!({
            "id": e.event_id, "type": e.kind, "at": rfc3339(e.at), "templateId": e.template_id, "runId": e.run_id,
        });
        if e.kind == EventType::RunFinished.as_str() {
            if let Some(run_id) = e.run_id
                && let Ok(run) = self.store.get_run(run_id).await
            {
                event["status"] = json!(run.shown_status());
                event["run"] = json!(run);
            } else {
                event["status"] = json!(e.detail);
            }
        } else {
            event["messageId"] = json!(e.message_id);
            event["receiver"] = json!(e.receiver);
            event["detail"] = json!(e.detail);
        }
        event
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_time_dot_body() {
        // As Python's `hmac.new(b"Jefe", b'1780000000.{"events":[]}', hashlib.sha256)` computes it.
        assert_eq!(
            signature(b"Jefe", 1_780_000_000, br#"{"events":[]}"#),
            "3962b7271c5d09af04f596cbea2f437abfa418282bff5fbfb227e60a37c6a82f"
        );
    }

    #[test]
    fn the_defaults_are_the_issues_and_validate() {
        let c = StatusEventsConfig::default();
        assert_eq!((c.max_batch, c.max_wait_secs), (100, 10));
        c.validate().unwrap();
        let bad = StatusEventsConfig { max_batch: 101, ..Default::default() };
        assert!(bad.validate().unwrap_err().to_string().contains("max_batch"));
    }
}
