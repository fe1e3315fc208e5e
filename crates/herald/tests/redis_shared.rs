//! Two nodes in one process sharing one Redis (HERALD_TEST_REDIS_URL, default
//! redis://127.0.0.1:6379; unreachable fails the test) and one SQLite file, both delivering:
//! a channel's rate and a channel account's rate hold for the two together, and one provider
//! token fetch serves both. Node B's clock runs a second ahead of node A's, so the outbox's
//! delivery times tell which node delivered what.

mod common;

use chrono::{DateTime, TimeZone, Utc};
use common::fake_wecom::{self, CORP_ID};
use common::*;
use herald::node::{Node, Roles};
use herald_core::TestClock;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

const SECRET: &str = "corp-secret-0123456789abcdef";

use herald_testkit::redis::{PrefixGuard, redis_url};

struct TwoNodes {
    a: TestNode,
    b: Node,
    _dir: tempfile::TempDir,
    _keys: PrefixGuard,
}

fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 1, 6, 0, 30).unwrap()
}

/// Node A with every role, node B a worker only, on one database and one Redis prefix.
async fn two_nodes() -> TwoNodes {
    herald_testkit::redis::connect().await;
    let dir = tempfile::tempdir().unwrap();
    let prefix = format!("herald-test-two-nodes-{}", uuid::Uuid::new_v4().simple());
    let mut config = test_config(dir.path());
    config.redis.url = Some(redis_url());
    config.redis.key_prefix = Some(prefix.clone());
    let a = TestNode::start(&config, start_time()).await;
    let clock_b = Arc::new(TestClock::new(start_time() + chrono::Duration::seconds(1)));
    let b = Node::start(&config, Roles::parse("worker").unwrap(), clock_b).await.expect("node b starts");
    TwoNodes { a, b, _dir: dir, _keys: PrefixGuard(prefix) }
}

impl TwoNodes {
    async fn stop(self) {
        self.a.node.shutdown().await;
        self.b.shutdown().await;
    }
}

fn send(template: i64, receiver: &str) -> Value {
    json!({"code": "send", "messageTemplateId": template, "messageParam": {"receiver": receiver}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_channel_rate_holds_across_two_nodes() {
    let nodes = two_nodes().await;
    let a = &nodes.a;
    let (status, body) = a.put("/api/flow-control/outbox", &json!({"ratePerSecond": 10})).await;
    assert_eq!(status, 200, "{body}");
    let template = a.template(json!({"name": "n", "channel": "outbox", "content": {"title": "t", "body": "b"}})).await;

    // Forty single-receiver batches, which both nodes' workers take from the bus.
    let started = Instant::now();
    for n in 0..40 {
        let (status, body) = a.post("/send", &send(template, &format!("user{n}"))).await;
        assert_eq!(status, 200, "{body}");
    }
    let entries = loop {
        let (_, page) = a.get(&format!("/api/outbox?templateId={template}&limit=1000")).await;
        if page["total"] == 40 {
            break page["items"].as_array().unwrap().clone();
        }
        assert!(started.elapsed() < Duration::from_secs(30), "not delivered: {page}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let took = started.elapsed();
    // One bucket for both: 10 at once, then 10 a second, so the last goes out 3 s in. A bucket
    // per node would have let them all through in about a second.
    assert!(took >= Duration::from_millis(2_700), "40 sends at 10/s took only {took:?}");
    let delivered_by: BTreeSet<&str> = entries.iter().map(|e| e["deliveredAt"].as_str().unwrap()).collect();
    assert_eq!(delivered_by.len(), 2, "both nodes delivered: {delivered_by:?}");
    nodes.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_account_rate_and_its_token_are_shared_by_two_nodes() {
    let nodes = two_nodes().await;
    let a = &nodes.a;
    let (base, fake) = fake_wecom::start(SECRET).await;
    let account = json!({"name": "corp-app", "channel": "wecom_app", "ratePerSecond": 5.0,
        "config": {"corpId": CORP_ID, "corpSecret": SECRET, "agentId": 1000002, "baseUrl": base}});
    let (status, body) = a.post("/api/accounts", &account).await;
    assert_eq!(status, 201, "{body}");
    let template = a
        .template(json!({"name": "n", "channel": "wecom_app", "channelAccount": "corp-app", "content": {"body": "hi"}}))
        .await;

    let started = Instant::now();
    for n in 0..15 {
        let (status, body) = a.post("/send", &send(template, &format!("user{n}"))).await;
        assert_eq!(status, 200, "{body}");
    }
    while fake.state().messages.len() < 15 {
        assert!(started.elapsed() < Duration::from_secs(30), "not delivered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (spread, token_calls) = {
        let fake = fake.state();
        let first = fake.messages.iter().map(|m| m.2).min().unwrap();
        (fake.messages.iter().map(|m| m.2).max().unwrap() - first, fake.token_calls)
    };
    // 5 at once, then one every 200 ms for both nodes together: the last 2 s after the first.
    assert!(spread >= Duration::from_millis(1_800), "{spread:?}");
    // WeCom keeps only the newest token valid: a fetch per node would have cost refusals and
    // more fetches.
    assert_eq!(token_calls, 1, "one token for both nodes");
    nodes.stop().await;
}
