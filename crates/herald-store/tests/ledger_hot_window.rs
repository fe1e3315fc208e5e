//! The delivery ledger's hot window on a real Redis in front of a real PostgreSQL ledger:
//! finished ids are answered from Redis once the durable write succeeded, the store answers
//! for whatever Redis does not know (after a flush of the prefix the window refills from it),
//! and with Redis unreachable every answer comes from the store, without an error.

mod redis_support;
mod suite;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use herald_core::{MessageId, TraceEvent};
use herald_store::redis_ledger::RedisLedger;
use herald_store::{AcceptedRows, LedgerRepo, OutboxEntry, OutboxFilter, Store, StoreError, TraceEntry, TraceRecord};
use redis::aio::ConnectionManager;
use redis_support::*;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use suite::{message, on_postgres, published_run, t0};

const WINDOW: Duration = Duration::from_secs(3_600);

/// The store's ledger, noting which ids it was asked about.
struct Counting {
    store: Arc<dyn Store>,
    asked: Mutex<Vec<MessageId>>,
}

impl Counting {
    fn take_asked(&self) -> BTreeSet<String> {
        self.asked.lock().unwrap().drain(..).map(|id| id.0).collect()
    }
}

#[async_trait]
impl LedgerRepo for Counting {
    async fn finished_messages(&self, ids: &[MessageId]) -> Result<Vec<MessageId>, StoreError> {
        self.asked.lock().unwrap().extend(ids.iter().cloned());
        self.store.finished_messages(ids).await
    }
    async fn record_outcomes(&self, outcomes: &[TraceEntry], now: DateTime<Utc>) -> Result<u64, StoreError> {
        self.store.record_outcomes(outcomes, now).await
    }
    async fn record_trace(&self, outcomes: &[TraceEntry], now: DateTime<Utc>) -> Result<(), StoreError> {
        self.store.record_trace(outcomes, now).await
    }
    async fn record_accepted_rows(&self, rows: &AcceptedRows, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.store.record_accepted_rows(rows, now).await
    }
    async fn trace_of(&self, message_id: &str) -> Result<Vec<TraceRecord>, StoreError> {
        self.store.trace_of(message_id).await
    }
    async fn insert_outbox(&self, entries: &[OutboxEntry]) -> Result<(), StoreError> {
        self.store.insert_outbox(entries).await
    }
    async fn list_outbox(&self, filter: &OutboxFilter) -> Result<Vec<OutboxEntry>, StoreError> {
        self.store.list_outbox(filter).await
    }
    async fn count_outbox(&self, template_id: Option<i64>, run_id: Option<i64>) -> Result<i64, StoreError> {
        self.store.count_outbox(template_id, run_id).await
    }
}

struct Setup {
    counting: Arc<Counting>,
    ledger: RedisLedger,
    outcomes: Vec<TraceEntry>,
}

/// A ledger over the store with three final outcomes of a run ready to record.
async fn setup(store: Arc<dyn Store>, conn: ConnectionManager, prefix: &str) -> Setup {
    let (template_id, run_id) = published_run(&*store, 3, t0()).await;
    let outcomes = vec![
        message("r-1", template_id, Some(run_id), TraceEvent::Sent),
        message("r-2", template_id, Some(run_id), TraceEvent::Failed),
        message("r-3", template_id, Some(run_id), TraceEvent::Sent),
    ];
    let counting = Arc::new(Counting { store, asked: Mutex::default() });
    let ledger = RedisLedger::new(counting.clone(), conn, prefix, WINDOW);
    Setup { counting, ledger, outcomes }
}

fn ids(names: &[&str]) -> Vec<MessageId> {
    names.iter().map(|n| MessageId(n.to_string())).collect()
}

fn names(ids: Vec<MessageId>) -> BTreeSet<String> {
    ids.into_iter().map(|id| id.0).collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| n.to_string()).collect()
}

#[tokio::test]
async fn finished_ids_are_answered_from_redis_after_the_durable_write() {
    on_postgres(|store| async move {
        let prefix = unique_prefix("ledger-hot");
        let Setup { counting, ledger, outcomes } = setup(store.clone(), connect().await, &prefix).await;

        // A write the store refuses (a state that is not final) marks nothing.
        let not_final = [message("r-1", outcomes[0].template_id, outcomes[0].run_id, TraceEvent::Retrying)];
        assert!(ledger.record_outcomes(&not_final, t0()).await.is_err());
        assert!(keys(&prefix).await.is_empty());

        assert_eq!(ledger.record_outcomes(&outcomes, t0()).await.unwrap(), 3);
        assert_eq!(ledger.record_outcomes(&outcomes, t0()).await.unwrap(), 0, "the store still counts once");
        assert_eq!(names(store.finished_messages(&ids(&["r-1", "r-2", "r-3"])).await.unwrap()).len(), 3);
        let marked = keys(&prefix).await;
        assert_eq!(marked, ["r-1", "r-2", "r-3"].map(|id| format!("{prefix}:ledger:{id}")));
        let ttl: i64 = redis::cmd("TTL").arg(&marked[0]).query_async(&mut connect().await).await.unwrap();
        assert!((3_590..=3_600).contains(&ttl), "kept for the window: {ttl}");

        // A redelivered batch: answered from Redis alone.
        let finished = ledger.finished_messages(&ids(&["r-1", "r-2", "r-3"])).await.unwrap();
        assert_eq!(names(finished), set(&["r-1", "r-2", "r-3"]));
        assert!(counting.take_asked().is_empty(), "the store was not asked");

        // A batch mixing finished and new ids: the store is asked only about the new ones.
        let finished = ledger.finished_messages(&ids(&["r-2", "r-4", "r-5"])).await.unwrap();
        assert_eq!(names(finished), set(&["r-2"]));
        assert_eq!(counting.take_asked(), set(&["r-4", "r-5"]));
        assert!(ledger.finished_messages(&[]).await.unwrap().is_empty());
        delete_prefix(&prefix).await;
    })
    .await;
}

#[tokio::test]
async fn after_a_flush_of_the_prefix_the_store_answers_and_the_window_refills() {
    on_postgres(|store| async move {
        let prefix = unique_prefix("ledger-flush");
        let Setup { counting, ledger, outcomes } = setup(store, connect().await, &prefix).await;
        ledger.record_outcomes(&outcomes, t0()).await.unwrap();
        delete_prefix(&prefix).await;

        // Redis forgot everything: the store knows, so nothing is sent twice.
        let finished = ledger.finished_messages(&ids(&["r-1", "r-2", "r-3", "r-4"])).await.unwrap();
        assert_eq!(names(finished), set(&["r-1", "r-2", "r-3"]));
        assert_eq!(counting.take_asked(), set(&["r-1", "r-2", "r-3", "r-4"]));
        assert_eq!(keys(&prefix).await.len(), 3, "what the store answered is back in the window");
        let finished = ledger.finished_messages(&ids(&["r-1", "r-2", "r-3"])).await.unwrap();
        assert_eq!(names(finished), set(&["r-1", "r-2", "r-3"]));
        assert!(counting.take_asked().is_empty());
        delete_prefix(&prefix).await;
    })
    .await;
}

#[tokio::test]
async fn with_redis_unreachable_the_store_answers_and_nothing_fails() {
    on_postgres(|store| async move {
        let prefix = unique_prefix("ledger-down");
        let proxy = redis_proxy().await;
        let Setup { counting, ledger, outcomes } = setup(store.clone(), connect_via(&proxy).await, &prefix).await;
        ledger.record_outcomes(&outcomes[..1], t0()).await.unwrap();
        assert_eq!(keys(&prefix).await.len(), 1);
        proxy.cut();

        // Recording still reaches the durable ledger; Redis's part is skipped.
        assert_eq!(ledger.record_outcomes(&outcomes[1..], t0()).await.unwrap(), 2);
        assert_eq!(names(store.finished_messages(&ids(&["r-2", "r-3"])).await.unwrap()).len(), 2);
        let started = Instant::now();
        for _ in 0..3 {
            let finished = ledger.finished_messages(&ids(&["r-1", "r-2", "r-3", "r-4"])).await.unwrap();
            assert_eq!(names(finished), set(&["r-1", "r-2", "r-3"]));
            assert_eq!(counting.take_asked(), set(&["r-1", "r-2", "r-3", "r-4"]), "every id from the store");
        }
        // Redis stood down after the first failure: lookups go straight to the store rather than
        // waiting out Redis's one-second timeout each (bound loose for loaded CI machines).
        assert!(started.elapsed() < Duration::from_millis(2_000), "{:?}", started.elapsed());
        assert_eq!(keys(&prefix).await.len(), 1, "nothing written while Redis was unreachable");
        delete_prefix(&prefix).await;
    })
    .await;
}
