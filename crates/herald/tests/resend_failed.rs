//! Resend to failed, counted at the receiver: a run whose receiver refuses one row in ten ends
//! with those failed; its resend sends to exactly those receivers once more (with their rows'
//! variables, past a dedup rule that counted their first attempt) and to no one else; a run is
//! resent once, and what cannot be resent says why.

mod common;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{TimeZone, Utc};
use common::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A webhook receiver that records each request's receiver and text, and refuses (400)
/// receivers starting with `bad-` while `refusing` is set.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<(String, String)>>>,
    refusing: Arc<AtomicBool>,
}

impl Receiver {
    async fn start() -> (Self, String) {
        let receiver = Self::default();
        receiver.refusing.store(true, Ordering::SeqCst);
        let app = axum::Router::new().route("/hook", axum::routing::post(take)).with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (receiver, url)
    }

    /// Requests per receiver.
    fn per_receiver(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for (who, _) in self.got.lock().unwrap().iter() {
            *counts.entry(who.clone()).or_default() += 1;
        }
        counts
    }

    fn texts_of(&self, who: &str) -> Vec<String> {
        self.got.lock().unwrap().iter().filter(|(w, _)| w == who).map(|(_, t)| t.clone()).collect()
    }
}

async fn take(State(r): State<Receiver>, Json(body): Json<Value>) -> StatusCode {
    let who = body["receiver"].as_str().unwrap_or_default().to_string();
    let text = body["content"]["text"].as_str().unwrap_or_default().to_string();
    let refused = who.starts_with("bad-") && r.refusing.load(Ordering::SeqCst);
    r.got.lock().unwrap().push((who, text));
    if refused { StatusCode::BAD_REQUEST } else { StatusCode::OK }
}

/// Rows of the crowd; `scripts/resend-soak.sh` sets `HERALD_RESEND_ROWS` for a large one.
fn rows() -> usize {
    std::env::var("HERALD_RESEND_ROWS").ok().and_then(|r| r.parse().ok()).unwrap_or(2_000)
}

/// Every tenth row's receiver is `bad-`; every row has a city with a comma and a quote, which
/// the copied crowd must keep.
fn crowd() -> Vec<u8> {
    let mut csv = String::from("name,userId,city\n");
    for n in 0..rows() {
        let who = if n % 10 == 7 { format!("bad-{n}") } else { format!("ok-{n}") };
        csv.push_str(&format!("n{n},{who},\"Paris, \"\"{n}\"\"\"\n"));
    }
    csv.into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resend_reaches_exactly_the_failed_receivers_once_more() {
    let dir = tempfile::tempdir().unwrap();
    let node = TestNode::start(&test_config(dir.path()), Utc.with_ymd_and_hms(2026, 6, 1, 6, 30, 0).unwrap()).await;
    let (receiver, url) = Receiver::start().await;
    let crowd = node.crowd(crowd()).await;
    let template = node
        .template(json!({"name": "orders", "channel": "webhook", "crowdId": crowd,
                         "content": {"url": url, "text": "hello {$name} in {$city}"},
                         "schedule": {"cron": "0 0 12 * * ?", "timezone": "Asia/Shanghai"},
                         "dedup": {"content": {"limit": 1, "windowSecs": 86400},
                                   "frequency": {"limitPerDay": 1}}}))
        .await;
    let (_, body) = node.post(&format!("/api/templates/{template}/run"), &json!({})).await;
    let run = body["runId"].as_i64().unwrap();
    let (rows, failed) = (rows(), rows() as i64 / 10);
    let first = node.wait_run(run, Duration::from_secs(rows as u64), |r| r["status"] == "completed").await;
    assert_eq!((first["delivered"].as_i64(), first["failed"].as_i64()), (Some(rows as i64 - failed), Some(failed)));
    assert_eq!(receiver.got.lock().unwrap().len(), rows, "one attempt a row (400 is final)");

    receiver.refusing.store(false, Ordering::SeqCst);
    let asked = std::time::Instant::now();
    let (status, resend) = node.post(&format!("/api/runs/{run}/resend-failed"), &json!({})).await;
    eprintln!("resend of {failed} failed rows of {rows} answered in {:.2} s", asked.elapsed().as_secs_f64());
    assert_eq!(status, 201, "{resend}");
    assert_eq!((resend["resendOf"].as_i64(), resend["rowsTotal"].as_i64()), (Some(run), Some(failed)), "{resend}");
    assert_eq!(resend["templateId"].as_i64(), Some(template));
    let child = resend["id"].as_i64().unwrap();
    let done = node.wait_run(child, Duration::from_secs(rows as u64), |r| r["status"] == "completed").await;
    assert_eq!(
        (done["delivered"].as_i64(), done["failed"].as_i64(), done["dropped"].as_i64()),
        (Some(failed), Some(0), Some(0)),
        "dedup does not count a resent message again: {done}"
    );

    // At the receiver: every bad- receiver twice (refused, then accepted), every other once.
    let counts = receiver.per_receiver();
    assert_eq!(counts.len(), rows);
    for (who, count) in &counts {
        let expected = if who.starts_with("bad-") { 2 } else { 1 };
        assert_eq!(*count, expected, "{who} got {count} requests");
    }
    assert_eq!(receiver.texts_of("bad-17"), vec!["hello n17 in Paris, \"17\"".to_string(); 2], "same variables");

    // The new crowd is listed under the run's name, with the failed rows only.
    let (_, crowds) = node.get("/api/crowds?q=failed%20of%20run").await;
    let listed = &crowds["items"][0];
    assert_eq!(
        (listed["originalName"].as_str(), listed["rows"].as_i64()),
        (Some(&*format!("failed of run {run}")), Some(failed))
    );
    assert_eq!(done["crowdId"], listed["id"]);

    // A run is resent once; the resend has nothing to resend; an unknown run is 404.
    let (status, again) = node.post(&format!("/api/runs/{run}/resend-failed"), &json!({})).await;
    assert_eq!(status, 409, "{again}");
    assert!(again["msg"].as_str().unwrap().contains(&format!("resent already as run {child}")), "{again}");
    let (status, nothing) = node.post(&format!("/api/runs/{child}/resend-failed"), &json!({})).await;
    assert!(status == 409 && nothing["msg"].as_str().unwrap().contains("no failed messages"), "{nothing}");
    assert_eq!(node.post("/api/runs/999999/resend-failed", &json!({})).await.0, 404);
    assert_eq!(receiver.got.lock().unwrap().len(), rows + failed as usize, "the refusals sent nothing");
    node.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_that_has_not_ended_is_not_resent() {
    let dir = tempfile::tempdir().unwrap();
    let node = TestNode::start(&test_config(dir.path()), Utc::now()).await;
    let slow = herald_testkit::receiver::RecordingReceiver::start().await;
    slow.set_delay(Duration::from_secs(5));
    let crowd = node.crowd(crowd_csv(50)).await;
    let template = node.template(webhook_template("slow", &crowd, &format!("{}/hook", slow.url))).await;
    let (_, body) = node.post(&format!("/api/templates/{template}/run"), &json!({})).await;
    let run = body["runId"].as_i64().unwrap();
    let (status, refused) = node.post(&format!("/api/runs/{run}/resend-failed"), &json!({})).await;
    let message = refused["msg"].as_str().unwrap_or_default();
    assert!(status == 409 && message.contains(&format!("run {run} has not ended (")), "{status} {refused}");
    node.post(&format!("/api/runs/{run}/cancel"), &json!({})).await;
    node.node.shutdown().await;
}
