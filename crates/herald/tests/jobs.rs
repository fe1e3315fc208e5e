//! Scheduled HTTP jobs, counted at a recording receiver: each cadence calls when it says, a
//! failed call is retried with backoff and a slow one given up at its timeout, the overlap rules
//! decide what a fire during a running call does (a dead node's run holds nothing up), and every
//! attempt is in the run log.

mod common;

use chrono::{DateTime, Duration, TimeZone, Utc};
use common::job_runs::ended_runs;
use common::*;
use herald_core::Clock;
use herald_testkit::receiver::RecordingReceiver;
use serde_json::{Value, json};
use std::time::Duration as Wait;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap()
}

fn job(name: &str, url: &str, schedule: Value) -> Value {
    json!({"name": name, "http": {"method": "POST", "url": url, "body": "{\"ping\":1}",
        "headers": {"Authorization": "Bearer s3cret", "Content-Type": "application/json"}}, "schedule": schedule})
}

async fn create(node: &TestNode, spec: &Value) -> Value {
    let (status, job) = node.post("/api/jobs", spec).await;
    assert_eq!(status, 201, "{job}");
    job
}

fn outcomes(runs: &[Value]) -> Vec<&str> {
    runs.iter().map(|r| r["outcome"].as_str().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cron_job_calls_its_url_at_each_fire_and_logs_each_run() {
    let dir = tempfile::tempdir().unwrap();
    let node = TestNode::start(&test_config(dir.path()), start()).await;
    let receiver = RecordingReceiver::start().await;
    let spec = job("crm-ping", &format!("{}/ping", receiver.url), json!({"type": "cron", "cron": "0 0/15 * * * ?"}));
    let created = create(&node, &spec).await;
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["http"]["headers"]["Authorization"], "********", "a secret is masked: {created}");
    assert_eq!(created["nextFireAt"], "2026-03-01T00:15:00Z");

    node.clock.set(start() + Duration::minutes(15));
    assert!(receiver.wait_for(1, Wait::from_secs(10)).await, "the 00:15 fire called");
    node.clock.set(start() + Duration::minutes(30));
    assert!(receiver.wait_for(2, Wait::from_secs(10)).await, "the 00:30 fire called");
    let runs = ended_runs(&node, id, 2).await;
    tokio::time::sleep(Wait::from_millis(500)).await;
    assert_eq!(receiver.count(), 2, "one call per fire");
    let call = &receiver.received()[0];
    assert_eq!(call.path, "/ping");
    assert_eq!(call.headers["authorization"], "Bearer s3cret", "the stored secret is sent");
    assert_eq!(&call.body[..], br#"{"ping":1}"#);
    assert_eq!(outcomes(&runs), ["succeeded", "succeeded"]);
    assert_eq!((runs[0]["attempt"].as_i64(), runs[0]["statusCode"].as_i64()), (Some(1), Some(200)));
    assert!(runs[0]["node"].as_str().is_some_and(|n| !n.is_empty()), "{}", runs[0]);

    // Sent back masked, the secret is kept; a changed cron re-arms the schedule from now.
    let mut edited = created.clone();
    for key in ["id", "enabled", "nextFireAt", "scheduleId", "createdAt", "updatedAt"] {
        edited.as_object_mut().unwrap().remove(key);
    }
    edited["schedule"]["cron"] = json!("0 0 * * * ?");
    let (status, updated) = node.put(&format!("/api/jobs/{id}"), &edited).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["nextFireAt"], "2026-03-01T01:00:00Z");
    node.clock.set(start() + Duration::hours(1));
    assert!(receiver.wait_for(3, Wait::from_secs(10)).await);
    assert_eq!(receiver.received()[2].headers["authorization"], "Bearer s3cret");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_call_is_retried_with_backoff_and_a_slow_one_ends_at_its_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let node = TestNode::start(&test_config(dir.path()), start()).await;
    let flaky = RecordingReceiver::start().await;
    flaky.fail_next(2, 503);
    let mut spec = job("flaky", &flaky.url, json!({"type": "api"}));
    spec["retries"] = json!({"max": 3, "backoffMs": 100});
    let id = create(&node, &spec).await["id"].as_i64().unwrap();
    let (status, asked) = node.post(&format!("/api/jobs/{id}/run"), &json!({})).await;
    assert_eq!(status, 202, "{asked}");
    let runs = ended_runs(&node, id, 3).await;
    assert_eq!(outcomes(&runs), ["failed", "failed", "succeeded"]);
    assert_eq!(runs.iter().map(|r| r["attempt"].as_i64().unwrap()).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(runs[0]["error"], "answered 503");
    tokio::time::sleep(Wait::from_millis(400)).await;
    assert_eq!(flaky.count(), 3, "no call after the one that succeeded");
    let received = flaky.received();
    let (first_wait, second_wait) = (received[1].at - received[0].at, received[2].at - received[1].at);
    assert!(
        first_wait >= Wait::from_millis(100) && second_wait >= Wait::from_millis(200),
        "{first_wait:?} {second_wait:?}"
    );

    let slow = RecordingReceiver::start().await;
    slow.set_delay(Wait::from_secs(3));
    let mut spec = job("slow", &slow.url, json!({"type": "api"}));
    spec["timeoutMs"] = json!(300);
    spec["retries"] = json!({"max": 1, "backoffMs": 10});
    let id = create(&node, &spec).await["id"].as_i64().unwrap();
    node.post(&format!("/api/jobs/{id}/run"), &json!({})).await;
    let runs = ended_runs(&node, id, 2).await;
    assert_eq!(outcomes(&runs), ["timed_out", "timed_out"]);
    assert!(runs.iter().all(|r| r["durationMs"].as_i64().unwrap() < 2_000), "abandoned at the timeout: {runs:?}");
    assert_eq!(slow.count(), 2);
    let (_, schedule) = node.get(&format!("/api/jobs/{id}")).await;
    let (_, fires) = node.get(&format!("/api/schedules/{}/fires", schedule["scheduleId"])).await;
    assert_eq!(fires["items"][0]["outcome"], "failed", "{fires}");
}

/// A job calling `receiver` (slow) that is asked to run twice, the second time while the
/// first call is still going.
async fn run_twice_while_busy(node: &TestNode, receiver: &RecordingReceiver, name: &str, overlap: &str) -> i64 {
    let mut spec = job(name, &receiver.url, json!({"type": "api"}));
    spec["overlap"] = json!(overlap);
    let id = create(node, &spec).await["id"].as_i64().unwrap();
    node.post(&format!("/api/jobs/{id}/run"), &json!({})).await;
    assert!(receiver.wait_for(1, Wait::from_secs(10)).await, "the first run calls");
    node.clock.set(node.clock.now() + Duration::seconds(1));
    node.post(&format!("/api/jobs/{id}/run"), &json!({})).await;
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fire_during_a_running_call_waits_is_discarded_or_replaces_it_as_its_rule_says() {
    let dir = tempfile::tempdir().unwrap();
    let node = TestNode::start(&test_config(dir.path()), start()).await;

    let serial = RecordingReceiver::start().await;
    serial.set_delay(Wait::from_millis(1_500));
    let id = run_twice_while_busy(&node, &serial, "serial", "serial").await;
    let runs = ended_runs(&node, id, 2).await;
    assert_eq!(outcomes(&runs), ["succeeded", "succeeded"]);
    let calls = serial.received();
    assert!(calls[1].at - calls[0].at >= Wait::from_millis(1_500), "the second call waited for the first");

    let discard = RecordingReceiver::start().await;
    discard.set_delay(Wait::from_millis(1_500));
    let id = run_twice_while_busy(&node, &discard, "discard", "discard").await;
    let runs = ended_runs(&node, id, 2).await;
    assert_eq!(outcomes(&runs), ["succeeded", "discarded"], "by start: the running one, then the discarded fire");
    tokio::time::sleep(Wait::from_millis(500)).await;
    assert_eq!(discard.count(), 1, "the discarded fire made no call");

    let replace = RecordingReceiver::start().await;
    replace.set_delay(Wait::from_secs(5));
    let id = run_twice_while_busy(&node, &replace, "replace", "replace").await;
    assert!(replace.wait_for(2, Wait::from_secs(10)).await, "the newer fire calls at once");
    let runs = ended_runs(&node, id, 1).await;
    assert_eq!(outcomes(&runs)[0], "replaced");
    assert!(replace.received()[1].at - replace.received()[0].at < Wait::from_secs(4), "without waiting");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixed_rate_fixed_delay_and_once_fire_when_they_say_and_a_paused_job_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let node = TestNode::start(&test_config(dir.path()), start()).await;
    let rate = RecordingReceiver::start().await;
    let delay = RecordingReceiver::start().await;
    let once = RecordingReceiver::start().await;
    let rate_job = create(&node, &job("rate", &rate.url, json!({"type": "fixed_rate", "everySecs": 60}))).await;
    let delay_job = create(&node, &job("delay", &delay.url, json!({"type": "fixed_delay", "delaySecs": 30}))).await;
    let at = json!({"type": "once", "at": "2026-03-01T00:02:30Z"});
    let once_job = create(&node, &job("once", &once.url, at)).await;
    assert_eq!(rate_job["nextFireAt"], "2026-03-01T00:01:00Z");
    assert_eq!(delay_job["nextFireAt"], "2026-03-01T00:00:30Z");

    node.clock.set(start() + Duration::seconds(30));
    assert!(delay.wait_for(1, Wait::from_secs(10)).await);
    let delay_id = delay_job["id"].as_i64().unwrap();
    ended_runs(&node, delay_id, 1).await;
    tokio::time::sleep(Wait::from_millis(300)).await;
    let (_, shown) = node.get(&format!("/api/jobs/{delay_id}")).await;
    assert_eq!(shown["nextFireAt"], "2026-03-01T00:01:00Z", "30 s after the run ended (00:00:30)");

    for minute in 1..=3 {
        node.clock.set(start() + Duration::minutes(minute));
        assert!(rate.wait_for(minute as usize, Wait::from_secs(10)).await, "minute {minute}");
    }
    assert!(once.wait_for(1, Wait::from_secs(10)).await);
    let (_, shown) = node.get(&format!("/api/jobs/{}", once_job["id"])).await;
    assert_eq!(shown["nextFireAt"], Value::Null, "a one-off fires once");

    let rate_id = rate_job["id"].as_i64().unwrap();
    let (status, paused) = node.post(&format!("/api/jobs/{rate_id}/pause"), &json!({})).await;
    assert_eq!((status, &paused["enabled"], &paused["nextFireAt"]), (200, &json!(false), &Value::Null));
    node.clock.set(start() + Duration::minutes(10));
    tokio::time::sleep(Wait::from_millis(800)).await;
    assert_eq!(rate.count(), 3, "a paused job does not fire");
    assert_eq!(once.count(), 1, "nor does a one-off again");
    node.post(&format!("/api/jobs/{rate_id}/run"), &json!({})).await;
    assert!(rate.wait_for(4, Wait::from_secs(10)).await, "a paused job still runs when asked");
    let (_, resumed) = node.post(&format!("/api/jobs/{rate_id}/resume"), &json!({})).await;
    assert_eq!(resumed["nextFireAt"], "2026-03-01T00:11:00Z");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_jobs_are_refused_naming_the_field_and_lists_page() {
    let dir = tempfile::tempdir().unwrap();
    let node = TestNode::start(&test_config(dir.path()), start()).await;
    let mut bad = job("bad", "ftp://files.example/x", json!({"type": "fixed_rate", "everySecs": 0}));
    bad["http"]["method"] = json!("BREW");
    bad["retries"] = json!({"max": 50});
    let (status, refused) = node.post("/api/jobs", &bad).await;
    assert_eq!(status, 422, "{refused}");
    let text = refused.to_string();
    for field in ["http.method", "http.url", "schedule.everySecs", "retries.max"] {
        assert!(text.contains(field), "{field} named: {text}");
    }
    let (status, refused) = node
        .post("/api/jobs", &json!({"name": "x", "http": {"url": "https://a.example"}, "schedule": {"type": "hourly"}}))
        .await;
    assert_eq!(status, 422, "{refused}");

    let ok = job("first", "https://crm.example/ping", json!({"type": "api"}));
    create(&node, &ok).await;
    let (status, taken) = node.post("/api/jobs", &ok).await;
    assert_eq!(status, 409, "{taken}");
    for n in 0..3 {
        create(&node, &job(&format!("job-{n}"), "https://crm.example/ping", json!({"type": "api"}))).await;
    }
    let (_, page) = node.get("/api/jobs?limit=2").await;
    assert_eq!((page["items"].as_array().unwrap().len(), &page["nextOffset"]), (2, &json!(2)));
    let (_, last) = node.get("/api/jobs?limit=2&offset=2").await;
    assert_eq!((last["items"].as_array().unwrap().len(), &last["nextOffset"]), (2, &Value::Null));

    for (path, status) in [("/api/jobs/999", 404), ("/api/jobs/999/runs", 404), ("/api/jobs/1/runs?outcome=meh", 422)] {
        assert_eq!(node.get(path).await.0, status, "{path}");
    }
    assert_eq!(node.post("/api/jobs/999/run", &json!({})).await.0, 404);
    assert_eq!(node.delete("/api/jobs/1").await.0, 204);
    assert_eq!(node.get("/api/jobs/1").await.0, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_left_running_by_a_dead_node_is_abandoned_and_does_not_hold_up_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let node = TestNode::start(&test_config(dir.path()), start()).await;
    let receiver = RecordingReceiver::start().await;
    let id = create(&node, &job("orphaned", &receiver.url, json!({"type": "api"}))).await["id"].as_i64().unwrap();
    // A node died a day ago in the middle of a run: its row still says running.
    let store = node.node.context.store.clone();
    let at = start() - Duration::days(1);
    let dead = herald_store::JobRunStart {
        job_id: id,
        fire_id: None,
        attempt: 1,
        node: "node-gone",
        outcome: herald_store::JobRunOutcome::Running,
        at,
        shard: None,
    };
    store.start_job_run(&dead).await.unwrap();
    node.post(&format!("/api/jobs/{id}/run"), &json!({})).await;
    assert!(receiver.wait_for(1, Wait::from_secs(10)).await, "the serial job did not wait for a dead node");
    let runs = ended_runs(&node, id, 2).await;
    assert_eq!(outcomes(&runs), ["abandoned", "succeeded"]);
    assert_eq!(runs[0]["node"], "node-gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_runs_up_to_its_concurrency_limit_at_once_and_its_rule_takes_the_fire_past_it() {
    let dir = tempfile::tempdir().unwrap();
    let node = TestNode::start(&test_config(dir.path()), start()).await;
    let receiver = RecordingReceiver::start().await;
    receiver.set_delay(Wait::from_secs(2));
    let mut spec = job("two-at-once", &receiver.url, json!({"type": "api"}));
    spec["overlap"] = json!("discard");
    spec["maxConcurrent"] = json!(2);
    let id = create(&node, &spec).await["id"].as_i64().unwrap();
    for (n, calls) in [(1, 1), (2, 2)] {
        node.clock.set(start() + Duration::seconds(n));
        node.post(&format!("/api/jobs/{id}/run"), &json!({})).await;
        assert!(receiver.wait_for(calls, Wait::from_secs(10)).await, "run {n} calls while the others go on");
    }
    node.clock.set(start() + Duration::seconds(3));
    node.post(&format!("/api/jobs/{id}/run"), &json!({})).await;
    let runs = ended_runs(&node, id, 3).await;
    assert_eq!(outcomes(&runs), ["succeeded", "succeeded", "discarded"], "by start: the third found two going");
    let calls = receiver.received();
    assert!(calls[1].at - calls[0].at < Wait::from_secs(2), "the second call went while the first was going");
    assert_eq!(receiver.count(), 2, "the discarded fire made no call");

    let (status, body) = node
        .put(
            &format!("/api/jobs/{id}"),
            &json!({"name": "x", "http": {"url": receiver.url},
        "schedule": {"type": "api"}, "maxConcurrent": 65}),
        )
        .await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (422, Some("maxConcurrent")), "{body}");
}
