//! Exactly once at the provider in cluster mode: three herald processes (scripts/local-cluster.sh:
//! PostgreSQL, Redis, the Kafka mock, moto) sending through the webhook channel to a recording
//! receiver in this test, which counts what arrived by message id. Faults are real: batches
//! slower than the bus visibility, a node SIGKILLed three times, Kafka rebalances while batches
//! are in flight, PostgreSQL and Redis restarted mid-run, a node stopped with SIGSTOP past every
//! lease. The tests run one at a time: each cluster needs the whole machine.
#![cfg(feature = "cluster")]

mod common;

use common::cluster::LocalCluster;
use common::redis::PrivateRedis;
use common::*;
use herald_testkit::RecordingReceiver;
use herald_testkit::node::webhook_template;
use serde_json::json;
use std::process::Command;
use std::time::Duration;

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// What a node's crash, pause or lost database can repeat: its webhook sends in flight,
/// `worker.sends_in_flight` (8) x `worker.workers_per_channel` (4 in config/cluster.toml, which
/// the nodes run with; measured: 96 requests at once at a slow receiver from three nodes).
const IN_FLIGHT_PER_NODE: usize = 8 * 4;

/// Short claims, leases and sessions, so a dead or paused node's work passes on in seconds.
const FAST: [(&str, &str); 6] = [
    ("HERALD_CHANNELS__ALLOW_PRIVATE_NETWORKS", "true"),
    ("HERALD_WORKER__CLAIM_SECS", "3"),
    ("HERALD_WORKER__VISIBILITY_SECS", "3"),
    ("HERALD_STREAMER__LEASE_SECS", "3"),
    ("HERALD_STREAMER__SHARD_BYTES", "65536"),
    ("HERALD_BUS__KAFKA__SESSION_TIMEOUT_MS", "6000"),
];

fn env_with(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    FAST.iter().copied().chain(extra.iter().copied()).collect()
}

/// Starts a webhook run of `rows` rows to `receiver` from node 1; returns the run id.
async fn webhook_run(cluster: &LocalCluster, rows: usize, receiver: &RecordingReceiver) -> i64 {
    let api = cluster.api(1);
    let crowd = api.crowd(crowd_csv(rows)).await;
    let template = api.template(&webhook_template("once", &crowd, &format!("{}/hook", receiver.url))).await;
    api.run_now(template).await
}

/// Waits for the run to complete; checks every row arrived; returns the repeats.
async fn every_row_arrived(
    cluster: &LocalCluster,
    node: usize,
    run_id: i64,
    rows: usize,
    receiver: &RecordingReceiver,
) -> usize {
    let run = cluster.api(node).wait_run(run_id, Duration::from_secs(300), |r| r["status"] == "completed").await;
    if run["delivered"] != rows as i64 {
        // Say why: the first messages that did not end sent.
        let path = format!("/api/messages?runId={run_id}&limit=1000");
        let (_, states) = cluster.api(node).call(reqwest::Method::GET, &path, None).await;
        let items = states["items"].as_array().cloned().unwrap_or_default();
        let not_sent: Vec<_> = items.iter().filter(|m| m["state"] != "sent").take(3).collect();
        panic!("{run}\nnot sent, e.g. {not_sent:?}");
    }
    let prefix = run["messageIdPrefix"].as_str().expect("the run's message id prefix");
    let expected: Vec<String> = (1..=rows).map(|n| format!("{prefix}{n}")).collect();
    let missing = receiver.missing(expected.iter().map(String::as_str));
    assert!(missing.is_empty(), "{} rows lost, e.g. {:?}", missing.len(), &missing[..missing.len().min(5)]);
    let repeats = receiver.repeats();
    println!("{rows} rows: {} requests, 0 lost, {repeats} repeats", receiver.count());
    repeats
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limited_batches_slower_than_the_visibility_are_sent_once_across_nodes() {
    let _serial = SERIAL.lock().await;
    let receiver = RecordingReceiver::start().await;
    let cluster = LocalCluster::up(
        3,
        &env_with(&[("HERALD_WORKER__VISIBILITY_SECS", "1"), ("HERALD_STREAMER__BATCH_SIZE", "40")]),
    );
    let (status, body) = cluster
        .api(1)
        .call(reqwest::Method::PUT, "/api/flow-control/webhook", Some(&json!({"ratePerSecond": 20})))
        .await;
    assert!(status < 300, "{status} {body}");
    // 40-row batches at 20 a second (shared by the nodes through Redis): 2 s each, twice the visibility.
    let run_id = webhook_run(&cluster, 120, &receiver).await;
    assert_eq!(every_row_arrived(&cluster, 1, run_id, 120, &receiver).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_three_times_loses_nothing_and_repeats_at_most_its_sends_in_flight() {
    let _serial = SERIAL.lock().await;
    const ROWS: usize = 20_000;
    let receiver = RecordingReceiver::start().await;
    let cluster = LocalCluster::up(3, &env_with(&[]));
    let run_id = webhook_run(&cluster, ROWS, &receiver).await;
    for kill in 1..=3 {
        let before = receiver.count();
        assert!(receiver.wait_for(before + 1_000, Duration::from_secs(120)).await, "no progress before kill {kill}");
        cluster.kill(2, "KILL");
        assert!(receiver.count() < ROWS, "kill {kill} must land mid-run");
        tokio::time::sleep(Duration::from_millis(500)).await;
        cluster.start(2);
    }
    let repeats = every_row_arrived(&cluster, 1, run_id, ROWS, &receiver).await;
    assert!(repeats <= 3 * IN_FLIGHT_PER_NODE, "{repeats} repeats over 3 kills");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_rebalances_while_batches_are_in_flight_repeat_nothing() {
    let _serial = SERIAL.lock().await;
    const ROWS: usize = 1_500;
    let receiver = RecordingReceiver::start().await;
    // A slow provider keeps batches in flight across the rebalances.
    receiver.set_delay(Duration::from_millis(60));
    let cluster = LocalCluster::up(3, &env_with(&[]));
    cluster.kill(3, "TERM");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let run_id = webhook_run(&cluster, ROWS, &receiver).await;
    assert!(receiver.wait_for(200, Duration::from_secs(60)).await, "no progress");
    cluster.start(3); // a worker joins: partitions move away from busy consumers
    assert!(receiver.wait_for(600, Duration::from_secs(120)).await, "no progress after the join");
    cluster.kill(2, "TERM"); // a worker leaves: its partitions move to the others
    let repeats = every_row_arrived(&cluster, 1, run_id, ROWS, &receiver).await;
    assert_eq!(repeats, 0, "a rebalance must not send a message twice");
}

/// Restarts the PostgreSQL server the cluster uses (the tests run one binary at a time, so
/// nothing else is using it) and waits until it takes connections again.
fn restart_postgres() {
    let version = std::fs::read_dir("/etc/postgresql")
        .ok()
        .and_then(|d| d.filter_map(|e| e.ok()?.file_name().into_string().ok()).max())
        .expect("a Debian PostgreSQL cluster under /etc/postgresql");
    let restarted = Command::new("pg_ctlcluster")
        .args(["--skip-systemctl-redirect", &version, "main", "restart"])
        .status()
        .is_ok_and(|s| s.success())
        || Command::new("service").args(["postgresql", "restart"]).status().is_ok_and(|s| s.success());
    assert!(restarted, "could not restart PostgreSQL {version}");
    for _ in 0..300 {
        if Command::new("pg_isready").args(["-q", "-h", "127.0.0.1"]).status().is_ok_and(|s| s.success()) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("PostgreSQL did not come back within 30 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_and_redis_restarted_mid_run_lose_nothing() {
    let _serial = SERIAL.lock().await;
    const ROWS: usize = 8_000;
    let receiver = RecordingReceiver::start().await;
    let redis_port = herald_testkit::free_port();
    let mut redis = PrivateRedis::start(redis_port);
    let redis_url = format!("redis://127.0.0.1:{redis_port}");
    let redis_url: &'static str = Box::leak(redis_url.into_boxed_str());
    let cluster = LocalCluster::up(3, &env_with(&[("REDIS_URL", redis_url)]));
    // 400 a second across the nodes: the run takes about 20 s, long enough for both restarts.
    let (status, body) = cluster
        .api(1)
        .call(reqwest::Method::PUT, "/api/flow-control/webhook", Some(&json!({"ratePerSecond": 400})))
        .await;
    assert!(status < 300, "{status} {body}");
    let run_id = webhook_run(&cluster, ROWS, &receiver).await;

    assert!(receiver.wait_for(1_500, Duration::from_secs(120)).await, "no progress");
    tokio::task::spawn_blocking(restart_postgres).await.unwrap();
    let after_pg = receiver.count();
    assert!(after_pg < ROWS - 1_000, "PostgreSQL's restart must land mid-run: {after_pg} of {ROWS} arrived");
    assert!(
        receiver.wait_for(after_pg + 1_000, Duration::from_secs(120)).await,
        "no progress after PostgreSQL came back"
    );
    redis.restart();
    assert!(receiver.count() < ROWS, "Redis's restart must land mid-run");

    let repeats = every_row_arrived(&cluster, 1, run_id, ROWS, &receiver).await;
    assert!(repeats <= 2 * 3 * IN_FLIGHT_PER_NODE, "{repeats} repeats over two restarts of three nodes' stores");
    drop(cluster); // before its Redis, which it cleans up
    drop(redis);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_stopped_past_every_lease_and_resumed_repeats_at_most_its_sends_in_flight() {
    let _serial = SERIAL.lock().await;
    const ROWS: usize = 10_000;
    let receiver = RecordingReceiver::start().await;
    receiver.set_delay(Duration::from_millis(2));
    let cluster = LocalCluster::up(3, &env_with(&[]));
    let run_id = webhook_run(&cluster, ROWS, &receiver).await;
    assert!(receiver.wait_for(1_500, Duration::from_secs(120)).await, "no progress");
    cluster.kill(2, "STOP");
    // Past its claims (3 s), its bus visibility (3 s), its shard lease (3 s) and its Kafka session (6 s).
    tokio::time::sleep(Duration::from_secs(10)).await;
    cluster.kill(2, "CONT");
    let repeats = every_row_arrived(&cluster, 1, run_id, ROWS, &receiver).await;
    let repeated: Vec<(String, usize)> = receiver.counts_by_id().into_iter().filter(|(_, n)| *n > 1).collect();
    // What it had in flight reached the receiver, and their timers ran out while it stood still:
    // those, and only those, are sent again.
    assert!(repeats <= IN_FLIGHT_PER_NODE, "{repeats} repeats after one pause: {repeated:?}");
}
