//! A recording HTTP receiver: it answers every POST and keeps the message id of each request
//! (the `Idempotency-Key` header, else the JSON body's `messageId`), so a test counts what a
//! provider actually got from herald: lost ids, repeated ids, and when. It can answer slowly or
//! fail on demand. No-loss and no-repeat claims are checked here, never in herald's own tables.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// One request as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Received {
    /// The message id the request carried; None when it carried none.
    pub message_id: Option<String>,
    /// When it arrived, from the receiver's start.
    pub at: Duration,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

#[derive(Default)]
struct Behaviour {
    /// Wait this long before answering each request.
    delay: Duration,
    /// Statuses to answer the next requests with, one each, instead of 200.
    fail_next: VecDeque<u16>,
}

struct Inner {
    started: Instant,
    received: Mutex<Vec<Received>>,
    behaviour: Mutex<Behaviour>,
}

/// A running receiver on an ephemeral loopback port; clone it freely.
#[derive(Clone)]
pub struct RecordingReceiver {
    /// `http://127.0.0.1:PORT`; any path is accepted.
    pub url: String,
    inner: Arc<Inner>,
}

impl RecordingReceiver {
    pub async fn start() -> Self {
        let inner =
            Arc::new(Inner { started: Instant::now(), received: Mutex::default(), behaviour: Mutex::default() });
        let app = Router::new().fallback(post(record)).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        let url = format!("http://{}", listener.local_addr().expect("a bound address"));
        tokio::spawn(async move { axum::serve(listener, app).await.expect("the receiver serves") });
        Self { url, inner }
    }

    /// Answers every request after `delay` from now on (a slow provider).
    pub fn set_delay(&self, delay: Duration) {
        lock(&self.inner.behaviour).delay = delay;
    }

    /// Answers the next `count` requests with `status` (they are still recorded).
    pub fn fail_next(&self, count: usize, status: u16) {
        lock(&self.inner.behaviour).fail_next.extend(std::iter::repeat_n(status, count));
    }

    /// The receiver's clock: time since it started, as `Received::at` counts it.
    pub fn elapsed(&self) -> Duration {
        self.inner.started.elapsed()
    }

    /// Every request so far, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        lock(&self.inner.received).clone()
    }

    pub fn count(&self) -> usize {
        lock(&self.inner.received).len()
    }

    /// How many requests carried each message id.
    pub fn counts_by_id(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for id in lock(&self.inner.received).iter().filter_map(|r| r.message_id.clone()) {
            *counts.entry(id).or_insert(0) += 1;
        }
        counts
    }

    /// Requests beyond the first for each message id: what a provider would have sent twice.
    pub fn repeats(&self) -> usize {
        self.counts_by_id().values().map(|n| n - 1).sum()
    }

    /// The ids of `expected` that never arrived.
    pub fn missing<'a>(&self, expected: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        let got = self.counts_by_id();
        expected.into_iter().filter(|id| !got.contains_key(*id)).map(str::to_string).collect()
    }

    /// Waits until at least `count` requests arrived; false when `timeout` passed first.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while self.count() < count {
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn record(State(inner): State<Arc<Inner>>, uri: axum::http::Uri, headers: HeaderMap, body: Bytes) -> StatusCode {
    let message_id = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| body_message_id(&body));
    let (delay, status) = {
        let mut behaviour = lock(&inner.behaviour);
        (behaviour.delay, behaviour.fail_next.pop_front().unwrap_or(200))
    };
    lock(&inner.received).push(Received {
        message_id,
        at: inner.started.elapsed(),
        path: uri.path().to_string(),
        headers,
        body,
    });
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn body_message_id(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    value.get("messageId")?.as_str().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::RecordingReceiver;
    use std::time::Duration;

    #[tokio::test]
    async fn counts_ids_repeats_and_failures_as_they_arrive() {
        let receiver = RecordingReceiver::start().await;
        receiver.fail_next(1, 503);
        let http = reqwest_like_post(&receiver.url).await;
        assert_eq!(http, vec![503, 200, 200]);
        assert_eq!(receiver.count(), 3);
        assert_eq!(receiver.repeats(), 1, "{:?}", receiver.counts_by_id());
        assert_eq!(receiver.missing(["a", "b", "c"]), vec!["c".to_string()]);
        assert!(receiver.wait_for(3, Duration::from_millis(10)).await);
        assert!(!receiver.wait_for(4, Duration::from_millis(50)).await);
    }

    /// Posts a, a (header), b with a bare TCP client, so the kit needs no HTTP client crate.
    async fn reqwest_like_post(url: &str) -> Vec<u16> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let addr = url.trim_start_matches("http://");
        let mut statuses = Vec::new();
        for (header, body) in
            [("", r#"{"messageId":"a"}"#), ("Idempotency-Key: a\r\n", "{}"), ("", r#"{"messageId":"b"}"#)]
        {
            let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            let request = format!(
                "POST /hook HTTP/1.1\r\nHost: x\r\n{header}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            stream.write_all(request.as_bytes()).await.unwrap();
            let mut answer = String::new();
            stream.read_to_string(&mut answer).await.unwrap();
            statuses.push(answer[9..12].parse().unwrap());
        }
        statuses
    }
}
