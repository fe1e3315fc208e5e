//! Pausing and resuming a run, counted at the receiver: a crowd run sends through the webhook
//! channel to a recording receiver answering slowly; mid-run an operator pauses it. The pause
//! answers within 2 s; after its answer the receiver gets at most the sends that were in flight,
//! for as long as the run stays paused, while the run counts the messages it holds. Resumed,
//! the run completes: the receiver got every row exactly once, and the run's delivered count is
//! what arrived. Once on the embedded default (one process, SQLite; paused through the API,
//! resumed through the CLI) and once on three cluster processes (PostgreSQL, Kafka, Redis),
//! paused through node 3 and resumed through node 2. `HERALD_PAUSE_ROWS` sets the embedded
//! run's size (20,000 here; scripts/pause-soak.sh runs 1,000,000) and `HERALD_PAUSE_DELAY_MS`
//! the receiver's answer time (5 ms here).

mod common;

use common::run_control::*;
use herald_testkit::RecordingReceiver;
use herald_testkit::node::ApiClient;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// How long the run stays paused while the receiver is watched.
const PAUSED_FOR: Duration = Duration::from_secs(3);

fn rows() -> usize {
    std::env::var("HERALD_PAUSE_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000)
}

fn receiver_delay() -> Duration {
    Duration::from_millis(std::env::var("HERALD_PAUSE_DELAY_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(5))
}

/// Pauses through `api` once `started` requests have arrived, keeps the run paused for
/// `PAUSED_FOR`, and returns how many requests arrived after the pause's answer meanwhile.
async fn pause_a_while(api: &ApiClient, run_id: i64, receiver: &RecordingReceiver, started: usize) -> usize {
    assert!(receiver.wait_for(started, Duration::from_secs(120)).await, "no progress");
    let asked = Instant::now();
    let (status, run) = api.call(reqwest::Method::POST, &format!("/api/runs/{run_id}/pause"), Some(&json!({}))).await;
    let answered_at = receiver.elapsed();
    let took = asked.elapsed();
    assert_eq!(status, 200, "{run}");
    assert!(run["pausedAt"].is_string(), "{run}");
    assert!(took < Duration::from_secs(2), "the pause took {took:?} to answer");
    tokio::time::sleep(PAUSED_FOR).await;
    let late = receiver.received().iter().filter(|r| r.at > answered_at).count();
    let run = api.wait_run(run_id, Duration::from_secs(5), |_| true).await;
    println!("pause answered in {took:?}; {late} requests after it in {PAUSED_FOR:?}; {run}");
    assert!(run["pausedAt"].is_string() && run["status"] != "completed", "still paused: {run}");
    assert!(run["held"].as_i64().unwrap() > 0, "the run holds the messages it did not send: {run}");
    let (_, listed) = api.call(reqwest::Method::GET, "/api/runs?status=paused", None).await;
    assert_eq!(listed["items"][0]["id"], run_id, "listed as paused: {listed}");
    let (status, refused) = api.call(reqwest::Method::GET, "/api/runs?status=halted", None).await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused["msg"].as_str().unwrap_or_default().contains("status"), "{refused}");
    let (_, again) = api.call(reqwest::Method::POST, &format!("/api/runs/{run_id}/pause"), Some(&json!({}))).await;
    assert!(again["msg"].as_str().unwrap_or_default().contains("paused already"), "{again}");
    late
}

/// Waits for the resumed run to complete and checks it against the receiver: every row arrived
/// exactly once, and the run's figures say so.
async fn every_row_once(api: &ApiClient, run_id: i64, rows: usize, receiver: &RecordingReceiver) {
    let run = api.wait_run(run_id, Duration::from_secs(120 + rows as u64 / 200), |r| r["status"] == "completed").await;
    println!("{rows} rows: {} received, {} repeats; {run}", receiver.count(), receiver.repeats());
    assert_eq!(receiver.repeats(), 0, "no message sent twice");
    assert_eq!(receiver.counts_by_id().len(), rows, "every row arrived");
    assert_eq!(run["delivered"].as_i64(), Some(rows as i64), "{run}");
    assert_eq!(
        (&run["held"], &run["deferred"], &run["dropped"], &run["pausedAt"]),
        (&json!(0), &json!(0), &json!(0), &Value::Null)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_run_sends_nothing_until_resumed_then_every_row_once_on_the_embedded_node() {
    let _serial = SERIAL.lock().await;
    let rows = rows();
    let dir = tempfile::tempdir().unwrap();
    let node = EmbeddedNode::start(dir.path()).await;
    let api = &node.api;
    let receiver = RecordingReceiver::start().await;
    receiver.set_delay(receiver_delay());
    let run_id = webhook_run(api, "pause me", rows, &receiver).await;

    let late = pause_a_while(api, run_id, &receiver, 2_000).await;
    assert!(late <= EMBEDDED_IN_FLIGHT, "{late} requests after the pause's answer");

    let cli = |args: &[&str]| node.cli(args);
    let resumed = cli(&["run", "resume", &run_id.to_string()]);
    assert!(resumed.status.success(), "{resumed:?}");
    let resumed: Value = serde_json::from_slice(&resumed.stdout).expect("JSON on stdout");
    assert_eq!(resumed["pausedAt"], Value::Null, "{resumed}");
    every_row_once(api, run_id, rows, &receiver).await;

    node.refuses_an_ended_and_an_unknown_run(run_id, "pause", "paused").await;
    let (status, body) = api.call(reqwest::Method::POST, "/api/runs/999999/resume", Some(&json!({}))).await;
    assert_eq!(status, 404, "{body}");
}

#[cfg(feature = "cluster")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pause_sent_to_one_cluster_node_holds_every_node_and_a_resume_sends_every_row_once() {
    let _serial = SERIAL.lock().await;
    const ROWS: usize = 10_000;
    let receiver = RecordingReceiver::start().await;
    receiver.set_delay(Duration::from_millis(10));
    let cluster = sending_cluster();
    let run_id = webhook_run(&cluster.api(1), "pause me", ROWS, &receiver).await;

    let late = pause_a_while(&cluster.api(3), run_id, &receiver, 1_000).await;
    assert!(late <= CLUSTER_IN_FLIGHT, "{late} requests after the pause's answer");
    let (status, run) =
        cluster.api(2).call(reqwest::Method::POST, &format!("/api/runs/{run_id}/resume"), Some(&json!({}))).await;
    assert_eq!(status, 200, "{run}");
    every_row_once(&cluster.api(1), run_id, ROWS, &receiver).await;
}
