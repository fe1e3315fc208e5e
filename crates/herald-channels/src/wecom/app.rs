//! WeCom app message: `POST {baseUrl}/cgi-bin/message/send?access_token=..` with
//! `{touser, msgtype, agentid, text|markdown}`, sent as the corp's app `agentId` with the
//! corp access token (see `token`).
//!
//! Content fields read: `msgtype` (`text`, the default, or `markdown`), `body` (or austin's
//! `content`; required) and `title` (optional, put on the first line). The receiver is one
//! WeCom userid; `@all` and `|`-joined lists are refused, so a crowd row cannot broadcast to
//! the whole corp.
//!
//! A receiver that WeCom lists in `invaliduser` or `unlicenseduser` did not get the message:
//! a permanent failure, as is errcode 81013 (every receiver invalid).
//!
//! Recall (撤回应用消息): `POST {baseUrl}/cgi-bin/message/recall?access_token=..` with `{msgid}`,
//! by the `msgid` the send recorded, within 24 hours of sending.

use super::reply::{self, Verdict};
use super::token::WeComTokenSource;
use super::{check_base_url, config_error, default_base_url, message_text};
use crate::account::{BuildContext, BuildError, Built, ChannelAccount};
use crate::http::OutboundHttp;
use crate::tokens::{TokenAttempt, TokenSource, Tokens, with_token};
use crate::{Channel, OutgoingMessage, RecallResult, SendResult, SentMessage};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use herald_core::ChannelKind;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WeComAppConfig {
    pub corp_id: String,
    pub corp_secret: SecretString,
    pub agent_id: i64,
    #[serde(default = "default_base_url")]
    pub base_url: String,
}

/// What a send records before the msgid WeCom answers, which a recall reads back.
const MSGID: &str = "msgid";
/// WeCom recalls an app message within this time of sending.
const RECALL_WINDOW: Duration = crate::recall::LONGEST_RECALL_WINDOW;

pub struct WeComApp {
    http: OutboundHttp,
    base_url: String,
    agent_id: i64,
    tokens: Tokens,
    source: Arc<WeComTokenSource>,
}

pub fn build(account: &ChannelAccount, ctx: &BuildContext) -> Result<Built, BuildError> {
    let config: WeComAppConfig = super::parse(account)?;
    if config.corp_id.trim().is_empty() {
        return Err(config_error("corpId", "must not be empty"));
    }
    if config.corp_secret.expose_secret().trim().is_empty() {
        return Err(config_error("corpSecret", "must not be empty"));
    }
    if config.agent_id <= 0 {
        return Err(config_error("agentId", "must be the app's positive AgentId"));
    }
    let base_url = check_base_url(&config.base_url)?;
    let source = Arc::new(WeComTokenSource {
        http: ctx.http.clone(),
        base_url: base_url.clone(),
        corp_id: config.corp_id.trim().to_string(),
        corp_secret: config.corp_secret,
        agent_id: config.agent_id,
    });
    let channel = Arc::new(WeComApp {
        http: ctx.http.clone(),
        base_url,
        agent_id: config.agent_id,
        tokens: ctx.tokens.clone(),
        source: source.clone(),
    });
    let (tokens, probe) = (ctx.tokens.clone(), source.clone());
    let healthcheck =
        Box::pin(async move { tokens.refresh(probe.as_ref()).await.map(|_| ()).map_err(|e| e.to_string()) });
    Ok(Built { channel, healthcheck, token_source: Some(source as Arc<dyn TokenSource>) })
}

/// The app message request for one message.
pub fn request_body(agent_id: i64, message: &OutgoingMessage) -> Result<Value, String> {
    let receiver = message.receiver.trim();
    if receiver.is_empty() {
        return Err("no receiver userid".into());
    }
    if receiver.eq_ignore_ascii_case("@all") || receiver.contains('|') {
        return Err(format!("receiver {receiver:?} is not one userid"));
    }
    let text = message_text(&message.content)?;
    let mut body = json!({"touser": receiver, "msgtype": text.msgtype, "agentid": agent_id});
    body[text.msgtype] = json!({"content": text.content});
    Ok(body)
}

impl WeComApp {
    /// `POST {baseUrl}/cgi-bin/{path}?access_token=..` with `body`; `judge` reads an errcode 0.
    async fn attempt(
        &self,
        path: &str,
        token: &str,
        body: &Value,
        judge: impl FnOnce(&reply::Reply) -> SendResult,
    ) -> TokenAttempt {
        let mut url = url::Url::parse(&format!("{}/cgi-bin/{path}", self.base_url))
            .expect("base URL was checked when the channel was built");
        url.query_pairs_mut().append_pair("access_token", token);
        let response = self.http.post_json(url.as_str(), body).await;
        match reply::read(response, token) {
            Verdict::Ok(answer) => TokenAttempt::Done(judge(&answer)),
            Verdict::TokenRejected(reason) => TokenAttempt::TokenRejected(reason),
            Verdict::Failed(result) => TokenAttempt::Done(result),
        }
    }
}

/// errcode 0 still leaves out the receivers it lists as invalid or unlicensed.
fn judge(answer: &reply::Reply, receiver: &str) -> SendResult {
    let listed = |list: &str| list.split('|').any(|user| user == receiver);
    if listed(&answer.invaliduser) {
        return SendResult::Permanent { reason: format!("wecom invaliduser: {receiver}") };
    }
    if listed(&answer.unlicenseduser) {
        return SendResult::Permanent { reason: format!("wecom unlicenseduser: {receiver}") };
    }
    let detail = (!answer.msgid.is_empty()).then(|| format!("{MSGID} {}", answer.msgid));
    SendResult::Sent { detail }
}

#[async_trait]
impl Channel for WeComApp {
    fn kind(&self) -> ChannelKind {
        ChannelKind::WeComApp
    }

    async fn send(&self, message: &OutgoingMessage) -> SendResult {
        let body = match request_body(self.agent_id, message) {
            Ok(body) => body,
            Err(reason) => return SendResult::Permanent { reason },
        };
        let receiver = message.receiver.trim();
        let body = &body;
        with_token(&self.tokens, self.source.as_ref(), |token| async move {
            self.attempt("message/send", &token, body, |answer| judge(answer, receiver)).await
        })
        .await
    }

    fn recalls(&self) -> bool {
        true
    }

    async fn recall(&self, sent: &SentMessage, now: DateTime<Utc>) -> RecallResult {
        if sent.past(RECALL_WINDOW, now) {
            return RecallResult::TooLate { reason: "WeCom recalls an app message within 24 hours of sending".into() };
        }
        let Some(msgid) = sent.provider_id(MSGID) else {
            return RecallResult::NotRecallable { reason: "its send recorded no WeCom msgid".into() };
        };
        let body = &json!({ "msgid": msgid });
        let result = with_token(&self.tokens, self.source.as_ref(), |token| async move {
            self.attempt("message/recall", &token, body, |_| SendResult::Sent { detail: None }).await
        })
        .await;
        RecallResult::of_call(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_core::MessageId;

    fn message(receiver: &str) -> OutgoingMessage {
        OutgoingMessage {
            message_id: MessageId("r1-1".into()),
            template_id: 1,
            run_id: None,
            receiver: receiver.into(),
            msg_type: 10,
            content: json!({"title": "Hi", "body": "there"}),
        }
    }

    #[test]
    fn one_userid_per_message() {
        let body = request_body(1000002, &message("zhangsan")).unwrap();
        assert_eq!(
            body,
            json!({"touser": "zhangsan", "msgtype": "text", "agentid": 1000002, "text": {"content": "Hi\nthere"}})
        );
        assert!(request_body(1, &message("@all")).is_err());
        assert!(request_body(1, &message("a|b")).is_err());
        assert!(request_body(1, &message(" ")).is_err());
    }

    #[test]
    fn listed_receivers_failed() {
        let answer = reply::Reply { invaliduser: "x|zhangsan".into(), ..Default::default() };
        assert!(matches!(judge(&answer, "zhangsan"), SendResult::Permanent { .. }));
        assert!(matches!(judge(&answer, "zhang"), SendResult::Sent { .. }));
    }
}
