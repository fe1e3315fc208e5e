//! The bus under load: concurrent claimers, the claim query plan on a deep queue, and a printed
//! throughput figure (informational only, nothing is asserted about speed).

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Harness, VISIBILITY};
use herald_bus::{Bus, SqliteBus, TopicStats};
use herald_core::Clock;

const TOPIC: &str = "email";

async fn drain(bus: Arc<SqliteBus>, batch: usize) -> Vec<i64> {
    let mut seen = Vec::new();
    loop {
        let got = bus.claim(TOPIC, batch, VISIBILITY).await.expect("claim");
        if got.is_empty() {
            // The clock is frozen, so nothing lapses: empty means every message is taken.
            return seen;
        }
        for d in got {
            bus.ack(&d).await.expect("ack");
            seen.push(d.id);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claimers_get_every_message_exactly_once() {
    const MESSAGES: usize = 2_000;
    let h = Harness::new(5).await;
    for i in 0..MESSAGES {
        h.bus.publish(TOPIC, &i.to_string(), &i.to_le_bytes()).await.unwrap();
    }

    // Two claimers, each with its own pool as two processes would have, four tasks apiece.
    let claimers = [Arc::new(h.bus.clone()), Arc::new(h.other_bus().await)];
    let mut tasks = Vec::new();
    for bus in &claimers {
        for _ in 0..4 {
            tasks.push(tokio::spawn(drain(bus.clone(), 7)));
        }
    }
    let mut counts: HashMap<i64, usize> = HashMap::new();
    let mut per_task = Vec::new();
    for task in tasks {
        let ids = task.await.unwrap();
        per_task.push(ids.len());
        for id in ids {
            *counts.entry(id).or_default() += 1;
        }
    }

    assert_eq!(counts.len(), MESSAGES, "every message delivered");
    let doubled: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(doubled.is_empty(), "delivered more than once: {doubled:?}");
    assert_eq!(h.bus.stats(TOPIC).await.unwrap(), TopicStats::default());
    println!("messages per claimer task: {per_task:?}");
}

/// Fills `topic` with `n` rows in one statement, far faster than publishing them one by one.
async fn fill(h: &Harness, topic: &str, n: i64) {
    let now = h.clock.now().timestamp_millis();
    sqlx::query(
        "WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?1)
         INSERT INTO bus_messages (topic, msg_key, payload, visible_at, created_at, updated_at)
         SELECT ?2, 'k' || i, randomblob(200), ?3, ?3, ?3 FROM seq",
    )
    .bind(n)
    .bind(topic)
    .bind(now)
    .execute(&h.pool)
    .await
    .unwrap();
}

#[tokio::test]
async fn claim_walks_the_claim_index_without_sorting() {
    let h = Harness::new(5).await;
    fill(&h, TOPIC, 1_000).await;
    fill(&h, "sms", 1_000).await;
    sqlx::query("ANALYZE").execute(&h.pool).await.unwrap();

    // The statement `SqliteBus::claim` runs.
    let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(
        "EXPLAIN QUERY PLAN
         UPDATE bus_messages
         SET status = 'inflight', attempts = attempts + 1, lease = lease + 1,
             visible_at = ?1, updated_at = ?2
         WHERE id IN (
             SELECT id FROM bus_messages
             WHERE topic = ?3 AND status <> 'dead' AND visible_at <= ?2
             ORDER BY id
             LIMIT ?4
         )
         RETURNING id, topic, msg_key, payload, attempts, lease",
    )
    .bind(0i64)
    .bind(0i64)
    .bind(TOPIC)
    .bind(10i64)
    .fetch_all(&h.pool)
    .await
    .unwrap();
    let plan: Vec<String> = plan.into_iter().map(|row| row.3).collect();
    assert!(plan.iter().any(|step| step.contains("bus_messages_claim")), "claim should use the claim index: {plan:?}");
    assert!(!plan.iter().any(|step| step.contains("TEMP B-TREE")), "claim should not sort: {plan:?}");
}

#[tokio::test]
async fn throughput_figure() {
    const PUBLISHED: usize = 2_000;
    const DEPTH: i64 = 200_000;
    let h = Harness::new(5).await;

    let started = Instant::now();
    for i in 0..PUBLISHED {
        h.bus.publish("bench", &i.to_string(), &[0u8; 200]).await.unwrap();
    }
    let publish = started.elapsed();

    // Claim and ack with a deep queue behind the head, and a block of in-flight rows to skip.
    fill(&h, TOPIC, DEPTH).await;
    let skipped = h.bus.claim(TOPIC, 1000, Duration::from_secs(3600)).await.unwrap();
    let started = Instant::now();
    let mut handled = 0usize;
    while handled < PUBLISHED {
        let got = h.bus.claim(TOPIC, 50, VISIBILITY).await.unwrap();
        for d in &got {
            h.bus.ack(d).await.unwrap();
        }
        handled += got.len();
    }
    let consume = started.elapsed();
    assert_eq!(skipped.len(), 1000);

    let stats = Instant::now();
    let counts = h.bus.stats(TOPIC).await.unwrap();
    let stats = stats.elapsed();
    assert_eq!(counts.in_flight, 1000);

    println!(
        "publish: {:.0} msg/s; claim(50)+ack with {DEPTH} queued: {:.0} msg/s; stats: {:?}",
        rate(PUBLISHED, publish),
        rate(handled, consume),
        stats,
    );
}

fn rate(n: usize, took: Duration) -> f64 {
    n as f64 / took.as_secs_f64().max(1e-9)
}
