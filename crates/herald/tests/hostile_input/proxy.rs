//! Review finding 7's last part: a proxy named in the environment (`HTTP_PROXY`) would resolve
//! and connect on herald's behalf, past the address policy. Outbound requests ignore it.

use super::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A would-be proxy that answers 200 to anything and counts the connections it gets.
async fn proxy() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let _ = socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").await;
            });
        }
    });
    (url, connections)
}

#[tokio::test]
async fn a_proxy_in_the_environment_is_not_used_for_sends() {
    let (proxy_url, connections) = proxy().await;
    let dir = tempfile::tempdir().unwrap();
    let port = process::free_port();
    let config = process::write_config(dir.path(), port, 5);
    let env = [("HTTP_PROXY", proxy_url.as_str()), ("http_proxy", proxy_url.as_str()), ("NO_PROXY", "")];
    let (server, key) = process::spawn_with_env(dir.path(), &config, port, &env).await;
    let api = ApiClient::new(&server.base, &key.expect("first start prints a key"));
    let crowd = api.crowd(crowd_csv(1)).await;
    // Nothing listens here: without the proxy the send fails; through it, it would "arrive".
    let target = format!("{}/hook", herald_testkit::closed_url());
    let template = api.template(&webhook_template("proxied", &crowd, &target)).await;
    let run = api.run_now(template).await;
    let run = api.wait_run(run, Duration::from_secs(60), |r| r["failed"] == 1 || r["delivered"] == 1).await;
    assert_eq!(connections.load(Ordering::SeqCst), 0, "the environment's proxy was used: {run}");
    assert_eq!((run["delivered"].as_i64(), run["failed"].as_i64()), (Some(0), Some(1)), "{run}");
}
