//! Running a scheduled job's fire: its overlap rule against a run still going (on any node),
//! then attempts with a timeout and retries with backoff, each written to the run log, and the
//! fire's outcome to the ledger. What an attempt calls (HTTP or a command) is the binary's
//! [`JobCall`], which knows the outbound-address policy and which commands the node runs.

use crate::alarms::{Alarms, Subject};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use herald_core::Clock;
use herald_core::scheduled_job::{FireEnd, JobSpec, Overlap, Shard};
use herald_store::{ClaimedFire, JobRunEnd, JobRunOutcome, JobRunRecord, JobRunStart, ShardedFire, Store, StoreError};
use std::sync::Arc;

/// The most of an answer the run log keeps.
pub const MAX_OUTPUT_BYTES: usize = 4_096;
/// How often a waiting fire (serial rule) or a replaceable attempt looks at the store.
const POLL: std::time::Duration = std::time::Duration::from_millis(200);
/// A run is taken for abandoned (its node died) this long after its job's longest run.
const ABANDON_AFTER: Duration = Duration::seconds(30);

/// How a job's call ended: an HTTP answer, or a command's exit.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The HTTP status, or the command's exit code.
    pub code: i32,
    /// The answer's body, or the command's output (stdout and stderr as they came), at most
    /// [`MAX_OUTPUT_BYTES`] of it kept.
    pub body: Vec<u8>,
}

/// Which run an attempt belongs to, for a command's environment, and the fire's parameter.
#[derive(Debug, Clone, Copy)]
pub struct Attempting<'a> {
    pub job_id: i64,
    pub fire_id: i64,
    pub attempt: u32,
    pub node: &'a str,
    /// Given to run now, or a parent job's output.
    pub param: Option<&'a str>,
    /// The shard this call runs, for a sharded or broadcast job.
    pub shard: Option<Shard>,
}

/// The fire an attempt runs for, and which of its shards.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Firing<'a> {
    pub fire_id: i64,
    pub schedule_id: i64,
    pub param: Option<&'a str>,
    pub shard: Option<Shard>,
}

/// How a fire's (or a shard's) attempts ended.
pub(crate) struct Attempts {
    /// The last attempt's error, or its outcome when it did not succeed.
    pub error: Option<String>,
    /// The last attempt's output.
    pub output: Option<String>,
    /// None when a newer fire replaced it.
    pub end: Option<FireEnd>,
}

/// Why a call brought no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// None came within the job's timeout.
    TimedOut,
    /// The call could not be made or was cut off (a refused address, a connection fault, a
    /// command this node does not run or that was killed by a signal).
    Failed(String),
}

/// Makes a job's call once, giving up at `timeout`; dropped before it ends, it leaves nothing
/// running (a command's processes are killed).
#[async_trait]
pub trait JobCall: Send + Sync {
    async fn call(
        &self,
        job: &JobSpec,
        attempting: Attempting<'_>,
        timeout: std::time::Duration,
    ) -> Result<Answer, CallError>;
}

/// A serial job's semaphore on this node, by job and its `maxConcurrent`.
type SerialLocks = std::collections::HashMap<(i64, u32), Arc<tokio::sync::Semaphore>>;

#[derive(Clone)]
pub struct JobRunner {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    call: Arc<dyn JobCall>,
    /// This node, written to each run.
    node: String,
    /// At most `maxConcurrent` runs per serial job on this node, retry waits included (other
    /// nodes' runs are waited for through the store).
    serial: Arc<std::sync::Mutex<SerialLocks>>,
    /// Tells whom each job's alarms name of how its fires ended.
    alarms: Option<Alarms>,
    /// A node is taken for gone when not seen for this long (sharded and broadcast jobs).
    node_ttl: Duration,
}

/// What a job's overlap rule made of a fire.
enum Admission {
    /// Discarded: the job's limit of runs was still going.
    Discarded,
    /// To run; its first attempt's start already written when the limit was checked with it.
    Run { first_run: Option<i64> },
}

/// How one attempt ended.
struct Attempt {
    outcome: JobRunOutcome,
    status: Option<i32>,
    output: Option<String>,
    error: Option<String>,
}

impl JobRunner {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, call: Arc<dyn JobCall>, node: String) -> Self {
        Self { store, clock, call, node, serial: Default::default(), alarms: None, node_ttl: Duration::seconds(15) }
    }

    /// Sends each job's alarms after its fires.
    pub fn with_alarms(mut self, alarms: Alarms) -> Self {
        self.alarms = Some(alarms);
        self
    }

    /// Takes a node for gone when not seen for `ttl`: a broadcast fire has no shard for it, and
    /// a pending shard of its own is taken by another.
    pub fn with_node_ttl(mut self, ttl: Duration) -> Self {
        self.node_ttl = ttl;
        self
    }

    pub(crate) fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    pub(crate) fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    pub(crate) fn node(&self) -> &str {
        &self.node
    }

    pub(crate) fn node_ttl(&self) -> Duration {
        self.node_ttl
    }

    /// Raises the misfire alarm of the job a skipped fire was for.
    pub async fn skipped(&self, fire: &ClaimedFire) {
        let Some(job_id) = fire.job_id else { return };
        match self.store.get_job(job_id).await {
            Ok(job) => {
                let detail =
                    format!("the fire of {} came {} ms late and was skipped", fire.fire_time, fire.lateness_ms);
                self.alarm(fire.schedule_id, &job.spec, FireEnd::Skipped, &detail).await;
            }
            Err(e) => tracing::error!(job_id, error = %e, "reading a job for its misfire alarm failed"),
        }
    }

    /// Raises the job's `stuck` alarm, in a task of its own, if the attempt about to start is
    /// still going after `stuckAfterSecs`; the caller aborts it when the attempt ends.
    fn watch_for_stuck(&self, schedule_id: i64, job: &JobSpec) -> Option<tokio::task::JoinHandle<()>> {
        let spec = job.alarms.clone()?;
        let secs = spec.stuck_after_secs?;
        let alarms = self.alarms.clone()?;
        let name = job.name.clone();
        Some(tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_secs(u64::from(secs))).await;
            // Sent on its own, so an attempt that ends meanwhile does not cut it off halfway.
            tokio::spawn(async move {
                let subject = Subject { schedule_id, name: &name, spec: &spec };
                alarms.stuck(subject, secs).await;
            });
        }))
    }

    async fn alarm(&self, schedule_id: i64, job: &JobSpec, end: FireEnd, detail: &str) {
        if let (Some(alarms), Some(spec)) = (&self.alarms, &job.alarms) {
            let subject = Subject { schedule_id, name: &job.name, spec };
            alarms.after_fire(subject, end, detail).await;
        }
    }

    /// Runs the job `fire` is for and records every attempt and the fire's outcome; a store
    /// fault is logged (the fire stays `fired` in the ledger).
    pub async fn run(&self, fire: &ClaimedFire) {
        let Some(job_id) = fire.job_id else { return };
        if let Err(e) = self.run_job(job_id, fire).await {
            tracing::error!(job_id, fire_id = fire.fire_id, error = %e, "running a scheduled job failed");
        }
    }

    async fn run_job(&self, job_id: i64, fire: &ClaimedFire) -> Result<(), StoreError> {
        let job = match self.store.get_job(job_id).await {
            Ok(job) => job.spec,
            Err(StoreError::NotFound { .. }) => return Ok(()),
            Err(e) => return Err(e),
        };
        let serial_lock = (job.overlap == Overlap::Serial).then(|| self.serial_lock(job_id, job.max_concurrent));
        let _serial = match &serial_lock {
            Some(lock) => Some(lock.acquire().await.expect("a job's semaphore is never closed")),
            None => None,
        };
        let Admission::Run { first_run } = self.make_room(job_id, &job, fire.fire_id).await? else {
            let now = self.clock.now();
            let discarded = self.run_start(job_id, fire.fire_id, None, 0, JobRunOutcome::Discarded, now);
            let run = self.store.start_job_run(&discarded).await?;
            tracing::warn!(job_id, run_id = run, "job fire discarded: its last run is still going");
            let error = "discarded: the job's limit of runs was still going";
            self.store.complete_job_fire(fire.fire_id, Some(error), now).await?;
            self.alarm(fire.schedule_id, &job, FireEnd::Discarded, error).await;
            return Ok(());
        };
        let firing =
            Firing { fire_id: fire.fire_id, schedule_id: fire.schedule_id, param: fire.param.as_deref(), shard: None };
        if job.sharding.is_some() {
            // Each node's shard runner takes the shards; the one ending the last ends the fire.
            return self.plan_shards(job_id, &job, &firing).await;
        }
        let ended = self.attempts(job_id, &job, &firing, first_run).await?;
        self.end_fire(job_id, &job, &firing, ended).await
    }

    /// Writes the shards of a sharded or broadcast fire: a broadcast has one per node seen
    /// lately (this one at least), each to run there.
    async fn plan_shards(&self, job_id: i64, job: &JobSpec, firing: &Firing<'_>) -> Result<(), StoreError> {
        let Some(sharding) = &job.sharding else { return Ok(()) };
        let mut live = self.store.live_nodes(self.clock.now() - self.node_ttl).await?;
        if live.is_empty() {
            live.push(self.node.clone());
        }
        let total = sharding.shards_for(live.len()) as usize;
        let nodes = match sharding.mode {
            herald_core::scheduled_job::ShardMode::Broadcast => live.into_iter().map(Some).take(total).collect(),
            herald_core::scheduled_job::ShardMode::Shards => vec![None; total],
        };
        let planned = ShardedFire {
            fire_id: firing.fire_id,
            job_id,
            schedule_id: firing.schedule_id,
            param: firing.param,
            nodes,
            at: self.clock.now(),
        };
        self.store.plan_job_shards(&planned).await?;
        tracing::info!(job_id, fire_id = firing.fire_id, shards = total, "job fire split into shards");
        Ok(())
    }

    /// Runs the attempts of a fire (or of one of its shards): the first (`first_run` when its
    /// start was written already), then retries with backoff until one succeeds or a newer fire
    /// replaces it, each written to the run log.
    pub(crate) async fn attempts(
        &self,
        job_id: i64,
        job: &JobSpec,
        firing: &Firing<'_>,
        first_run: Option<i64>,
    ) -> Result<Attempts, StoreError> {
        let mut ended_as = Attempts { error: None, output: None, end: None };
        for attempt in 1..=job.retries.max + 1 {
            let wait = job.retries.wait_before(attempt).to_std().unwrap_or_default();
            tokio::time::sleep(wait).await;
            let run_id = match first_run.filter(|_| attempt == 1) {
                Some(run_id) => run_id,
                None => {
                    let now = self.clock.now();
                    let start = self.run_start(
                        job_id,
                        firing.fire_id,
                        firing.shard,
                        attempt as i32,
                        JobRunOutcome::Running,
                        now,
                    );
                    self.store.start_job_run(&start).await?
                }
            };
            let attempting = Attempting {
                job_id,
                fire_id: firing.fire_id,
                attempt,
                node: &self.node,
                param: firing.param,
                shard: firing.shard,
            };
            let watchdog = self.watch_for_stuck(firing.schedule_id, job);
            let ended = self.attempt(job, attempting, run_id).await;
            if let Some(watchdog) = watchdog {
                watchdog.abort();
            }
            self.finish(run_id, &ended).await?;
            metrics::counter!("herald_job_runs_total", "outcome" => ended.outcome.as_str()).increment(1);
            ended_as.error = ended
                .error
                .clone()
                .or_else(|| (ended.outcome != JobRunOutcome::Succeeded).then(|| ended.outcome.as_str().to_string()));
            ended_as.end = fire_end(ended.outcome);
            ended_as.output.clone_from(&ended.output);
            if matches!(ended.outcome, JobRunOutcome::Succeeded | JobRunOutcome::Replaced) {
                break;
            }
        }
        Ok(ended_as)
    }

    /// Writes a fire's outcome to the ledger, then tells its alarms and triggers its children.
    pub(crate) async fn end_fire(
        &self,
        job_id: i64,
        job: &JobSpec,
        firing: &Firing<'_>,
        ended: Attempts,
    ) -> Result<(), StoreError> {
        if let Some(error) = &ended.error {
            tracing::warn!(job_id, fire_id = firing.fire_id, error = %error, "scheduled job failed");
        }
        self.store.complete_job_fire(firing.fire_id, ended.error.as_deref(), self.clock.now()).await?;
        if let Some(end) = ended.end {
            self.alarm(firing.schedule_id, job, end, ended.error.as_deref().unwrap_or("")).await;
            self.trigger_children(job_id, job, end == FireEnd::Succeeded, ended.output.as_deref()).await;
        }
        Ok(())
    }

    /// Asks for a fire of each child whose condition the fire's end meets, with the output as
    /// its parameter; a child that is gone is logged and passed over.
    async fn trigger_children(&self, job_id: i64, job: &JobSpec, succeeded: bool, output: Option<&str>) {
        let now = self.clock.now();
        for child in job.children.iter().filter(|c| c.on.holds(succeeded)) {
            let asked = match self.store.job_id_named(&child.job).await {
                Ok(child_id) => self.store.trigger_job(child_id, now, Some(output.unwrap_or_default())).await,
                Err(e) => Err(e),
            };
            match asked {
                Ok(()) => tracing::info!(job_id, child = %child.job, "child job triggered"),
                Err(e) => tracing::error!(job_id, child = %child.job, error = %e, "a child job could not be triggered"),
            }
        }
    }

    fn serial_lock(&self, job_id: i64, max_concurrent: u32) -> Arc<tokio::sync::Semaphore> {
        let permits = max_concurrent.max(1) as usize;
        let mut locks = self.serial.lock().expect("serial job locks");
        locks.entry((job_id, max_concurrent)).or_insert_with(|| Arc::new(tokio::sync::Semaphore::new(permits))).clone()
    }

    /// Applies the overlap rule when the job's limit of runs is still going. Under the discard
    /// and serial rules the first attempt's start is written with the count of runs going, in
    /// one transaction, so two nodes admitting fires at once cannot both take the last room.
    async fn make_room(&self, job_id: i64, job: &JobSpec, fire_id: i64) -> Result<Admission, StoreError> {
        let limit = job.max_concurrent.max(1) as usize;
        let checked_at_start = job.overlap != Overlap::Replace && job.sharding.is_none();
        loop {
            let running = by_fire(self.live_runs(job_id, job).await?);
            if running.len() < limit && !checked_at_start {
                return Ok(Admission::Run { first_run: None });
            }
            if running.len() < limit {
                let start = self.run_start(job_id, fire_id, None, 1, JobRunOutcome::Running, self.clock.now());
                if let Some(run_id) = self.store.start_job_run_within(&start, job.max_concurrent).await? {
                    return Ok(Admission::Run { first_run: Some(run_id) });
                }
                // Another node's fire took the room since: the rule again.
                continue;
            }
            match job.overlap {
                Overlap::Discard => return Ok(Admission::Discarded),
                Overlap::Replace => {
                    // The oldest go (every shard of a sharded one), leaving room for this one.
                    let over = running.len() + 1 - limit;
                    for run in running.into_iter().take(over).flatten() {
                        self.store.ask_job_run_stop(run).await?;
                    }
                    return Ok(Admission::Run { first_run: None });
                }
                Overlap::Serial => tokio::time::sleep(POLL).await,
            }
        }
    }

    /// The job's running attempts, after marking those abandoned whose node stopped long ago.
    async fn live_runs(&self, job_id: i64, job: &JobSpec) -> Result<Vec<JobRunRecord>, StoreError> {
        let now = self.clock.now();
        let mut live = Vec::new();
        for run in self.store.running_job_runs(job_id).await? {
            if run.started_at + job.longest_run() + ABANDON_AFTER < now {
                let error = "its node stopped answering for it";
                let end = JobRunEnd {
                    outcome: JobRunOutcome::Abandoned,
                    at: now,
                    status_code: None,
                    output: None,
                    error: Some(error),
                };
                self.store.finish_job_run(run.id, &end).await?;
            } else {
                live.push(run);
            }
        }
        Ok(live)
    }

    /// One attempt: the call within the job's timeout, raced (under the replace rule) with a
    /// stop asked by a newer fire.
    async fn attempt(&self, job: &JobSpec, attempting: Attempting<'_>, run_id: i64) -> Attempt {
        let timeout = std::time::Duration::from_millis(job.timeout_ms);
        let call = tokio::time::timeout(timeout, self.call.call(job, attempting, timeout));
        let answered = if job.overlap == Overlap::Replace {
            tokio::select! {
                answered = call => answered,
                () = self.stop_asked(run_id) => return Attempt::ended(JobRunOutcome::Replaced, "stopped by a newer fire"),
            }
        } else {
            call.await
        };
        let timed_out = || Attempt::ended(JobRunOutcome::TimedOut, &format!("no answer within {} ms", job.timeout_ms));
        match answered {
            Err(_) | Ok(Err(CallError::TimedOut)) => timed_out(),
            Ok(Err(CallError::Failed(error))) => Attempt::ended(JobRunOutcome::Failed, &error),
            Ok(Ok(answer)) => {
                let judged = job.judge(answer.code, &answer.body);
                Attempt {
                    outcome: if judged.is_ok() { JobRunOutcome::Succeeded } else { JobRunOutcome::Failed },
                    status: Some(answer.code),
                    output: Some(output_of(&answer.body)),
                    error: judged.err(),
                }
            }
        }
    }

    /// Returns once a stop is asked for `run_id` (or its row is gone).
    async fn stop_asked(&self, run_id: i64) {
        loop {
            tokio::time::sleep(POLL).await;
            if self.store.job_run_stop_asked(run_id).await.unwrap_or(false) {
                return;
            }
        }
    }

    /// An attempt's start, as the run log takes it.
    fn run_start(
        &self,
        job_id: i64,
        fire_id: i64,
        shard: Option<Shard>,
        attempt: i32,
        outcome: JobRunOutcome,
        at: DateTime<Utc>,
    ) -> JobRunStart<'_> {
        JobRunStart { job_id, fire_id: Some(fire_id), attempt, node: &self.node, outcome, at, shard }
    }

    async fn finish(&self, run_id: i64, ended: &Attempt) -> Result<(), StoreError> {
        let end = JobRunEnd {
            outcome: ended.outcome,
            at: self.clock.now(),
            status_code: ended.status,
            output: ended.output.as_deref(),
            error: ended.error.as_deref(),
        };
        self.store.finish_job_run(run_id, &end).await
    }
}

/// Running attempts grouped by their fire, oldest fire first: the runs a job's limit counts
/// (the shards of one sharded fire are one run).
fn by_fire(runs: Vec<JobRunRecord>) -> Vec<Vec<i64>> {
    let mut fires: Vec<(Option<i64>, Vec<i64>)> = Vec::new();
    for run in runs {
        match fires.iter_mut().find(|(fire, _)| run.fire_id.is_some() && *fire == run.fire_id) {
            Some((_, ids)) => ids.push(run.id),
            None => fires.push((run.fire_id, vec![run.id])),
        }
    }
    fires.into_iter().map(|(_, ids)| ids).collect()
}

/// How a fire whose last attempt ended so ended, for its alarms; None for a replaced one
/// (a newer fire took its place).
fn fire_end(outcome: JobRunOutcome) -> Option<FireEnd> {
    match outcome {
        JobRunOutcome::Succeeded => Some(FireEnd::Succeeded),
        JobRunOutcome::TimedOut => Some(FireEnd::TimedOut),
        JobRunOutcome::Replaced => None,
        _ => Some(FireEnd::Failed),
    }
}

impl Attempt {
    fn ended(outcome: JobRunOutcome, error: &str) -> Self {
        Self { outcome, status: None, output: None, error: Some(error.to_string()) }
    }
}

/// The start of an answer as text, at most [`MAX_OUTPUT_BYTES`], cut on a character boundary.
fn output_of(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(MAX_OUTPUT_BYTES)]);
    let mut end = text.len().min(MAX_OUTPUT_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_capped_on_a_character_boundary() {
        assert_eq!(output_of(b"ok"), "ok");
        let long = "é".repeat(MAX_OUTPUT_BYTES);
        let kept = output_of(long.as_bytes());
        assert!(kept.len() <= MAX_OUTPUT_BYTES && kept.chars().all(|c| c == 'é'), "{}", kept.len());
    }
}
