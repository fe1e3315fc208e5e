//! The polling loop around the pipeline: claim batches from the channel's topic, handle them
//! (merged, see `merge.rs`), then ack each, or hand it back for a retry with backoff. On
//! shutdown the batches in hand are finished before the loop exits.

use crate::merge::{Claimed, Merged, merge};
use crate::pipeline::{Attempt, Pipeline};
use futures::FutureExt;
use herald_bus::{Bus, BusClaim, BusError};
use herald_core::{DeliveryJob, InvalidSetting};
use serde::{Deserialize, Serialize};
use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
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
    /// Batches one claim takes from the bus; those of one template, run and attempt are
    /// handled as one (one-receiver `/send` batches above all).
    pub batches_per_claim: usize,
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
            batches_per_claim: 8,
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
        InvalidSetting::check_range("claim_secs", self.claim_secs, 3, 3_600)?;
        InvalidSetting::check_range("batches_per_claim", self.batches_per_claim, 1, herald_bus::MAX_CLAIM)
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

    /// Claims up to `batches_per_claim` batches, handles them (merged where they share a
    /// template, a run and an attempt, see `merge.rs`) and settles each claim. Returns false
    /// when the topic had nothing ready. A bus error settling one claim does not stop the
    /// others; the first is returned once all were tried.
    pub async fn work_one(&self) -> Result<bool, BusError> {
        let claims = self.bus.claim(&self.topic, self.config.batches_per_claim, self.config.visibility()).await?;
        if claims.is_empty() {
            return Ok(false);
        }
        let mut settled = Settled::default();
        let mut decoded = Vec::with_capacity(claims.len());
        for claim in claims {
            match serde_json::from_slice::<DeliveryJob>(&claim.payload) {
                Ok(job) => decoded.push(Claimed { claim, job }),
                Err(e) => {
                    tracing::error!(bus_id = claim.id, error = %e, "undecodable batch; dead-lettering");
                    settled.note(self.bus.dead_letter(&claim, &format!("undecodable: {e}")).await);
                }
            }
        }
        let groups = merge(decoded);
        // Groups are handled in order: those before this index are settled.
        let settled_groups = AtomicUsize::new(0);
        let handling = async {
            for merged in &groups {
                let span = tracing::info_span!(
                    "batch",
                    template_id = merged.job.template_id,
                    run_id = merged.job.run_id(),
                    bus_id = merged.parts[0].claim.id,
                    bus_batches = merged.parts.len()
                );
                self.handle_merged(merged, &mut settled).instrument(span).await;
                settled_groups.fetch_add(1, Ordering::Relaxed);
            }
        };
        // Every claim stays invisible to other workers until its group's turn has come and gone.
        tokio::select! {
            () = handling => {}
            _ = self.keep_visible(&groups, &settled_groups) => unreachable!("keep_visible never ends"),
        }
        settled.into_result().map(|()| true)
    }

    async fn handle_merged(&self, merged: &Merged, settled: &mut Settled) {
        let attempts = merged.parts[0].claim.attempts;
        let attempt = Attempt { number: attempts, last: attempts >= self.config.max_attempts };
        // A panic in one batch (a bug, a bad stored setting) must not end this loop: the batch
        // goes back with a backoff like any other fault, and the worker takes the next one.
        let handled = AssertUnwindSafe(self.pipeline.handle(&merged.job, attempt)).catch_unwind().await;
        let all: Vec<&BusClaim> = merged.parts.iter().map(|c| &c.claim).collect();
        match handled {
            Err(panic) => {
                let reason = format!("worker panicked: {}", panic_message(panic.as_ref()));
                tracing::error!(reason = %reason, "batch panicked; retrying");
                self.retry(&all, &reason, settled).await;
            }
            Ok(Err(e)) => {
                tracing::error!(error = %e, "store error while handling batch; retrying");
                self.retry(&all, &e.to_string(), settled).await;
            }
            Ok(Ok(report)) => {
                let (back, done) = merged.split_by_retry(&report.retryable);
                tracing::info!(
                    sent = report.sent,
                    failed = report.failed,
                    skipped = report.skipped,
                    retrying = report.retryable.len(),
                    "batch handled"
                );
                self.ack(&done, settled).await;
                if let Some((_, reason)) = report.retryable.first() {
                    tracing::warn!(retryable = report.retryable.len(), attempt = attempts, first_reason = %reason,
                        "batch partly failed; retrying");
                    self.retry(&back, reason, settled).await;
                }
            }
        }
    }

    /// Acks `claims` at once; one whose lease was lost is noted like a failed ack.
    async fn ack(&self, claims: &[&BusClaim], settled: &mut Settled) {
        if claims.is_empty() {
            return;
        }
        match self.bus.ack_all(claims).await {
            Ok(lost) => {
                for id in lost {
                    settled.note_error(BusError::LeaseLost { id });
                }
            }
            Err(e) => settled.note_error(e),
        }
    }

    /// Hands `claims` back to the bus after a backoff.
    async fn retry(&self, claims: &[&BusClaim], reason: &str, settled: &mut Settled) {
        metrics::counter!("herald_batch_retries_total", "topic" => self.topic.clone()).increment(claims.len() as u64);
        for claim in claims {
            let delay = self.backoff(claim.attempts);
            settled.note(self.bus.retry(claim, reason, delay).await.map(|_| ()));
        }
    }

    /// Extends the bus visibility of the claims of `groups` not yet settled (those from
    /// `settled_groups` on) every third of it while their batches are handled, so a slow batch
    /// (a rate-limited channel, a slow provider) is never handed to another worker while this
    /// one lives.
    async fn keep_visible(&self, groups: &[Merged], settled_groups: &AtomicUsize) {
        let visibility = self.config.visibility();
        loop {
            tokio::time::sleep(visibility / 3).await;
            let open = groups.get(settled_groups.load(Ordering::Relaxed)..).unwrap_or_default();
            for part in open.iter().flat_map(|m| &m.parts) {
                if let Err(e) = self.bus.extend(&part.claim, visibility).await {
                    tracing::warn!(bus_id = part.claim.id, error = %e, "extending the batch's visibility failed");
                }
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

/// The first bus error met while settling a claim's batches; the rest are logged.
#[derive(Default)]
struct Settled {
    first_error: Option<BusError>,
}

impl Settled {
    fn note(&mut self, result: Result<(), BusError>) {
        if let Err(e) = result {
            self.note_error(e);
        }
    }

    fn note_error(&mut self, e: BusError) {
        if self.first_error.is_some() {
            tracing::warn!(error = %e, "settling a batch failed");
        } else {
            self.first_error = Some(e);
        }
    }

    fn into_result(self) -> Result<(), BusError> {
        self.first_error.map_or(Ok(()), Err)
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
