//! The daily report, a housekeeping job of its own schedule: how each job's and each
//! housekeeping schedule's fires of the last day went and which alarm rules are raised now, sent
//! once per fire through the node's alarm template to its receivers.

use crate::alarms::Alarms;
use crate::jobs::{HousekeepingJob, JobError, housekeeping_name};
use async_trait::async_trait;
use chrono::Duration;
use herald_core::scheduled_job::AlarmSpec;
use herald_core::scheduled_job::report::{self, DayOf};
use herald_core::{Clock, ScheduleKind};
use herald_store::{ClaimedFire, ScheduleFilter, Store, Window};
use std::sync::Arc;

pub struct DailyReport {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub alarms: Alarms,
    /// The node's `[alarms]`: the template and its receivers.
    pub spec: AlarmSpec,
}

#[async_trait]
impl HousekeepingJob for DailyReport {
    async fn run(&self, fire: &ClaimedFire) -> Result<(), JobError> {
        let since = self.clock.now() - Duration::days(1);
        let mut days = Vec::new();
        for job in self.store.list_jobs(Window::ALL).await? {
            days.push(self.day_of(job.schedule_id, job.spec.name, since).await?);
        }
        let housekeeping = ScheduleFilter { housekeeping: true, window: Window::ALL, ..ScheduleFilter::default() };
        for schedule in self.store.list_schedules(&housekeeping).await? {
            if schedule.kind != ScheduleKind::DailyReport.as_str() {
                let name = housekeeping_name(&schedule.kind, schedule.account_id);
                days.push(self.day_of(schedule.id, name, since).await?);
            }
        }
        self.alarms.report(&self.spec, &report::text(&days), fire.fire_id).await
    }
}

impl DailyReport {
    async fn day_of(
        &self,
        schedule_id: i64,
        name: String,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<DayOf, JobError> {
        let (fires, failed) = self.store.fire_counts(schedule_id, since).await?;
        let raised = self.store.raised_alarms(schedule_id).await?.into_iter().map(|r| r.rule).collect();
        Ok(DayOf { name, fires, failed, raised })
    }
}
