//! A fake Feishu Open Platform for the app bot: it issues tenant access tokens for one app
//! (`POST /open-apis/auth/v3/tenant_access_token/internal`), and checks what Feishu checks on
//! `POST /open-apis/im/v1/messages` (the bearer token, `receive_id_type`, a known receiver in
//! the bot's availability, `msg_type` and a `content` that is a JSON string of the right
//! shape, `uuid` of at most 50 characters, a repeated uuid answering the first message without
//! sending again), on `DELETE /open-apis/im/v1/messages/{id}` (the bot's own message, not
//! recalled before, within the recall window the test sets) and on `GET
//! .../{id}/read_users` (`user_id_type`, `page_size` 1..=100, the readers the test set). It
//! answers with Feishu's documented `{code, msg, data}` bodies, faults with HTTP 400.

use crate::fake::{FakeServer, Faults, Shared, lock};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};

pub const APP_ID: &str = "cli_a5f3c2e1d0b9a876";
pub const APP_SECRET: &str = "feishu-app-secret-7Yq2vN";
/// Users in the bot's availability, by open_id.
pub const USERS: [&str; 3] = ["ou_ann", "ou_bob", "ou_cat"];

/// A message Feishu delivered.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub message_id: String,
    pub receive_id: String,
    pub msg_type: String,
    /// The content, parsed from the string it came as.
    pub content: Value,
    pub uuid: Option<String>,
}

#[derive(Default)]
pub struct FakeState {
    pub token_calls: usize,
    pub issued: Vec<String>,
    pub expired: HashSet<String>,
    /// Every request to an `im/v1` endpoint, accepted or not.
    pub requests: usize,
    pub delivered: Vec<Delivered>,
    /// The message ids recalled, in order.
    pub recalls: Vec<String>,
    /// Messages whose recall window the test says has passed.
    pub too_old: HashSet<String>,
    /// Readers of a message, by message id, as the test sets them.
    pub readers: HashMap<String, Vec<String>>,
    /// The message ids `read_users` was asked about with a good token.
    pub read_queries: Vec<String>,
    /// Answers (HTTP status, body) to give the next `im/v1` requests instead of handling them.
    pub faults: Faults<(u16, Value)>,
}

impl crate::fake::FakeState for FakeState {
    type Fault = (u16, Value);
    fn faults(&mut self) -> &mut Faults<(u16, Value)> {
        &mut self.faults
    }
    fn expire_tokens(&mut self) {
        let issued = self.issued.clone();
        self.expired.extend(issued);
    }
}

pub type FakeFeishuApp = FakeServer<FakeState>;

/// Starts the fake; its `base_url` is the account's `baseUrl`.
pub async fn start() -> FakeFeishuApp {
    FakeServer::start(FakeState::default(), |state| {
        Router::new()
            .route("/open-apis/auth/v3/tenant_access_token/internal", post(tenant_token))
            .route("/open-apis/im/v1/messages", post(send))
            .route("/open-apis/im/v1/messages/{id}", delete(recall))
            .route("/open-apis/im/v1/messages/{id}/read_users", get(read_users))
            .with_state(state)
    })
    .await
}

fn code(status: u16, code: i64, msg: &str) -> Response {
    (StatusCode::from_u16(status).expect("a status"), Json(json!({"code": code, "msg": msg}))).into_response()
}

fn ok(data: Value) -> Response {
    Json(json!({"code": 0, "msg": "success", "data": data})).into_response()
}

async fn tenant_token(State(state): State<Shared<FakeState>>, body: Bytes) -> Response {
    let mut s = lock(&state);
    s.token_calls += 1;
    let body: Value = serde_json::from_slice(&body).unwrap_or_default();
    if body["app_id"] != APP_ID {
        return code(400, 10003, "invalid param");
    }
    if body["app_secret"] != APP_SECRET {
        return code(400, 10014, "app secret invalid");
    }
    let token = format!("t-{}-{}", s.issued.len() + 1, APP_ID);
    s.issued.push(token.clone());
    Json(json!({"code": 0, "msg": "ok", "tenant_access_token": token, "expire": 7200})).into_response()
}

/// The request's token checked as Feishu does; the fault to answer, if any (a scripted fault
/// comes first, after counting the request).
fn admitted(s: &mut FakeState, headers: &HeaderMap) -> Option<Response> {
    s.requests += 1;
    if let Some((status, body)) = s.faults.take_next() {
        return Some((StatusCode::from_u16(status).expect("a status"), Json(body)).into_response());
    }
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let Some(token) = auth.strip_prefix("Bearer ") else {
        return Some(code(400, 99991661, "Missing access token for authorization."));
    };
    if !s.issued.iter().any(|t| t == token) || s.expired.contains(token) {
        return Some(code(400, 99991663, "Invalid access token for authorization."));
    }
    None
}

/// A `content` string of the shape `msg_type` needs.
fn content_of(msg_type: &str, content: &Value) -> Result<Value, &'static str> {
    let parsed: Value =
        content.as_str().and_then(|c| serde_json::from_str(c).ok()).ok_or("content is not a JSON string")?;
    let fine = match msg_type {
        "text" => parsed["text"].is_string(),
        "post" => parsed.as_object().is_some_and(|locales| !locales.is_empty()),
        "interactive" => parsed["elements"].is_array(),
        _ => return Err("unsupported msg_type"),
    };
    if fine { Ok(parsed) } else { Err("content does not match msg_type") }
}

async fn send(
    State(state): State<Shared<FakeState>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let mut s = lock(&state);
    if let Some(refused) = admitted(&mut s, &headers) {
        return refused;
    }
    if query.get("receive_id_type").map(String::as_str) != Some("open_id") {
        return code(400, 230001, "invalid receive_id_type");
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or_default();
    let uuid = body["uuid"].as_str().map(String::from);
    if uuid.as_ref().is_some_and(|u| u.chars().count() > 50) {
        return code(400, 230001, "uuid is longer than 50");
    }
    if let Some(first) = uuid.as_ref().and_then(|u| s.delivered.iter().find(|d| d.uuid.as_ref() == Some(u))) {
        return ok(json!({"message_id": first.message_id, "msg_type": first.msg_type}));
    }
    let receive_id = body["receive_id"].as_str().unwrap_or_default().to_string();
    if !USERS.contains(&receive_id.as_str()) {
        return code(400, 230013, "Bot has NO availability to this user.");
    }
    let msg_type = body["msg_type"].as_str().unwrap_or_default().to_string();
    let content = match content_of(&msg_type, &body["content"]) {
        Ok(content) => content,
        Err(problem) => return code(400, 230001, problem),
    };
    let message_id = format!("om_{:032x}", s.delivered.len() + 1);
    s.delivered.push(Delivered {
        message_id: message_id.clone(),
        receive_id,
        msg_type: msg_type.clone(),
        content,
        uuid,
    });
    ok(json!({"message_id": message_id, "msg_type": msg_type, "create_time": "1714550400000"}))
}

async fn recall(State(state): State<Shared<FakeState>>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let mut s = lock(&state);
    if let Some(refused) = admitted(&mut s, &headers) {
        return refused;
    }
    if !s.delivered.iter().any(|d| d.message_id == id) {
        return code(400, 230001, "The message id is invalid.");
    }
    if s.recalls.contains(&id) {
        return code(400, 230011, "The message is recalled.");
    }
    if s.too_old.contains(&id) {
        return code(400, 230009, "Message can only be recalled within one days.");
    }
    s.recalls.push(id);
    ok(json!({}))
}

async fn read_users(
    State(state): State<Shared<FakeState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let mut s = lock(&state);
    if let Some(refused) = admitted(&mut s, &headers) {
        return refused;
    }
    if !matches!(query.get("user_id_type").map(String::as_str), Some("open_id" | "union_id" | "user_id")) {
        return code(400, 99992402, "field validation failed: user_id_type");
    }
    if !query.get("page_size").and_then(|p| p.parse::<u32>().ok()).is_some_and(|p| (1..=100).contains(&p)) {
        return code(400, 99992402, "field validation failed: page_size");
    }
    if !s.delivered.iter().any(|d| d.message_id == id) {
        return code(400, 230001, "The message id is invalid.");
    }
    s.read_queries.push(id.clone());
    let items: Vec<Value> = s.readers.get(&id).into_iter().flatten().map(|user| {
        json!({"user_id_type": "open_id", "user_id": user, "timestamp": "1714550460000", "tenant_key": "736588c9260f175e"})
    }).collect();
    ok(json!({"items": items, "has_more": false, "page_token": ""}))
}
