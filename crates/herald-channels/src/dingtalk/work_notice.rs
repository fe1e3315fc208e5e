//! DingTalk work notice (工作通知): a corp conversation message from an app to one employee,
//! `POST {baseUrl}/topapi/message/corpconversation/asyncsend_v2?access_token=..` with
//! `{agent_id, userid_list, msg}`, using the app access token from `dingtalk::token`.
//!
//! Content: `msgtype` ("text" by default, "markdown", "link" or "actionCard"), `content`, and
//! the fields each type adds (see `dingtalk::content`). The receiver is the employee's DingTalk userid (`userid_list`
//! of one); `@all` sends to every employee in the app's visible range (`to_all_user`).
//!
//! The call is asynchronous on DingTalk's side: errcode 0 means the task was accepted, and the
//! detail records its `task_id`. A token DingTalk rejects (40014, 42001) is refreshed once and
//! the send tried once more; busy and rate-limit codes are retryable; the rest are permanent
//! (see `dingtalk::reply`).
//!
//! Recall (撤回工作通知): `POST {baseUrl}/topapi/message/corpconversation/recall?access_token=..`
//! with `{agent_id, msg_task_id}`, by the `task_id` the send recorded, within 24 hours of sending.

use super::token::DingTalkAppToken;
use super::{DEFAULT_BASE_URL, content, reply};
use crate::account::{BuildContext, BuildError, Built, ChannelAccount, parse_config};
use crate::http::OutboundHttp;
use crate::tokens::{TokenAttempt, TokenSource, Tokens, with_token};
use crate::{Channel, OutgoingMessage, RecallResult, SendResult, SentMessage};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use herald_core::ChannelKind;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use url::Url;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DingTalkWorkNoticeConfig {
    /// The app's AppKey. Required.
    #[serde(default)]
    pub app_key: Option<String>,
    /// The app's AppSecret. Required.
    #[serde(default)]
    pub app_secret: Option<SecretString>,
    /// The app's AgentId. Required.
    #[serde(default)]
    pub agent_id: Option<i64>,
    #[serde(default = "default_base_url")]
    pub base_url: String,
}

fn default_base_url() -> String {
    DEFAULT_BASE_URL.to_string()
}

/// What a send records before the task id DingTalk answers, which a recall reads back.
pub(crate) const TASK_ID: &str = "task_id";
/// DingTalk recalls a work notice within this time of sending.
pub(crate) const RECALL_WINDOW: Duration = crate::recall::LONGEST_RECALL_WINDOW;

pub struct DingTalkWorkNotice {
    http: OutboundHttp,
    tokens: Tokens,
    source: Arc<DingTalkAppToken>,
    agent_id: i64,
    send_url: Url,
    recall_url: Url,
}

/// What every call of a work-notice app needs, from its account: sends, recalls and receipt
/// pulls.
pub(crate) struct App {
    pub(crate) http: OutboundHttp,
    pub(crate) tokens: Tokens,
    pub(crate) source: Arc<DingTalkAppToken>,
    pub(crate) agent_id: i64,
    /// The base URL, without a trailing slash.
    pub(crate) base: String,
}

impl App {
    /// `{base}{path}`, for a path under the classic server API.
    pub(crate) fn url(&self, path: &str) -> Result<Url, BuildError> {
        Url::parse(&format!("{}{path}", self.base))
            .map_err(|e| BuildError::Config { field: "baseUrl".into(), message: e.to_string() })
    }
}

/// Reads and checks the account's app settings.
pub(crate) fn app(account: &ChannelAccount, ctx: &BuildContext) -> Result<App, BuildError> {
    let config: DingTalkWorkNoticeConfig = parse_config(account)?;
    let missing = |field: &str| BuildError::Config { field: field.into(), message: "is required".into() };
    let app_key = config.app_key.filter(|k| !k.trim().is_empty()).ok_or_else(|| missing("appKey"))?;
    let app_secret = super::required_secret(config.app_secret, "appSecret")?;
    let agent_id = config.agent_id.ok_or_else(|| missing("agentId"))?;
    if agent_id <= 0 {
        return Err(BuildError::Config { field: "agentId".into(), message: "must be a positive number".into() });
    }
    let base = crate::account::base_url(&config.base_url, "baseUrl")?;
    let bad_base = |e: String| BuildError::Config { field: "baseUrl".into(), message: e };
    let source = Arc::new(DingTalkAppToken::new(ctx.http.clone(), &base, app_key, app_secret).map_err(bad_base)?);
    Ok(App { http: ctx.http.clone(), tokens: ctx.tokens.clone(), source, agent_id, base })
}

pub fn build(account: &ChannelAccount, ctx: &BuildContext) -> Result<Built, BuildError> {
    let app = app(account, ctx)?;
    let send_url = app.url("/topapi/message/corpconversation/asyncsend_v2")?;
    let recall_url = app.url("/topapi/message/corpconversation/recall")?;
    let App { http, tokens, source, agent_id, .. } = app;
    let channel =
        DingTalkWorkNotice { http, tokens: tokens.clone(), source: source.clone(), agent_id, send_url, recall_url };
    let check_source = source.clone();
    let healthcheck =
        Box::pin(async move { tokens.refresh(check_source.as_ref()).await.map(|_| ()).map_err(|e| e.to_string()) });
    let token_source: Arc<dyn TokenSource> = source;
    Ok(Built { channel: Arc::new(channel), healthcheck, token_source: Some(token_source) })
}

impl DingTalkWorkNotice {
    async fn attempt(&self, url: &Url, token: String, body: &Value) -> TokenAttempt {
        let mut url = url.clone();
        url.query_pairs_mut().append_pair("access_token", &token);
        match reply::check(self.http.post_json(url.as_str(), body).await, "dingtalk") {
            Ok(answer) => {
                let detail = answer.get(TASK_ID).map(|id| format!("{TASK_ID} {id}"));
                TokenAttempt::Done(SendResult::Sent { detail })
            }
            Err(reply::Fault::TokenRejected(reason)) => TokenAttempt::TokenRejected(reason),
            Err(fault) => TokenAttempt::Done(fault.into_send_result()),
        }
    }
}

#[async_trait]
impl Channel for DingTalkWorkNotice {
    fn kind(&self) -> ChannelKind {
        ChannelKind::DingTalkWorkNotice
    }

    async fn send(&self, message: &OutgoingMessage) -> SendResult {
        let msg = match content::message(&message.content, content::Sender::WorkNotice) {
            Ok(msg) => msg,
            Err(reason) => return SendResult::Permanent { reason },
        };
        let mut body = json!({ "agent_id": self.agent_id, "msg": msg });
        match message.receiver.trim() {
            "" => return SendResult::Permanent { reason: "no receiver userid".into() },
            "@all" => body["to_all_user"] = json!(true),
            // userid_list is comma-separated; one message goes to one receiver.
            userid if userid.contains(',') => {
                return SendResult::Permanent { reason: format!("receiver {userid:?} is not a single userid") };
            }
            userid => body["userid_list"] = json!(userid),
        }
        with_token(&self.tokens, self.source.as_ref(), |token| self.attempt(&self.send_url, token, &body)).await
    }

    fn recalls(&self) -> bool {
        true
    }

    async fn recall(&self, sent: &SentMessage, now: DateTime<Utc>) -> RecallResult {
        if sent.past(RECALL_WINDOW, now) {
            return RecallResult::TooLate {
                reason: "DingTalk recalls a work notice within 24 hours of sending".into(),
            };
        }
        let Some(task_id) = sent.provider_id(TASK_ID).and_then(|id| id.parse::<i64>().ok()) else {
            return RecallResult::NotRecallable { reason: "its send recorded no DingTalk task_id".into() };
        };
        let body = json!({ "agent_id": self.agent_id, "msg_task_id": task_id });
        let result =
            with_token(&self.tokens, self.source.as_ref(), |token| self.attempt(&self.recall_url, token, &body)).await;
        RecallResult::of_call(result)
    }
}
