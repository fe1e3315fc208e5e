//! A TCP proxy that a test can cut and restore, to make a service (Redis, PostgreSQL, a
//! provider) unreachable mid-test without touching the service itself. `cut` closes its port and
//! drops every connection through it, so clients see "connection refused"; `restore` listens on
//! the same port again.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::task::AbortHandle;

pub struct CuttableProxy {
    addr: SocketAddr,
    upstream: String,
    tasks: Arc<Mutex<Vec<AbortHandle>>>,
}

impl CuttableProxy {
    /// A proxy on an ephemeral loopback port in front of `upstream` (`host:port`).
    pub async fn start(upstream: impl Into<String>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        let addr = listener.local_addr().expect("a bound address");
        let proxy = Self { addr, upstream: upstream.into(), tasks: Arc::default() };
        proxy.serve(listener);
        proxy
    }

    /// Where clients connect instead of the upstream.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn serve(&self, listener: tokio::net::TcpListener) {
        let upstream = self.upstream.clone();
        let registry = self.tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let pipe = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                registry.lock().unwrap_or_else(PoisonError::into_inner).push(pipe.abort_handle());
            }
        });
        self.tasks.lock().unwrap_or_else(PoisonError::into_inner).push(accept.abort_handle());
    }

    /// The service is gone: the port is closed and every connection through it dropped.
    pub fn cut(&self) {
        for task in self.tasks.lock().unwrap_or_else(PoisonError::into_inner).drain(..) {
            task.abort();
        }
    }

    /// The service is back: the proxy listens on its port again.
    pub async fn restore(&self) {
        let listener = tokio::net::TcpListener::bind(self.addr).await.expect("the proxy's port is free again");
        self.serve(listener);
    }
}

impl Drop for CuttableProxy {
    fn drop(&mut self) {
        self.cut();
    }
}
