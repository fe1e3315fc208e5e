//! Cluster mode on real components: two nodes in different roles share one PostgreSQL
//! database, a Kafka cluster (librdkafka's mock, three brokers), an S3 API server (moto) and
//! Redis. A crowd uploaded through node A (api) is streamed by node B (scheduler, worker) from
//! S3, travels over Kafka, and lands in the outbox in PostgreSQL exactly once per row.

mod common;

use chrono::{TimeZone, Utc};
use common::*;
use herald::node::{Node, Roles};
use herald_core::{ChannelKind, TestClock, topic_for};
use rdkafka::mocking::MockCluster;
use serde_json::json;
use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

const MOTO: &str = r#"
import os, sys, threading
from moto.server import main
def watch_parent():
    sys.stdin.read()
    os._exit(0)
threading.Thread(target=watch_parent, daemon=True).start()
main(["-H", "127.0.0.1", "-p", sys.argv[1]])
"#;

struct Moto(Child);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn moto() -> (Moto, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new("python3")
        .args(["-c", MOTO, &port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 with moto's server (python3 -m pip install 'moto[server]')");
    let guard = Moto(child);
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..600 {
        if reqwest::get(&url).await.is_ok_and(|r| r.status().is_success()) {
            let created = reqwest::Client::new().put(format!("{url}/crowds")).send().await.unwrap();
            assert!(created.status().is_success());
            return (guard, url);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("moto's S3 server did not start (python3 -m pip install 'moto[server]')");
}

/// A fresh database on the test PostgreSQL; dropped by the caller.
async fn database() -> (String, String) {
    let admin = std::env::var("HERALD_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres:postgres@127.0.0.1:5432/postgres".into());
    let name = format!("herald_node_{}", uuid::Uuid::new_v4().simple());
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL is unreachable at {admin} ({e}); scripts/test.sh starts it"));
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
    let base = admin.rsplit_once('/').unwrap().0;
    (format!("{base}/{name}"), name)
}

async fn drop_database(name: &str) {
    let admin = std::env::var("HERALD_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres:postgres@127.0.0.1:5432/postgres".into());
    if let Ok(mut conn) = <sqlx::PgConnection as sqlx::Connection>::connect(&admin).await {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_crowd_uploaded_on_one_node_is_delivered_by_another_over_kafka_exactly_once() {
    let (_moto, s3) = moto().await;
    let (db_url, db_name) = database().await;
    let mock = MockCluster::new(3).expect("mock cluster");
    for kind in ChannelKind::ALL {
        mock.create_topic(&topic_for(kind), 6, 3).unwrap();
        mock.create_topic(&format!("{}.dead", topic_for(kind)), 6, 3).unwrap();
    }
    let redis = std::env::var("HERALD_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
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
    tokio::task::spawn_blocking(move || drop(b)).await.ok();
    drop_database(&db_name).await;
    delete_redis_keys(&redis, &format!("herald-test-{db_name}")).await;
}

/// The keys a test's nodes left in Redis (dedup windows, the ledger's hot window, ...).
async fn delete_redis_keys(url: &str, prefix: &str) {
    let Ok(mut conn) = redis::Client::open(url).unwrap().get_multiplexed_async_connection().await else { return };
    let keys: Vec<String> =
        redis::cmd("KEYS").arg(format!("{prefix}:*")).query_async(&mut conn).await.unwrap_or_default();
    if !keys.is_empty() {
        let _: redis::RedisResult<i64> = redis::cmd("DEL").arg(keys).query_async(&mut conn).await;
    }
}

#[tokio::test]
async fn the_cluster_clock_is_the_database_clock() {
    use herald_core::Clock;
    let (url, name) = database().await;
    let store = herald_store::PgStore::connect(&url).await.unwrap();
    let clock = herald::db_clock::DatabaseClock::start(store.clone()).await.unwrap();
    let db = store.database_now().await.unwrap();
    assert!((clock.now() - db).num_milliseconds().abs() < 1_000, "{} vs {db}", clock.now());
    store.close().await;
    drop_database(&name).await;
}
