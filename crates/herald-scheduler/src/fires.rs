//! Claiming due fires on a short poll. The store does the claim in one transaction; this loop
//! only decides when to ask and logs what happened.

use crate::housekeeping::Housekeeping;
use chrono::Duration;
use herald_core::Clock;
use herald_store::{ClaimedFire, FireOutcome, Store, StoreError};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
pub struct FireClaimerConfig {
    /// How often to look for due fires.
    pub poll: std::time::Duration,
    /// A fire later than this follows its schedule's misfire policy.
    pub grace: Duration,
    /// Fires claimed per transaction.
    pub batch: i64,
    /// Who claims, written to each fire's ledger row (the node's id).
    pub claimer: String,
}

impl Default for FireClaimerConfig {
    fn default() -> Self {
        Self {
            poll: std::time::Duration::from_millis(250),
            grace: Duration::seconds(60),
            batch: 200,
            claimer: "local".to_string(),
        }
    }
}

pub struct FireClaimer {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    config: FireClaimerConfig,
    housekeeping: Housekeeping,
    housekeeping_slots: Arc<tokio::sync::Semaphore>,
    running: std::sync::Mutex<std::collections::HashMap<i64, Arc<tokio::sync::Mutex<()>>>>,
}

/// Housekeeping jobs running at once.
const HOUSEKEEPING_SLOTS: usize = 4;

impl FireClaimer {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, config: FireClaimerConfig) -> Self {
        let housekeeping_slots = Arc::new(tokio::sync::Semaphore::new(HOUSEKEEPING_SLOTS));
        Self {
            store,
            clock,
            config,
            housekeeping: Housekeeping::default(),
            housekeeping_slots,
            running: Default::default(),
        }
    }

    pub fn with_housekeeping(mut self, housekeeping: Housekeeping) -> Self {
        self.housekeeping = housekeeping;
        self
    }

    /// Claims every fire due now and runs the housekeeping ones; returns them in claim order.
    /// Housekeeping jobs run in tasks of their own (a few at a time), so a slow provider or a
    /// long quiet-hours release never holds up the claiming of due fires.
    pub async fn tick(&self) -> Result<Vec<ClaimedFire>, StoreError> {
        let fires = self.claim_due().await?;
        for fire in fires.iter().filter(|f| f.template_id.is_none() && f.outcome == FireOutcome::Fired) {
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
        Ok(fires)
    }

    fn schedule_lock(&self, schedule_id: i64) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.running.lock().expect("housekeeping locks");
        locks.entry(schedule_id).or_default().clone()
    }

    async fn claim_due(&self) -> Result<Vec<ClaimedFire>, StoreError> {
        let mut all = Vec::new();
        loop {
            let now = self.clock.now();
            let fires =
                self.store.claim_due_fires(&self.config.claimer, now, self.config.grace, self.config.batch).await?;
            let done = (fires.len() as i64) < self.config.batch;
            for fire in &fires {
                log_fire(fire);
            }
            all.extend(fires);
            if done {
                return Ok(all);
            }
        }
    }

    /// Ticks until `shutdown` is cancelled.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut interval = tokio::time::interval(self.config.poll);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = interval.tick() => {}
            }
            if let Err(e) = self.tick().await {
                tracing::error!(error = %e, "claiming due fires failed; will retry");
            }
        }
        tracing::info!("fire claimer stopped");
    }
}

fn log_fire(fire: &ClaimedFire) {
    match fire.outcome {
        FireOutcome::Fired => tracing::info!(
            schedule_id = fire.schedule_id,
            template_id = fire.template_id,
            run_id = fire.run_id,
            fire_time = %fire.fire_time,
            lateness_ms = fire.lateness_ms,
            "schedule fired"
        ),
        other => tracing::warn!(
            schedule_id = fire.schedule_id,
            template_id = fire.template_id,
            fire_time = %fire.fire_time,
            lateness_ms = fire.lateness_ms,
            outcome = other.as_str(),
            "schedule fire not sent"
        ),
    }
}
