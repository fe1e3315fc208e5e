//! The scheduler's store side on SQLite only, with time as an argument: a day of fires polled
//! every 20 s, two claimers racing on one file, DST days, and a restart. (The misfire policies
//! and no-crowd fires are in the both-backends suite.)

mod suite;

use chrono::{DateTime, Duration, TimeZone, Utc};
use herald_core::MisfirePolicy;
use herald_store::{FireOutcome, RunRepo, ScheduleRepo, SqliteStore};
use std::collections::HashSet;
use suite::{GRACE, running, spec};

async fn store(dir: &tempfile::TempDir) -> SqliteStore {
    SqliteStore::open(&dir.path().join("h.sqlite")).await.unwrap()
}

async fn crowd(store: &SqliteStore, now: DateTime<Utc>) -> String {
    suite::crowd(store, 10, now).await
}

#[tokio::test]
async fn a_day_of_quarter_hours_fires_96_times_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    let start = Utc.with_ymd_and_hms(2026, 7, 1, 0, 0, 0).unwrap();
    let crowd_id = crowd(&store, start).await;
    running(&store, &spec("0 0/15 * * * ?", "Asia/Shanghai", MisfirePolicy::FireOnce, Some(crowd_id)), start).await;
    let mut fire_times = Vec::new();
    let mut now = start;
    while now <= start + Duration::days(1) {
        for fire in store.claim_due_fires("node-test", now, GRACE, 50).await.unwrap() {
            assert_eq!(fire.outcome, FireOutcome::Fired);
            assert!(fire.run_id.is_some());
            assert!(fire.lateness_ms < 60_000);
            fire_times.push(fire.fire_time);
        }
        now += Duration::seconds(20);
    }
    assert_eq!(fire_times.len(), 96, "00:15 .. 24:00");
    for pair in fire_times.windows(2) {
        assert_eq!(pair[1] - pair[0], Duration::minutes(15));
    }
    assert_eq!(store.list_runs(&herald_store::RunFilter::newest(1000)).await.unwrap().len(), 96);
}

#[tokio::test]
async fn two_claimers_on_one_file_never_double_a_fire() {
    let dir = tempfile::tempdir().unwrap();
    let a = store(&dir).await;
    let b = SqliteStore::open(&dir.path().join("h.sqlite")).await.unwrap();
    let start = Utc.with_ymd_and_hms(2026, 7, 1, 0, 0, 0).unwrap();
    let crowd_id = crowd(&a, start).await;
    for _ in 0..20 {
        running(&a, &spec("0/10 * * * * ?", "UTC", MisfirePolicy::FireOnce, Some(crowd_id.clone())), start).await;
    }
    let claimer = |store: SqliteStore| async move {
        let mut got = Vec::new();
        let mut now = start;
        while now <= start + Duration::minutes(10) {
            // Drain each tick in pages of 7, as FireClaimer::tick does.
            loop {
                let page = store.claim_due_fires("node-test", now, GRACE, 7).await.unwrap();
                let done = page.len() < 7;
                got.extend(page.into_iter().map(|f| (f.schedule_id, f.fire_time)));
                if done {
                    break;
                }
            }
            now += Duration::seconds(1);
        }
        got
    };
    let (x, y) = tokio::join!(tokio::spawn(claimer(a.clone())), tokio::spawn(claimer(b)));
    let all: Vec<_> = x.unwrap().into_iter().chain(y.unwrap()).collect();
    let unique: HashSet<_> = all.iter().cloned().collect();
    assert_eq!(all.len(), unique.len(), "a fire was claimed twice");
    assert_eq!(unique.len(), 20 * 60, "20 schedules x 60 fires in 10 minutes");
    assert_eq!(a.list_runs(&herald_store::RunFilter::newest(5000)).await.unwrap().len(), 20 * 60);
}

#[tokio::test]
async fn dst_days_fire_once_at_the_stated_instant() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    let start = Utc.with_ymd_and_hms(2026, 3, 6, 0, 0, 0).unwrap();
    let crowd_id = crowd(&store, start).await;
    // 02:30 does not exist on 2026-03-08 in New York: fires at 03:00 EDT (07:00 UTC).
    running(&store, &spec("0 30 2 * * ?", "America/New_York", MisfirePolicy::FireOnce, Some(crowd_id.clone())), start)
        .await;
    let mut fires = Vec::new();
    let mut now = start;
    while now <= start + Duration::days(4) {
        fires
            .extend(store.claim_due_fires("node-test", now, GRACE, 10).await.unwrap().into_iter().map(|f| f.fire_time));
        now += Duration::minutes(1);
    }
    let expected: Vec<DateTime<Utc>> = vec![
        Utc.with_ymd_and_hms(2026, 3, 6, 7, 30, 0).unwrap(),
        Utc.with_ymd_and_hms(2026, 3, 7, 7, 30, 0).unwrap(),
        Utc.with_ymd_and_hms(2026, 3, 8, 7, 0, 0).unwrap(),
        Utc.with_ymd_and_hms(2026, 3, 9, 6, 30, 0).unwrap(),
    ];
    assert_eq!(fires, expected);

    // 01:30 happens twice on 2026-11-01 in New York: fires once, at the first (05:30 UTC).
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("h.sqlite")).await.unwrap();
    let start = Utc.with_ymd_and_hms(2026, 10, 31, 12, 0, 0).unwrap();
    let crowd_id = crowd(&store, start).await;
    running(&store, &spec("0 30 1 * * ?", "America/New_York", MisfirePolicy::FireOnce, Some(crowd_id)), start).await;
    let mut fires = Vec::new();
    let mut now = start;
    while now <= start + Duration::days(2) {
        fires
            .extend(store.claim_due_fires("node-test", now, GRACE, 10).await.unwrap().into_iter().map(|f| f.fire_time));
        now += Duration::minutes(1);
    }
    assert_eq!(
        fires,
        vec![
            Utc.with_ymd_and_hms(2026, 11, 1, 5, 30, 0).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 2, 6, 30, 0).unwrap()
        ]
    );
}

#[tokio::test]
async fn a_restart_neither_repeats_nor_loses_a_fire() {
    let dir = tempfile::tempdir().unwrap();
    let start = Utc.with_ymd_and_hms(2026, 7, 1, 0, 0, 0).unwrap();
    {
        let store = store(&dir).await;
        let crowd_id = crowd(&store, start).await;
        running(&store, &spec("0 0 * * * ?", "UTC", MisfirePolicy::FireOnce, Some(crowd_id)), start).await;
        assert_eq!(store.claim_due_fires("node-test", start + Duration::hours(1), GRACE, 10).await.unwrap().len(), 1);
        store.close().await;
    }
    let store = store(&dir).await;
    assert!(
        store.claim_due_fires("node-test", start + Duration::hours(1), GRACE, 10).await.unwrap().is_empty(),
        "no repeat"
    );
    let next = store.claim_due_fires("node-test", start + Duration::hours(2), GRACE, 10).await.unwrap();
    assert_eq!(next.len(), 1, "no loss");
    assert_eq!(next[0].fire_time, start + Duration::hours(2));
}
