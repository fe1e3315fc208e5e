//! A node whose Redis is away at start: alive and not ready (naming Redis) instead of exiting,
//! and a full node once Redis comes, without a restart.

mod common;

use common::process::{spawn_with_env, write_config};
use common::redis::PrivateRedis;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_starts_not_ready_without_redis_and_becomes_ready_when_it_comes() {
    let dir = tempfile::tempdir().unwrap();
    let port = herald_testkit::free_port();
    let redis_port = herald_testkit::free_port();
    let config = write_config(dir.path(), port, 2);
    let redis_url = format!("redis://127.0.0.1:{redis_port}");
    let (mut server, _) = spawn_with_env(dir.path(), &config, port, &[("HERALD_REDIS__URL", &redis_url)]).await;
    let http = reqwest::Client::new();
    let get = |path: &str| http.get(format!("{}{path}", server.base)).send();

    assert_eq!(get("/healthz").await.unwrap().status(), 200, "alive");
    let ready = get("/readyz").await.unwrap();
    assert_eq!(ready.status(), 503);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert!(body["checks"]["redis"].as_str().unwrap().contains("connection refused"), "{body}");
    assert_eq!(get("/api/templates").await.unwrap().status(), 503, "nothing else until Redis answers");
    assert!(server.child.try_wait().unwrap().is_none(), "still running");

    let _redis = PrivateRedis::start(redis_port);
    let mut became_ready = false;
    for _ in 0..150 {
        if get("/readyz").await.is_ok_and(|r| r.status() == 200) {
            became_ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(became_ready, "ready within 15 s of Redis answering");
    // The real API now answers: it wants a key.
    assert_eq!(get("/api/templates").await.unwrap().status(), 401);
    let _ = server.child.kill();
    let _ = server.child.wait();
}
