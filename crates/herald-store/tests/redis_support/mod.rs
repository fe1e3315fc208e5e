//! A real Redis for the tests that need one (HERALD_TEST_REDIS_URL, default
//! redis://127.0.0.1:6379; an unreachable Redis fails the test, never skips it), keys under a
//! prefix of the test's own, and a proxy that can be cut to make Redis unreachable mid-test.
#![allow(dead_code)]

use redis::aio::ConnectionManager;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use tokio::task::AbortHandle;

pub fn redis_url() -> String {
    std::env::var("HERALD_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

fn client(url: &str) -> redis::Client {
    redis::Client::open(url).unwrap_or_else(|e| panic!("HERALD_TEST_REDIS_URL {url:?} is not a Redis URL: {e}"))
}

/// A connection as a node makes it.
pub async fn connect() -> ConnectionManager {
    connect_with(client(&redis_url())).await
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

/// A prefix no other test (or earlier run) uses.
pub fn unique_prefix(test: &str) -> String {
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("herald-test:{test}:{}:{nanos}:{}", std::process::id(), SEQ.fetch_add(1, Ordering::Relaxed))
}

/// The keys under `prefix`.
pub async fn keys(prefix: &str) -> Vec<String> {
    let mut keys: Vec<String> =
        redis::cmd("KEYS").arg(format!("{prefix}:*")).query_async(&mut connect().await).await.unwrap();
    keys.sort();
    keys
}

/// Deletes every key under `prefix`, and only those.
pub async fn delete_prefix(prefix: &str) {
    let keys = keys(prefix).await;
    if !keys.is_empty() {
        let _: i64 = redis::cmd("DEL").arg(keys).query_async(&mut connect().await).await.unwrap();
    }
}

/// A TCP proxy in front of the test Redis. `cut` closes its port and drops every connection
/// through it, so a client connected through it finds Redis unreachable (connection refused);
/// `restore` brings it back.
pub struct CuttableProxy {
    addr: SocketAddr,
    info: redis::ConnectionInfo,
    tasks: Arc<Mutex<Vec<AbortHandle>>>,
}

impl CuttableProxy {
    pub async fn start() -> Self {
        let info = client(&redis_url()).get_connection_info().clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = Self { addr: listener.local_addr().unwrap(), info, tasks: Arc::default() };
        proxy.serve(listener);
        proxy
    }

    fn serve(&self, listener: tokio::net::TcpListener) {
        let upstream = self.info.addr.to_string();
        let registry = self.tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let pipe = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                registry.lock().unwrap().push(pipe.abort_handle());
            }
        });
        self.tasks.lock().unwrap().push(accept.abort_handle());
    }

    /// A node's connection to Redis through the proxy.
    pub async fn connect(&self) -> ConnectionManager {
        let mut info = self.info.clone();
        info.addr = redis::ConnectionAddr::Tcp(self.addr.ip().to_string(), self.addr.port());
        connect_with(redis::Client::open(info).unwrap()).await
    }

    pub fn cut(&self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    /// Redis is back: the proxy listens on its port again.
    pub async fn restore(&self) {
        self.serve(tokio::net::TcpListener::bind(self.addr).await.unwrap());
    }
}

impl Drop for CuttableProxy {
    fn drop(&mut self) {
        self.cut();
    }
}
