//! Housekeeping runs beside fire claiming, never in its way: a job that hangs does not delay
//! the next tick, and two fires of one schedule never run their job at the same time.

use async_trait::async_trait;
use chrono::{Duration, TimeZone, Utc};
use herald_core::{ScheduleKind, TestClock};
use herald_scheduler::{FireClaimer, Housekeeping, HousekeepingJob, JobError, SchedulerConfig};
use herald_store::{ClaimedFire, ScheduleRepo, SqliteStore, Store};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Takes a while, and counts how many of it run at once.
#[derive(Default)]
struct Slow {
    running: AtomicUsize,
    most_at_once: AtomicUsize,
    done: AtomicUsize,
}

#[async_trait]
impl HousekeepingJob for Slow {
    async fn run(&self, _fire: &ClaimedFire) -> Result<(), JobError> {
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_at_once.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        self.running.fetch_sub(1, Ordering::SeqCst);
        self.done.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_job_neither_delays_claiming_nor_overlaps_itself() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("h.sqlite")).await.unwrap());
    let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let clock = Arc::new(TestClock::new(start));
    // A real kind with a stand-in job: the registry runs whatever is registered for the kind.
    let kind = ScheduleKind::Retention;
    store.ensure_housekeeping(kind.as_str(), "* * * * * ?", start).await.unwrap();
    let job = Arc::new(Slow::default());
    let dyn_store: Arc<dyn Store> = store.clone();
    let claimer = FireClaimer::new(dyn_store, clock.clone(), "local".into(), SchedulerConfig::default())
        .with_housekeeping(Housekeeping::new().with_job(kind, job.clone()));

    let began = std::time::Instant::now();
    for second in 1..=3 {
        clock.set(start + Duration::seconds(second));
        assert_eq!(claimer.tick().await.unwrap(), 1);
    }
    assert!(
        began.elapsed() < std::time::Duration::from_millis(300),
        "claiming waited for the job: {:?}",
        began.elapsed()
    );
    for _ in 0..300 {
        if job.done.load(Ordering::SeqCst) == 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(job.done.load(Ordering::SeqCst), 3);
    assert_eq!(job.most_at_once.load(Ordering::SeqCst), 1, "one schedule's runs never overlap");
    // The job ends before its outcome is recorded: wait for the record too.
    let schedule = store.list_schedules(&Default::default()).await.unwrap()[0].id;
    let mut fires = Vec::new();
    for _ in 0..300 {
        fires = store.list_fires(schedule, 10).await.unwrap();
        if fires.iter().all(|f| f.outcome == "succeeded") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(fires.iter().all(|f| f.outcome == "succeeded"), "{fires:?}");
}
