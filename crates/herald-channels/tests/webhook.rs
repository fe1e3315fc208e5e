//! The webhook channel against a local receiver that checks the signature the way a receiver
//! should: a good send, passing faults retried within the delivery, timeouts, and 4xx.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use herald_channels::http::{HttpSettings, OutboundHttp};
use herald_channels::webhook::{WebhookChannel, WebhookConfig, sign};
use herald_channels::{Channel, OutgoingMessage, SendResult};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SECRET: &str = "whsec-test-123";

#[derive(Default)]
struct Receiver {
    /// Answers to give, in order (0 = hang past the timeout); 200 once they run out.
    script: Vec<u16>,
    bodies: Vec<Value>,
    calls: usize,
}

async fn receive(State(rx): State<Arc<Mutex<Receiver>>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let timestamp = headers.get("x-herald-timestamp").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let signature = headers.get("x-herald-signature").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let fresh = timestamp.parse::<i64>().is_ok_and(|t| (chrono::Utc::now().timestamp() - t).abs() < 300);
    // The key is signed, and it is the message id the body carries.
    let body_id = serde_json::from_slice::<Value>(&body).ok().and_then(|b| b["messageId"].as_str().map(str::to_string));
    if !fresh
        || key.is_empty()
        || body_id.as_deref() != Some(key.as_str())
        || signature != sign(SECRET, &timestamp, &key, &body)
    {
        return StatusCode::UNAUTHORIZED;
    }
    let scripted = {
        let mut rx = rx.lock().unwrap();
        rx.calls += 1;
        let n = rx.calls;
        rx.script.get(n - 1).copied()
    };
    match scripted {
        Some(0) => {
            tokio::time::sleep(Duration::from_secs(2)).await;
            StatusCode::OK
        }
        Some(status) => StatusCode::from_u16(status).unwrap(),
        None => {
            rx.lock().unwrap().bodies.push(serde_json::from_slice(&body).unwrap());
            StatusCode::OK
        }
    }
}

async fn receiver(script: Vec<u16>) -> (String, Arc<Mutex<Receiver>>) {
    let state = Arc::new(Mutex::new(Receiver { script, ..Default::default() }));
    let app = axum::Router::new().route("/hook", post(receive)).with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, state)
}

fn channel(secret: &str) -> WebhookChannel {
    let http = OutboundHttp::new(HttpSettings { allow_private_networks: true, ..HttpSettings::default() }).unwrap();
    WebhookChannel::new(
        WebhookConfig { signing_secret: Some(secret.to_string().into()), timeout_ms: 500, attempts: 3, backoff_ms: 10 },
        http,
    )
}

fn message(url: &str) -> OutgoingMessage {
    OutgoingMessage {
        message_id: herald_core::Installation::new("t").run_row(3, 7),
        template_id: 1,
        run_id: Some(3),
        receiver: "13800000007".into(),
        msg_type: 10,
        content: json!({"url": url, "text": "你好 Li"}),
    }
}

#[tokio::test]
async fn a_signed_message_is_delivered_as_json() {
    let (url, rx) = receiver(vec![]).await;
    let result = channel(SECRET).send(&message(&url)).await;
    assert!(matches!(result, SendResult::Sent { .. }), "{result:?}");
    let rx = rx.lock().unwrap();
    assert_eq!(rx.bodies.len(), 1);
    assert_eq!(rx.bodies[0]["messageId"], "t-r3-7");
    assert_eq!(rx.bodies[0]["receiver"], "13800000007");
    assert_eq!(rx.bodies[0]["content"]["text"], "你好 Li");
}

#[tokio::test]
async fn a_wrong_secret_is_rejected_by_the_receiver_as_permanent() {
    let (url, rx) = receiver(vec![]).await;
    let result = channel("not-the-secret").send(&message(&url)).await;
    assert_eq!(result, SendResult::Permanent { reason: "HTTP 401".into() });
    assert_eq!(rx.lock().unwrap().bodies.len(), 0);
}

#[tokio::test]
async fn passing_faults_are_retried_within_the_delivery() {
    let (url, rx) = receiver(vec![503, 500]).await;
    let result = channel(SECRET).send(&message(&url)).await;
    assert!(matches!(result, SendResult::Sent { .. }), "{result:?}");
    assert_eq!(rx.lock().unwrap().calls, 3);

    let (url, _) = receiver(vec![503, 503, 429]).await;
    let result = channel(SECRET).send(&message(&url)).await;
    assert_eq!(result, SendResult::Retryable { reason: "HTTP 429".into(), after: None }, "the worker retries later");
}

#[tokio::test]
async fn a_slow_receiver_times_out_as_retryable_and_is_not_repeated_within_the_delivery() {
    let (url, rx) = receiver(vec![0, 0, 0]).await;
    let result = channel(SECRET).send(&message(&url)).await;
    assert!(matches!(&result, SendResult::Retryable { reason, .. } if reason.contains("timed out")), "{result:?}");
    // It may have arrived: only the worker, which re-checks its claim and the ledger, sends again.
    assert_eq!(rx.lock().unwrap().calls, 1);
}

/// A receiver that reads each request whole, counts it, and hangs up without answering.
async fn hanging_up_receiver() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let arrived = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = arrived.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            // Headers, then the body its Content-Length announces.
            while let Ok(n @ 1..) = socket.read(&mut buf).await {
                request.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&request);
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let length = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string())
                        })
                        .and_then(|v| v.parse::<usize>().ok())
                        .unwrap_or(0);
                    if body.len() >= length {
                        break;
                    }
                }
            }
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            drop(socket);
        }
    });
    (url, arrived)
}

#[tokio::test]
async fn a_request_cut_off_before_its_answer_is_not_repeated_within_the_delivery() {
    let (url, arrived) = hanging_up_receiver().await;
    let result = channel(SECRET).send(&message(&url)).await;
    assert!(matches!(&result, SendResult::Retryable { .. }), "{result:?}");
    // It arrived: only the worker, which re-checks its claim and the ledger, may send again.
    assert_eq!(arrived.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_slow_refusal_is_not_tried_again_past_the_claims_margin() {
    // 503 after 1.1 s: a second try would start after the worker's claim may have lapsed.
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = calls.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(1_100)).await;
                StatusCode::SERVICE_UNAVAILABLE
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let http = OutboundHttp::new(HttpSettings { allow_private_networks: true, ..HttpSettings::default() }).unwrap();
    let config = WebhookConfig { signing_secret: None, timeout_ms: 5_000, attempts: 3, backoff_ms: 10 };
    let result = WebhookChannel::new(config, http).send(&message(&url)).await;
    assert_eq!(result, SendResult::Retryable { reason: "HTTP 503".into(), after: None });
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1, "the worker sends again, after its checks");
}

#[tokio::test]
async fn a_refused_connection_is_retried_within_the_delivery() {
    // Nothing listens: the request never leaves, so trying again at once repeats nothing.
    let url = format!("{}/hook", herald_testkit::closed_url());
    let started = std::time::Instant::now();
    let result = channel(SECRET).send(&message(&url)).await;
    assert!(
        matches!(&result, SendResult::Retryable { reason, .. } if reason.contains("connection failed")),
        "{result:?}"
    );
    assert!(started.elapsed() >= Duration::from_millis(30), "three attempts, 10 ms then 20 ms apart");
}

#[tokio::test]
async fn a_failed_send_never_echoes_the_urls_credentials_or_query() {
    let closed = herald_testkit::closed_url().replace("http://", "http://bob:pa55word@");
    let url = format!("{closed}/hook?token=t0ken");
    let result = channel(SECRET).send(&message(&url)).await;
    let SendResult::Retryable { reason, .. } = result else { panic!("{result:?}") };
    assert!(!reason.contains("pa55word") && !reason.contains("bob") && !reason.contains("t0ken"), "{reason}");
    let strict = WebhookChannel::new(WebhookConfig::default(), OutboundHttp::new(HttpSettings::default()).unwrap());
    let SendResult::Permanent { reason } = strict.send(&message(&url)).await else { panic!("refused") };
    assert!(!reason.contains("pa55word") && !reason.contains("t0ken"), "{reason}");
}

#[tokio::test]
async fn client_errors_and_bad_urls_are_permanent() {
    let (url, rx) = receiver(vec![400]).await;
    assert_eq!(channel(SECRET).send(&message(&url)).await, SendResult::Permanent { reason: "HTTP 400".into() });
    assert_eq!(rx.lock().unwrap().calls, 1, "no retry for a 4xx");
    let mut no_url = message("x");
    no_url.content = json!({"text": "hi"});
    assert!(matches!(channel(SECRET).send(&no_url).await, SendResult::Permanent { .. }));
}

#[tokio::test]
async fn private_targets_are_refused_unless_allowed() {
    let (url, rx) = receiver(vec![]).await;
    let strict = WebhookChannel::new(WebhookConfig::default(), OutboundHttp::new(HttpSettings::default()).unwrap());
    let result = strict.send(&message(&url)).await;
    assert!(matches!(&result, SendResult::Permanent { reason } if reason.contains("loopback")), "{result:?}");
    assert_eq!(rx.lock().unwrap().calls, 0);
}
