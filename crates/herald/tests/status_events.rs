//! Status events out, counted at a recording receiver: every message's final state and the
//! run's end arrive once each, signed with the endpoint's secret, at most 100 to a call, the
//! rest after at most `max_wait_secs`; a failing endpoint gets the same events again with the
//! same ids and nothing is lost; a paused endpoint gets nothing until resumed; a replay sends a
//! window again under the same ids; and `herald serve` killed with SIGKILL while a call is in
//! flight sends that batch again after its restart, losing nothing and repeating only it.

mod common;

use chrono::{DateTime, Duration, TimeZone, Utc};
use common::process::*;
use common::*;
use herald_testkit::RecordingReceiver;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration as Wait;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 4, 0, 0).unwrap()
}

/// One call as the receiver got it: its events, and whether `secret` signed it.
struct Call {
    events: Vec<Value>,
    signed: bool,
}

/// The signature as a receiver checks it: `t=<secs>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
fn verify(secret: &str, header: &str, body: &[u8]) -> bool {
    let mut parts = header.split(',');
    let (Some(t), Some(v1)) = (parts.next().and_then(|p| p.strip_prefix("t=")), parts.next()) else {
        return false;
    };
    let Some(given) = v1.strip_prefix("v1=").and_then(|hex| hex::decode(hex).ok()) else { return false };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

fn calls(receiver: &RecordingReceiver, secret: &str) -> Vec<Call> {
    receiver
        .received()
        .iter()
        .map(|r| {
            let header = r.headers.get("x-herald-signature").and_then(|v| v.to_str().ok()).unwrap_or_default();
            let body: Value = serde_json::from_slice(&r.body).expect("a JSON body");
            Call {
                events: body["events"].as_array().cloned().unwrap_or_default(),
                signed: verify(secret, header, &r.body),
            }
        })
        .collect()
}

fn event_ids(calls: &[Call]) -> Vec<String> {
    calls.iter().flat_map(|c| c.events.iter().map(|e| e["id"].as_str().unwrap().to_string())).collect()
}

/// How many events the receiver got, once the count stops at `expected` (or the wait ends).
async fn wait_events(receiver: &RecordingReceiver, secret: &str, expected: usize, timeout: Wait) -> usize {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let got = event_ids(&calls(receiver, secret)).len();
        if got >= expected || std::time::Instant::now() >= deadline {
            return got;
        }
        tokio::time::sleep(Wait::from_millis(20)).await;
    }
}

/// Waits until the receiver has `expected` events in all, then a little longer: no more come.
async fn settled_events(receiver: &RecordingReceiver, secret: &str, expected: usize) {
    wait_events(receiver, secret, expected, Wait::from_secs(10)).await;
    tokio::time::sleep(Wait::from_millis(300)).await;
    assert_eq!(event_ids(&calls(receiver, secret)).len(), expected);
}

async fn endpoint(node: &TestNode, url: &str, extra: Value) -> (i64, String) {
    let mut body = json!({"name": "ops", "url": url});
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let (status, made) = node.post("/api/event-endpoints", &body).await;
    assert_eq!(status, 201, "{made}");
    assert!(made["secret"].as_str().unwrap().starts_with("whsec_"));
    (made["id"].as_i64().unwrap(), made["secret"].as_str().unwrap().to_string())
}

async fn run_to_end(node: &TestNode, template: i64) -> i64 {
    let (status, run) = node.post(&format!("/api/templates/{template}/run"), &json!({})).await;
    assert_eq!(status, 202, "{run}");
    let run = run["runId"].as_i64().unwrap();
    node.wait_run(run, Wait::from_secs(60), |r| r["status"] == "completed").await;
    run
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_state_arrives_once_signed_a_hundred_to_a_call_the_rest_after_the_wait() {
    let hook = RecordingReceiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.status_events.poll_ms = 20;
    let node = TestNode::start(&config, t0()).await;
    let (id, secret) = endpoint(&node, &format!("{}/events", hook.url), json!({})).await;
    for n in 1..=5 {
        let (status, _) = node
            .post("/api/suppressions", &json!({"receiver": receiver(n), "channel": "outbox", "kinds": ["notice"]}))
            .await;
        assert_eq!(status, 201);
    }
    let crowd = node.crowd(crowd_csv(250)).await;
    let template = node.template(outbox_template("events", &crowd, None)).await;
    let run = run_to_end(&node, template).await;

    // 245 sent, 5 suppressed and the run's end: two full calls go at once, the other 51 wait
    // for the oldest to have waited 10 s, by herald's clock.
    assert_eq!(wait_events(&hook, &secret, 200, Wait::from_secs(20)).await, 200);
    tokio::time::sleep(Wait::from_millis(500)).await;
    assert_eq!(event_ids(&calls(&hook, &secret)).len(), 200, "the rest waits for its batch");
    let (_, shown) = node.get(&format!("/api/event-endpoints/{id}")).await;
    assert_eq!(shown["backlog"], 51, "{shown}");
    node.clock.advance(Duration::seconds(10));
    assert_eq!(wait_events(&hook, &secret, 251, Wait::from_secs(10)).await, 251);

    let calls = calls(&hook, &secret);
    assert!(calls.iter().all(|c| c.signed), "every call signed with the endpoint's secret");
    assert_eq!(calls.iter().map(|c| c.events.len()).collect::<Vec<_>>(), [100, 100, 51]);
    let ids = event_ids(&calls);
    assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), 251, "no event twice");
    let mut types: BTreeMap<&str, usize> = BTreeMap::new();
    for e in calls.iter().flat_map(|c| &c.events) {
        *types.entry(e["type"].as_str().unwrap()).or_default() += 1;
    }
    assert_eq!(types, BTreeMap::from([("message.sent", 245), ("message.suppressed", 5), ("run.finished", 1)]));
    // The sent events name exactly the messages the outbox holds, each by its stable id.
    let outbox: BTreeSet<String> =
        node.outbox_of_run(run).await.iter().map(|m| m["messageId"].as_str().unwrap().to_string()).collect();
    let sent: BTreeSet<String> = calls
        .iter()
        .flat_map(|c| &c.events)
        .filter(|e| e["type"] == "message.sent")
        .map(|e| {
            let message = e["messageId"].as_str().unwrap();
            assert_eq!(e["id"], format!("{message}.sent"));
            message.to_string()
        })
        .collect();
    assert_eq!(sent, outbox);
    let finished = calls.iter().flat_map(|c| &c.events).find(|e| e["type"] == "run.finished").unwrap();
    assert_eq!(
        (finished["id"].as_str(), finished["status"].as_str()),
        (Some(&*format!("run-{run}.finished")), Some("completed"))
    );
    assert_eq!((finished["run"]["delivered"].as_i64(), finished["run"]["dropped"].as_i64()), (Some(245), Some(5)));
    let (_, shown) = node.get(&format!("/api/event-endpoints/{id}")).await;
    assert_eq!((shown["backlog"].as_i64(), shown["lastError"].is_null()), (Some(0), true), "{shown}");
    node.node.shutdown().await;
}

async fn wait_calls(receiver: &RecordingReceiver, count: usize) {
    assert!(receiver.wait_for(count, Wait::from_secs(10)).await, "{} calls", receiver.count());
    tokio::time::sleep(Wait::from_millis(300)).await;
    assert_eq!(receiver.count(), count);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pauses_hold_failures_retry_with_the_same_ids_and_a_replay_sends_again() {
    let receiver = RecordingReceiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.status_events.poll_ms = 20;
    config.status_events.max_wait_secs = 0;
    let node = TestNode::start(&config, t0()).await;
    let url = format!("{}/events", receiver.url);
    let paused = json!({"events": ["message.sent", "run.finished"], "enabled": false});
    let (id, secret) = endpoint(&node, &url, paused).await;
    let crowd = node.crowd(crowd_csv(20)).await;
    let template = node.template(outbox_template("retries", &crowd, None)).await;
    run_to_end(&node, template).await;

    // Paused: the run's 21 events are kept and none is sent.
    tokio::time::sleep(Wait::from_millis(400)).await;
    assert_eq!(receiver.count(), 0, "a paused endpoint gets nothing");
    assert_eq!(node.get(&format!("/api/event-endpoints/{id}")).await.1["backlog"], 21);

    // Enabled, it fails twice: tried again 10 s later by herald's clock, then 20 s after that.
    receiver.fail_next(2, 500);
    let enable = json!({"name": "ops", "url": url, "events": ["message.sent", "run.finished"]});
    let (status, changed) = node.put(&format!("/api/event-endpoints/{id}"), &enable).await;
    assert_eq!((status, changed["enabled"].as_bool()), (200, Some(true)), "{changed}");
    wait_calls(&receiver, 1).await;
    let (_, shown) = node.get(&format!("/api/event-endpoints/{id}")).await;
    assert_eq!(
        (shown["backlog"].as_i64(), shown["lastError"].as_str()),
        (Some(21), Some("answered HTTP 500")),
        "{shown}"
    );
    node.clock.advance(Duration::seconds(9));
    tokio::time::sleep(Wait::from_millis(300)).await;
    assert_eq!(receiver.count(), 1, "not before its backoff");
    node.clock.advance(Duration::seconds(1));
    wait_calls(&receiver, 2).await;
    node.clock.advance(Duration::seconds(19));
    tokio::time::sleep(Wait::from_millis(300)).await;
    assert_eq!(receiver.count(), 2, "the backoff doubled");
    node.clock.advance(Duration::seconds(1));
    wait_calls(&receiver, 3).await;
    let all = calls(&receiver, &secret);
    assert!(all.iter().all(|c| c.signed));
    let ids = event_ids(&all);
    let distinct: BTreeSet<&String> = ids.iter().collect();
    assert_eq!((ids.len(), distinct.len()), (63, 21), "three tries of the same 21 events, the same ids each time");
    let (_, shown) = node.get(&format!("/api/event-endpoints/{id}")).await;
    assert_eq!((shown["backlog"].as_i64(), shown["lastError"].is_null()), (Some(0), true), "{shown}");

    // A replay of the last hour sends the 21 again, with their ids (in one call or two: the
    // messages' events and the run's are queued by transactions of their own, and the sender
    // may take the first before the second commits).
    let replay = json!({"from": t0() - Duration::hours(1)});
    let (status, replayed) = node.post(&format!("/api/event-endpoints/{id}/replay"), &replay).await;
    assert_eq!((status, replayed["queued"].as_u64()), (200, Some(21)), "{replayed}");
    settled_events(&receiver, &secret, 84).await;
    let ids = event_ids(&calls(&receiver, &secret));
    assert_eq!((ids.len(), ids.iter().collect::<BTreeSet<_>>().len()), (84, 21), "a replay repeats ids, it makes none");

    // A rotated secret signs from now on; the old one no longer verifies.
    let (status, rotated) = node.post(&format!("/api/event-endpoints/{id}/rotate-secret"), &json!({})).await;
    assert_eq!(status, 200);
    let new_secret = rotated["secret"].as_str().unwrap().to_string();
    assert_ne!(new_secret, secret);
    let before = receiver.count();
    assert_eq!(node.post(&format!("/api/event-endpoints/{id}/replay"), &replay).await.0, 200);
    settled_events(&receiver, &new_secret, 105).await;
    let (new, old) = (calls(&receiver, &new_secret), calls(&receiver, &secret));
    assert!((before..new.len()).all(|i| new[i].signed && !old[i].signed), "calls after the rotation");
    node.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_endpoints_are_refused_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.channels.allow_private_networks = false;
    let node = TestNode::start(&config, t0()).await;
    for (body, field) in [
        (json!({"name": "", "url": "https://example.com/e"}), "name"),
        (json!({"name": "x", "url": "ftp://example.com/e"}), "url"),
        (json!({"name": "x", "url": "http://127.0.0.1:9/e"}), "url"),
        (json!({"name": "x", "url": "https://example.com/e", "events": []}), "events"),
        (json!({"name": "x", "url": "https://example.com/e", "events": ["message.accepted"]}), "events"),
        (json!({"name": "x", "url": "https://example.com/e", "secret": "mine"}), "secret"),
    ] {
        let (status, refused) = node.post("/api/event-endpoints", &body).await;
        assert_eq!(status, 422, "{body}: {refused}");
        assert!(refused["msg"].as_str().unwrap().contains(field), "{body}: {refused}");
    }
    let (status, _) = node.get("/api/event-endpoints/99").await;
    assert_eq!(status, 404);
    let (status, _) = node.post("/api/event-endpoints/99/replay", &json!({"from": t0() - Duration::hours(1)})).await;
    assert_eq!(status, 404);
    let (id, _) = endpoint(&node, "https://example.com/events", json!({"enabled": false})).await;
    let (status, refused) =
        node.post(&format!("/api/event-endpoints/{id}/replay"), &json!({"from": t0(), "to": t0()})).await;
    assert!(status == 422 && refused["msg"].as_str().unwrap().contains("from"), "{refused}");
    let (_, list) = node.get("/api/event-endpoints?limit=1").await;
    assert_eq!(list["items"][0]["id"], id);
    assert!(!list.to_string().contains("secret"), "a list never shows a secret: {list}");
    let (status, deleted) = node.delete(&format!("/api/event-endpoints/{id}")).await;
    assert_eq!((status, deleted["deleted"].as_bool()), (200, Some(true)));
    assert_eq!(node.get(&format!("/api/event-endpoints/{id}")).await.0, 404);
    node.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_while_a_call_is_in_flight_sends_that_batch_again_and_loses_nothing() {
    const ROWS: usize = 300;
    let receiver = RecordingReceiver::start().await;
    receiver.set_delay(Wait::from_millis(1_500));
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = write_config(dir.path(), port, 2);
    let env = [
        ("HERALD_STATUS_EVENTS__POLL_MS", "50"),
        ("HERALD_STATUS_EVENTS__MAX_WAIT_SECS", "0"),
        ("HERALD_STATUS_EVENTS__LEASE_SECS", "5"),
    ];
    let (mut server, key) = spawn_with_env(dir.path(), &config, port, &env).await;
    let api = herald_testkit::node::ApiClient::new(&server.base, &key.expect("first start prints a key"));
    let (status, made) = api
        .call(reqwest::Method::POST, "/api/event-endpoints", Some(&json!({"name": "ops", "url": receiver.url})))
        .await;
    assert_eq!(status, 201, "{made}");
    let secret = made["secret"].as_str().unwrap().to_string();
    let crowd = api.crowd(crowd_csv(ROWS)).await;
    let (status, template) =
        api.call(reqwest::Method::POST, "/api/templates", Some(&outbox_template("kill", &crowd, None))).await;
    assert_eq!(status, 201, "{template}");
    let path = format!("/api/templates/{}/run", template["id"]);
    let (status, run) = api.call(reqwest::Method::POST, &path, Some(&json!({}))).await;
    assert_eq!(status, 202, "{run}");
    let run = run["runId"].as_i64().unwrap();
    let http = reqwest::Client::new();
    wait_run(&http, &server.base, &api.key, run, Wait::from_secs(60), |r| r["status"] == "completed").await;

    // A call has arrived and waits for its answer: the node dies before it can record it.
    assert!(receiver.wait_for(2, Wait::from_secs(20)).await);
    let received = calls(&receiver, &secret);
    let in_flight: BTreeSet<String> = event_ids(&received[received.len() - 1..]).into_iter().collect();
    assert!(!in_flight.is_empty());
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    receiver.set_delay(Wait::ZERO);
    let (_server, _) = spawn_with_env(dir.path(), &config, port, &env).await;
    let restarted = herald_testkit::node::ApiClient::new(&_server.base, &api.key);

    // Done when every event arrived and nothing waits: the batch in flight at the kill is sent
    // again once its lease (5 s) lapses.
    let expected = ROWS + 1;
    let endpoint = format!("/api/event-endpoints/{}", made["id"]);
    let deadline = std::time::Instant::now() + Wait::from_secs(60);
    loop {
        let distinct: BTreeSet<String> = event_ids(&calls(&receiver, &secret)).into_iter().collect();
        let backlog = restarted.call(reqwest::Method::GET, &endpoint, None).await.1["backlog"].as_i64();
        if distinct.len() >= expected && backlog == Some(0) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{} of {expected} events, {backlog:?} waiting", distinct.len());
        tokio::time::sleep(Wait::from_millis(50)).await;
    }
    tokio::time::sleep(Wait::from_millis(500)).await;
    let all = calls(&receiver, &secret);
    assert!(all.iter().all(|c| c.signed));
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for id in event_ids(&all) {
        *counts.entry(id).or_default() += 1;
    }
    assert_eq!(counts.len(), expected, "every event, nothing herald did not make");
    let repeated: BTreeSet<String> = counts.iter().filter(|(_, n)| **n > 1).map(|(id, _)| id.clone()).collect();
    assert!(counts.values().all(|n| *n <= 2));
    assert!(repeated.is_subset(&in_flight), "only the batch in flight at the kill came again");
    assert!(!repeated.is_empty(), "and it did come again, with the same ids");
}
