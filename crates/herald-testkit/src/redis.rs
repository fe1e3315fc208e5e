//! The test Redis (`HERALD_TEST_REDIS_URL`, default redis://127.0.0.1:6379), keys under a prefix
//! of the test's own so tests never see each other's state, and cleanup of that prefix.

use redis::aio::ConnectionManager;
use std::sync::atomic::{AtomicU32, Ordering};

pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

pub fn redis_url() -> String {
    std::env::var("HERALD_TEST_REDIS_URL").unwrap_or_else(|_| DEFAULT_REDIS_URL.to_string())
}

pub fn client() -> redis::Client {
    let url = redis_url();
    redis::Client::open(url.as_str())
        .unwrap_or_else(|e| panic!("HERALD_TEST_REDIS_URL {url:?} is not a Redis URL: {e}"))
}

/// A connection to the test Redis; panics with a message when it is unreachable.
pub async fn connect() -> ConnectionManager {
    ConnectionManager::new(client()).await.unwrap_or_else(|e| {
        panic!(
            "Redis at {} is unreachable ({e}); these tests need a real Redis: start one (scripts/test.sh does) \
             or set HERALD_TEST_REDIS_URL",
            redis_url()
        )
    })
}

/// A prefix no other test (or earlier run) uses.
pub fn unique_prefix(test: &str) -> String {
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
    format!("herald-test:{test}:{}:{nanos}:{}", std::process::id(), SEQ.fetch_add(1, Ordering::Relaxed))
}

/// The keys under `prefix`, sorted.
pub async fn keys(prefix: &str) -> Vec<String> {
    let mut keys: Vec<String> =
        redis::cmd("KEYS").arg(format!("{prefix}:*")).query_async(&mut connect().await).await.expect("KEYS");
    keys.sort();
    keys
}

/// Deletes every key under `prefix`, and only those.
pub async fn delete_prefix(prefix: &str) {
    let keys = keys(prefix).await;
    for chunk in keys.chunks(1000) {
        let _: i64 = redis::cmd("DEL").arg(chunk).query_async(&mut connect().await).await.expect("DEL");
    }
}

/// Deletes every key under its prefix when dropped, so a failing test leaves none behind either.
pub struct PrefixGuard(pub String);

impl Drop for PrefixGuard {
    fn drop(&mut self) {
        let Ok(mut conn) = client().get_connection() else { return };
        let keys: Vec<String> = redis::cmd("KEYS").arg(format!("{}:*", self.0)).query(&mut conn).unwrap_or_default();
        for chunk in keys.chunks(1000) {
            let _: redis::RedisResult<i64> = redis::cmd("DEL").arg(chunk).query(&mut conn);
        }
    }
}

/// The test Redis's `host:port`, for a proxy in front of it.
pub fn redis_addr() -> String {
    client().get_connection_info().addr.to_string()
}

/// A client of the test Redis that connects through `proxy` instead.
pub fn client_via(proxy: &crate::proxy::CuttableProxy) -> redis::Client {
    let mut info = client().get_connection_info().clone();
    info.addr = redis::ConnectionAddr::Tcp(proxy.addr().ip().to_string(), proxy.addr().port());
    redis::Client::open(info).expect("a proxied Redis address")
}
