//! The statements a SQLite store keeps prepared stay few, whatever row counts its writes and
//! look-ups come in. sqlx keeps each distinct statement text prepared per connection (up to
//! 100); when a multi-row write or an `IN` list was cut at whatever size came, a run's varying
//! group sizes filled the writer's and every reader's cache with large statements used once:
//! 12.7 MiB of a node's 31.7 MiB heap peak over a 1,000,000-row send.

use chrono::{TimeZone, Utc};
use herald_core::{MessageId, TraceEvent};
use herald_store::{ClaimRepo, LedgerRepo, OutboxEntry, SendClaim, SqliteStore, TraceEntry};
use serde_json::json;
use sqlx::Connection;

fn outcome(n: usize) -> TraceEntry {
    TraceEntry {
        message_id: MessageId(format!("m{n:07}")),
        template_id: 1,
        run_id: None,
        receiver: format!("r{n}"),
        event: TraceEvent::Sent,
        detail: None,
    }
}

fn outbox(n: usize) -> OutboxEntry {
    let at = Utc.with_ymd_and_hms(2026, 5, 1, 10, 0, 0).unwrap();
    OutboxEntry {
        id: 0,
        message_id: format!("m{n:07}"),
        template_id: 1,
        run_id: None,
        receiver: format!("r{n}"),
        content: json!({"body": "hi"}),
        delivered_at: at,
    }
}

/// Statements kept prepared on the writer, and on each reader connection.
async fn prepared(store: &SqliteStore) -> (usize, Vec<usize>) {
    let writer = store.writer().acquire().await.unwrap();
    // Every reader held at once, so each is counted once.
    let mut readers = Vec::new();
    for _ in 0..store.pool().size() {
        readers.push(store.pool().acquire().await.unwrap());
    }
    (writer.cached_statements_size(), readers.iter().map(|r| r.cached_statements_size()).collect())
}

#[tokio::test]
async fn writes_and_look_ups_of_every_size_keep_few_statements_prepared() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("h.sqlite")).await.unwrap();
    let now = Utc.with_ymd_and_hms(2026, 5, 1, 10, 0, 0).unwrap();
    let mut next = 0;
    let mut writer_after_first_pass = 0;
    // Every group size from 1 to 300, twice over: a run's merged batches come in any size.
    for pass in 0..2 {
        for size in 1..=300 {
            let group: Vec<usize> = (next..next + size).collect();
            next += size;
            let ids: Vec<MessageId> = group.iter().map(|&n| outcome(n).message_id).collect();
            let claim = SendClaim { holder: "w".into(), token: next as i64, until: now + chrono::Duration::minutes(5) };
            let claimed = store.claim_sends(&ids, &claim, now).await.unwrap();
            assert_eq!(claimed.claimed.len(), size);
            let outcomes: Vec<TraceEntry> = group.iter().map(|&n| outcome(n)).collect();
            store.insert_outbox(&group.iter().map(|&n| outbox(n)).collect::<Vec<_>>()).await.unwrap();
            assert_eq!(store.record_outcomes(&outcomes, now).await.unwrap(), size as u64);
            assert_eq!(store.finished_messages(&ids).await.unwrap().len(), size);
        }
        if pass == 0 {
            writer_after_first_pass = prepared(&store).await.0;
        }
    }
    let (writer, readers) = prepared(&store).await;
    let kept = writer + readers.iter().sum::<usize>();
    assert!(kept <= 64, "{kept} statements kept prepared after 600 groups of 1 to 300 messages");
    // The writer is one connection: a second pass of the same sizes prepares nothing new on it.
    // The pool may open another reader while one is being handed back (its cache starts
    // empty), so readers are held to a bound each instead.
    assert_eq!(writer, writer_after_first_pass, "a second pass of the same sizes prepares nothing new");
    assert!(readers.iter().all(|&r| r <= 8), "statements kept prepared per reader: {readers:?}");
}
