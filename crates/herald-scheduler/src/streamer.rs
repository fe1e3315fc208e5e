//! Streaming crowd runs onto the bus, in shards. A streamer first looks for a shard to stream:
//! it leases one, reads its byte range of the crowd file from the shard's checkpoint on a
//! blocking thread, publishes a window of batches at once and then advances the checkpoint. A
//! crash between the two republishes at most one window, which the delivery ledger makes
//! harmless; a dead streamer's shard lease lapses and any node resumes from the checkpoint.
//! With no shard waiting, it plans a pending run: splits the file into shards (`planner.rs`).

use crate::crowd_file::{OpenCrowd, StreamError, open_crowd, transient};
use crate::planner::Planner;
use chrono::Duration;
use herald_bus::{Bus, EncodedJobs};
use herald_core::{
    Batch, Batcher, ChannelKind, Clock, DeliveryJob, Installation, InvalidSetting, JobOrigin, MAX_RECEIVERS_PER_BATCH,
};
use herald_crowd::{Checkpoint, CrowdFormat, CrowdReader, CrowdStore, RowOutcome};
use herald_store::{AcceptedRows, ShardLease, Store, StreamStep, TraceEntry};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// The `[streamer]` settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StreamerConfig {
    /// Streamers this node runs; 0 claims fires without streaming.
    pub streamers: usize,
    /// A shard (or a run being planned) whose lease is not renewed within this time is taken over.
    pub lease_secs: i64,
    /// How often to look for work when idle.
    pub poll_ms: u64,
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
            streamers: 1,
            lease_secs: 30,
            poll_ms: 250,
            batch_size: MAX_RECEIVERS_PER_BATCH,
            shard_bytes: 4 * 1024 * 1024,
            max_shards: 64,
            publish_window: 32,
        }
    }
}

impl StreamerConfig {
    /// Refuses values the streamer cannot work with, naming the key.
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        InvalidSetting::check_range("streamers", self.streamers, 0, 64)?;
        InvalidSetting::check_range("lease_secs", self.lease_secs, 1, 3600)?;
        InvalidSetting::check_range("poll_ms", self.poll_ms, 1, 60_000)?;
        InvalidSetting::check_range("batch_size", self.batch_size, 1, MAX_RECEIVERS_PER_BATCH)?;
        InvalidSetting::check_range("shard_bytes", self.shard_bytes, 1, 1 << 40)?;
        InvalidSetting::check_range("max_shards", self.max_shards, 1, 10_000)?;
        InvalidSetting::check_range("publish_window", self.publish_window, 1, 10_000)
    }

    fn lease(&self) -> Duration {
        Duration::seconds(self.lease_secs)
    }

    fn poll(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.poll_ms)
    }
}

/// What a streamer works on.
#[derive(Clone)]
pub struct StreamerParts {
    pub store: Arc<dyn Store>,
    pub bus: Arc<dyn Bus>,
    pub crowds: Arc<dyn CrowdStore>,
    pub clock: Arc<dyn Clock>,
}

pub struct RunStreamer {
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    crowds: Arc<dyn CrowdStore>,
    clock: Arc<dyn Clock>,
    owner: String,
    config: StreamerConfig,
    planner: Planner,
}

/// One step read from the file: a batch (absent for a tail of invalid rows) and the position
/// after it.
struct Step {
    batch: Option<Batch>,
    checkpoint: Checkpoint,
    rows_invalid: i64,
}

impl RunStreamer {
    /// A streamer named `owner` in leases; `config` is assumed validated.
    pub fn new(parts: StreamerParts, owner: String, config: StreamerConfig) -> Self {
        let StreamerParts { store, bus, crowds, clock } = parts;
        let planner = Planner {
            store: store.clone(),
            crowds: crowds.clone(),
            clock: clock.clone(),
            shard_bytes: config.shard_bytes,
            max_shards: config.max_shards,
        };
        Self { store, bus, crowds, clock, owner, config, planner }
    }

    /// Streams one shard to its end (or until shutdown or a lost lease), or, with no shard
    /// waiting, plans one pending run. Returns false when there was nothing to do.
    pub async fn stream_one(&self, shutdown: &CancellationToken) -> Result<bool, herald_store::StoreError> {
        let now = self.clock.now();
        if let Some(lease) = self.store.lease_shard(&self.owner, now, self.config.lease()).await? {
            let span = tracing::info_span!("shard", run_id = lease.run_id, shard = lease.shard_no);
            let outcome = self.stream_shard(&lease, shutdown).instrument(span).await;
            self.settle(lease.run_id, outcome, || self.store.release_shard(&lease)).await?;
            return Ok(true);
        }
        if let Some(lease) = self.store.lease_run(&self.owner, now, self.config.lease()).await? {
            let span = tracing::info_span!("plan", run_id = lease.run_id, template_id = lease.template_id);
            let outcome = self.planner.plan(&lease).instrument(span).await;
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
                tokio::time::sleep(self.config.poll()).await;
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
                _ = tokio::time::sleep(self.config.poll()) => {}
            }
        }
        tracing::info!("run streamer stopped");
    }

    async fn stream_shard(&self, lease: &ShardLease, shutdown: &CancellationToken) -> Result<(), StreamError> {
        let template = self.store.get_template(lease.template_id).await.map_err(|e| transient(&e))?;
        let channel = template.spec.channel;
        let from = parse_checkpoint(&lease.checkpoint)?;
        let OpenCrowd { file, format, .. } =
            open_crowd(self.store.as_ref(), self.crowds.as_ref(), &lease.crowd_id).await?;

        let window = self.config.publish_window;
        let (tx, mut rx) = mpsc::channel::<Result<Step, StreamError>>(window);
        let installation = self.store.installation().await.map_err(|e| transient(&e))?;
        let read = ShardRead {
            installation,
            from,
            end_offset: lease.end_offset.map(|e| e as u64),
            run_id: lease.run_id,
            batch_size: self.config.batch_size,
        };
        let reader = read_steps(file, format, read, tx);
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
            let last = steps.last().map(|s| s.checkpoint).unwrap_or(previous);
            let record = StreamStep {
                checkpoint: serde_json::to_value(last).map_err(|e| StreamError::Fatal(e.to_string()))?,
                rows_read: (last.rows_read - previous.rows_read) as i64,
                rows_invalid: steps.iter().map(|s| s.rows_invalid).sum(),
                batches: steps.iter().filter(|s| s.batch.is_some()).count() as i64,
            };
            self.publish(lease, channel, steps.into_iter().filter_map(|s| s.batch)).await?;
            let kept = self
                .store
                .checkpoint_shard(lease, &record, self.clock.now(), self.config.lease())
                .await
                .map_err(|e| transient(&e))?;
            metrics::counter!("herald_rows_streamed_total").increment(record.rows_read.max(0) as u64);
            metrics::counter!("herald_rows_invalid_total").increment(record.rows_invalid.max(0) as u64);
            if !kept {
                tracing::warn!("shard lease lost, or the run was paused or cancelled; stopping");
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

    /// Records every batch of the window as accepted (one row for the window), then publishes
    /// them all at once.
    async fn publish(
        &self,
        lease: &ShardLease,
        channel: ChannelKind,
        batches: impl Iterator<Item = Batch>,
    ) -> Result<(), StreamError> {
        let jobs: Vec<DeliveryJob> = batches
            .map(|batch| DeliveryJob {
                template_id: lease.template_id,
                origin: JobOrigin::Run { run_id: lease.run_id },
                batch,
                released: false,
                admitted: false,
            })
            .collect();
        if jobs.is_empty() {
            return Ok(());
        }
        let encoded = EncodedJobs::encode(channel, &jobs).map_err(|e| StreamError::Fatal(e.to_string()))?;
        let now = self.clock.now();
        let accepted = match AcceptedRows::of(&jobs) {
            Some(rows) => self.store.record_accepted_rows(&rows, now).await,
            None => self.store.record_trace(&TraceEntry::accepted(&jobs, None), now).await,
        };
        accepted.map_err(|e| transient(&e))?;
        encoded.publish(self.bus.as_ref()).await.map_err(|e| transient(&e))
    }
}

fn parse_checkpoint(value: &serde_json::Value) -> Result<Checkpoint, StreamError> {
    if value.as_object().is_some_and(|o| o.is_empty()) {
        return Ok(Checkpoint::default());
    }
    serde_json::from_value(value.clone()).map_err(|e| StreamError::Fatal(format!("bad checkpoint: {e}")))
}

/// What the blocking half reads: where a shard's reading resumes and where it stops, and how
/// its rows are batched.
struct ShardRead {
    installation: Installation,
    from: Checkpoint,
    end_offset: Option<u64>,
    run_id: i64,
    batch_size: usize,
}

/// The blocking half: reads rows, batches them and hands each step to the async half. Stops
/// quietly when the async half hangs up.
fn read_steps(
    file: Box<dyn herald_crowd::ReadSeek + Send>,
    format: CrowdFormat,
    read: ShardRead,
    tx: mpsc::Sender<Result<Step, StreamError>>,
) -> impl FnOnce() + Send + 'static {
    move || {
        let mut reader = match CrowdReader::open_range(file, &format, read.from, read.end_offset) {
            Ok(r) => r,
            Err(e) => {
                let _ = tx.blocking_send(Err(StreamError::Fatal(format!("crowd file unreadable: {e}"))));
                return;
            }
        };
        let mut batcher = Batcher::with_limit(read.installation, read.run_id, read.batch_size);
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
