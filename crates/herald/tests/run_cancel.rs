//! Cancelling a run, counted at the receiver: a crowd run sends through the webhook channel to
//! a recording receiver answering slowly; mid-run an operator cancels it. The cancel answers
//! within 2 s; after its answer the receiver gets at most the sends that were in flight; every
//! request the receiver got is a message the run counts as delivered, once; every other row
//! read ends `cancelled` (the streamer reads far ahead of the sends, so most rows are read).
//! Once on the embedded default (one process, SQLite) and once on three cluster processes
//! (PostgreSQL, Kafka, Redis), all three sending, the run started through node 1 and cancelled
//! through node 3. `HERALD_CANCEL_ROWS` sets the embedded run's size (100,000 here;
//! scripts/cancel-soak.sh runs 1,000,000).

mod common;

use common::run_control::*;
use herald_testkit::RecordingReceiver;
use herald_testkit::node::ApiClient;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn rows() -> usize {
    std::env::var("HERALD_CANCEL_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000)
}

/// Cancels through `api`; returns the answer and the receiver's clock when it came.
async fn cancel(api: &ApiClient, run_id: i64, receiver: &RecordingReceiver) -> (Value, Duration) {
    let asked = Instant::now();
    let (status, run) = api.call(reqwest::Method::POST, &format!("/api/runs/{run_id}/cancel"), Some(&json!({}))).await;
    let answered_at = receiver.elapsed();
    let took = asked.elapsed();
    assert_eq!(status, 200, "{run}");
    assert_eq!(run["status"], "cancelled", "{run}");
    assert!(took < Duration::from_secs(2), "the cancel took {took:?} to answer");
    println!("cancel answered in {took:?}");
    (run, answered_at)
}

/// Waits until every row the run read is final, then checks the figures against the receiver;
/// returns how many requests arrived after the cancel's answer.
async fn counts_add_up(
    api: &ApiClient,
    run_id: i64,
    rows: usize,
    receiver: &RecordingReceiver,
    answered_at: Duration,
) -> usize {
    let run = api
        .wait_run(run_id, Duration::from_secs(120 + rows as u64 / 5_000), |r| {
            let final_rows =
                ["delivered", "failed", "dropped", "rowsInvalid"].iter().map(|k| r[k].as_i64().unwrap_or(0));
            r["deferred"] == 0 && final_rows.sum::<i64>() == r["rowsRead"].as_i64().unwrap_or(-1)
        })
        .await;
    // Anything still on its way would have arrived by now.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let late = receiver.received().iter().filter(|r| r.at > answered_at).count();
    let received = receiver.counts_by_id();
    let run_now = api.wait_run(run_id, Duration::from_secs(5), |_| true).await;
    assert_eq!(run_now, run, "nothing changed after every row read was final");
    println!(
        "{rows} rows: {} read, {} received ({} after the answer), {} ended cancelled",
        run["rowsRead"],
        receiver.count(),
        late,
        run["dropped"]
    );
    assert_eq!(run["status"], "cancelled", "{run}");
    assert_eq!(receiver.repeats(), 0, "no message sent twice");
    assert_eq!(received.len() as i64, run["delivered"].as_i64().unwrap(), "the run's delivered count is what arrived");
    assert_eq!(run["failed"], 0, "{run}");
    let (_, states) = api.call(reqwest::Method::GET, &format!("/api/runs/{run_id}/states"), None).await;
    assert_eq!(states["states"]["cancelled"], run["dropped"], "{states}");
    assert!(run["dropped"].as_i64().unwrap() > 0, "some read rows were still queued: {run}");
    late
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_run_sends_nothing_after_the_answer_on_the_embedded_node() {
    let _serial = SERIAL.lock().await;
    let rows = rows();
    let dir = tempfile::tempdir().unwrap();
    let node = EmbeddedNode::start(dir.path()).await;
    let api = &node.api;
    let receiver = RecordingReceiver::start().await;
    receiver.set_delay(Duration::from_millis(5));
    let run_id = webhook_run(api, "cancel me", rows, &receiver).await;
    assert!(receiver.wait_for(2_000, Duration::from_secs(120)).await, "no progress");

    let (_, answered_at) = cancel(api, run_id, &receiver).await;
    let late = counts_add_up(api, run_id, rows, &receiver, answered_at).await;
    assert!(late <= EMBEDDED_IN_FLIGHT, "{late} requests after the cancel's answer");

    // The CLI: show prints the run; cancelling it again is refused with the reason, exit 1.
    let cli = |args: &[&str]| node.cli(args);
    let shown = cli(&["run", "show", &run_id.to_string()]);
    assert!(shown.status.success(), "{shown:?}");
    let shown: Value = serde_json::from_slice(&shown.stdout).expect("JSON on stdout");
    assert_eq!(shown["status"], "cancelled");
    node.refuses_an_ended_and_an_unknown_run(run_id, "cancel", "cancelled").await;
}

#[cfg(feature = "cluster")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_sent_to_one_cluster_node_stops_the_sends_of_every_node() {
    let _serial = SERIAL.lock().await;
    const ROWS: usize = 30_000;
    let receiver = RecordingReceiver::start().await;
    receiver.set_delay(Duration::from_millis(10));
    let cluster = sending_cluster();
    let run_id = webhook_run(&cluster.api(1), "cancel me", ROWS, &receiver).await;
    assert!(receiver.wait_for(2_000, Duration::from_secs(120)).await, "no progress");

    let (_, answered_at) = cancel(&cluster.api(3), run_id, &receiver).await;
    let late = counts_add_up(&cluster.api(2), run_id, ROWS, &receiver, answered_at).await;
    assert!(late <= CLUSTER_IN_FLIGHT, "{late} requests after the cancel's answer");
}
