//! A fake Feishu custom bot webhook. It checks what Feishu checks — the hook id, a signature
//! recomputed with the bot's secret over a timestamp (seconds) within an hour, the keyword
//! rule, the message shape — and answers with Feishu's documented success and error bodies.

#![allow(dead_code)]

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use herald_channels::http::{HttpSettings, OutboundHttp};
use herald_channels::tokens::Tokens;
use herald_channels::{BuildContext, ChannelAccount, OutgoingMessage};
use herald_core::{ChannelKind, MessageId, TestClock};
use herald_testkit::fake::{FakeServer, Faults, Shared, lock};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use std::sync::Arc;

pub const HOOK_ID: &str = "5e3d587e-d78e-4a07-bd07-265f269f86fd";
pub const BOT_SECRET: &str = "nIMtb7r3N9pkXyXdtAbx6e";

#[derive(Default)]
pub struct FakeState {
    pub secret: Option<String>,
    pub keyword: Option<String>,
    /// Bodies accepted, in order.
    pub posts: Vec<Value>,
    /// Every request, accepted or not.
    pub requests: usize,
    /// Answers (HTTP status, body) to give the next requests instead of handling them.
    pub faults: Faults<(u16, Value)>,
}

impl herald_testkit::fake::FakeState for FakeState {
    type Fault = (u16, Value);
    fn faults(&mut self) -> &mut Faults<(u16, Value)> {
        &mut self.faults
    }
}

/// The fake on the testkit's scaffold (`state()`, `fail_next()`), with the bot's webhook URL.
pub struct FakeFeishu {
    pub webhook_url: String,
    server: FakeServer<FakeState>,
}

impl std::ops::Deref for FakeFeishu {
    type Target = FakeServer<FakeState>;
    fn deref(&self) -> &Self::Target {
        &self.server
    }
}

impl FakeFeishu {
    pub async fn start(secret: Option<&str>, keyword: Option<&str>) -> Self {
        let state = FakeState {
            secret: secret.map(str::to_string),
            keyword: keyword.map(str::to_string),
            ..FakeState::default()
        };
        let server = FakeServer::start(state, |state| {
            Router::new().route("/open-apis/bot/v2/hook/{id}", post(hook)).with_state(state)
        })
        .await;
        Self { webhook_url: format!("{}/open-apis/bot/v2/hook/{HOOK_ID}", server.base_url), server }
    }
}

/// Feishu's signature, computed here independently of the channel.
pub fn feishu_sign(secret: &str, timestamp_secs: &str) -> String {
    let mac = Hmac::<sha2::Sha256>::new_from_slice(format!("{timestamp_secs}\n{secret}").as_bytes()).unwrap();
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn answer(status: u16, body: Value) -> Response {
    (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response()
}

fn bad_request() -> Response {
    answer(400, json!({ "code": 9499, "msg": "Bad Request", "data": {} }))
}

async fn hook(State(state): State<Shared<FakeState>>, Path(id): Path<String>, body: Bytes) -> Response {
    let mut state = lock(&state);
    state.requests += 1;
    if let Some((status, body)) = state.faults.take_next() {
        return answer(status, body);
    }
    if id != HOOK_ID {
        return answer(200, json!({ "code": 19001, "msg": "param invalid: incoming webhook access token invalid" }));
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return bad_request();
    };
    if let Some(secret) = &state.secret {
        let timestamp = match &body["timestamp"] {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => String::new(),
        };
        let fresh = timestamp.parse::<i64>().is_ok_and(|ts| (chrono::Utc::now().timestamp() - ts).abs() <= 3600);
        if !fresh || body["sign"].as_str() != Some(feishu_sign(secret, &timestamp).as_str()) {
            return answer(
                200,
                json!({ "code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time" }),
            );
        }
    }
    let Some(text) = message_text(&body) else {
        return bad_request();
    };
    if let Some(keyword) = &state.keyword
        && !text.contains(keyword.as_str())
    {
        return answer(200, json!({ "code": 19024, "msg": "Key Words Not Found" }));
    }
    state.posts.push(body);
    answer(200, json!({ "code": 0, "data": {}, "msg": "success" }))
}

pub fn context(clock: Arc<TestClock>) -> BuildContext {
    let http = OutboundHttp::new(HttpSettings { allow_private_networks: true, ..Default::default() }).unwrap();
    BuildContext { http, tokens: Tokens::in_memory(clock.clone()), clock }
}

pub fn clock() -> Arc<TestClock> {
    Arc::new(TestClock::new(chrono::Utc::now()))
}

pub fn account(config: Value) -> ChannelAccount {
    ChannelAccount { id: 9, name: "feishu bot".into(), channel: ChannelKind::FeishuBot, config }
}

pub fn message(receiver: &str, content: Value) -> OutgoingMessage {
    OutgoingMessage {
        message_id: MessageId(format!("m-{receiver}")),
        template_id: 2,
        run_id: Some(5),
        receiver: receiver.to_string(),
        msg_type: 10,
        content,
    }
}

/// The words of a well-formed message of a documented type (text, post, interactive card), which
/// the keyword rule reads; None for any other shape.
fn message_text(body: &Value) -> Option<String> {
    let non_empty = |v: &Value| v.as_str().filter(|t| !t.is_empty()).map(str::to_string);
    match body["msg_type"].as_str()? {
        "text" => non_empty(&body["content"]["text"]),
        "post" => {
            let post = &body["content"]["post"]["zh_cn"];
            non_empty(&post["title"])?;
            let words: Vec<String> = post["content"]
                .as_array()?
                .iter()
                .flat_map(|p| p.as_array().into_iter().flatten())
                .filter_map(|element| element["text"].as_str().map(str::to_string))
                .collect();
            (!words.is_empty()).then(|| words.join("\n"))
        }
        "interactive" => {
            let card = &body["card"];
            non_empty(&card["header"]["title"]["content"])?;
            non_empty(&card["elements"][0]["text"]["content"])
        }
        _ => None,
    }
}
