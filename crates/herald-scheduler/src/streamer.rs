//! Streaming a crowd run onto the bus. A streamer leases a run, reads the crowd file from the
//! run's checkpoint on a blocking thread, and for each batch publishes it and then advances the
//! checkpoint. A crash between the two republishes one batch, which the delivery ledger makes
//! harmless; a crashed streamer's lease lapses and another resumes from the checkpoint.

use chrono::Duration;
use herald_bus::Bus;
use herald_core::TraceEvent;
use herald_core::{Batch, Batcher, Clock, DeliveryJob, JobOrigin, topic_for};
use herald_crowd::{Checkpoint, CrowdFormat, CrowdReader, CrowdStore, RowOutcome};
use herald_store::{Outcome, RunLease, Store, StreamStep};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

#[derive(Debug, Clone)]
pub struct StreamerConfig {
    /// A run whose lease is not renewed within this time is taken over.
    pub lease: Duration,
    /// How often to look for runs when idle.
    pub poll: std::time::Duration,
    /// Receivers per batch (austin's limit is 100).
    pub batch_size: usize,
}

impl Default for StreamerConfig {
    fn default() -> Self {
        Self {
            lease: Duration::seconds(30),
            poll: std::time::Duration::from_millis(250),
            batch_size: herald_core::MAX_RECEIVERS_PER_BATCH,
        }
    }
}

pub struct RunStreamer {
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    crowds: Arc<dyn CrowdStore>,
    clock: Arc<dyn Clock>,
    owner: String,
    config: StreamerConfig,
}

/// One step read from the file: a batch (absent for a tail of invalid rows) and the position
/// after it.
struct Step {
    batch: Option<Batch>,
    checkpoint: Checkpoint,
    rows_invalid: i64,
}

#[derive(Debug, thiserror::Error)]
enum StreamError {
    /// The run cannot go on (crowd file gone or unreadable): mark it failed.
    #[error("{0}")]
    Fatal(String),
    /// A passing fault (database busy, bus down): keep the run for a later attempt.
    #[error("{0}")]
    Transient(String),
}

impl RunStreamer {
    pub fn new(
        store: Arc<dyn Store>,
        bus: Arc<dyn Bus>,
        crowds: Arc<dyn CrowdStore>,
        clock: Arc<dyn Clock>,
        owner: String,
        config: StreamerConfig,
    ) -> Self {
        Self { store, bus, crowds, clock, owner, config }
    }

    /// Leases one run and streams it to the end (or until shutdown or a lost lease).
    /// Returns false when no run was waiting.
    pub async fn stream_one(&self, shutdown: &CancellationToken) -> Result<bool, herald_store::StoreError> {
        let Some(lease) = self.store.lease_run(&self.owner, self.clock.now(), self.config.lease).await? else {
            return Ok(false);
        };
        let span = tracing::info_span!("run", run_id = lease.run_id, template_id = lease.template_id);
        match self.stream(&lease, shutdown).instrument(span).await {
            Ok(()) => {}
            Err(StreamError::Fatal(reason)) => {
                tracing::error!(run_id = lease.run_id, %reason, "run failed");
                self.store.fail_run(lease.run_id, &reason, self.clock.now()).await?;
            }
            Err(StreamError::Transient(reason)) => {
                tracing::warn!(run_id = lease.run_id, %reason, "run paused; it resumes from its checkpoint");
                self.store.release_run(&lease).await?;
                tokio::time::sleep(self.config.poll).await;
            }
        }
        Ok(true)
    }

    /// Streams runs until `shutdown` is cancelled.
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            if shutdown.is_cancelled() {
                break;
            }
            match self.stream_one(&shutdown).await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => tracing::error!(error = %e, "leasing a run failed; will retry"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(self.config.poll) => {}
            }
        }
        tracing::info!("run streamer stopped");
    }

    async fn stream(&self, lease: &RunLease, shutdown: &CancellationToken) -> Result<(), StreamError> {
        let transient = |e: &dyn std::fmt::Display| StreamError::Transient(e.to_string());
        let template = self.store.get_template(lease.template_id).await.map_err(|e| transient(&e))?;
        let crowd = self.store.get_crowd(&lease.crowd_id).await.map_err(|e| transient(&e))?;
        let topic = topic_for(template.spec.channel);
        let from = parse_checkpoint(&lease.checkpoint)?;
        let file = self
            .crowds
            .open(&lease.crowd_id)
            .await
            .map_err(|e| StreamError::Fatal(format!("crowd file {}: {e}", lease.crowd_id)))?;
        let format = CrowdFormat { receiver_column: crowd.receiver_column.clone(), ..CrowdFormat::default() };

        let (tx, mut rx) = mpsc::channel::<Result<Step, StreamError>>(2);
        let reader = read_steps(file, format, from, lease.run_id, self.config.batch_size, tx);
        let reading = tokio::task::spawn_blocking(reader);

        let mut previous = from;
        while let Some(step) = rx.recv().await {
            let step = step?;
            if let Some(batch) = &step.batch {
                let job = DeliveryJob {
                    template_id: lease.template_id,
                    origin: JobOrigin::Run { run_id: lease.run_id },
                    batch: batch.clone(),
                    released: false,
                };
                let payload = serde_json::to_vec(&job).map_err(|e| StreamError::Fatal(e.to_string()))?;
                // Traced before publishing, so `accepted` always precedes what a worker records.
                let accepted = accepted_events(&job);
                self.store.record_trace(&accepted, self.clock.now()).await.map_err(|e| transient(&e))?;
                self.bus.publish(&topic, &job.key(), &payload).await.map_err(|e| transient(&e))?;
            }
            let record = StreamStep {
                checkpoint: serde_json::to_value(step.checkpoint).map_err(|e| StreamError::Fatal(e.to_string()))?,
                rows_read: (step.checkpoint.rows_read - previous.rows_read) as i64,
                rows_invalid: step.rows_invalid,
                batches: i64::from(step.batch.is_some()),
            };
            let kept = self
                .store
                .checkpoint_run(lease, &record, self.clock.now(), self.config.lease)
                .await
                .map_err(|e| transient(&e))?;
            if !kept {
                tracing::warn!(run_id = lease.run_id, "lease lost to another streamer; stopping");
                return Ok(());
            }
            previous = step.checkpoint;
            if shutdown.is_cancelled() {
                tracing::info!(
                    run_id = lease.run_id,
                    rows_read = previous.rows_read,
                    "shutdown: checkpointed, handing the run back"
                );
                drop(rx);
                self.store.release_run(lease).await.map_err(|e| transient(&e))?;
                return Ok(());
            }
        }
        reading.await.map_err(|e| StreamError::Fatal(format!("crowd reader crashed: {e}")))?;
        self.store.finish_streaming(lease, self.clock.now()).await.map_err(|e| transient(&e))?;
        tracing::info!(run_id = lease.run_id, rows = previous.rows_read, "run published");
        Ok(())
    }
}

fn accepted_events(job: &DeliveryJob) -> Vec<Outcome> {
    job.batch.recipients().map(|r| Outcome::of(job, r, TraceEvent::Accepted, None)).collect()
}

fn parse_checkpoint(value: &serde_json::Value) -> Result<Checkpoint, StreamError> {
    if value.as_object().is_some_and(|o| o.is_empty()) {
        return Ok(Checkpoint::default());
    }
    serde_json::from_value(value.clone()).map_err(|e| StreamError::Fatal(format!("bad checkpoint: {e}")))
}

/// The blocking half: reads rows, batches them and hands each step to the async half. Stops
/// quietly when the async half hangs up.
fn read_steps(
    file: Box<dyn herald_crowd::ReadSeek + Send>,
    format: CrowdFormat,
    from: Checkpoint,
    run_id: i64,
    batch_size: usize,
    tx: mpsc::Sender<Result<Step, StreamError>>,
) -> impl FnOnce() + Send + 'static {
    move || {
        let mut reader = match CrowdReader::open(file, &format, from) {
            Ok(r) => r,
            Err(e) => {
                let _ = tx.blocking_send(Err(StreamError::Fatal(format!("crowd file unreadable: {e}"))));
                return;
            }
        };
        let mut batcher = Batcher::with_limit(run_id, batch_size);
        let mut invalid = 0;
        while let Some(outcome) = reader.next() {
            let batch = match outcome {
                Ok(RowOutcome::Valid(row)) => batcher.push(row),
                Ok(RowOutcome::Invalid(_)) => {
                    invalid += 1;
                    None
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(StreamError::Fatal(format!("crowd file unreadable: {e}"))));
                    return;
                }
            };
            if let Some(batch) = batch {
                let step = Step { batch: Some(batch), checkpoint: reader.checkpoint(), rows_invalid: invalid };
                invalid = 0;
                if tx.blocking_send(Ok(step)).is_err() {
                    return;
                }
            }
        }
        let tail = batcher.finish();
        if tail.is_some() || invalid > 0 {
            let _ = tx.blocking_send(Ok(Step { batch: tail, checkpoint: reader.checkpoint(), rows_invalid: invalid }));
        }
    }
}
