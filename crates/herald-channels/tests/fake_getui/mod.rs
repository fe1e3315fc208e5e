//! A fake Getui REST API v2 for the push tests: it recomputes the auth sign, issues tokens
//! that expire a day after the signed timestamp, checks the `token` header and the request
//! fields Getui requires, and answers with Getui's documented `{code, msg, data}` bodies
//! (10001 with HTTP 401 for a bad token, 20001 with HTTP 400 for a bad parameter).
#![allow(dead_code)]

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::{TimeZone, Utc};
use herald_channels::account::{BuildContext, ChannelAccount};
use herald_channels::http::{HttpSettings, OutboundHttp};
use herald_channels::tokens::Tokens;
use herald_channels::{BuildError, Built, OutgoingMessage};
use herald_core::{ChannelKind, MessageId, TestClock};
use herald_testkit::fake::{FakeServer, Faults, Shared, lock};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

pub const APP_ID: &str = "xXmjbbab3b5F1m7wAYZoG2";
pub const APP_KEY: &str = "BZF4dANEYr8dwLhj6lRfx2";
pub const MASTER_SECRET: &str = "2U8aSmbSRi9BhzJDaR31bA";

/// What the fake answers to the next push call (not auth) instead of its usual reply.
pub enum Fault {
    /// HTTP status and Getui code.
    Code(u16, i64, &'static str),
    Status(u16),
    /// Answer this call normally (to reach a later one).
    Pass,
}

#[derive(Default)]
pub struct FakeState {
    pub auth_calls: usize,
    /// Token to its expiry, in epoch milliseconds.
    pub issued: HashMap<String, i64>,
    pub expired: HashSet<String>,
    pub token_refusals: usize,
    /// Every push call (single, task, list), accepted or not.
    pub push_requests: usize,
    pub singles: Vec<Value>,
    /// taskid to the task's body, in creation order.
    pub tasks: Vec<(String, Value)>,
    pub list_pushes: Vec<Value>,
    pub cids: HashSet<String>,
    pub faults: Faults<Fault>,
}

impl herald_testkit::fake::FakeState for FakeState {
    type Fault = Fault;
    fn faults(&mut self) -> &mut Faults<Fault> {
        &mut self.faults
    }
    /// Every token issued so far is now refused with 10001.
    fn expire_tokens(&mut self) {
        let issued: Vec<String> = self.issued.keys().cloned().collect();
        self.expired.extend(issued);
    }
}

/// A refusal on its way back to the client (boxed: a `Response` is large).
type Refused = Box<Response>;

/// The fake on the testkit's scaffold: `base_url`, `state()`, `fail_next()`, `expire_tokens()`.
pub struct FakeGetui(FakeServer<FakeState>);

impl std::ops::Deref for FakeGetui {
    type Target = FakeServer<FakeState>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl FakeGetui {
    pub async fn start() -> Self {
        let cids = ["cid-a", "cid-b", "cid-c", "cid-d"].into_iter().map(String::from).collect();
        let state = FakeState { cids, ..FakeState::default() };
        Self(
            FakeServer::start(state, |state| {
                Router::new()
                    .route("/v2/{app_id}/auth", post(auth))
                    .route("/v2/{app_id}/push/single/cid", post(push_single))
                    .route("/v2/{app_id}/push/list/message", post(create_task))
                    .route("/v2/{app_id}/push/list/cid", post(push_list))
                    .with_state(state)
            })
            .await,
        )
    }
}

fn code(status: u16, code: i64, msg: &str) -> Response {
    (StatusCode::from_u16(status).unwrap(), Json(json!({"code": code, "msg": msg}))).into_response()
}

fn ok(data: Value) -> Response {
    Json(json!({"code": 0, "msg": "success", "data": data})).into_response()
}

fn invalid(param: &str) -> Response {
    code(400, 20001, &format!("{param} is invalid"))
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

async fn auth(State(state): State<Shared<FakeState>>, Path(app_id): Path<String>, raw: Bytes) -> Response {
    let mut s = lock(&state);
    s.auth_calls += 1;
    if app_id != APP_ID {
        return invalid("appId");
    }
    let Ok(body) = serde_json::from_slice::<Value>(&raw) else {
        return code(200, 1, "failed: body is not json");
    };
    let timestamp = match &body["timestamp"] {
        Value::String(t) => t.clone(),
        Value::Number(n) => n.to_string(),
        _ => return code(400, 20001, "timestamp can not be empty"),
    };
    let Ok(millis) = timestamp.parse::<i64>() else { return invalid("timestamp") };
    if timestamp.len() != 13 {
        return invalid("timestamp");
    }
    if body["appkey"].as_str() != Some(APP_KEY) {
        return invalid("appkey");
    }
    if body["sign"].as_str() != Some(sha256_hex(&format!("{APP_KEY}{timestamp}{MASTER_SECRET}")).as_str()) {
        return invalid("sign");
    }
    let token = sha256_hex(&format!("token-{}-{}", s.auth_calls, uuid::Uuid::new_v4()));
    let expire_time = millis + 86_400_000;
    s.issued.insert(token.clone(), expire_time);
    ok(json!({"expire_time": expire_time.to_string(), "token": token}))
}

/// Checks the app id and the `token` header, then applies a queued fault, if any.
fn admit(s: &mut FakeState, app_id: &str, headers: &HeaderMap) -> Result<(), Refused> {
    s.push_requests += 1;
    if app_id != APP_ID {
        return Err(Box::new(invalid("appId")));
    }
    let token = headers.get("token").and_then(|t| t.to_str().ok()).unwrap_or_default();
    if !s.issued.contains_key(token) || s.expired.contains(token) {
        s.token_refusals += 1;
        return Err(Box::new(code(401, 10001, "token expired or invalid")));
    }
    match s.faults.take_next() {
        Some(Fault::Code(status, c, msg)) => Err(Box::new(code(status, c, msg))),
        Some(Fault::Status(status)) => {
            Err(Box::new((StatusCode::from_u16(status).unwrap(), "gateway error").into_response()))
        }
        Some(Fault::Pass) | None => Ok(()),
    }
}

fn check_request_id(body: &Value) -> Result<(), Refused> {
    match body["request_id"].as_str() {
        Some(id) if (10..=32).contains(&id.len()) => Ok(()),
        Some(_) => Err(Box::new(code(400, 20001, "request_id size over limit"))),
        None => Err(Box::new(code(400, 20001, "request_id can not be empty"))),
    }
}

fn check_notification(body: &Value) -> Result<(), Refused> {
    let notification = &body["push_message"]["notification"];
    for field in ["title", "body", "click_type"] {
        if notification[field].as_str().is_none_or(str::is_empty) {
            return Err(Box::new(code(400, 20001, &format!("notification.{field} can not be empty"))));
        }
    }
    if notification["click_type"] == "url" && notification["url"].as_str().is_none() {
        return Err(Box::new(code(400, 20001, "notification.url can not be empty")));
    }
    Ok(())
}

fn cids(body: &Value, max: usize) -> Result<Vec<String>, Refused> {
    let Some(list) = body["audience"]["cid"].as_array() else {
        return Err(Box::new(code(400, 20001, "audience.cid can not be empty")));
    };
    let cids: Vec<String> = list.iter().filter_map(Value::as_str).map(String::from).collect();
    if cids.is_empty() || cids.len() != list.len() {
        return Err(Box::new(invalid("audience.cid")));
    }
    if cids.len() > max {
        return Err(Box::new(code(400, 20001, "audience.cid size over limit")));
    }
    if cids.iter().collect::<HashSet<_>>().len() != cids.len() {
        return Err(Box::new(code(400, 20001, "contains duplicate cid")));
    }
    Ok(cids)
}

fn parse(raw: &Bytes) -> Result<Value, Refused> {
    serde_json::from_slice(raw).map_err(|_| Box::new(code(200, 1, "failed: body is not json")))
}

async fn push_single(
    State(state): State<Shared<FakeState>>,
    Path(app_id): Path<String>,
    headers: HeaderMap,
    raw: Bytes,
) -> Response {
    let mut s = lock(&state);
    let checked = admit(&mut s, &app_id, &headers)
        .and_then(|()| parse(&raw))
        .and_then(|body| check_request_id(&body).map(|()| body))
        .and_then(|body| check_notification(&body).map(|()| body))
        .and_then(|body| cids(&body, 1).map(|cids| (body, cids)));
    let (body, cids) = match checked {
        Ok(checked) => checked,
        Err(response) => return *response,
    };
    if !s.cids.contains(&cids[0]) {
        return code(400, 20001, "target user is invalid");
    }
    s.singles.push(body);
    let taskid = format!("RASS_0501_{:032x}", s.singles.len());
    ok(json!({ taskid: { cids[0].clone(): "successed_online" } }))
}

async fn create_task(
    State(state): State<Shared<FakeState>>,
    Path(app_id): Path<String>,
    headers: HeaderMap,
    raw: Bytes,
) -> Response {
    let mut s = lock(&state);
    let checked = admit(&mut s, &app_id, &headers)
        .and_then(|()| parse(&raw))
        .and_then(|body| check_request_id(&body).map(|()| body))
        .and_then(|body| check_notification(&body).map(|()| body));
    let body = match checked {
        Ok(body) => body,
        Err(response) => return *response,
    };
    let taskid = format!("RASL_0501_{:032x}", s.tasks.len() + 1);
    s.tasks.push((taskid.clone(), body));
    ok(json!({"taskid": taskid}))
}

async fn push_list(
    State(state): State<Shared<FakeState>>,
    Path(app_id): Path<String>,
    headers: HeaderMap,
    raw: Bytes,
) -> Response {
    let mut s = lock(&state);
    let checked = admit(&mut s, &app_id, &headers)
        .and_then(|()| parse(&raw))
        .and_then(|body| cids(&body, 1000).map(|cids| (body, cids)));
    let (body, cids) = match checked {
        Ok(checked) => checked,
        Err(response) => return *response,
    };
    let Some(taskid) = body["taskid"].as_str().filter(|t| s.tasks.iter().any(|(id, _)| id == t)) else {
        return invalid("taskid");
    };
    if !body["is_async"].is_boolean() && !body["is_async"].is_null() {
        return code(400, 20001, "is_async type error");
    }
    // Unknown cids get no status.
    let statuses: serde_json::Map<String, Value> =
        cids.iter().filter(|c| s.cids.contains(*c)).map(|c| (c.clone(), json!("successed_offline"))).collect();
    let taskid = taskid.to_string();
    s.list_pushes.push(body);
    ok(json!({ taskid: statuses }))
}

// ---- harness -------------------------------------------------------------------------------

pub fn clock() -> Arc<TestClock> {
    Arc::new(TestClock::new(Utc.with_ymd_and_hms(2024, 5, 1, 8, 0, 0).unwrap()))
}

pub fn context(clock: &Arc<TestClock>) -> BuildContext {
    let http = OutboundHttp::new(HttpSettings { allow_private_networks: true, ..Default::default() }).unwrap();
    BuildContext { http, tokens: Tokens::in_memory(clock.clone()), clock: clock.clone() }
}

pub fn account(config: Value) -> ChannelAccount {
    ChannelAccount { id: 9, name: "getui test".into(), channel: ChannelKind::GetuiPush, config }
}

pub fn build(config: Value, ctx: &BuildContext) -> Result<Built, BuildError> {
    herald_channels::build(&account(config), ctx)
}

pub fn message(id: &str, cid: &str, content: Value) -> OutgoingMessage {
    OutgoingMessage {
        message_id: MessageId(id.into()),
        template_id: 5,
        run_id: Some(21),
        receiver: cid.into(),
        msg_type: 20,
        content,
    }
}
