//! A fake WeCom API for the robot and app-message tests: it checks what WeCom checks (the robot
//! key, the corp id and secret, access tokens, agentid, msgtype and content, known userids)
//! and answers with WeCom's documented `{errcode, errmsg}` bodies.
#![allow(dead_code)]

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{TimeZone, Utc};
use herald_channels::account::{BuildContext, ChannelAccount};
use herald_channels::http::{HttpSettings, OutboundHttp};
use herald_channels::tokens::Tokens;
use herald_channels::{BuildError, Built, OutgoingMessage};
use herald_core::{ChannelKind, MessageId, TestClock};
use herald_testkit::fake::{FakeServer, Faults, Shared, lock};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

pub const ROBOT_KEY: &str = "693a91f6-7f1c-4bc4-97a0-0ec2f1fa5aaa";
pub const CORP_ID: &str = "ww5f2a7c0e1d3b4a69";
pub const CORP_SECRET: &str = "corp-secret-9c1f0e7a5b3d";
pub const AGENT_ID: i64 = 1000002;

/// What the fake answers instead of its usual reply, once.
pub enum Fault {
    Errcode(i64, &'static str),
    Status(u16),
    /// errcode 0, but the receiver listed in `invaliduser`.
    ListedInvalid,
    Delay(Duration),
}

#[derive(Default)]
pub struct FakeState {
    pub gettoken_calls: usize,
    pub issued: Vec<String>,
    pub expired: HashSet<String>,
    /// Refuse every token, even fresh ones.
    pub refuse_all_tokens: bool,
    /// Sends refused for their access token.
    pub token_refusals: usize,
    /// Every request to a send endpoint, accepted or not.
    pub send_requests: usize,
    /// Message bodies WeCom accepted.
    pub accepted: Vec<Value>,
    pub faults: Faults<Fault>,
    pub users: HashSet<String>,
}

impl herald_testkit::fake::FakeState for FakeState {
    type Fault = Fault;
    fn faults(&mut self) -> &mut Faults<Fault> {
        &mut self.faults
    }
    /// Every token issued so far now counts as expired (errcode 42001).
    fn expire_tokens(&mut self) {
        let issued = self.issued.clone();
        self.expired.extend(issued);
    }
}

/// The fake on the testkit's scaffold: `base_url`, `state()`, `fail_next()`, `expire_tokens()`.
pub struct FakeWeCom(FakeServer<FakeState>);

impl std::ops::Deref for FakeWeCom {
    type Target = FakeServer<FakeState>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl FakeWeCom {
    pub async fn start() -> Self {
        let users = ["zhangsan", "lisi", "wangwu"].into_iter().map(String::from).collect();
        let state = FakeState { users, ..FakeState::default() };
        Self(
            FakeServer::start(state, |state| {
                Router::new()
                    .route("/cgi-bin/gettoken", get(gettoken))
                    .route("/cgi-bin/message/send", post(message_send))
                    .route("/cgi-bin/webhook/send", post(webhook_send))
                    .with_state(state)
            })
            .await,
        )
    }
}

fn answer(body: Value) -> Response {
    Json(body).into_response()
}

fn errcode(code: i64, msg: &str) -> Response {
    answer(json!({"errcode": code, "errmsg": msg}))
}

async fn gettoken(State(state): State<Shared<FakeState>>, Query(q): Query<HashMap<String, String>>) -> Response {
    let mut state = lock(&state);
    state.gettoken_calls += 1;
    match (q.get("corpid"), q.get("corpsecret")) {
        (None, _) => errcode(41002, "corpid missing"),
        (Some(corp), _) if corp != CORP_ID => errcode(40013, "invalid corpid"),
        (_, None) => errcode(41004, "corpsecret missing"),
        (_, Some(secret)) if secret != CORP_SECRET => errcode(40001, "invalid credential"),
        _ => {
            let token = format!("ACCESS_TOKEN_{}_{}", state.issued.len() + 1, uuid::Uuid::new_v4().simple());
            state.issued.push(token.clone());
            answer(json!({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}))
        }
    }
}

/// Applies a queued fault, if any; `None` means answer normally.
async fn fault(state: &Shared<FakeState>, touser: &str) -> Option<Response> {
    let fault = lock(state).faults.take_next()?;
    match fault {
        Fault::Errcode(code, msg) => Some(errcode(code, msg)),
        Fault::Status(status) => Some((StatusCode::from_u16(status).unwrap(), "upstream unavailable").into_response()),
        Fault::ListedInvalid => {
            Some(answer(json!({"errcode": 0, "errmsg": "ok", "invaliduser": touser, "msgid": "m0"})))
        }
        Fault::Delay(by) => {
            tokio::time::sleep(by).await;
            None
        }
    }
}

/// Checks `msgtype` and its content the way WeCom does.
fn check_message(body: &Value) -> Result<(), (i64, &'static str)> {
    let msgtype = body.get("msgtype").and_then(Value::as_str).unwrap_or_default();
    if !matches!(msgtype, "text" | "markdown") {
        return Err((40008, "invalid message type"));
    }
    let content = body.get(msgtype).and_then(|m| m.get("content")).and_then(Value::as_str).unwrap_or_default();
    if content.is_empty() {
        return Err((44004, "empty content"));
    }
    for list in ["mentioned_list", "mentioned_mobile_list"] {
        if let Some(v) = body[msgtype].get(list)
            && !v.as_array().is_some_and(|a| a.iter().all(Value::is_string))
        {
            return Err((40058, "invalid parameter"));
        }
    }
    Ok(())
}

async fn message_send(
    State(state): State<Shared<FakeState>>,
    Query(q): Query<HashMap<String, String>>,
    raw: Bytes,
) -> Response {
    {
        let mut s = lock(&state);
        s.send_requests += 1;
        let token = match q.get("access_token") {
            None => return errcode(41001, "access_token missing"),
            Some(token) => token,
        };
        if s.refuse_all_tokens || !s.issued.contains(token) {
            s.token_refusals += 1;
            return errcode(40014, "invalid access_token");
        }
        if s.expired.contains(token) {
            s.token_refusals += 1;
            return errcode(42001, "access_token expired");
        }
    }
    let Ok(body) = serde_json::from_slice::<Value>(&raw) else {
        return errcode(47001, "data format error");
    };
    let touser = body.get("touser").and_then(Value::as_str).unwrap_or_default().to_string();
    if let Some(response) = fault(&state, &touser).await {
        return response;
    }
    if body.get("agentid").and_then(Value::as_i64) != Some(AGENT_ID) {
        return errcode(40056, "invalid agentid");
    }
    if let Err((code, msg)) = check_message(&body) {
        return errcode(code, msg);
    }
    let mut s = lock(&state);
    let invalid: Vec<&str> = touser.split('|').filter(|u| !s.users.contains(*u)).collect();
    if invalid.len() == touser.split('|').count() {
        return answer(json!({
            "errcode": 81013, "errmsg": "user & party & tag all invalid", "invaliduser": invalid.join("|"),
        }));
    }
    let invalid = invalid.join("|");
    s.accepted.push(body);
    let msgid = format!("msg-{}", s.accepted.len());
    answer(json!({
        "errcode": 0, "errmsg": "ok", "invaliduser": invalid, "invalidparty": "", "invalidtag": "",
        "unlicenseduser": "", "msgid": msgid, "response_code": "rc",
    }))
}

async fn webhook_send(
    State(state): State<Shared<FakeState>>,
    Query(q): Query<HashMap<String, String>>,
    raw: Bytes,
) -> Response {
    {
        let mut s = lock(&state);
        s.send_requests += 1;
        if q.get("key").map(String::as_str) != Some(ROBOT_KEY) {
            return errcode(93000, "invalid webhook url, hint: [1714550400_1], from ip: 127.0.0.1");
        }
    }
    if let Some(response) = fault(&state, "").await {
        return response;
    }
    let Ok(body) = serde_json::from_slice::<Value>(&raw) else {
        return errcode(47001, "data format error");
    };
    if let Err((code, msg)) = check_message(&body) {
        return errcode(code, msg);
    }
    lock(&state).accepted.push(body);
    errcode(0, "ok")
}

// ---- harness -------------------------------------------------------------------------------

pub fn clock() -> Arc<TestClock> {
    Arc::new(TestClock::new(Utc.with_ymd_and_hms(2024, 5, 1, 8, 0, 0).unwrap()))
}

pub fn context(clock: &Arc<TestClock>) -> BuildContext {
    context_with_timeout(clock, HttpSettings::default().timeout_ms)
}

pub fn context_with_timeout(clock: &Arc<TestClock>, timeout_ms: u64) -> BuildContext {
    let http =
        OutboundHttp::new(HttpSettings { allow_private_networks: true, timeout_ms, ..Default::default() }).unwrap();
    BuildContext { http, tokens: Tokens::in_memory(clock.clone()), clock: clock.clone() }
}

pub fn account(channel: ChannelKind, config: Value) -> ChannelAccount {
    ChannelAccount { id: 7, name: "wecom test".into(), channel, config }
}

pub fn build(channel: ChannelKind, config: Value, ctx: &BuildContext) -> Result<Built, BuildError> {
    herald_channels::build(&account(channel, config), ctx)
}

pub fn message(id: &str, receiver: &str, content: Value) -> OutgoingMessage {
    OutgoingMessage {
        message_id: MessageId(id.into()),
        template_id: 3,
        run_id: Some(11),
        receiver: receiver.into(),
        msg_type: 10,
        content,
    }
}
