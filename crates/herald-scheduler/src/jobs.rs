//! Housekeeping jobs: schedules that are not templates' (token refresh, quiet-hours release,
//! retention, receipt pulls) run the job registered for their kind when they fire. The outcome
//! is written to the fire ledger and each run to the run log scheduled jobs write to; a failure
//! brings the schedule's next fire forward so the job is retried soon, and raises the node's
//! housekeeping alarm when it has one.

use crate::alarms::{Alarms, Subject};
use async_trait::async_trait;
use chrono::Duration;
use herald_core::scheduled_job::{AlarmSpec, FireEnd};
use herald_core::{Clock, ScheduleKind};
use herald_store::{ClaimedFire, JobRunEnd, JobRunOutcome, Store};
use std::collections::HashMap;
use std::sync::Arc;

/// Why a job failed; recorded in the fire ledger as text.
pub type JobError = Box<dyn std::error::Error + Send + Sync>;

#[async_trait]
pub trait HousekeepingJob: Send + Sync {
    /// Runs the job for one fire; the error is recorded and the job retried.
    async fn run(&self, fire: &ClaimedFire) -> Result<(), JobError>;
}

/// How alarms and the daily report name a housekeeping schedule: `token_refresh of account 3`,
/// `retention`.
pub fn housekeeping_name(kind: &str, account_id: Option<i64>) -> String {
    match account_id {
        Some(account) => format!("{kind} of account {account}"),
        None => kind.to_string(),
    }
}

#[derive(Clone, Default)]
pub struct Housekeeping {
    jobs: HashMap<ScheduleKind, Arc<dyn HousekeepingJob>>,
    /// Wait before retrying a failed job.
    retry_after: Option<Duration>,
    /// Where a failure alarms, and who is told.
    alarms: Option<(Alarms, AlarmSpec)>,
    /// This node, written to each run in the run log.
    node: String,
}

impl Housekeeping {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_job(mut self, kind: ScheduleKind, job: Arc<dyn HousekeepingJob>) -> Self {
        self.jobs.insert(kind, job);
        self
    }

    /// Raises `spec`'s alarm through `alarms` when a job fails, and recovers it when it next
    /// succeeds.
    pub fn with_alarms(mut self, alarms: Alarms, spec: AlarmSpec) -> Self {
        self.alarms = Some((alarms, spec));
        self
    }

    /// Names this node in the run log.
    pub fn on_node(mut self, node: &str) -> Self {
        self.node = node.to_string();
        self
    }

    pub fn retry_after(mut self, wait: Duration) -> Self {
        self.retry_after = Some(wait);
        self
    }

    /// Runs the job for `fire` and records its outcome.
    pub async fn run(&self, store: &dyn Store, clock: &dyn Clock, fire: &ClaimedFire) {
        let job = ScheduleKind::parse(&fire.kind).and_then(|kind| self.jobs.get(&kind));
        let run_id = match store.start_housekeeping_run(fire.schedule_id, fire.fire_id, &self.node, clock.now()).await {
            Ok(id) => Some(id),
            Err(e) => {
                tracing::error!(schedule_id = fire.schedule_id, error = %e, "writing a housekeeping run's start failed");
                None
            }
        };
        let result = match job {
            Some(job) => job.run(fire).await.map_err(|e| e.to_string()),
            None => Err(format!("no job registered for schedule kind {:?}", fire.kind)),
        };
        let retry_at = clock.now() + self.retry_after.unwrap_or(Duration::seconds(60));
        let outcome = if result.is_ok() { "done" } else { "failed" };
        metrics::counter!("herald_housekeeping_total", "kind" => fire.kind.clone(), "outcome" => outcome).increment(1);
        match &result {
            Ok(()) => {
                tracing::info!(schedule_id = fire.schedule_id, kind = %fire.kind, account_id = fire.account_id, "housekeeping done")
            }
            Err(e) => {
                tracing::warn!(schedule_id = fire.schedule_id, kind = %fire.kind, account_id = fire.account_id, error = %e, %retry_at, "housekeeping failed; will retry")
            }
        }
        let error = result.err();
        if let Some(run_id) = run_id {
            let outcome = if error.is_some() { JobRunOutcome::Failed } else { JobRunOutcome::Succeeded };
            let end = JobRunEnd { outcome, at: clock.now(), status_code: None, output: None, error: error.as_deref() };
            if let Err(e) = store.finish_job_run(run_id, &end).await {
                tracing::error!(run_id, error = %e, "writing a housekeeping run's end failed");
            }
        }
        if let Err(e) = store.complete_fire(fire.fire_id, error.as_deref(), error.as_ref().map(|_| retry_at)).await {
            tracing::error!(fire_id = fire.fire_id, error = %e, "recording a housekeeping outcome failed");
        }
        if let Some((alarms, spec)) = &self.alarms {
            let name = housekeeping_name(&fire.kind, fire.account_id);
            let end = if error.is_some() { FireEnd::Failed } else { FireEnd::Succeeded };
            let subject = Subject { schedule_id: fire.schedule_id, name: &name, spec };
            alarms.after_fire(subject, end, error.as_deref().unwrap_or("")).await;
        }
    }
}
