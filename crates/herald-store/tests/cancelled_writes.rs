//! Writes dropped half-way, as a request's are when its client hangs up: thousands of
//! transactions cut off at random moments must leave no pooled SQLite connection inside a
//! transaction. One such connection (seen under a `/send` load whose clients disconnected) held
//! the file's write lock, so every later write waited out the busy timeout and failed.

use chrono::{DateTime, TimeZone, Utc};
use herald_store::{RequestedSend, SendRequestRepo, SqliteStore};
use std::sync::Arc;
use std::time::Duration;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 1, 10, 0, 0).unwrap()
}

fn send(n: u64) -> RequestedSend {
    RequestedSend { template_id: 1, biz_id: format!("biz-{n}"), receiver: format!("r{n}"), message_id: format!("m{n}") }
}

/// A cheap spread of delays from 0 to 1.5 ms, the same on every run.
fn delay(n: u64) -> Duration {
    Duration::from_micros(n.wrapping_mul(2_654_435_761) % 1_500)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_cut_off_half_way_leave_no_connection_inside_a_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("h.sqlite")).await.unwrap());
    for round in 0..250u64 {
        let cut: Vec<_> = (0..16u64)
            .map(|i| {
                let store = store.clone();
                let n = round * 16 + i;
                tokio::spawn(async move {
                    let sends = [send(n)];
                    let write = store.remember_sends(&sends, now() - chrono::Duration::hours(1), now());
                    let _ = tokio::time::timeout(delay(n), write).await;
                })
            })
            .collect();
        for task in cut {
            task.await.unwrap();
        }
    }
    for n in 1_000_000..1_000_020u64 {
        let sends = [send(n)];
        let write = store.remember_sends(&sends, now() - chrono::Duration::hours(1), now());
        let standing = tokio::time::timeout(Duration::from_secs(3), write)
            .await
            .expect("a write after the cut-off ones waited for a lock nobody releases")
            .expect("a write after the cut-off ones failed");
        assert_eq!(standing, vec![format!("m{n}")]);
    }
}
