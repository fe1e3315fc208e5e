//! Crash recovery with real processes: `herald serve` is killed with SIGKILL in the middle of a
//! crowd run and started again on the same SQLite file; the run finishes and the outbox holds
//! every row exactly once. And SIGTERM: the node finishes the batch in hand, checkpoints, hands
//! the run back and exits 0, so the next start resumes at once.

mod common;

use common::process::*;
use common::*;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::process::Command;
use std::time::Duration;

const ROWS: usize = 30_000;

async fn start_big_run(server: &Server, key: &str) -> i64 {
    let http = reqwest::Client::new();
    let (status, upload) = upload(&http, &server.base, key, crowd_csv(ROWS), None).await;
    assert_eq!(status, 201, "{upload}");
    let crowd_id = upload["crowd"]["id"].as_str().unwrap();
    let spec = outbox_template("crash", crowd_id, None);
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

async fn assert_every_row_once(server: &Server, key: &str, run_id: i64) {
    let http = reqwest::Client::new();
    let run =
        wait_run(&http, &server.base, key, run_id, Duration::from_secs(180), |r| r["status"] == "completed").await;
    assert_eq!(run["rowsRead"], ROWS as i64, "{run}");
    assert_eq!(run["delivered"], ROWS as i64, "{run}");
    assert_eq!(run["failed"], 0, "{run}");
    let entries = outbox_of_run(&http, &server.base, key, run_id).await;
    assert_eq!(entries.len(), ROWS, "outbox rows for the run");
    let receivers: HashSet<&str> = entries.iter().map(|e| e["receiver"].as_str().unwrap()).collect();
    assert_eq!(receivers.len(), ROWS, "no receiver twice");
    for n in 1..=ROWS {
        assert!(receivers.contains(receiver(n).as_str()), "row {n} lost");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_run_loses_and_doubles_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = write_config(dir.path(), port, 2);
    let (mut server, key) = spawn(dir.path(), &config, port).await;
    let key = key.expect("first start prints a key");
    let run_id = start_big_run(&server, &key).await;

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

    let (server, new_key) = spawn(dir.path(), &config, port).await;
    assert!(new_key.is_none(), "a restart does not print a new key");
    assert_every_row_once(&server, &key, run_id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_checkpoints_and_hands_the_run_back() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    // A long lease: if SIGTERM did not hand the run back, the restart would wait 10 minutes.
    let config = write_config(dir.path(), port, 600);
    let (mut server, key) = spawn(dir.path(), &config, port).await;
    let key = key.expect("first start prints a key");
    let run_id = start_big_run(&server, &key).await;
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
    assert_every_row_once(&server, &key, run_id).await;
}

/// Sends a signal with the `kill` command (the workspace forbids unsafe code).
fn send_signal(pid: u32, signal: &str) -> bool {
    Command::new("kill").arg(format!("-{signal}")).arg(pid.to_string()).status().is_ok_and(|s| s.success())
}
