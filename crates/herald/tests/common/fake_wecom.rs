//! A fake WeCom for herald's own tests: `gettoken` checks the corp secret, `message/send`
//! checks the access token (42001 when it was expired by the test), both as WeCom documents.

use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

pub const CORP_ID: &str = "ww-test-corp";

#[derive(Default)]
pub struct FakeWeCom {
    pub secret: String,
    pub token_calls: usize,
    pub fail_gettoken: bool,
    pub current_token: Option<String>,
    /// (receiver, content, when received)
    pub messages: Vec<(String, String, Instant)>,
}

pub type Shared = Arc<Mutex<FakeWeCom>>;

async fn gettoken(State(fake): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Json<Value> {
    let mut fake = fake.lock().unwrap();
    if fake.fail_gettoken {
        return Json(json!({"errcode": -1, "errmsg": "system busy"}));
    }
    if q.get("corpid").map(String::as_str) != Some(CORP_ID) || q.get("corpsecret") != Some(&fake.secret) {
        return Json(json!({"errcode": 40001, "errmsg": "invalid credential"}));
    }
    fake.token_calls += 1;
    let token = format!("tok-{}", fake.token_calls);
    fake.current_token = Some(token.clone());
    Json(json!({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}))
}

async fn send(
    State(fake): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let mut fake = fake.lock().unwrap();
    if q.get("access_token") != fake.current_token.as_ref() {
        return Json(json!({"errcode": 42001, "errmsg": "access_token expired"}));
    }
    let to = body["touser"].as_str().unwrap_or_default().to_string();
    let content = body["text"]["content"].as_str().unwrap_or_default().to_string();
    fake.messages.push((to, content, Instant::now()));
    Json(json!({"errcode": 0, "errmsg": "ok", "invaliduser": "", "msgid": "m1"}))
}

/// Starts the fake; returns its base URL.
pub async fn start(secret: &str) -> (String, Shared) {
    let state: Shared = Arc::new(Mutex::new(FakeWeCom { secret: secret.into(), ..Default::default() }));
    let app = Router::new()
        .route("/cgi-bin/gettoken", get(gettoken))
        .route("/cgi-bin/message/send", post(send))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, state)
}
