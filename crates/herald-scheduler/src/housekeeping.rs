//! Housekeeping jobs: schedules that are not templates' (token refresh, and later quiet-hours
//! release and retention) run a registered job when they fire. The outcome is written to the
//! fire ledger; a failure brings the schedule's next fire forward so the job is retried soon.

use async_trait::async_trait;
use chrono::Duration;
use herald_core::Clock;
use herald_store::{ClaimedFire, Store};
use std::collections::HashMap;
use std::sync::Arc;

pub use herald_core::job::schedule_kinds::TOKEN_REFRESH;

#[async_trait]
pub trait HousekeepingJob: Send + Sync {
    /// Runs the job for one fire; the error is recorded and the job retried.
    async fn run(&self, fire: &ClaimedFire) -> Result<(), String>;
}

#[derive(Clone, Default)]
pub struct Housekeeping {
    jobs: HashMap<String, Arc<dyn HousekeepingJob>>,
    /// Wait before retrying a failed job.
    retry_after: Option<Duration>,
}

impl Housekeeping {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_job(mut self, kind: &str, job: Arc<dyn HousekeepingJob>) -> Self {
        self.jobs.insert(kind.to_string(), job);
        self
    }

    pub fn retry_after(mut self, wait: Duration) -> Self {
        self.retry_after = Some(wait);
        self
    }

    /// Runs the job for `fire` and records its outcome.
    pub async fn run(&self, store: &dyn Store, clock: &dyn Clock, fire: &ClaimedFire) {
        let result = match self.jobs.get(&fire.kind) {
            Some(job) => job.run(fire).await,
            None => Err(format!("no job registered for schedule kind {:?}", fire.kind)),
        };
        let retry_at = clock.now() + self.retry_after.unwrap_or(Duration::seconds(60));
        match &result {
            Ok(()) => {
                tracing::info!(schedule_id = fire.schedule_id, kind = %fire.kind, account_id = fire.account_id, "housekeeping done")
            }
            Err(e) => {
                tracing::warn!(schedule_id = fire.schedule_id, kind = %fire.kind, account_id = fire.account_id, error = %e, %retry_at, "housekeeping failed; will retry")
            }
        }
        let error = result.err();
        if let Err(e) = store.complete_fire(fire.fire_id, error.as_deref(), error.as_ref().map(|_| retry_at)).await {
            tracing::error!(fire_id = fire.fire_id, error = %e, "recording a housekeeping outcome failed");
        }
    }
}
