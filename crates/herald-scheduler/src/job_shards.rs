//! The shard runner every scheduler node runs beside its fire claimer: it says the node is
//! alive, takes shards of sharded and broadcast jobs' fires as it has room (its own broadcast
//! shard, its share of the others, or one a dead node's lapsed lease left), runs each shard's
//! attempts while renewing its lease, and ends the fire when it ended the last shard.

use crate::scheduled_jobs::{Attempts, Firing, JobRunner};
use chrono::Duration;
use herald_core::scheduled_job::FireEnd;
use herald_store::{ClaimedJobShard, JobShardEnd, StoreError};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// How often a node looks for shards to take.
const POLL: std::time::Duration = std::time::Duration::from_millis(250);

pub struct ShardRunner {
    jobs: JobRunner,
    /// A shard's lease; renewed at a third of it, and a node not seen for this long is gone.
    lease: Duration,
    /// Shards running at once on this node.
    slots: Arc<tokio::sync::Semaphore>,
}

impl ShardRunner {
    /// `jobs` must take a node for gone after `lease` (see [`JobRunner::with_node_ttl`]).
    pub fn new(jobs: JobRunner, lease: Duration, slots: usize) -> Self {
        Self { jobs, lease, slots: Arc::new(tokio::sync::Semaphore::new(slots.max(1))) }
    }

    /// Heartbeats and takes shards until `shutdown` is cancelled; shards running then go on to
    /// their end in their own tasks (a stopped node's unfinished shard is taken over).
    pub async fn run(self, shutdown: CancellationToken) {
        let beat_every = (self.lease / 3).to_std().unwrap_or(POLL).max(POLL);
        let mut last_beat: Option<tokio::time::Instant> = None;
        let mut interval = tokio::time::interval(POLL);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = interval.tick() => {}
            }
            if last_beat.is_none_or(|at| at.elapsed() >= beat_every) {
                match self.jobs.store().heartbeat_node(self.jobs.node(), self.jobs.clock().now()).await {
                    Ok(()) => last_beat = Some(tokio::time::Instant::now()),
                    Err(e) => tracing::warn!(error = %e, "saying this node is alive failed; will retry"),
                }
            }
            if let Err(e) = self.take_shards().await {
                tracing::error!(error = %e, "taking job shards failed; will retry");
            }
        }
        tracing::info!("job shard runner stopped");
    }

    /// Takes shards while this node has a free slot and one is there to take.
    async fn take_shards(&self) -> Result<(), StoreError> {
        loop {
            let Ok(slot) = self.slots.clone().try_acquire_owned() else { return Ok(()) };
            let now = self.jobs.clock().now();
            let seen_since = now - self.jobs.node_ttl();
            let store = self.jobs.store();
            let Some(shard) = store.claim_job_shard(self.jobs.node(), now, self.lease, seen_since).await? else {
                return Ok(());
            };
            if shard.takeovers > 0 {
                tracing::warn!(fire_id = shard.fire_id, shard = %shard.shard.label(), "job shard taken over from a node whose lease lapsed");
            }
            let (jobs, lease) = (self.jobs.clone(), self.lease);
            tokio::spawn(async move {
                let _slot = slot;
                if let Err(e) = run_shard(&jobs, &shard, lease).await {
                    tracing::error!(fire_id = shard.fire_id, shard = %shard.shard.label(), error = %e, "running a job shard failed");
                }
            });
        }
    }
}

/// Runs one shard's attempts while keeping its lease; ends the fire when this was its last
/// shard. A lost lease (this node was stalled past it) stops the attempt: another node runs
/// the shard now.
async fn run_shard(jobs: &JobRunner, shard: &ClaimedJobShard, lease: Duration) -> Result<(), StoreError> {
    let job = match jobs.store().get_job(shard.job_id).await {
        Ok(job) => job.spec,
        Err(StoreError::NotFound { .. }) => return Ok(()),
        Err(e) => return Err(e),
    };
    let firing = Firing {
        fire_id: shard.fire_id,
        schedule_id: shard.schedule_id,
        param: shard.param.as_deref(),
        shard: Some(shard.shard),
    };
    let ended = tokio::select! {
        ended = jobs.attempts(shard.job_id, &job, &firing, None) => ended?,
        () = lease_lost(jobs, shard.id, lease) => {
            tracing::warn!(fire_id = shard.fire_id, shard = %shard.shard.label(), "job shard lease lost; another node runs it");
            return Ok(());
        }
    };
    let end = JobShardEnd {
        succeeded: ended.end == Some(FireEnd::Succeeded),
        output: ended.output.as_deref(),
        error: ended.error.as_deref(),
    };
    let Some(last) = jobs.store().end_job_shard(shard.id, jobs.node(), &end).await? else { return Ok(()) };
    let outcome = if last.failed == 0 { FireEnd::Succeeded } else { FireEnd::Failed };
    tracing::info!(fire_id = shard.fire_id, shards = last.total, failed = last.failed, "sharded job fire ended");
    let fire = Attempts { error: last.error, output: last.output, end: Some(outcome) };
    jobs.end_fire(shard.job_id, &job, &Firing { shard: None, ..firing }, fire).await
}

/// Renews the shard's lease at a third of it; returns once it was lost.
async fn lease_lost(jobs: &JobRunner, id: i64, lease: Duration) {
    let every = (lease / 3).to_std().unwrap_or(POLL).max(POLL);
    loop {
        tokio::time::sleep(every).await;
        let until = jobs.clock().now() + lease;
        match jobs.store().renew_job_shard(id, jobs.node(), until).await {
            Ok(true) => {}
            Ok(false) => return,
            // A store fault is not a lost lease: the next renewal may get through.
            Err(e) => tracing::warn!(error = %e, "renewing a job shard's lease failed"),
        }
    }
}
