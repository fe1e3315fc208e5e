//! tokio-cron-scheduler at its defaults (`JobScheduler::new()`, in-memory job store), one job
//! per schedule on the same staggered times. Each job records how late it ran against the
//! tick it was meant for: the latest time at or before now that its cron names.

use super::figures::{Figures, FireSample};
use super::observe::{Timing, observe};
use super::plan::Plan;
use super::recorder::Recorder;
use super::shared_crons::SharedCrons;
use crate::mem;
use anyhow::Context;
use chrono::Utc;
use croner::Cron;
use std::sync::Arc;
use tokio_cron_scheduler::{Job, JobScheduler};

/// Records one run of a job whose times `cron` names. A run later than a whole period is taken
/// for the next tick (its lateness then reads short, and the tick it missed is counted missed).
fn record_run(recorder: &Recorder, schedule: u32, cron: &Cron) {
    let now = Utc::now();
    if let Ok(tick) = cron.find_previous_occurrence(&now, true) {
        let late_us = (now - tick).num_microseconds().unwrap_or(i64::MAX);
        recorder.record(FireSample { schedule, due_ms: tick.timestamp_millis(), late_us });
    }
}

async fn scheduler_with_jobs(plan: &Plan, recorder: &Arc<Recorder>) -> anyhow::Result<JobScheduler> {
    let scheduler = JobScheduler::new().await.context("tokio-cron-scheduler: new")?;
    let shared = SharedCrons::of(plan)?;
    for i in 0..plan.schedules {
        let offset = plan.offset_of(i);
        let (recorder, cron, schedule) = (recorder.clone(), shared.at(offset), u32::try_from(i)?);
        let job = Job::new_async(plan.plain_cron(offset), move |_id, _scheduler| {
            record_run(&recorder, schedule, &cron);
            Box::pin(async {})
        })
        .with_context(|| format!("tokio-cron-scheduler: job {}", plan.plain_cron(offset)))?;
        scheduler.add(job).await.context("tokio-cron-scheduler: add")?;
    }
    Ok(scheduler)
}

/// Runs tokio-cron-scheduler over `timing` and measures it.
pub async fn measure(plan: &Plan, timing: Timing) -> anyhow::Result<Figures> {
    mem::reset_peak();
    let rss_at_start_kib = Some(mem::rss_kib());
    let recorder = Arc::new(Recorder::default());
    let mut scheduler = scheduler_with_jobs(plan, &recorder).await?;
    scheduler.start().await.context("tokio-cron-scheduler: start")?;
    let observed = observe(plan, timing, &["self".to_owned()], |window| {
        let recorded = recorder.count_in(&window);
        async move { Ok(recorded) }
    })
    .await;
    let peak_rss_kib = mem::peak_kib();
    scheduler.shutdown().await.context("tokio-cron-scheduler: shutdown")?;
    Ok(recorder.figures(&observed?, peak_rss_kib, rss_at_start_kib))
}
