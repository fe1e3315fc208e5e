//! Behaviour of the SQLite bus through the `Bus` trait: round trip, ordering, visibility,
//! leases, retries, dead letters, durability, topic isolation and publishing many at once.

mod common;

use std::time::Duration;

use common::{Harness, VISIBILITY, open_pool};
use herald_bus::{Bus, BusClaim, BusError, RetryOutcome, SqliteBus, TopicStats};

const TOPIC: &str = "email";

async fn publish_n(bus: &dyn Bus, topic: &str, n: usize) {
    for i in 0..n {
        bus.publish(topic, &format!("k{i}"), format!("p{i}").as_bytes()).await.expect("publish");
    }
}

fn keys(deliveries: &[BusClaim]) -> Vec<&str> {
    deliveries.iter().map(|d| d.key.as_str()).collect()
}

#[tokio::test]
async fn publish_claim_ack_round_trip() {
    let h = Harness::new(5).await;
    h.bus.publish(TOPIC, "run-1/row-7", b"{\"receiver\":\"a@b.c\"}").await.unwrap();

    let got = h.bus.claim(TOPIC, 10, VISIBILITY).await.unwrap();
    assert_eq!(got.len(), 1);
    let d = &got[0];
    assert_eq!(d.topic, TOPIC);
    assert_eq!(d.key, "run-1/row-7");
    assert_eq!(d.payload, b"{\"receiver\":\"a@b.c\"}");
    assert_eq!(d.attempts, 1);

    h.bus.ack(d).await.unwrap();
    assert_eq!(h.bus.stats(TOPIC).await.unwrap(), TopicStats::default());
    let (rows,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM bus_messages").fetch_one(&h.pool).await.unwrap();
    assert_eq!(rows, 0, "acked rows are deleted");

    h.advance(VISIBILITY * 10);
    assert!(h.bus.claim(TOPIC, 10, VISIBILITY).await.unwrap().is_empty());
    assert!(matches!(h.bus.ack(d).await, Err(BusError::LeaseLost { .. })));
}

#[tokio::test]
async fn claims_in_fifo_order() {
    let h = Harness::new(5).await;
    publish_n(&h.bus, TOPIC, 5).await;

    let first = h.bus.claim(TOPIC, 2, VISIBILITY).await.unwrap();
    assert_eq!(keys(&first), ["k0", "k1"]);
    let rest = h.bus.claim(TOPIC, 10, VISIBILITY).await.unwrap();
    assert_eq!(keys(&rest), ["k2", "k3", "k4"]);
    assert!(first[1].id < rest[0].id);
}

/// A publish of more messages than one statement inserts: each arrives once, in order, with
/// its own key and payload.
#[tokio::test]
async fn publish_all_of_more_than_one_statement_keeps_each_message_once_in_order() {
    let h = Harness::new(5).await;
    let messages: Vec<herald_bus::BusMessage> = (0..1_201)
        .map(|i| herald_bus::BusMessage { key: format!("k{i}"), payload: format!("p{i}").into_bytes() })
        .collect();
    h.bus.publish_all(TOPIC, &messages).await.unwrap();
    h.bus.publish_all(TOPIC, &[]).await.unwrap();
    let mut got = Vec::new();
    loop {
        let claimed = h.bus.claim(TOPIC, 1_000, VISIBILITY).await.unwrap();
        if claimed.is_empty() {
            break;
        }
        got.extend(claimed.into_iter().map(|c| (c.key, String::from_utf8(c.payload).unwrap())));
    }
    let expected: Vec<(String, String)> = (0..1_201).map(|i| (format!("k{i}"), format!("p{i}"))).collect();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn claim_respects_max() {
    let h = Harness::new(5).await;
    publish_n(&h.bus, TOPIC, 10).await;

    assert!(h.bus.claim(TOPIC, 0, VISIBILITY).await.unwrap().is_empty());
    let got = h.bus.claim(TOPIC, 3, VISIBILITY).await.unwrap();
    assert_eq!(got.len(), 3);
    let stats = h.bus.stats(TOPIC).await.unwrap();
    assert_eq!((stats.ready, stats.in_flight), (7, 3));
}

#[tokio::test]
async fn claimed_message_is_invisible_until_visibility_passes() {
    let h = Harness::new(5).await;
    h.bus.publish(TOPIC, "k", b"p").await.unwrap();
    let first = h.bus.claim(TOPIC, 1, VISIBILITY).await.unwrap().remove(0);

    assert!(h.bus.claim(TOPIC, 1, VISIBILITY).await.unwrap().is_empty());
    h.advance(VISIBILITY - Duration::from_millis(1));
    assert!(h.bus.claim(TOPIC, 1, VISIBILITY).await.unwrap().is_empty());
    assert_eq!(h.bus.stats(TOPIC).await.unwrap().in_flight, 1);

    h.advance(Duration::from_millis(1));
    assert_eq!(h.bus.stats(TOPIC).await.unwrap().ready, 1);
    let again = h.bus.claim(TOPIC, 1, VISIBILITY).await.unwrap().remove(0);
    assert_eq!(again.id, first.id);
    assert_eq!(again.attempts, 2);
    assert_ne!(again.lease, first.lease);
}

#[tokio::test]
async fn stale_ack_does_not_delete_the_new_claim() {
    let h = Harness::new(5).await;
    h.bus.publish(TOPIC, "k", b"p").await.unwrap();
    let stale = h.bus.claim(TOPIC, 1, VISIBILITY).await.unwrap().remove(0);
    h.advance(VISIBILITY);
    let current = h.bus.claim(TOPIC, 1, VISIBILITY).await.unwrap().remove(0);

    assert!(matches!(
        h.bus.ack(&stale).await,
        Err(BusError::LeaseLost { id }) if id == stale.id
    ));
    assert!(matches!(h.bus.retry(&stale, "late", Duration::ZERO).await, Err(BusError::LeaseLost { .. })));
    assert_eq!(h.bus.stats(TOPIC).await.unwrap().in_flight, 1);

    h.bus.ack(&current).await.unwrap();
    assert_eq!(h.bus.stats(TOPIC).await.unwrap(), TopicStats::default());
}

#[tokio::test]
async fn ack_after_visibility_lapsed_but_before_reclaim_succeeds() {
    let h = Harness::new(5).await;
    h.bus.publish(TOPIC, "k", b"p").await.unwrap();
    let d = h.bus.claim(TOPIC, 1, VISIBILITY).await.unwrap().remove(0);
    h.advance(VISIBILITY * 2);
    h.bus.ack(&d).await.unwrap();
    assert!(h.bus.claim(TOPIC, 1, VISIBILITY).await.unwrap().is_empty());
}

#[tokio::test]
async fn retry_requeues_after_delay() {
    let h = Harness::new(5).await;
    publish_n(&h.bus, TOPIC, 2).await;
    let d = h.bus.claim(TOPIC, 1, VISIBILITY).await.unwrap().remove(0);
    assert_eq!(d.key, "k0");

    let delay = Duration::from_secs(10);
    let outcome = h.bus.retry(&d, "smtp 451", delay).await.unwrap();
    assert_eq!(outcome, RetryOutcome::Requeued);
    let stats = h.bus.stats(TOPIC).await.unwrap();
    assert_eq!((stats.ready, stats.delayed, stats.in_flight), (1, 1, 0));

    // While k0 waits out its delay, k1 behind it is still served.
    let next = h.bus.claim(TOPIC, 10, VISIBILITY).await.unwrap();
    assert_eq!(keys(&next), ["k1"]);

    h.advance(delay - Duration::from_millis(1));
    assert!(h.bus.claim(TOPIC, 10, VISIBILITY).await.unwrap().is_empty());
    h.advance(Duration::from_millis(1));
    let again = h.bus.claim(TOPIC, 10, VISIBILITY).await.unwrap();
    assert_eq!(keys(&again), ["k0"]);
    assert_eq!(again[0].attempts, 2);
    assert_eq!(again[0].payload, b"p0");
}

#[tokio::test]
async fn dead_letters_after_max_attempts_and_requeues() {
    let h = Harness::new(3).await;
    h.bus.publish(TOPIC, "k", b"p").await.unwrap();

    for attempt in 1..=3u32 {
        let d = h.bus.claim(TOPIC, 1, VISIBILITY).await.unwrap().remove(0);
        assert_eq!(d.attempts, attempt);
        let outcome = h.bus.retry(&d, &format!("fail {attempt}"), Duration::ZERO).await.unwrap();
        let expected = if attempt < 3 { RetryOutcome::Requeued } else { RetryOutcome::DeadLettered };
        assert_eq!(outcome, expected, "attempt {attempt}");
    }

    h.advance(VISIBILITY * 100);
    assert!(h.bus.claim(TOPIC, 1, VISIBILITY).await.unwrap().is_empty());
    assert_eq!(h.bus.stats(TOPIC).await.unwrap(), TopicStats { dead: 1, ..TopicStats::default() });
    let dead = h.bus.dead_letters(TOPIC, 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].key, "k");
    assert_eq!(dead[0].payload, b"p");
    assert_eq!(dead[0].attempts, 3);
    assert_eq!(dead[0].last_error.as_deref(), Some("fail 3"));

    h.bus.requeue_dead(dead[0].id).await.unwrap();
    assert!(h.bus.dead_letters(TOPIC, 10).await.unwrap().is_empty());
    let d = h.bus.claim(TOPIC, 1, VISIBILITY).await.unwrap().remove(0);
    assert_eq!((d.id, d.attempts), (dead[0].id, 1));
    assert!(matches!(h.bus.requeue_dead(d.id).await, Err(BusError::NotDead { .. })));
    h.bus.ack(&d).await.unwrap();
}

#[tokio::test]
async fn lapsed_claim_on_last_attempt_is_dead_lettered() {
    let h = Harness::new(2).await;
    h.bus.publish(TOPIC, "poison", b"p").await.unwrap();
    for _ in 0..2 {
        assert_eq!(h.bus.claim(TOPIC, 1, VISIBILITY).await.unwrap().len(), 1);
        h.advance(VISIBILITY);
    }
    assert!(h.bus.claim(TOPIC, 1, VISIBILITY).await.unwrap().is_empty());
    let dead = h.bus.dead_letters(TOPIC, 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].attempts, 2);
    assert!(dead[0].last_error.as_deref().unwrap().contains("lapsed"));
}

#[tokio::test]
async fn messages_survive_closing_and_reopening_the_file() {
    let h = Harness::new(5).await;
    publish_n(&h.bus, TOPIC, 3).await;
    let claimed = h.bus.claim(TOPIC, 1, VISIBILITY).await.unwrap();
    assert_eq!(keys(&claimed), ["k0"]);
    h.pool.close().await;

    let pool = open_pool(&h.path).await;
    let bus = SqliteBus::new(pool.clone(), h.clock.clone(), 5);
    let stats = bus.stats(TOPIC).await.unwrap();
    assert_eq!((stats.ready, stats.in_flight), (2, 1));

    h.advance(VISIBILITY);
    let got = bus.claim(TOPIC, 10, VISIBILITY).await.unwrap();
    assert_eq!(keys(&got), ["k0", "k1", "k2"]);
    assert_eq!(got[0].attempts, 2);
    assert_eq!(got[2].payload, b"p2");
    pool.close().await;
}

#[tokio::test]
async fn topics_are_isolated() {
    let h = Harness::new(1).await;
    publish_n(&h.bus, "email", 3).await;
    publish_n(&h.bus, "sms", 2).await;

    let sms = h.bus.claim("sms", 10, VISIBILITY).await.unwrap();
    assert_eq!(sms.len(), 2);
    assert!(sms.iter().all(|d| d.topic == "sms"));
    assert_eq!(h.bus.stats("email").await.unwrap().ready, 3);
    assert_eq!(h.bus.stats("sms").await.unwrap().in_flight, 2);

    assert_eq!(h.bus.retry(&sms[0], "bad number", Duration::ZERO).await.unwrap(), RetryOutcome::DeadLettered);
    assert!(h.bus.dead_letters("email", 10).await.unwrap().is_empty());
    assert_eq!(h.bus.dead_letters("sms", 10).await.unwrap().len(), 1);
    assert_eq!(h.bus.stats("email").await.unwrap().dead, 0);

    let email = h.bus.claim("email", 10, VISIBILITY).await.unwrap();
    assert_eq!(keys(&email), ["k0", "k1", "k2"]);
    assert!(h.bus.claim("push", 10, VISIBILITY).await.unwrap().is_empty());
}

#[tokio::test]
async fn oversized_payload_is_refused() {
    let h = Harness::new(1).await;
    let big = vec![0u8; herald_bus::MAX_PAYLOAD_BYTES + 1];
    assert!(matches!(h.bus.publish(TOPIC, "k", &big).await, Err(BusError::PayloadTooLarge { .. })));
    assert_eq!(h.bus.stats(TOPIC).await.unwrap(), TopicStats::default());
}
