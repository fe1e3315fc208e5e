//! The test Redis as a node connects to it (herald-store's connection manager), directly or
//! through a proxy a test can cut; the rest comes from herald-testkit.
#![allow(dead_code, unused_imports)]

pub use herald_testkit::CuttableProxy;
pub use herald_testkit::redis::{delete_prefix, keys, redis_addr, redis_url, unique_prefix};
use redis::aio::ConnectionManager;

/// A connection as a node makes it.
pub async fn connect() -> ConnectionManager {
    connect_with(herald_testkit::redis::client()).await
}

/// A proxy in front of the test Redis.
pub async fn redis_proxy() -> CuttableProxy {
    CuttableProxy::start(redis_addr()).await
}

/// A node's connection to Redis through `proxy`.
pub async fn connect_via(proxy: &CuttableProxy) -> ConnectionManager {
    connect_with(herald_testkit::redis::client_via(proxy)).await
}

async fn connect_with(client: redis::Client) -> ConnectionManager {
    herald_store::redis_conn::connect(client).await.unwrap_or_else(|e| {
        panic!(
            "Redis at {} is unreachable ({e}); these tests need a real Redis: start one (scripts/test.sh does) \
             or set HERALD_TEST_REDIS_URL",
            redis_url()
        )
    })
}
