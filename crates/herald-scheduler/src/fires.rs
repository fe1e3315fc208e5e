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
}

impl Default for FireClaimerConfig {
    fn default() -> Self {
        Self { poll: std::time::Duration::from_millis(250), grace: Duration::seconds(60), batch: 200 }
    }
}

pub struct FireClaimer {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    config: FireClaimerConfig,
    housekeeping: Housekeeping,
}

impl FireClaimer {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, config: FireClaimerConfig) -> Self {
        Self { store, clock, config, housekeeping: Housekeeping::default() }
    }

    pub fn with_housekeeping(mut self, housekeeping: Housekeeping) -> Self {
        self.housekeeping = housekeeping;
        self
    }

    /// Claims every fire due now and runs the housekeeping ones; returns them in claim order.
    pub async fn tick(&self) -> Result<Vec<ClaimedFire>, StoreError> {
        let fires = self.claim_due().await?;
        for fire in fires.iter().filter(|f| f.template_id.is_none() && f.outcome == FireOutcome::Fired) {
            self.housekeeping.run(self.store.as_ref(), self.clock.as_ref(), fire).await;
        }
        Ok(fires)
    }

    async fn claim_due(&self) -> Result<Vec<ClaimedFire>, StoreError> {
        let mut all = Vec::new();
        loop {
            let now = self.clock.now();
            let fires = self.store.claim_due_fires(now, self.config.grace, self.config.batch).await?;
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
