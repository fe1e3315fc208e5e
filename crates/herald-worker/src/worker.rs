//! The polling loop around the pipeline: claim a batch from the channel's topic, handle it,
//! then ack it, or hand it back for a retry with backoff. On shutdown the batch in hand is
//! finished before the loop exits.

use crate::pipeline::{Attempt, Pipeline};
use futures::FutureExt;
use herald_bus::{Bus, BusClaim};
use herald_core::{DeliveryJob, InvalidSetting};
use serde::{Deserialize, Serialize};
use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// The `[worker]` settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkerConfig {
    /// Workers per channel topic this node delivers through.
    pub workers_per_channel: usize,
    /// Sends in flight within one batch.
    pub sends_in_flight: usize,
    /// How long a claimed batch stays invisible to other workers, in seconds.
    pub visibility_secs: u64,
    /// How often to look for work when idle, in milliseconds.
    pub poll_ms: u64,
    /// The bus's attempt limit; on the last attempt passing faults become failures.
    pub max_attempts: u32,
    /// Wait before the first retry, in milliseconds; doubled per attempt.
    pub retry_backoff_ms: u64,
    /// How long a worker's claim on the messages it sends lasts unless extended, in seconds. It
    /// is extended every third of it; a claim whose holder died lapses after it, and only then
    /// is its message sent again.
    pub claim_secs: u64,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            workers_per_channel: 2,
            sends_in_flight: 8,
            visibility_secs: 60,
            poll_ms: 200,
            max_attempts: 5,
            retry_backoff_ms: 2_000,
            claim_secs: 30,
        }
    }
}

impl WorkerConfig {
    /// Refuses values a worker cannot work with, naming the key.
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        InvalidSetting::check_range("workers_per_channel", self.workers_per_channel, 1, 256)?;
        InvalidSetting::check_range("sends_in_flight", self.sends_in_flight, 1, 1024)?;
        InvalidSetting::check_range("visibility_secs", self.visibility_secs, 1, 86_400)?;
        InvalidSetting::check_range("poll_ms", self.poll_ms, 1, 60_000)?;
        InvalidSetting::check_range("max_attempts", self.max_attempts, 1, 100)?;
        InvalidSetting::check_range("retry_backoff_ms", self.retry_backoff_ms, 0, 3_600_000)?;
        InvalidSetting::check_range("claim_secs", self.claim_secs, 3, 3_600)
    }

    /// How long a send claim lasts unless extended.
    pub fn claim_ttl(&self) -> chrono::Duration {
        chrono::Duration::seconds(i64::try_from(self.claim_secs).unwrap_or(i64::MAX))
    }

    pub fn visibility(&self) -> Duration {
        Duration::from_secs(self.visibility_secs)
    }

    fn poll(&self) -> Duration {
        Duration::from_millis(self.poll_ms)
    }
}

pub struct Worker {
    bus: Arc<dyn Bus>,
    pipeline: Arc<Pipeline>,
    topic: String,
    config: WorkerConfig,
}

impl Worker {
    pub fn new(bus: Arc<dyn Bus>, pipeline: Arc<Pipeline>, topic: String, config: WorkerConfig) -> Self {
        Self { bus, pipeline, topic, config }
    }

    /// Claims and handles one batch; false when the topic was empty.
    pub async fn work_one(&self) -> Result<bool, herald_bus::BusError> {
        let Some(claim) = self.bus.claim(&self.topic, 1, self.config.visibility()).await?.pop() else {
            return Ok(false);
        };
        self.handle(claim).await?;
        Ok(true)
    }

    async fn handle(&self, claim: BusClaim) -> Result<(), herald_bus::BusError> {
        let job: DeliveryJob = match serde_json::from_slice(&claim.payload) {
            Ok(job) => job,
            Err(e) => {
                tracing::error!(bus_id = claim.id, error = %e, "undecodable batch; dead-lettering");
                let reason = format!("undecodable: {e}");
                return self.bus.dead_letter(&claim, &reason).await;
            }
        };
        let span =
            tracing::info_span!("batch", template_id = job.template_id, run_id = job.run_id(), bus_id = claim.id);
        self.handle_job(&claim, &job).instrument(span).await
    }

    async fn handle_job(&self, claim: &BusClaim, job: &DeliveryJob) -> Result<(), herald_bus::BusError> {
        let attempt = Attempt { number: claim.attempts, last: claim.attempts >= self.config.max_attempts };
        // A panic in one batch (a bug, a bad stored setting) must not end this loop: the batch
        // goes back with a backoff like any other fault, and the worker takes the next one.
        let handling = AssertUnwindSafe(self.pipeline.handle(job, attempt)).catch_unwind();
        let handled = tokio::select! {
            handled = handling => handled,
            _ = self.keep_visible(claim) => unreachable!("keep_visible never ends"),
        };
        let handled = match handled {
            Ok(handled) => handled,
            Err(panic) => {
                let delay = self.backoff(claim.attempts);
                let reason = format!("worker panicked: {}", panic_message(panic.as_ref()));
                tracing::error!(reason = %reason, ?delay, "batch panicked; retrying");
                return self.bus.retry(claim, &reason, delay).await.map(|_| ());
            }
        };
        match handled {
            Ok(report) if report.retryable.is_empty() => {
                tracing::info!(sent = report.sent, failed = report.failed, skipped = report.skipped, "batch handled");
                self.bus.ack(claim).await
            }
            Ok(report) => {
                metrics::counter!("herald_batch_retries_total", "topic" => self.topic.clone()).increment(1);
                let delay = self.backoff(claim.attempts);
                tracing::warn!(retryable = report.retryable.len(), attempt = claim.attempts, ?delay, first_reason = %report.retryable[0].1, "batch partly failed; retrying");
                self.bus.retry(claim, &report.retryable[0].1, delay).await.map(|_| ())
            }
            Err(e) => {
                metrics::counter!("herald_batch_retries_total", "topic" => self.topic.clone()).increment(1);
                let delay = self.backoff(claim.attempts);
                tracing::error!(error = %e, ?delay, "store error while handling batch; retrying");
                self.bus.retry(claim, &e.to_string(), delay).await.map(|_| ())
            }
        }
    }

    /// Extends the batch's bus visibility every third of it while the batch is handled, so a
    /// slow batch (a rate-limited channel, a slow provider) is never handed to another worker
    /// while this one lives.
    async fn keep_visible(&self, claim: &BusClaim) {
        let visibility = self.config.visibility();
        loop {
            tokio::time::sleep(visibility / 3).await;
            if let Err(e) = self.bus.extend(claim, visibility).await {
                tracing::warn!(bus_id = claim.id, error = %e, "extending the batch's visibility failed");
            }
        }
    }

    /// Exponential in the attempt, with ±50% jitter so batches that failed together do not
    /// all come back at once.
    fn backoff(&self, attempts: u32) -> Duration {
        let exp = attempts.saturating_sub(1).min(8);
        let base = Duration::from_millis(self.config.retry_backoff_ms) * 2u32.pow(exp);
        base.mul_f64(rand::random_range(0.5..1.5))
    }

    /// Works until `shutdown` is cancelled, finishing the batch in hand.
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            if shutdown.is_cancelled() {
                break;
            }
            match self.work_one().await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => tracing::error!(topic = %self.topic, error = %e, "bus error; will retry"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(self.config.poll()) => {}
            }
        }
        tracing::info!(topic = %self.topic, "worker stopped");
    }
}

/// The text a panic was raised with, when it has one.
fn panic_message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}
