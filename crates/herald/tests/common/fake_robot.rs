//! A fake DingTalk group robot for herald's own tests: `/robot/send` checks what DingTalk
//! checks (the access_token, a signature recomputed with the robot's secret from a timestamp
//! within an hour of the test clock, a text message with content) and answers DingTalk's
//! documented bodies (`errcode` 0, 300001, 310000), keeping each accepted message's text.

use axum::Json;
use axum::extract::{Query, State};
use axum::routing::post;
use base64::Engine;
use herald_core::{Clock, TestClock};
use herald_testkit::fake::{FakeServer, Faults, Shared, lock};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

pub const ROBOT_TOKEN: &str = "ops-robot-token-0123456789";
pub const ROBOT_SECRET: &str = "SECops-robot-signing-secret";

pub struct FakeRobot {
    clock: Arc<TestClock>,
    /// The text of each message accepted, in order.
    pub texts: Vec<String>,
    /// Requests refused (a wrong token or signature).
    pub refused: usize,
    pub faults: Faults<Value>,
}

impl herald_testkit::fake::FakeState for FakeRobot {
    type Fault = Value;
    fn faults(&mut self) -> &mut Faults<Value> {
        &mut self.faults
    }
    fn expire_tokens(&mut self) {}
}

impl FakeRobot {
    pub async fn start(clock: Arc<TestClock>) -> FakeServer<FakeRobot> {
        let state = FakeRobot { clock, texts: Vec::new(), refused: 0, faults: Faults::default() };
        FakeServer::start(state, |shared| axum::Router::new().route("/robot/send", post(send)).with_state(shared)).await
    }
}

fn sign(secret: &str, timestamp: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("{timestamp}\n{secret}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

async fn send(
    State(fake): State<Shared<FakeRobot>>,
    Query(q): Query<HashMap<String, String>>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let mut fake = lock(&fake);
    if let Some(answer) = fake.faults.take_next() {
        return Json(answer);
    }
    if q.get("access_token").map(String::as_str) != Some(ROBOT_TOKEN) {
        fake.refused += 1;
        return Json(json!({"errcode": 300001, "errmsg": "token is not exist"}));
    }
    let now = fake.clock.now().timestamp_millis();
    let fresh = q.get("timestamp").and_then(|t| t.parse::<i64>().ok()).is_some_and(|t| (now - t).abs() <= 3_600_000);
    let signed = q.get("timestamp").zip(q.get("sign")).is_some_and(|(t, s)| *s == sign(ROBOT_SECRET, t));
    if !fresh || !signed {
        fake.refused += 1;
        return Json(json!({"errcode": 310000, "errmsg": "sign not match"}));
    }
    match (body["msgtype"].as_str(), body["text"]["content"].as_str()) {
        (Some("text"), Some(text)) if !text.is_empty() => {
            fake.texts.push(text.to_string());
            Json(json!({"errcode": 0, "errmsg": "ok"}))
        }
        _ => {
            fake.refused += 1;
            Json(json!({"errcode": 400105, "errmsg": "不支持的消息类型"}))
        }
    }
}
