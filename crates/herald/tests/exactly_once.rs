//! Exactly once as the provider sees it: every test counts what a recording HTTP receiver got
//! (the webhook channel's requests, by message id), never rows in herald's own tables. Real
//! processes, killed for real; batches slower than the bus visibility; a deleted template.

mod common;

use common::process::*;
use common::*;
use herald_testkit::RecordingReceiver;
use herald_testkit::node::{ApiClient, webhook_template};
use rand::Rng;
use serde_json::json;
use std::path::Path;
use std::time::Duration;

/// Fast lapses so a killed node's claims and bus messages pass on within seconds.
const FAST_LAPSES: [(&str, &str); 3] =
    [("HERALD_WORKER__CLAIM_SECS", "3"), ("HERALD_WORKER__VISIBILITY_SECS", "3"), ("HERALD_STREAMER__LEASE_SECS", "2")];

/// What one kill may repeat: the sends in flight on the webhook topic.
const SENDS_IN_FLIGHT: usize = 8;
const WORKERS_PER_CHANNEL: usize = 2;
const REPEAT_BOUND_PER_KILL: usize = SENDS_IN_FLIGHT * WORKERS_PER_CHANNEL;

async fn node(dir: &Path, port: u16, env: &[(&str, &str)]) -> (Server, Option<String>) {
    let config = write_config(dir, port, 2);
    spawn_with_env(dir, &config, port, env).await
}

/// The message ids of rows 1..=rows of `run_id`, as the node makes them.
async fn row_ids(api: &ApiClient, run_id: i64, rows: usize) -> Vec<String> {
    let (status, first) = api.call(reqwest::Method::GET, &format!("/api/runs/{run_id}"), None).await;
    assert_eq!(status, 200, "{first}");
    let prefix = first["messageIdPrefix"].as_str().expect("a run names its message id prefix").to_string();
    (1..=rows).map(|n| format!("{prefix}{n}")).collect()
}

fn assert_all_arrived(receiver: &RecordingReceiver, expected: &[String]) {
    let missing = receiver.missing(expected.iter().map(String::as_str));
    assert!(
        missing.is_empty(),
        "{} of {} never arrived, e.g. {:?}",
        missing.len(),
        expected.len(),
        &missing[..missing.len().min(5)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limited_batches_slower_than_the_visibility_are_sent_once() {
    let receiver = RecordingReceiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    // A batch of 40 at 20 a second takes 2 s: twice the bus visibility, six times the claim's third.
    let env = [
        ("HERALD_WORKER__VISIBILITY_SECS", "1"),
        ("HERALD_WORKER__CLAIM_SECS", "3"),
        ("HERALD_STREAMER__BATCH_SIZE", "40"),
    ];
    let (server, key) = node(dir.path(), port, &env).await;
    let api = ApiClient::new(&server.base, &key.expect("a first start prints a key"));
    let (status, body) =
        api.call(reqwest::Method::PUT, "/api/flow-control/webhook", Some(&json!({"ratePerSecond": 20}))).await;
    assert!(status < 300, "{status} {body}");
    let crowd = api.crowd(crowd_csv(120)).await;
    let template = api.template(&webhook_template("slow", &crowd, &format!("{}/hook", receiver.url))).await;
    let run_id = api.run_now(template).await;
    let run = api.wait_run(run_id, Duration::from_secs(60), |r| r["status"] == "completed").await;
    assert_eq!(run["delivered"], 120, "{run}");
    assert_all_arrived(&receiver, &row_ids(&api, run_id, 120).await);
    assert_eq!(receiver.repeats(), 0, "{} requests for 120 messages", receiver.count());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_sigkills_lose_nothing_and_repeat_at_most_the_sends_in_flight() {
    const ROWS: usize = 50_000;
    const KILLS: usize = 5;
    let receiver = RecordingReceiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let (mut server, key) = node(dir.path(), port, &FAST_LAPSES).await;
    let key = key.expect("a first start prints a key");
    let api = ApiClient::new(&server.base, &key);
    let crowd = api.crowd(crowd_csv(ROWS)).await;
    let template = api.template(&webhook_template("crash", &crowd, &format!("{}/hook", receiver.url))).await;
    let run_id = api.run_now(template).await;

    let mut rng = rand::rng();
    for kill in 1..=KILLS {
        // A random moment once this life of the node has delivered something.
        let before = receiver.count();
        assert!(receiver.wait_for(before + 500, Duration::from_secs(120)).await, "no progress before kill {kill}");
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..1_500))).await;
        server.child.kill().expect("SIGKILL");
        server.child.wait().unwrap();
        drop(server);
        assert!(receiver.count() < ROWS, "kill {kill} must land mid-run");
        let (restarted, _) = node(dir.path(), port, &FAST_LAPSES).await;
        server = restarted;
    }
    let api = ApiClient::new(&server.base, &key);
    let run = api.wait_run(run_id, Duration::from_secs(300), |r| r["status"] == "completed").await;
    assert_eq!(run["delivered"], ROWS as i64, "{run}");
    assert_all_arrived(&receiver, &row_ids(&api, run_id, ROWS).await);
    let repeats = receiver.repeats();
    eprintln!(
        "{ROWS} rows, {KILLS} SIGKILLs: {} requests, 0 lost, {repeats} repeats (bound {})",
        receiver.count(),
        KILLS * REPEAT_BOUND_PER_KILL
    );
    assert!(repeats <= KILLS * REPEAT_BOUND_PER_KILL, "{repeats} repeats over {KILLS} kills");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_deleted_and_another_created_gets_every_row() {
    let receiver = RecordingReceiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let (_server, key) = node(dir.path(), port, &[]).await;
    let api = ApiClient::new(&format!("http://127.0.0.1:{port}"), &key.expect("a first start prints a key"));
    let crowd = api.crowd(crowd_csv(3)).await;
    let url = format!("{}/hook", receiver.url);
    let a = api.template(&webhook_template("a", &crowd, &url)).await;
    let run_a = api.run_now(a).await;
    api.wait_run(run_a, Duration::from_secs(30), |r| r["status"] == "completed").await;
    let (status, _) = api.call(reqwest::Method::DELETE, &format!("/api/templates/{a}"), None).await;
    assert_eq!(status, 200);

    let b = api.template(&webhook_template("b", &crowd, &url)).await;
    assert_ne!(a, b, "a deleted template's id is not handed out again");
    let run_b = api.run_now(b).await;
    assert_ne!(run_a, run_b);
    let run = api.wait_run(run_b, Duration::from_secs(30), |r| r["status"] == "completed").await;
    assert_eq!(run["delivered"], 3, "{run}");
    assert_all_arrived(&receiver, &row_ids(&api, run_b, 3).await);
    assert_eq!((receiver.count(), receiver.repeats()), (6, 0));
    let (status, old) = api.call(reqwest::Method::GET, &format!("/api/runs/{run_a}"), None).await;
    assert_eq!((status, old["delivered"].as_i64()), (200, Some(3)), "the deleted template's run is kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_recreated_beside_the_same_redis_prefix_gets_every_row() {
    let receiver = RecordingReceiver::start().await;
    let url = format!("{}/hook", receiver.url);
    let prefix = herald_testkit::redis::unique_prefix("recreated-database");
    let _cleanup = herald_testkit::redis::PrefixGuard(prefix.clone());
    let redis_url = herald_testkit::redis::redis_url();
    let env = [("HERALD_REDIS__URL", redis_url.as_str()), ("HERALD_REDIS__KEY_PREFIX", prefix.as_str())];
    let mut delivered = Vec::new();
    // The same template and crowd on a first database, then on a fresh one beside the same Redis:
    // the second database's first run has the same run and row numbers as the first's.
    for database in ["first", "recreated"] {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let (server, key) = node(dir.path(), port, &env).await;
        let api = ApiClient::new(&format!("http://127.0.0.1:{port}"), &key.expect("a new database prints a key"));
        let crowd = api.crowd(crowd_csv(3)).await;
        let template = api.template(&webhook_template(database, &crowd, &url)).await;
        let run_id = api.run_now(template).await;
        let run = api.wait_run(run_id, Duration::from_secs(30), |r| r["status"] == "completed").await;
        assert_eq!(run["delivered"], 3, "{database} database: {run}");
        delivered.extend(row_ids(&api, run_id, 3).await);
        drop(server);
    }
    assert_all_arrived(&receiver, &delivered);
    assert_eq!((receiver.count(), receiver.repeats()), (6, 0), "{:?}", receiver.counts_by_id());
}
