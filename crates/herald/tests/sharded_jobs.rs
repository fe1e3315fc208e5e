//! Sharded and broadcast jobs on one node, counted at a recording receiver: each shard is
//! called once with its index and the count (in headers and in the URL's and body's
//! placeholders), the fire ends once when its last shard ends (its children are called once,
//! a failed shard fails it), and a broadcast on a lone node is one shard. The three-node
//! takeover is in cluster_processes.rs.

mod common;

use chrono::{DateTime, TimeZone, Utc};
use common::job_runs::ended_runs;
use common::*;
use herald_testkit::receiver::{Received, RecordingReceiver};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::Duration as Wait;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap()
}

async fn create(node: &TestNode, spec: &Value) -> i64 {
    let (status, job) = node.post("/api/jobs", spec).await;
    assert_eq!(status, 201, "{job}");
    job["id"].as_i64().unwrap()
}

fn calls_to<'a>(received: &'a [Received], path: &str) -> Vec<&'a Received> {
    received.iter().filter(|r| r.path.starts_with(path)).collect()
}

fn header(call: &Received, name: &str) -> String {
    call.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_shard_is_called_once_and_the_fire_ends_once_when_its_last_shard_ends() {
    let dir = tempfile::tempdir().unwrap();
    let node = TestNode::start(&test_config(dir.path()), start()).await;
    let receiver = RecordingReceiver::start().await;
    for name in ["after-ok", "after-any"] {
        let child = json!({"name": name, "http": {"method": "POST", "url": format!("{}/{name}", receiver.url)},
            "schedule": {"type": "api"}});
        create(&node, &child).await;
    }
    let spec = json!({"name": "sync", "schedule": {"type": "api"},
        "http": {"method": "POST", "url": format!("{}/sync/{{$shardIndex}}/of/{{$shardTotal}}", receiver.url),
                 "body": "{\"part\": {$shardIndex}}"},
        "sharding": {"mode": "shards", "count": 4},
        "children": [{"job": "after-ok", "on": "success"}, {"job": "after-any", "on": "always"}]});
    let id = create(&node, &spec).await;
    let (status, shown) = node.get(&format!("/api/jobs/{id}")).await;
    assert_eq!((status, &shown["sharding"]), (200, &json!({"mode": "shards", "count": 4})));

    let (status, body) = node.post(&format!("/api/jobs/{id}/run"), &json!({})).await;
    assert_eq!(status, 202, "{body}");
    assert!(receiver.wait_for(6, Wait::from_secs(15)).await, "four shards and two children: {}", receiver.count());
    tokio::time::sleep(Wait::from_millis(800)).await;
    let received = receiver.received();
    let shards = calls_to(&received, "/sync");
    assert_eq!(shards.len(), 4, "each shard once");
    let mut parts = BTreeSet::new();
    for call in &shards {
        let index = header(call, "herald-shard-index");
        assert_eq!(header(call, "herald-shard-total"), "4");
        assert_eq!(call.path, format!("/sync/{index}/of/4"), "the URL's placeholders take the shard");
        assert_eq!(std::str::from_utf8(&call.body).unwrap(), format!("{{\"part\": {index}}}"));
        parts.insert(index);
    }
    assert_eq!(parts, ["0", "1", "2", "3"].map(String::from).into(), "every shard, none twice");
    assert_eq!((calls_to(&received, "/after-ok").len(), calls_to(&received, "/after-any").len()), (1, 1));
    let runs = ended_runs(&node, id, 4).await;
    let logged: BTreeSet<(i64, i64)> =
        runs.iter().map(|r| (r["shard"].as_i64().unwrap(), r["shards"].as_i64().unwrap())).collect();
    assert_eq!(logged, (0..4).map(|i| (i, 4)).collect(), "{runs:?}");
    assert!(runs.iter().all(|r| r["outcome"] == "succeeded"), "{runs:?}");

    // One shard failing fails the fire: the success child is not called, the other is, once.
    receiver.fail_next(1, 500);
    node.clock.set(start() + chrono::Duration::minutes(1));
    let (status, _) = node.post(&format!("/api/jobs/{id}/run"), &json!({})).await;
    assert_eq!(status, 202);
    assert!(receiver.wait_for(11, Wait::from_secs(15)).await, "four more shards and one child: {}", receiver.count());
    tokio::time::sleep(Wait::from_millis(800)).await;
    let received = receiver.received();
    assert_eq!(calls_to(&received, "/sync").len(), 8);
    assert_eq!((calls_to(&received, "/after-ok").len(), calls_to(&received, "/after-any").len()), (1, 2));
    let runs = ended_runs(&node, id, 8).await;
    assert_eq!(runs.iter().filter(|r| r["outcome"] == "failed").count(), 1, "{runs:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_on_a_lone_node_is_one_shard_and_bad_sharding_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let node = TestNode::start(&test_config(dir.path()), start()).await;
    let receiver = RecordingReceiver::start().await;
    let spec = json!({"name": "flush-caches", "schedule": {"type": "api"},
        "http": {"method": "POST", "url": format!("{}/flush/{{$shardIndex}}", receiver.url)},
        "sharding": {"mode": "broadcast"}});
    let id = create(&node, &spec).await;
    assert_eq!(node.post(&format!("/api/jobs/{id}/run"), &json!({})).await.0, 202);
    assert!(receiver.wait_for(1, Wait::from_secs(15)).await);
    tokio::time::sleep(Wait::from_millis(800)).await;
    let received = receiver.received();
    assert_eq!(received.len(), 1);
    assert_eq!((received[0].path.as_str(), header(&received[0], "herald-shard-total")), ("/flush/0", "1".into()));

    for (sharding, message) in [
        (json!({"mode": "shards", "count": 1}), "between 2"),
        (json!({"mode": "shards"}), "how many"),
        (json!({"mode": "broadcast", "count": 3}), "leave count out"),
    ] {
        let bad =
            json!({"name": "bad", "schedule": {"type": "api"}, "http": {"url": receiver.url}, "sharding": sharding});
        let (status, body) = node.post("/api/jobs", &bad).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["errors"][0]["field"], "sharding.count", "{body}");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains(message), "{body}");
    }
    let (status, body) = node
        .post(
            "/api/jobs",
            &json!({"name": "bad", "schedule": {"type": "api"},
        "http": {"url": receiver.url}, "sharding": {"mode": "everywhere"}}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
}
