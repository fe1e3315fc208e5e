//! The polling loop around the pipeline: claim a batch from the channel's topic, handle it,
//! then ack it, or hand it back for a retry with backoff. On shutdown the batch in hand is
//! finished before the loop exits.

use crate::pipeline::{Attempt, Pipeline};
use futures::FutureExt;
use herald_bus::{Bus, Delivery};
use herald_core::DeliveryJob;
use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// How long a claimed batch stays invisible to other workers.
    pub visibility: Duration,
    /// How often to look for work when idle.
    pub poll: Duration,
    /// The bus's attempt limit; on the last attempt passing faults become failures.
    pub max_attempts: u32,
    /// Wait before the first retry; doubled per attempt.
    pub retry_backoff: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            visibility: Duration::from_secs(60),
            poll: Duration::from_millis(200),
            max_attempts: 5,
            retry_backoff: Duration::from_secs(2),
        }
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
        let Some(delivery) = self.bus.claim(&self.topic, 1, self.config.visibility).await?.pop() else {
            return Ok(false);
        };
        self.handle(delivery).await?;
        Ok(true)
    }

    async fn handle(&self, delivery: Delivery) -> Result<(), herald_bus::BusError> {
        let job: DeliveryJob = match serde_json::from_slice(&delivery.payload) {
            Ok(job) => job,
            Err(e) => {
                tracing::error!(bus_id = delivery.id, error = %e, "undecodable batch; dead-lettering");
                let reason = format!("undecodable: {e}");
                return self.bus.dead_letter(&delivery, &reason).await;
            }
        };
        let span =
            tracing::info_span!("batch", template_id = job.template_id, run_id = job.run_id(), bus_id = delivery.id);
        self.handle_job(&delivery, &job).instrument(span).await
    }

    async fn handle_job(&self, delivery: &Delivery, job: &DeliveryJob) -> Result<(), herald_bus::BusError> {
        let attempt = Attempt { number: delivery.attempts, last: delivery.attempts >= self.config.max_attempts };
        // A panic in one batch (a bug, a bad stored setting) must not end this loop: the batch
        // goes back with a backoff like any other fault, and the worker takes the next one.
        let handled = AssertUnwindSafe(self.pipeline.handle(job, attempt)).catch_unwind().await;
        let handled = match handled {
            Ok(handled) => handled,
            Err(panic) => {
                let delay = self.backoff(delivery.attempts);
                let reason = format!("worker panicked: {}", panic_message(panic.as_ref()));
                tracing::error!(reason = %reason, ?delay, "batch panicked; retrying");
                return self.bus.retry(delivery, &reason, delay).await.map(|_| ());
            }
        };
        match handled {
            Ok(report) if report.retryable.is_empty() => {
                tracing::info!(sent = report.sent, failed = report.failed, skipped = report.skipped, "batch handled");
                self.bus.ack(delivery).await
            }
            Ok(report) => {
                let delay = self.backoff(delivery.attempts);
                tracing::warn!(retryable = report.retryable.len(), attempt = delivery.attempts, ?delay, first_reason = %report.retryable[0].1, "batch partly failed; retrying");
                self.bus.retry(delivery, &report.retryable[0].1, delay).await.map(|_| ())
            }
            Err(e) => {
                let delay = self.backoff(delivery.attempts);
                tracing::error!(error = %e, ?delay, "store error while handling batch; retrying");
                self.bus.retry(delivery, &e.to_string(), delay).await.map(|_| ())
            }
        }
    }

    /// Exponential in the attempt, with ±50% jitter so batches that failed together do not
    /// all come back at once.
    fn backoff(&self, attempts: u32) -> Duration {
        let exp = attempts.saturating_sub(1).min(8);
        let base = self.config.retry_backoff * 2u32.pow(exp);
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
                _ = tokio::time::sleep(self.config.poll) => {}
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
