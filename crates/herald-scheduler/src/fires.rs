//! Claiming due fires on a short poll. What a fire does is decided by `herald_core::fire::decide`
//! (misfire policy, no crowd, the next fire), which the store applies in one transaction with
//! the fire-ledger row and the run; this loop decides when to ask, logs what happened and runs
//! housekeeping fires' jobs and scheduled jobs' fires beside the claiming.

use crate::jobs::Housekeeping;
use crate::scheduled_jobs::JobRunner;
use chrono::{DateTime, Duration, Utc};
use herald_core::{Clock, InvalidSetting};
use herald_store::{ClaimedFire, FireOutcome, Store, StoreError};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// The `[scheduler]` settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SchedulerConfig {
    /// How often to look for due fires, in milliseconds (jittered); the claimer also wakes for
    /// the soonest schedule's next fire.
    pub poll_ms: u64,
    /// A fire later than this follows its schedule's misfire policy.
    pub misfire_grace_secs: i64,
    /// Fires claimed per transaction.
    pub claim_batch: i64,
    /// Scheduled jobs' runs going at once on this node; later fires wait for a slot. Shards of
    /// sharded and broadcast jobs have as many slots of their own.
    pub job_slots: usize,
    /// A job shard's lease, in seconds: a node renews it at a third while it runs the shard,
    /// and a node not seen for this long is taken for gone (its shards are taken over).
    pub shard_lease_secs: i64,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        Self { poll_ms: 250, misfire_grace_secs: 60, claim_batch: 200, job_slots: 64, shard_lease_secs: 15 }
    }
}

impl SchedulerConfig {
    /// Refuses values the fire claimer cannot work with, naming the key.
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        InvalidSetting::check_range("poll_ms", self.poll_ms, 1, 60_000)?;
        InvalidSetting::check_range("misfire_grace_secs", self.misfire_grace_secs, 0, 86_400 * 365)?;
        InvalidSetting::check_range("claim_batch", self.claim_batch, 1, 100_000)?;
        InvalidSetting::check_range("job_slots", self.job_slots, 1, 10_000)?;
        InvalidSetting::check_range("shard_lease_secs", self.shard_lease_secs, 3, 3_600)
    }

    /// A job shard's lease.
    pub fn shard_lease(&self) -> Duration {
        Duration::seconds(self.shard_lease_secs)
    }

    fn grace(&self) -> Duration {
        Duration::seconds(self.misfire_grace_secs)
    }
}

pub struct FireClaimer {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    config: SchedulerConfig,
    /// Who claims, written to each fire's ledger row (the node's id).
    claimer: String,
    housekeeping: Housekeeping,
    housekeeping_slots: Arc<tokio::sync::Semaphore>,
    jobs: Option<JobRunner>,
    job_slots: Arc<tokio::sync::Semaphore>,
    running: std::sync::Mutex<std::collections::HashMap<i64, Arc<tokio::sync::Mutex<()>>>>,
}

/// Housekeeping jobs running at once.
const HOUSEKEEPING_SLOTS: usize = 4;

impl FireClaimer {
    /// A claimer named `claimer` in the fire ledger; `config` is assumed validated.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, claimer: String, config: SchedulerConfig) -> Self {
        let housekeeping_slots = Arc::new(tokio::sync::Semaphore::new(HOUSEKEEPING_SLOTS));
        let job_slots = Arc::new(tokio::sync::Semaphore::new(config.job_slots));
        Self {
            store,
            clock,
            config,
            claimer,
            housekeeping: Housekeeping::default(),
            housekeeping_slots,
            jobs: None,
            job_slots,
            running: Default::default(),
        }
    }

    pub fn with_housekeeping(mut self, housekeeping: Housekeeping) -> Self {
        self.housekeeping = housekeeping;
        self
    }

    /// Runs scheduled jobs' fires with `jobs`; without it they are claimed and left `fired`.
    pub fn with_jobs(mut self, jobs: JobRunner) -> Self {
        self.jobs = Some(jobs);
        self
    }

    /// Claims every fire due now, a page (`claim_batch`) at a time, starting each page's
    /// housekeeping and scheduled jobs' fires before claiming the next, so a long backlog is
    /// never held in memory; answers how many fires it claimed. The jobs run in tasks of their
    /// own (a few at a time), so a slow provider or a long quiet-hours release never holds up the
    /// claiming of due fires.
    pub async fn tick(&self) -> Result<usize, StoreError> {
        let mut claimed = 0;
        loop {
            let (now, batch) = (self.clock.now(), self.config.claim_batch);
            let began = std::time::Instant::now();
            let fires = self.store.claim_due_fires(&self.claimer, now, self.config.grace(), batch).await?;
            let took = began.elapsed();
            metrics::histogram!("herald_fire_claim_seconds").record(took.as_secs_f64());
            tracing::debug!(fires = fires.len(), ?took, "claimed a page of due fires");
            claimed += fires.len();
            self.start(&fires);
            if (fires.len() as i64) < batch {
                return Ok(claimed);
            }
        }
    }

    /// Logs a page of claimed fires and starts the housekeeping and scheduled jobs' ones.
    fn start(&self, fires: &[ClaimedFire]) {
        for fire in fires {
            log_fire(fire);
        }
        let fired = fires.iter().filter(|f| f.template_id.is_none() && f.outcome == FireOutcome::Fired);
        for fire in fired.clone().filter(|f| f.job_id.is_some()) {
            self.spawn_job(fire.clone());
        }
        let skipped_jobs = fires.iter().filter(|f| f.job_id.is_some() && f.outcome == FireOutcome::MisfireSkipped);
        for fire in skipped_jobs {
            if let Some(jobs) = self.jobs.clone() {
                let fire = fire.clone();
                tokio::spawn(async move { jobs.skipped(&fire).await });
            }
        }
        for fire in fired.filter(|f| f.job_id.is_none()) {
            let (housekeeping, store, clock, fire) =
                (self.housekeeping.clone(), self.store.clone(), self.clock.clone(), fire.clone());
            let permits = self.housekeeping_slots.clone();
            let schedule_lock = self.schedule_lock(fire.schedule_id);
            tokio::spawn(async move {
                // One run per schedule at a time: a release still publishing when the next
                // minute fires must finish before the next one reads what is due.
                let _running = schedule_lock.lock().await;
                let Ok(_permit) = permits.acquire_owned().await else { return };
                housekeeping.run(store.as_ref(), clock.as_ref(), &fire).await;
            });
        }
    }

    /// Runs a scheduled job's fire in a task of its own once a job slot is free.
    fn spawn_job(&self, fire: ClaimedFire) {
        let Some(jobs) = self.jobs.clone() else {
            tracing::warn!(fire_id = fire.fire_id, job_id = fire.job_id, "no job runner on this node; fire left unrun");
            return;
        };
        let slots = self.job_slots.clone();
        tokio::spawn(async move {
            let Ok(_slot) = slots.acquire_owned().await else { return };
            jobs.run(&fire).await;
        });
    }

    fn schedule_lock(&self, schedule_id: i64) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.running.lock().expect("housekeeping locks");
        locks.entry(schedule_id).or_default().clone()
    }

    /// Ticks until `shutdown` is cancelled, each tick a random half to one and a half polls after
    /// the last one started (nodes polling in a fixed phase would leave the fires of each second
    /// to whichever node's phase comes first after it, every second), or sooner, when the soonest
    /// schedule's next fire comes first: a fire is claimed as it comes due, not up to a poll late.
    pub async fn run(self, shutdown: CancellationToken) {
        let poll = std::time::Duration::from_millis(self.config.poll_ms);
        let mut started = tokio::time::Instant::now();
        // Before the first tick every due fire is new to this loop.
        let mut tick_began = DateTime::<Utc>::MIN_UTC;
        loop {
            let wake = self.next_wake(started + jittered(poll), tick_began).await;
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep_until(wake) => {}
            }
            (started, tick_began) = (tokio::time::Instant::now(), self.clock.now());
            if let Err(e) = self.tick().await {
                tracing::error!(error = %e, "claiming due fires failed; will retry");
            }
        }
        tracing::info!("fire claimer stopped");
    }

    /// `poll_at`, or the soonest schedule's next fire when that comes first (at once when it came
    /// due after the last tick began). A fire already due when the last tick began and due still
    /// is another node's (locked while it claims) or one this node passes over: it waits for
    /// the poll instead of waking this loop at once, again and again.
    async fn next_wake(&self, poll_at: tokio::time::Instant, tick_began: DateTime<Utc>) -> tokio::time::Instant {
        let soonest = match self.store.soonest_fire_at().await {
            Ok(soonest) => soonest,
            Err(e) => {
                tracing::warn!(error = %e, "reading the soonest next fire failed; waiting for the poll");
                None
            }
        };
        match soonest {
            Some(at) if at > tick_began => {
                let wait = (at - self.clock.now()).to_std().unwrap_or_default();
                poll_at.min(tokio::time::Instant::now() + wait)
            }
            _ => poll_at,
        }
    }
}

/// `poll` times a random factor from a half to one and a half.
fn jittered(poll: std::time::Duration) -> std::time::Duration {
    use std::hash::{BuildHasher, Hasher};
    // Each RandomState is keyed afresh: its hash of nothing is a random number.
    let random = std::collections::hash_map::RandomState::new().build_hasher().finish();
    poll.mul_f64(0.5 + random as f64 / u64::MAX as f64)
}

fn log_fire(fire: &ClaimedFire) {
    metrics::counter!("herald_fires_total", "outcome" => fire.outcome.as_str()).increment(1);
    metrics::histogram!("herald_fire_lateness_seconds").record(fire.lateness_ms as f64 / 1_000.0);
    match fire.outcome {
        FireOutcome::Fired => tracing::info!(
            schedule_id = fire.schedule_id,
            template_id = fire.template_id,
            run_id = fire.run_id,
            fire_time = %fire.fire_time,
            lateness_ms = fire.lateness_ms,
            "schedule fired"
        ),
        FireOutcome::MisfireSkipped => tracing::warn!(
            schedule_id = fire.schedule_id,
            template_id = fire.template_id,
            fire_time = %fire.fire_time,
            lateness_ms = fire.lateness_ms,
            outcome = fire.outcome.as_str(),
            "schedule fire not sent"
        ),
        // A template armed before it has a crowd: expected, counted in the ledger and the
        // metric, and not worth a line every fire.
        FireOutcome::NoCrowd => tracing::debug!(
            schedule_id = fire.schedule_id,
            template_id = fire.template_id,
            fire_time = %fire.fire_time,
            "schedule fired without a crowd to send to"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::jittered;
    use std::time::Duration;

    #[test]
    fn polls_are_spread_over_half_to_one_and_a_half_periods() {
        let poll = Duration::from_millis(250);
        let waits: Vec<Duration> = (0..200).map(|_| jittered(poll)).collect();
        assert!(waits.iter().all(|w| *w >= poll / 2 && *w <= poll * 3 / 2), "{waits:?}");
        let early = waits.iter().filter(|w| **w < poll).count();
        assert!((50..150).contains(&early), "about half come early: {early}");
    }
}
