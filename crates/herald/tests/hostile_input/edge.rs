//! Finding 12: a client that sends half its headers is disconnected within the header-read
//! deadline (10 s by default), instead of holding a connection for as long as it likes.

use super::*;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn half_sent_headers_are_cut_off_at_the_deadline() {
    let (_dir, node) = started().await;
    let addr = node.node.addr.unwrap();
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    socket.write_all(b"GET /healthz HTTP/1.1\r\nHost: herald\r\n").await.unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    let read = tokio::time::timeout(Duration::from_secs(14), socket.read(&mut buf)).await;
    let waited = started.elapsed();
    match read {
        Ok(Ok(n)) => {
            let answer = String::from_utf8_lossy(&buf[..n]);
            assert!(!answer.contains("200 OK"), "served after {waited:?}: {answer}");
        }
        Ok(Err(_)) => {}
        Err(_) => panic!("the connection was still open after {waited:?}"),
    }
    assert!(waited >= Duration::from_secs(5), "not cut before the deadline: {waited:?}");
}

/// Past `max_connections`, a new client waits in the accept queue until a slot frees (here
/// when the slow client is cut off), rather than every connection being served at once.
#[tokio::test]
async fn connections_past_the_cap_wait_for_a_slot() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.server.max_connections = 1;
    config.server.header_read_timeout_secs = 2;
    let node = TestNode::start(&config, Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap()).await;
    let mut slow = tokio::net::TcpStream::connect(node.node.addr.unwrap()).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let r = reqwest::get(node.url("/healthz")).await.unwrap();
    let waited = started.elapsed();
    assert_eq!(r.status(), 200);
    assert!(waited >= Duration::from_millis(1500), "served beside the slow client after {waited:?}");
    assert!(waited < Duration::from_secs(6), "{waited:?}");
}
