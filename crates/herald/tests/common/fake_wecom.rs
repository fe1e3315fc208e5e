//! A fake WeCom for herald's own tests: `gettoken` checks the corp secret, `message/send`
//! checks the access token (42001 when it was expired by the test) and answers a msgid per
//! message, `message/recall` takes back a msgid it gave (once), all as WeCom documents.

use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use herald_testkit::fake::{FakeServer, Faults, Shared, lock};
use serde_json::{Value, json};
use std::collections::HashMap;
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
    /// Bodies to answer the next sends with instead of accepting them.
    pub faults: Faults<Value>,
    /// The msgids recalled, in order.
    pub recalls: Vec<String>,
}

impl herald_testkit::fake::FakeState for FakeWeCom {
    type Fault = Value;
    fn faults(&mut self) -> &mut Faults<Value> {
        &mut self.faults
    }
    fn expire_tokens(&mut self) {
        self.current_token = None;
    }
}

async fn gettoken(State(fake): State<Shared<FakeWeCom>>, Query(q): Query<HashMap<String, String>>) -> Json<Value> {
    let mut fake = lock(&fake);
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
    State(fake): State<Shared<FakeWeCom>>,
    Query(q): Query<HashMap<String, String>>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let mut fake = lock(&fake);
    if let Some(answer) = fake.faults.take_next() {
        return Json(answer);
    }
    if q.get("access_token") != fake.current_token.as_ref() {
        return Json(json!({"errcode": 42001, "errmsg": "access_token expired"}));
    }
    let to = body["touser"].as_str().unwrap_or_default().to_string();
    let content = body["text"]["content"].as_str().unwrap_or_default().to_string();
    fake.messages.push((to, content, Instant::now()));
    let msgid = format!("msg-{}", fake.messages.len());
    Json(json!({"errcode": 0, "errmsg": "ok", "invaliduser": "", "msgid": msgid}))
}

/// `message/recall`: a msgid this fake gave, not recalled before.
async fn recall(
    State(fake): State<Shared<FakeWeCom>>,
    Query(q): Query<HashMap<String, String>>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let mut fake = lock(&fake);
    if q.get("access_token") != fake.current_token.as_ref() {
        return Json(json!({"errcode": 42001, "errmsg": "access_token expired"}));
    }
    let msgid = body["msgid"].as_str().unwrap_or_default().to_string();
    let given = msgid
        .strip_prefix("msg-")
        .and_then(|n| n.parse::<usize>().ok())
        .is_some_and(|n| n >= 1 && n <= fake.messages.len());
    if !given || fake.recalls.contains(&msgid) {
        return Json(json!({"errcode": 40096, "errmsg": "invalid msgid"}));
    }
    fake.recalls.push(msgid);
    Json(json!({"errcode": 0, "errmsg": "ok"}))
}

/// Starts the fake on the testkit's scaffold; returns its base URL and the fake.
pub async fn start(secret: &str) -> (String, FakeServer<FakeWeCom>) {
    let state = FakeWeCom { secret: secret.into(), ..Default::default() };
    let fake = FakeServer::start(state, |state| {
        Router::new()
            .route("/cgi-bin/gettoken", get(gettoken))
            .route("/cgi-bin/message/send", post(send))
            .route("/cgi-bin/message/recall", post(recall))
            .with_state(state)
    })
    .await;
    (fake.base_url.clone(), fake)
}
