//! Rate gates: the in-process one, and the Redis one shared by two "nodes" (separate
//! connections, separate gates) on a real Redis, where the rate must hold for both together;
//! when Redis becomes unreachable each node falls back to its own bucket until it is back.

mod redis_support;

use herald_store::redis_rate::RedisRates;
use herald_store::{LocalRates, RateGate};
use redis_support::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Acquires one permit at a time on `gate` from `tasks` tasks until `deadline`; counts the
/// permits granted before it.
fn hammer(
    gate: Arc<dyn RateGate>,
    key: &str,
    rate: f64,
    tasks: usize,
    deadline: Instant,
) -> Vec<tokio::task::JoinHandle<u32>> {
    (0..tasks)
        .map(|_| {
            let (gate, key) = (gate.clone(), key.to_string());
            tokio::spawn(async move {
                let mut granted = 0;
                loop {
                    gate.acquire(&key, rate, 1).await;
                    if Instant::now() > deadline {
                        return granted;
                    }
                    granted += 1;
                }
            })
        })
        .collect()
}

async fn total(handles: Vec<tokio::task::JoinHandle<u32>>) -> u32 {
    let mut sum = 0;
    for handle in handles {
        sum += handle.await.unwrap();
    }
    sum
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_on_one_key_stay_within_the_rate_together() {
    let prefix = unique_prefix("rate-shared");
    let node_a: Arc<dyn RateGate> = Arc::new(RedisRates::new(connect().await, &prefix));
    let node_b: Arc<dyn RateGate> = Arc::new(RedisRates::new(connect().await, &prefix));
    let (rate, burst) = (20.0, 20.0);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(2);
    let a = hammer(node_a, "channel:sms", rate, 4, deadline);
    let b = hammer(node_b, "channel:sms", rate, 4, deadline);
    let (a, b) = (total(a).await, total(b).await);
    let elapsed = deadline.duration_since(started).as_secs_f64();
    let allowed = rate * elapsed + burst;
    let granted = f64::from(a + b);
    assert!(granted <= allowed, "{a} + {b} permits in {elapsed:.2} s; at most {allowed} may pass");
    // A loose floor: a loaded CI machine delays the tasks' own loops; a gate that throttled
    // the whole cluster to half the rate would still fall below it.
    assert!(granted >= 0.6 * allowed, "{a} + {b} permits in {elapsed:.2} s; the gate let too few through");
    assert!(a > 5 && b > 5, "both nodes drew from the bucket: {a} and {b}");
    delete_prefix(&prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_reserves_its_permits_at_once_and_keys_are_apart() {
    let prefix = unique_prefix("rate-batch");
    let gate = RedisRates::new(connect().await, &prefix);
    let started = Instant::now();
    gate.acquire("account:1", 100.0, 100).await;
    gate.acquire("account:2", 100.0, 100).await;
    assert!(started.elapsed() < Duration::from_millis(300), "two full bursts on two keys: {:?}", started.elapsed());
    gate.acquire("account:1", 100.0, 50).await;
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(450), "50 more at 100/s wait half a second: {waited:?}");
    assert!(waited < Duration::from_millis(1_200), "{waited:?}");

    // Rates that do not limit pass at once and leave nothing behind.
    gate.acquire("free", 0.0, 1_000).await;
    gate.acquire("free", f64::NAN, 1_000).await;
    let keys = keys(&prefix).await;
    assert_eq!(keys, [format!("{prefix}:rate:account:1@100"), format!("{prefix}:rate:account:2@100")]);

    // A new rate is a new bucket, in effect at once.
    let started = Instant::now();
    gate.acquire("account:1", 200.0, 200).await;
    assert!(started.elapsed() < Duration::from_millis(300), "{:?}", started.elapsed());
    delete_prefix(&prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_unreachable_a_node_falls_back_to_its_own_bucket() {
    let prefix = unique_prefix("rate-down");
    let proxy = redis_proxy().await;
    let gate = RedisRates::new(connect_via(&proxy).await, &prefix);
    gate.acquire("channel:email", 10.0, 10).await;
    assert_eq!(keys(&prefix).await.len(), 1, "the bucket is in Redis");
    proxy.cut();

    // The first acquire after the cut finds out (within a second), later ones fall back at
    // once, and the node's own bucket still holds the rate: 10 free, then 10 per second.
    let started = Instant::now();
    for _ in 0..15 {
        gate.acquire("channel:email", 10.0, 1).await;
    }
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(400), "five past the burst wait half a second: {took:?}");
    assert!(took < Duration::from_millis(2_500), "{took:?}");

    // Redis is back: once the stand-down is over (and the connection reconnected), the
    // bucket is shared again.
    delete_prefix(&prefix).await;
    proxy.restore().await;
    let restored = Instant::now();
    while keys(&prefix).await.is_empty() {
        assert!(restored.elapsed() < 3 * herald_store::redis_conn::STAND_DOWN, "Redis was not used again");
        gate.acquire("channel:email", 10.0, 1).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    delete_prefix(&prefix).await;
}

#[tokio::test]
async fn the_local_gate_holds_the_rate_for_its_process() {
    let gate: Arc<dyn RateGate> = Arc::new(LocalRates::default());
    let started = Instant::now();
    let deadline = started + Duration::from_millis(1_500);
    let granted = f64::from(total(hammer(gate, "k", 20.0, 4, deadline)).await);
    assert!(granted <= 20.0 * 1.5 + 20.0, "{granted}");
    assert!(granted >= 0.6 * (20.0 * 1.5 + 20.0), "{granted}: the gate let too few through");
}
