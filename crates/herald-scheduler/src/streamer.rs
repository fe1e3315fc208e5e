//! Streaming crowd runs onto the bus, in shards. A streamer first looks for a shard to stream:
//! it leases one, reads its byte range of the crowd file from the shard's checkpoint on a
//! blocking thread, publishes a window of batches at once and then advances the checkpoint. A
//! crash between the two republishes at most one window, which the delivery ledger makes
//! harmless; a dead streamer's shard lease lapses and any node resumes from the checkpoint.
//! With no shard waiting, it plans a pending run: splits the file into shards (`planner.rs`).

use crate::planner;
use chrono::Duration;
use herald_bus::Bus;
use herald_core::TraceEvent;
use herald_core::{Batch, Batcher, Clock, DeliveryJob, JobOrigin, topic_for};
use herald_crowd::{Checkpoint, CrowdFormat, CrowdReader, CrowdStore, RowOutcome};
use herald_store::{Outcome, ShardLease, Store, StreamStep};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

#[derive(Debug, Clone)]
pub struct StreamerConfig {
    /// A shard (or a run being planned) whose lease is not renewed within this time is taken over.
    pub lease: Duration,
    /// How often to look for work when idle.
    pub poll: std::time::Duration,
    /// Receivers per batch (austin's limit is 100).
    pub batch_size: usize,
    /// A run's crowd file is split into shards of about this many bytes...
    pub shard_bytes: u64,
    /// ...but never more than this many.
    pub max_shards: usize,
    /// Batches published at once before one checkpoint covers them all.
    pub publish_window: usize,
}

impl Default for StreamerConfig {
    fn default() -> Self {
        Self {
            lease: Duration::seconds(30),
            poll: std::time::Duration::from_millis(250),
            batch_size: herald_core::MAX_RECEIVERS_PER_BATCH,
            shard_bytes: 4 * 1024 * 1024,
            max_shards: 64,
            publish_window: 32,
        }
    }
}

pub struct RunStreamer {
    pub(crate) store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    crowds: Arc<dyn CrowdStore>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) owner: String,
    pub(crate) config: StreamerConfig,
}

/// A crowd file opened for reading, with how to read it.
pub(crate) struct OpenCrowd {
    pub file: Box<dyn herald_crowd::ReadSeek + Send>,
    pub format: CrowdFormat,
    pub size_bytes: u64,
}

/// One step read from the file: a batch (absent for a tail of invalid rows) and the position
/// after it.
struct Step {
    batch: Option<Batch>,
    checkpoint: Checkpoint,
    rows_invalid: i64,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum StreamError {
    /// The run cannot go on (crowd file gone or unreadable): mark it failed.
    #[error("{0}")]
    Fatal(String),
    /// A passing fault (database busy, bus down): keep the run for a later attempt.
    #[error("{0}")]
    Transient(String),
}

pub(crate) fn transient(e: &dyn std::fmt::Display) -> StreamError {
    StreamError::Transient(e.to_string())
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

    /// Streams one shard to its end (or until shutdown or a lost lease), or, with no shard
    /// waiting, plans one pending run. Returns false when there was nothing to do.
    pub async fn stream_one(&self, shutdown: &CancellationToken) -> Result<bool, herald_store::StoreError> {
        let now = self.clock.now();
        if let Some(lease) = self.store.lease_shard(&self.owner, now, self.config.lease).await? {
            let span = tracing::info_span!("shard", run_id = lease.run_id, shard = lease.shard_no);
            let outcome = self.stream_shard(&lease, shutdown).instrument(span).await;
            self.settle(lease.run_id, outcome, || self.store.release_shard(&lease)).await?;
            return Ok(true);
        }
        if let Some(lease) = self.store.lease_run(&self.owner, now, self.config.lease).await? {
            let span = tracing::info_span!("plan", run_id = lease.run_id, template_id = lease.template_id);
            let outcome = planner::plan(self, &lease).instrument(span).await;
            self.settle(lease.run_id, outcome, || self.store.release_run(&lease)).await?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Fails the run on a fatal error; hands the lease back on a passing one.
    async fn settle<'a, F, Fut>(
        &self,
        run_id: i64,
        outcome: Result<(), StreamError>,
        release: F,
    ) -> Result<(), herald_store::StoreError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<(), herald_store::StoreError>> + 'a,
    {
        match outcome {
            Ok(()) => {}
            Err(StreamError::Fatal(reason)) => {
                tracing::error!(run_id, %reason, "run failed");
                self.store.fail_run(run_id, &reason, self.clock.now()).await?;
            }
            Err(StreamError::Transient(reason)) => {
                tracing::warn!(run_id, %reason, "run paused; it resumes from its checkpoint");
                release().await?;
                tokio::time::sleep(self.config.poll).await;
            }
        }
        Ok(())
    }

    /// Streams shards and plans runs until `shutdown` is cancelled.
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            if shutdown.is_cancelled() {
                break;
            }
            match self.stream_one(&shutdown).await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => tracing::error!(error = %e, "leasing a shard or run failed; will retry"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(self.config.poll) => {}
            }
        }
        tracing::info!("run streamer stopped");
    }

    async fn stream_shard(&self, lease: &ShardLease, shutdown: &CancellationToken) -> Result<(), StreamError> {
        let template = self.store.get_template(lease.template_id).await.map_err(|e| transient(&e))?;
        let topic = topic_for(template.spec.channel);
        let from = parse_checkpoint(&lease.checkpoint)?;
        let OpenCrowd { file, format, .. } = self.open_crowd(&lease.crowd_id).await?;

        let window = self.config.publish_window.max(1);
        let (tx, mut rx) = mpsc::channel::<Result<Step, StreamError>>(window);
        let range = ReadRange { from, end_offset: lease.end_offset.map(|e| e as u64) };
        let reader = read_steps(file, format, range, lease.run_id, self.config.batch_size, tx);
        let reading = tokio::task::spawn_blocking(reader);

        let mut previous = from;
        while let Some(first) = rx.recv().await {
            let mut steps = vec![first?];
            while steps.len() < window {
                match rx.try_recv() {
                    Ok(step) => steps.push(step?),
                    Err(_) => break,
                }
            }
            self.publish(lease, &topic, &steps).await?;
            let last = steps.last().map(|s| s.checkpoint).unwrap_or(previous);
            let record = StreamStep {
                checkpoint: serde_json::to_value(last).map_err(|e| StreamError::Fatal(e.to_string()))?,
                rows_read: (last.rows_read - previous.rows_read) as i64,
                rows_invalid: steps.iter().map(|s| s.rows_invalid).sum(),
                batches: steps.iter().filter(|s| s.batch.is_some()).count() as i64,
            };
            let kept = self
                .store
                .checkpoint_shard(lease, &record, self.clock.now(), self.config.lease)
                .await
                .map_err(|e| transient(&e))?;
            if !kept {
                tracing::warn!("shard lease lost (or the run stopped streaming); stopping");
                return Ok(());
            }
            previous = last;
            if shutdown.is_cancelled() {
                tracing::info!(rows_read = previous.rows_read, "shutdown: checkpointed, handing the shard back");
                drop(rx);
                self.store.release_shard(lease).await.map_err(|e| transient(&e))?;
                return Ok(());
            }
        }
        reading.await.map_err(|e| StreamError::Fatal(format!("crowd reader crashed: {e}")))?;
        self.store.finish_shard(lease, self.clock.now()).await.map_err(|e| transient(&e))?;
        tracing::info!(rows = previous.rows_read, "shard published");
        Ok(())
    }

    /// Opens a run's crowd file, read in the format it was uploaded with.
    pub(crate) async fn open_crowd(&self, crowd_id: &str) -> Result<OpenCrowd, StreamError> {
        let crowd = self.store.get_crowd(crowd_id).await.map_err(|e| transient(&e))?;
        let file =
            self.crowds.open(crowd_id).await.map_err(|e| StreamError::Fatal(format!("crowd file {crowd_id}: {e}")))?;
        let format = CrowdFormat::with_receiver_column(crowd.receiver_column);
        Ok(OpenCrowd { file, format, size_bytes: crowd.size_bytes.max(0) as u64 })
    }

    /// Traces every batch of the window as accepted, then publishes them all at once.
    async fn publish(&self, lease: &ShardLease, topic: &str, steps: &[Step]) -> Result<(), StreamError> {
        let jobs: Vec<DeliveryJob> = steps
            .iter()
            .filter_map(|s| s.batch.clone())
            .map(|batch| DeliveryJob {
                template_id: lease.template_id,
                origin: JobOrigin::Run { run_id: lease.run_id },
                batch,
                released: false,
            })
            .collect();
        if jobs.is_empty() {
            return Ok(());
        }
        let payloads = jobs
            .iter()
            .map(|job| serde_json::to_vec(job).map(|p| (job.key(), p)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| StreamError::Fatal(e.to_string()))?;
        // Traced before publishing, so `accepted` always precedes what a worker records.
        let accepted: Vec<Outcome> = jobs.iter().flat_map(accepted_events).collect();
        self.store.record_trace(&accepted, self.clock.now()).await.map_err(|e| transient(&e))?;
        let sends = payloads.iter().map(|(key, payload)| self.bus.publish(topic, key, payload));
        futures::future::try_join_all(sends).await.map_err(|e| transient(&e))?;
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

/// Where a shard's reading resumes and where it stops.
struct ReadRange {
    from: Checkpoint,
    end_offset: Option<u64>,
}

/// The blocking half: reads rows, batches them and hands each step to the async half. Stops
/// quietly when the async half hangs up.
fn read_steps(
    file: Box<dyn herald_crowd::ReadSeek + Send>,
    format: CrowdFormat,
    range: ReadRange,
    run_id: i64,
    batch_size: usize,
    tx: mpsc::Sender<Result<Step, StreamError>>,
) -> impl FnOnce() + Send + 'static {
    move || {
        let mut reader = match CrowdReader::open_range(file, &format, range.from, range.end_offset) {
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
