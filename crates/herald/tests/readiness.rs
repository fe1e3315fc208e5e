//! `/healthz` says the process answers; `/readyz` says whether the node can work: its database,
//! its bus and, when configured, Redis. Redis is cut for real (a TCP proxy in front of it closes)
//! and the node turns not-ready within the check's time, naming Redis, then ready again once
//! Redis is back.

mod common;

use chrono::Utc;
use common::*;
use herald_testkit::CuttableProxy;
use herald_testkit::redis::{PrefixGuard, redis_addr, unique_prefix};
use std::time::Duration;

async fn readyz(node: &TestNode) -> (u16, serde_json::Value) {
    let r = node.http.get(node.url("/readyz")).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_names_each_dependency_and_follows_redis() {
    let proxy = CuttableProxy::start(redis_addr()).await;
    let dir = tempfile::tempdir().unwrap();
    let prefix = unique_prefix("readyz");
    let _cleanup = PrefixGuard(prefix.clone());
    let mut config = test_config(dir.path());
    config.redis.url = Some(format!("redis://{}", proxy.addr()));
    config.redis.key_prefix = Some(prefix);
    let node = TestNode::start(&config, Utc::now()).await;

    let (status, answer) = readyz(&node).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["checks"], serde_json::json!({"database": "ok", "bus": "ok", "redis": "ok"}));

    proxy.cut();
    let (status, answer) = readyz(&node).await;
    assert_eq!(status, 503, "{answer}");
    assert_eq!((answer["ready"].as_bool(), &answer["checks"]["database"]), (Some(false), &"ok".into()));
    assert_ne!(answer["checks"]["redis"], "ok", "{answer}");
    let (status, _) = node.get("/healthz").await;
    assert_eq!(status, 200, "alive while not ready");

    proxy.restore().await;
    let mut last = serde_json::Value::Null;
    for _ in 0..40 {
        let (status, answer) = readyz(&node).await;
        if status == 200 {
            node.node.shutdown().await;
            return;
        }
        last = answer;
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("not ready 10 s after Redis came back: {last}");
}
