//! Feishu app bot (应用机器人): a message from a self-built app to one user or chat,
//! `POST {baseUrl}/open-apis/im/v1/messages?receive_id_type=..` with `{receive_id, msg_type,
//! content, uuid}` and `Authorization: Bearer <tenant_access_token>` (see `token`). Unlike the
//! custom bot, the app's messages have ids, so they can be recalled and their reading asked
//! about.
//!
//! The receiver is one id of the account's `receiveIdType` (`open_id` by default, `union_id`,
//! `user_id`, `email` or `chat_id`); `@all` is the custom bot's and is refused. Content is the
//! custom bot's (`feishu::content`). `uuid` is derived from herald's message id: Feishu drops a
//! repeated request with the same uuid within an hour, so a send retried after a crash reaches
//! the receiver once. The detail records `message_id om_..`.
//!
//! Recall (撤回消息): `DELETE {baseUrl}/open-apis/im/v1/messages/{message_id}`, within 24 hours of
//! sending (the tenant may set another limit; Feishu's 230009 says it passed). Reading is pulled
//! in `feishu::receipts`.

use super::content::app_message;
use super::open_api::{self, Answer};
use super::token::FeishuTenantToken;
use crate::account::{BuildContext, BuildError, Built, ChannelAccount, parse_config};
use crate::http::OutboundHttp;
use crate::tokens::{TokenSource, Tokens, with_token};
use crate::{Channel, OutgoingMessage, RecallResult, SendResult, SentMessage};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use herald_core::ChannelKind;
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use url::Url;

const DEFAULT_BASE_URL: &str = "https://open.feishu.cn";
/// What a send records before the message id Feishu answers, which a recall and a receipt pull
/// read back.
pub(crate) const MESSAGE_ID: &str = "message_id";
/// Feishu recalls a bot's message within this time of sending, unless the tenant set less.
const RECALL_WINDOW: Duration = crate::recall::LONGEST_RECALL_WINDOW;
/// The kinds of receiver id Feishu's message API takes.
const RECEIVE_ID_TYPES: [&str; 5] = ["open_id", "union_id", "user_id", "email", "chat_id"];
/// Feishu's longest `uuid`.
const MAX_UUID_CHARS: usize = 50;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FeishuAppConfig {
    #[serde(default)]
    pub app_id: String,
    #[serde(default)]
    pub app_secret: Option<SecretString>,
    #[serde(default)]
    pub receive_id_type: Option<String>,
    #[serde(default)]
    pub base_url: Option<String>,
}

/// What every call of the app needs, from its account: sends, recalls and receipt pulls.
pub(crate) struct App {
    pub(crate) http: OutboundHttp,
    pub(crate) tokens: Tokens,
    pub(crate) source: Arc<FeishuTenantToken>,
    /// The base URL, without a trailing slash.
    pub(crate) base: String,
    pub(crate) receive_id_type: String,
}

/// Reads and checks the account's app settings.
pub(crate) fn app(account: &ChannelAccount, ctx: &BuildContext) -> Result<App, BuildError> {
    let config: FeishuAppConfig = parse_config(account)?;
    let invalid = |field: &str, message: &str| BuildError::Config { field: field.into(), message: message.into() };
    let app_id = config.app_id.trim().to_string();
    if app_id.is_empty() {
        return Err(invalid("appId", "is required"));
    }
    let app_secret = config.app_secret.filter(|s| !s.expose_secret().trim().is_empty());
    let app_secret = app_secret.ok_or_else(|| invalid("appSecret", "is required"))?;
    let receive_id_type = config.receive_id_type.unwrap_or_else(|| "open_id".into());
    if !RECEIVE_ID_TYPES.contains(&receive_id_type.as_str()) {
        return Err(invalid("receiveIdType", &format!("must be one of {}", RECEIVE_ID_TYPES.join(", "))));
    }
    let base = config.base_url.filter(|b| !b.trim().is_empty()).unwrap_or_else(|| DEFAULT_BASE_URL.into());
    let base = crate::account::base_url(base.trim(), "baseUrl")?;
    let source = Arc::new(FeishuTenantToken {
        http: ctx.http.clone(),
        url: format!("{base}/open-apis/auth/v3/tenant_access_token/internal"),
        app_id,
        app_secret,
    });
    Ok(App { http: ctx.http.clone(), tokens: ctx.tokens.clone(), source, base, receive_id_type })
}

impl App {
    /// `{base}/open-apis/im/v1/messages`.
    fn messages_url(&self) -> Url {
        Url::parse(&format!("{}/open-apis/im/v1/messages", self.base)).expect("base URL was checked")
    }

    /// `{base}/open-apis/im/v1/messages/{message_id}{tail}`, the id escaped as a path segment.
    pub(crate) fn message_url(&self, message_id: &str, tail: &[&str]) -> Url {
        let mut url = self.messages_url();
        url.path_segments_mut().expect("an http URL").push(message_id).extend(tail);
        url
    }

    /// One call with the tenant token (refreshed once when Feishu rejects it): its answer.
    pub(crate) async fn call(&self, method: Method, url: &Url, body: Option<&Value>, api: &str) -> Answer {
        with_token(&self.tokens, self.source.as_ref(), |token| {
            let method = method.clone();
            async move {
                let result = self
                    .http
                    .send(method, url.as_str(), |request| {
                        let request = request.bearer_auth(&token);
                        match body {
                            Some(body) => request.json(body),
                            None => request,
                        }
                    })
                    .await;
                open_api::attempt(open_api::check(result, api))
            }
        })
        .await
    }
}

pub struct FeishuApp {
    app: App,
}

pub fn build(account: &ChannelAccount, ctx: &BuildContext) -> Result<Built, BuildError> {
    let app = app(account, ctx)?;
    let (tokens, probe) = (app.tokens.clone(), app.source.clone());
    let healthcheck =
        Box::pin(async move { tokens.refresh(probe.as_ref()).await.map(|_| ()).map_err(|e| e.to_string()) });
    let token_source: Arc<dyn TokenSource> = app.source.clone();
    Ok(Built { channel: Arc::new(FeishuApp { app }), healthcheck, token_source: Some(token_source) })
}

/// Feishu's `uuid` for a message: its id, or a digest of a longer one.
fn uuid_for(message_id: &str) -> String {
    if message_id.chars().count() <= MAX_UUID_CHARS {
        return message_id.to_string();
    }
    hex::encode(Sha256::digest(message_id.as_bytes()))[..MAX_UUID_CHARS - 2].to_string()
}

/// The send request for one message.
pub fn request_body(message: &OutgoingMessage) -> Result<Value, String> {
    let receiver = message.receiver.trim();
    if receiver.is_empty() {
        return Err("no receiver id".into());
    }
    if receiver == "@all" || receiver.contains(',') {
        return Err(format!("receiver {receiver:?} is not one id (@all is a custom bot's)"));
    }
    let (msg_type, content) = app_message(&message.content)?;
    Ok(
        json!({"receive_id": receiver, "msg_type": msg_type, "content": content, "uuid": uuid_for(&message.message_id.0)}),
    )
}

#[async_trait]
impl Channel for FeishuApp {
    fn kind(&self) -> ChannelKind {
        ChannelKind::FeishuApp
    }

    async fn send(&self, message: &OutgoingMessage) -> SendResult {
        let body = match request_body(message) {
            Ok(body) => body,
            Err(reason) => return SendResult::Permanent { reason },
        };
        let mut url = self.app.messages_url();
        url.query_pairs_mut().append_pair("receive_id_type", &self.app.receive_id_type);
        match self.app.call(Method::POST, &url, Some(&body), "feishu send").await {
            Ok(answer) => {
                let id = answer["data"]["message_id"].as_str().filter(|id| !id.is_empty());
                SendResult::Sent { detail: id.map(|id| format!("{MESSAGE_ID} {id}")) }
            }
            Err(fault) => fault.into_send_result(),
        }
    }

    fn recalls(&self) -> bool {
        true
    }

    async fn recall(&self, sent: &SentMessage, now: DateTime<Utc>) -> RecallResult {
        if sent.past(RECALL_WINDOW, now) {
            return RecallResult::TooLate {
                reason: "Feishu recalls a bot's message within 24 hours of sending".into(),
            };
        }
        let Some(id) = sent.provider_id(MESSAGE_ID) else {
            return RecallResult::NotRecallable { reason: "its send recorded no Feishu message_id".into() };
        };
        let url = self.app.message_url(id, &[]);
        match self.app.call(Method::DELETE, &url, None, "feishu recall").await {
            Ok(_) => RecallResult::Recalled,
            Err(fault) => fault.into_recall_result(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_core::MessageId;

    fn message(id: &str, receiver: &str) -> OutgoingMessage {
        OutgoingMessage {
            message_id: MessageId(id.into()),
            template_id: 1,
            run_id: None,
            receiver: receiver.into(),
            msg_type: 10,
            content: json!({"content": "hi"}),
        }
    }

    #[test]
    fn one_receiver_and_a_uuid_from_the_message_id() {
        let body = request_body(&message("r1-7", "ou_abc")).unwrap();
        assert_eq!(
            body,
            json!({"receive_id": "ou_abc", "msg_type": "text", "content": "{\"text\":\"hi\"}", "uuid": "r1-7"})
        );
        assert!(request_body(&message("r1-7", "@all")).is_err());
        assert!(request_body(&message("r1-7", "a,b")).is_err());
        let long = "x".repeat(80);
        let uuid = request_body(&message(&long, "ou_abc")).unwrap()["uuid"].as_str().unwrap().to_string();
        assert!(uuid.len() <= MAX_UUID_CHARS && uuid != long[..48], "{uuid}");
        assert_eq!(uuid, uuid_for(&long), "the same every time");
    }
}
