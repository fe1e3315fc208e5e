//! Crash recovery with real processes: `herald serve` is killed with SIGKILL in the middle of a
//! crowd run and started again on the same SQLite file; the run finishes and a recording
//! receiver got every row, repeating at most the sends that were in flight. And SIGTERM: the
//! node finishes the batch in hand, checkpoints, hands the run back and exits 0, so the next
//! start resumes at once, and the receiver got every row exactly once.

mod common;

use common::process::*;
use common::*;
use herald_testkit::RecordingReceiver;
use herald_testkit::node::webhook_template;
use serde_json::{Value, json};
use std::process::Command;
use std::time::Duration;

const ROWS: usize = 30_000;

/// What one kill may repeat: the webhook topic's sends in flight (8 per worker, 2 workers).
const REPEAT_BOUND_PER_KILL: usize = 16;

async fn start_big_run(server: &Server, key: &str, receiver: &RecordingReceiver) -> i64 {
    let http = reqwest::Client::new();
    let (status, upload) = upload(&http, &server.base, key, crowd_csv(ROWS), None).await;
    assert_eq!(status, 201, "{upload}");
    let crowd_id = upload["crowd"]["id"].as_str().unwrap();
    let spec = webhook_template("crash", crowd_id, &format!("{}/hook", receiver.url));
    let created: Value = http
        .post(format!("{}/api/templates", server.base))
        .header("X-API-Key", key)
        .json(&spec)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_i64().expect("template created");
    let run: Value = http
        .post(format!("{}/api/templates/{id}/run", server.base))
        .header("X-API-Key", key)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    run["runId"].as_i64().unwrap()
}

/// The run completes and the receiver got every row; returns how many requests repeated one.
async fn assert_every_row_arrived(server: &Server, key: &str, run_id: i64, receiver: &RecordingReceiver) -> usize {
    let http = reqwest::Client::new();
    let run =
        wait_run(&http, &server.base, key, run_id, Duration::from_secs(180), |r| r["status"] == "completed").await;
    assert_eq!(run["rowsRead"], ROWS as i64, "{run}");
    assert_eq!(run["delivered"], ROWS as i64, "{run}");
    assert_eq!(run["failed"], 0, "{run}");
    let prefix = run["messageIdPrefix"].as_str().expect("the run's message id prefix");
    let expected: Vec<String> = (1..=ROWS).map(|n| format!("{prefix}{n}")).collect();
    let missing = receiver.missing(expected.iter().map(String::as_str));
    assert!(missing.is_empty(), "{} rows lost, e.g. {:?}", missing.len(), &missing[..missing.len().min(5)]);
    assert_eq!(receiver.counts_by_id().len(), ROWS, "no message the run did not make");
    receiver.repeats()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_run_loses_and_doubles_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = write_config(dir.path(), port, 2);
    let (mut server, key) = spawn(dir.path(), &config, port).await;
    let key = key.expect("first start prints a key");
    let receiver = RecordingReceiver::start().await;
    let run_id = start_big_run(&server, &key, &receiver).await;

    let http = reqwest::Client::new();
    let at_kill = wait_run(&http, &server.base, &key, run_id, Duration::from_secs(120), |r| {
        r["delivered"].as_i64().unwrap_or(0) >= 2_000
    })
    .await;
    server.child.kill().expect("SIGKILL");
    server.child.wait().unwrap();
    drop(server);
    let delivered_at_kill = at_kill["delivered"].as_i64().unwrap();
    assert!(delivered_at_kill < ROWS as i64, "the kill must land mid-run: {at_kill}");

    let (server, new_key) = spawn_with_env(dir.path(), &config, port, &[("HERALD_WORKER__CLAIM_SECS", "3")]).await;
    assert!(new_key.is_none(), "a restart does not print a new key");
    let repeats = assert_every_row_arrived(&server, &key, run_id, &receiver).await;
    assert!(repeats <= REPEAT_BOUND_PER_KILL, "{repeats} repeats after one kill");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_checkpoints_and_hands_the_run_back() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    // A long lease: if SIGTERM did not hand the run back, the restart would wait 10 minutes.
    let config = write_config(dir.path(), port, 600);
    let (mut server, key) = spawn(dir.path(), &config, port).await;
    let key = key.expect("first start prints a key");
    let receiver = RecordingReceiver::start().await;
    let run_id = start_big_run(&server, &key, &receiver).await;
    let http = reqwest::Client::new();
    wait_run(&http, &server.base, &key, run_id, Duration::from_secs(120), |r| {
        r["rowsRead"].as_i64().unwrap_or(0) >= 1_000
    })
    .await;

    assert!(send_signal(server.child.id(), "TERM"), "SIGTERM delivered");
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "herald did not exit within 20 s of SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "clean exit after SIGTERM: {status}");
    let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap();
    assert!(log.contains("shutting down"), "{log}");

    let (server, _) = spawn(dir.path(), &config, port).await;
    let repeats = assert_every_row_arrived(&server, &key, run_id, &receiver).await;
    assert_eq!(repeats, 0, "a clean stop repeats nothing");
}

/// Sends a signal with the `kill` command (the workspace denies unsafe code).
fn send_signal(pid: u32, signal: &str) -> bool {
    Command::new("kill").arg(format!("-{signal}")).arg(pid.to_string()).status().is_ok_and(|s| s.success())
}
