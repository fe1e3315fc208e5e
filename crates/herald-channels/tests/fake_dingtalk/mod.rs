//! A fake DingTalk oapi server for the robot and work-notice tests. It checks what DingTalk
//! checks — the robot's access_token, a signature recomputed with the robot's secret and a
//! timestamp within an hour, the keyword rule; the app's key and secret, unknown and expired
//! access tokens, agent_id, receivers and message shape — and answers with DingTalk's
//! documented success and error bodies.

#![allow(dead_code)]

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use herald_channels::http::{HttpSettings, OutboundHttp};
use herald_channels::tokens::Tokens;
use herald_channels::{BuildContext, ChannelAccount, OutgoingMessage};
use herald_core::{ChannelKind, MessageId, TestClock};
use herald_testkit::fake::{FakeServer, Faults, Shared, lock};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

pub const ROBOT_TOKEN: &str = "robot-access-token-0123456789";
pub const ROBOT_SECRET: &str = "SECrobot-signing-secret-abcdef";
pub const APP_KEY: &str = "dingappkey123";
pub const APP_SECRET: &str = "app-secret-value-987654321";
pub const AGENT_ID: i64 = 2233445566;

/// What the fake knows and what it has seen.
#[derive(Default)]
pub struct FakeState {
    pub robot_secret: Option<String>,
    pub robot_keyword: Option<String>,
    /// Robot bodies accepted, in order.
    pub robot_posts: Vec<Value>,
    /// Every request to /robot/send, accepted or not.
    pub robot_requests: usize,
    /// Every /gettoken request.
    pub gettoken_calls: usize,
    pub valid_tokens: HashSet<String>,
    pub expired_tokens: HashSet<String>,
    /// Work-notice bodies accepted, with the token each came with.
    pub notices: Vec<(String, Value)>,
    /// Every request to asyncsend_v2, accepted or not.
    pub notice_requests: usize,
    /// The task ids recalled, in order.
    pub recalls: Vec<i64>,
    /// `send_result` of a task, by task id, as the test sets it; a task without one is still
    /// sending (its receiver in no list yet).
    pub send_results: HashMap<i64, Value>,
    /// The task ids getsendresult was asked about with a good token, in order.
    pub result_queries: Vec<i64>,
    /// Answers (HTTP status, body) to give the next send requests instead of handling them.
    pub fail_sends: Faults<(u16, Value)>,
    /// The same for /gettoken.
    pub fail_gettoken: Faults<(u16, Value)>,
}

impl herald_testkit::fake::FakeState for FakeState {
    type Fault = (u16, Value);
    fn faults(&mut self) -> &mut Faults<(u16, Value)> {
        &mut self.fail_sends
    }
    /// DingTalk expires every token issued so far (as it does after 7200 s).
    fn expire_tokens(&mut self) {
        let tokens: Vec<String> = self.valid_tokens.drain().collect();
        self.expired_tokens.extend(tokens);
    }
}

/// The fake on the testkit's scaffold: `base_url`, `state()`, `fail_next()` (a send's answer),
/// `expire_tokens()`.
pub struct FakeDingTalk(FakeServer<FakeState>);

impl std::ops::Deref for FakeDingTalk {
    type Target = FakeServer<FakeState>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl FakeDingTalk {
    /// A signing robot (secret `ROBOT_SECRET`) and an app (`APP_KEY`, `APP_SECRET`, `AGENT_ID`).
    pub async fn start() -> Self {
        Self::start_with(Some(ROBOT_SECRET.to_string()), None).await
    }

    pub async fn start_with(robot_secret: Option<String>, robot_keyword: Option<String>) -> Self {
        let state = FakeState { robot_secret, robot_keyword, ..FakeState::default() };
        Self(
            FakeServer::start(state, |state| {
                Router::new()
                    .route("/robot/send", post(robot_send))
                    .route("/gettoken", get(gettoken))
                    .route("/topapi/message/corpconversation/asyncsend_v2", post(asyncsend))
                    .route("/topapi/message/corpconversation/recall", post(recall))
                    .route("/topapi/message/corpconversation/getsendresult", post(getsendresult))
                    .with_state(state)
            })
            .await,
        )
    }
}

fn answer(status: u16, body: Value) -> Response {
    (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response()
}

fn errcode(code: i64, msg: &str) -> Response {
    answer(200, json!({ "errcode": code, "errmsg": msg }))
}

/// The robot signature, computed here independently of the channel.
pub fn robot_sign(secret: &str, timestamp_ms: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp_ms}\n{secret}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// `msg` must be one of the documented shapes, all its required fields set: text, markdown,
/// link (robot: picUrl optional; work notice: required), and the action card as each API spells it
/// (`actionCard` with `text`/`singleTitle`/`singleURL` for the robot, `action_card` with
/// `markdown`/`single_title`/`single_url` for work notices).
fn message_is_well_formed(msg: &Value, sender: Sender) -> bool {
    let has = |part: &Value, fields: &[&str]| fields.iter().all(|f| part[*f].as_str().is_some_and(|s| !s.is_empty()));
    match (msg.get("msgtype").and_then(Value::as_str), sender) {
        (Some("text"), _) => has(&msg["text"], &["content"]),
        (Some("markdown"), _) => has(&msg["markdown"], &["title", "text"]),
        (Some("link"), Sender::Robot) => has(&msg["link"], &["title", "text", "messageUrl"]),
        (Some("link"), Sender::WorkNotice) => has(&msg["link"], &["title", "text", "messageUrl", "picUrl"]),
        (Some("actionCard"), Sender::Robot) => has(&msg["actionCard"], &["title", "text", "singleTitle", "singleURL"]),
        (Some("action_card"), Sender::WorkNotice) => {
            has(&msg["action_card"], &["title", "markdown", "single_title", "single_url"])
        }
        _ => false,
    }
}

#[derive(Clone, Copy)]
enum Sender {
    Robot,
    WorkNotice,
}

/// The words a robot's keyword check reads: the text of whichever shape the message has.
fn message_text(msg: &Value) -> String {
    let parts = [&msg["text"]["content"], &msg["markdown"]["text"], &msg["link"]["text"], &msg["actionCard"]["text"]];
    parts.iter().filter_map(|v| v.as_str()).collect::<Vec<_>>().join("\n")
}

async fn robot_send(
    State(state): State<Shared<FakeState>>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let mut state = lock(&state);
    state.robot_requests += 1;
    if let Some((status, body)) = state.fail_sends.take_next() {
        return answer(status, body);
    }
    if query.get("access_token").map(String::as_str) != Some(ROBOT_TOKEN) {
        return errcode(300001, "token is not exist");
    }
    if let Some(secret) = &state.robot_secret {
        let (Some(timestamp), Some(sign)) = (query.get("timestamp"), query.get("sign")) else {
            return errcode(310000, "sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]");
        };
        let now = chrono::Utc::now().timestamp_millis();
        match timestamp.parse::<i64>() {
            Ok(ts) if (now - ts).abs() <= 3_600_000 => {}
            _ => return errcode(310000, "invalid timestamp"),
        }
        if *sign != robot_sign(secret, timestamp) {
            return errcode(310000, "sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]");
        }
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return errcode(40035, "缺少参数 json");
    };
    if !message_is_well_formed(&body, Sender::Robot) {
        return errcode(40035, "缺少参数 json");
    }
    if let Some(keyword) = &state.robot_keyword
        && !message_text(&body).contains(keyword.as_str())
    {
        return errcode(
            310000,
            "keywords not in content, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]",
        );
    }
    state.robot_posts.push(body);
    errcode(0, "ok")
}

async fn gettoken(State(state): State<Shared<FakeState>>, Query(query): Query<HashMap<String, String>>) -> Response {
    let mut state = lock(&state);
    state.gettoken_calls += 1;
    if let Some((status, body)) = state.fail_gettoken.take_next() {
        return answer(status, body);
    }
    if query.get("appkey").map(String::as_str) != Some(APP_KEY)
        || query.get("appsecret").map(String::as_str) != Some(APP_SECRET)
    {
        return errcode(40089, "不合法的corpid或corpsecret或者不合法的appkey或appsecret");
    }
    let token = format!("app-token-{}", state.gettoken_calls);
    state.valid_tokens.insert(token.clone());
    answer(200, json!({ "errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200 }))
}

async fn asyncsend(
    State(state): State<Shared<FakeState>>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let mut state = lock(&state);
    state.notice_requests += 1;
    if let Some((status, body)) = state.fail_sends.take_next() {
        return answer(status, body);
    }
    let token = match app_token(&state, &query) {
        Ok(token) => token,
        Err((code, message)) => return errcode(code, message),
    };
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return errcode(40035, "缺少参数 agent_id");
    };
    if body.get("agent_id").and_then(Value::as_i64) != Some(AGENT_ID) {
        return errcode(40056, "不合法的agentid");
    }
    let has_users = body.get("userid_list").and_then(Value::as_str).is_some_and(|u| !u.is_empty());
    let to_all = body.get("to_all_user").and_then(Value::as_bool) == Some(true);
    if !has_users && !to_all {
        return errcode(40035, "缺少参数 userid_list");
    }
    if !message_is_well_formed(&body["msg"], Sender::WorkNotice) {
        return errcode(40035, "缺少参数 msg");
    }
    state.notices.push((token, body));
    let task_id = task_id(state.notices.len());
    answer(200, json!({ "errcode": 0, "errmsg": "ok", "task_id": task_id, "request_id": "4jzllmte0wau" }))
}

/// The app access token a request came with, or DingTalk's answer when it is missing, expired
/// or unknown.
fn app_token(state: &FakeState, query: &HashMap<String, String>) -> Result<String, (i64, &'static str)> {
    let Some(token) = query.get("access_token") else {
        return Err((41001, "缺少access_token参数"));
    };
    if state.expired_tokens.contains(token) {
        return Err((42001, "access_token超时"));
    }
    if !state.valid_tokens.contains(token) {
        return Err((40014, "不合法的access_token"));
    }
    Ok(token.clone())
}

/// The task id of the `n`th notice accepted (from 1).
pub fn task_id(n: usize) -> i64 {
    256271667525 + n as i64
}

/// Recalls a work notice by the task id its send answered, with the app's token and agent_id,
/// once.
async fn recall(
    State(state): State<Shared<FakeState>>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let mut state = lock(&state);
    let body = match app_call(&state, &query, &body) {
        Ok(body) => body,
        Err((code, message)) => return errcode(code, message),
    };
    let given = (1..=state.notices.len()).map(task_id).collect::<Vec<_>>();
    match body.get("msg_task_id").and_then(Value::as_i64) {
        Some(id) if given.contains(&id) && !state.recalls.contains(&id) => {
            state.recalls.push(id);
            errcode(0, "ok")
        }
        _ => errcode(40035, "不合法的参数 msg_task_id"),
    }
}

/// An app call's body, after the checks DingTalk makes of every one: the app's token in the
/// query and its agent_id in the body.
fn app_call(state: &FakeState, query: &HashMap<String, String>, body: &[u8]) -> Result<Value, (i64, &'static str)> {
    app_token(state, query)?;
    let body: Value = serde_json::from_slice(body).unwrap_or_default();
    if body.get("agent_id").and_then(Value::as_i64) != Some(AGENT_ID) {
        return Err((40056, "不合法的agentid"));
    }
    Ok(body)
}

/// What became of a work notice (getsendresult), with the app's token and agent_id, for a task
/// id a send answered: `send_result` with every list DingTalk documents. A scripted send fault
/// answers instead.
async fn getsendresult(
    State(state): State<Shared<FakeState>>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let mut state = lock(&state);
    if let Some((status, body)) = state.fail_sends.take_next() {
        return answer(status, body);
    }
    let body = match app_call(&state, &query, &body) {
        Ok(body) => body,
        Err((code, message)) => return errcode(code, message),
    };
    let given = (1..=state.notices.len()).map(task_id).collect::<Vec<_>>();
    let Some(id) = body.get("task_id").and_then(Value::as_i64).filter(|id| given.contains(id)) else {
        return errcode(40035, "不合法的参数 task_id");
    };
    state.result_queries.push(id);
    let mut result = json!({"invalid_user_id_list": [], "forbidden_user_id_list": [], "failed_user_id_list": [],
        "read_user_id_list": [], "unread_user_id_list": [], "invalid_dept_id_list": [], "forbidden_list": []});
    if let Some(Value::Object(set)) = state.send_results.get(&id) {
        for (list, ids) in set {
            result[list] = ids.clone();
        }
    }
    answer(200, json!({"errcode": 0, "errmsg": "ok", "send_result": result, "request_id": "4jzllmte0wau"}))
}

/// The context a node gives a channel, with private addresses allowed for the fake.
pub fn context(clock: Arc<TestClock>) -> BuildContext {
    let http = OutboundHttp::new(HttpSettings { allow_private_networks: true, ..Default::default() }).unwrap();
    BuildContext { http, tokens: Tokens::in_memory(clock.clone()), clock }
}

pub fn clock() -> Arc<TestClock> {
    Arc::new(TestClock::new(chrono::Utc::now()))
}

pub fn account(channel: ChannelKind, config: Value) -> ChannelAccount {
    ChannelAccount { id: 7, name: "test account".into(), channel, config }
}

pub fn message(receiver: &str, content: Value) -> OutgoingMessage {
    OutgoingMessage {
        message_id: MessageId(format!("m-{receiver}")),
        template_id: 1,
        run_id: None,
        receiver: receiver.to_string(),
        msg_type: 10,
        content,
    }
}
