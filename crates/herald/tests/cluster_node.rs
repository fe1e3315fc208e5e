//! Cluster mode on real components: two nodes in different roles share one PostgreSQL
//! database, a Kafka cluster (librdkafka's mock, three brokers), an S3 API server (moto) and
//! Redis. A crowd uploaded through node A (api) is streamed by node B (scheduler, worker) from
//! S3, travels over Kafka, and lands in the outbox in PostgreSQL exactly once per row.
#![cfg(feature = "cluster")]

mod common;

use chrono::{TimeZone, Utc};
use common::*;
use herald::node::{Node, Roles};
use herald_core::{ChannelKind, TestClock, topic_for};
use rdkafka::mocking::MockCluster;
use serde_json::json;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_crowd_uploaded_on_one_node_is_delivered_by_another_over_kafka_exactly_once() {
    let moto = herald_testkit::Moto::start().await;
    moto.create_bucket("crowds").await;
    let s3 = moto.url.clone();
    let db = herald_testkit::TestDb::create().await;
    let (db_url, db_name) = (db.url.clone(), db.name.clone());
    // Kept until the process ends: a Kafka consumer closing after its brokers are gone waits
    // for them for ever, and a failed assertion drops this test's locals before the runtime
    // drops the nodes' tasks.
    let mock: &'static MockCluster<'static, _> = Box::leak(Box::new(MockCluster::new(3).expect("mock cluster")));
    for kind in ChannelKind::ALL {
        mock.create_topic(&topic_for(kind), 6, 3).unwrap();
        mock.create_topic(&format!("{}.dead", topic_for(kind)), 6, 3).unwrap();
    }
    let redis = herald_testkit::redis::redis_url();
    let dir = tempfile::tempdir().unwrap();
    let config_for = |name: &str| {
        let mut config = test_config(&dir.path().join(name));
        config.database.url = db_url.clone();
        config.redis.url = Some(redis.clone());
        config.redis.key_prefix = Some(format!("herald-test-{db_name}"));
        config.bus.kind = herald::config::BusKind::Kafka;
        config.bus.kafka = Some(herald_bus::KafkaConfig {
            create_topics: false,
            ..herald_bus::KafkaConfig::new(mock.bootstrap_servers(), format!("workers-{db_name}"))
        });
        config.crowd.s3 = Some(
            serde_json::from_value(json!({
                "endpoint": s3, "bucket": "crowds", "region": "us-east-1", "access_key_id": "test",
                "secret_access_key": "test-secret", "allow_http": true,
                "local_cache_dir": dir.path().join(name).join("cache"),
            }))
            .unwrap(),
        );
        config.security.sealing_key = Some("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=".to_string().into());
        config
    };
    let clock = Arc::new(TestClock::new(Utc.with_ymd_and_hms(2026, 6, 1, 6, 0, 0).unwrap()));
    let api_only = Roles::parse("api").unwrap();
    let a = Node::start(&config_for("a"), api_only, clock.clone()).await.expect("node a (api)");
    let b =
        Node::start(&config_for("b"), Roles::parse("scheduler,worker").unwrap(), clock.clone()).await.expect("node b");
    assert!(b.addr.is_none(), "node b serves no API");
    let node = TestNode {
        base: format!("http://{}", a.addr.unwrap()),
        key: a.new_api_key.clone().unwrap(),
        node: a,
        clock,
        http: reqwest::Client::new(),
    };

    let rows = 5_000;
    let crowd = node.crowd(crowd_csv(rows)).await;
    let template = node.template(outbox_template("cluster", &crowd, None)).await;
    let (status, body) = node.post(&format!("/api/templates/{template}/run"), &json!({})).await;
    assert_eq!(status, 202, "{body}");
    let run_id = body["runId"].as_i64().unwrap();
    let run = node.wait_run(run_id, Duration::from_secs(120), |r| r["status"] == "completed").await;
    assert_eq!((run["rowsRead"].as_i64(), run["delivered"].as_i64()), (Some(rows as i64), Some(rows as i64)), "{run}");
    let entries = node.outbox_of_run(run_id).await;
    let receivers: HashSet<&str> = entries.iter().map(|e| e["receiver"].as_str().unwrap()).collect();
    assert_eq!((entries.len(), receivers.len()), (rows, rows), "each row exactly once");

    node.node.shutdown().await;
    // Every task of node b ends and its consumers leave the group before the test goes on.
    tokio::time::timeout(Duration::from_secs(60), b.shutdown()).await.expect("node b stops within a minute");
    db.drop_database().await;
    // The keys the nodes left in Redis (dedup windows, the ledger's hot window, ...).
    herald_testkit::redis::delete_prefix(&format!("herald-test-{db_name}")).await;
}

#[tokio::test]
async fn the_cluster_clock_is_the_database_clock() {
    use herald_core::Clock;
    let db = herald_testkit::TestDb::create().await;
    let store = herald_store::PgStore::connect(&db.url).await.unwrap();
    let clock = herald::db_clock::DatabaseClock::start(store.clone()).await.unwrap();
    let database_now = store.database_now().await.unwrap();
    let apart = (clock.now() - database_now).num_milliseconds().abs();
    assert!(apart < 1_000, "{} vs {database_now}", clock.now());
    store.close().await;
    db.drop_database().await;
}
