//! Work-notice receipts pulled from DingTalk: `POST
//! {baseUrl}/topapi/message/corpconversation/getsendresult?access_token=..` with `{agent_id,
//! task_id}` answers `send_result` with the task's receivers by outcome. The receiver in
//! `read_user_id_list` read it; in `unread_user_id_list` it reached them; in
//! `invalid_user_id_list`, `forbidden_user_id_list` or `failed_user_id_list` it did not (that
//! list's name is the code). Each work notice sent in the last day is asked about, by the
//! `task_id` its send recorded, until it was read or did not arrive; the app's token is the
//! sends' own (refreshed once when DingTalk rejects it).

use super::reply;
use super::work_notice::{App, TASK_ID, app};
use crate::account::{BuildContext, BuildError, ChannelAccount};
use crate::receipts::{AskEach, Pass, PullError, ReceiptPull, ask_each};
use crate::tokens::{TokenAttempt, with_token};
use async_trait::async_trait;
use herald_core::receipt::{Receipt, ReceiptKey, ReceiptState};
use herald_store::TraceRecord;
use serde_json::{Value, json};
use url::Url;

/// The lists of `send_result` that say a notice did not arrive, by name.
const UNDELIVERED_LISTS: [&str; 3] = ["invalid_user_id_list", "forbidden_user_id_list", "failed_user_id_list"];

pub(crate) fn pull(account: &ChannelAccount, ctx: &BuildContext) -> Result<Box<dyn ReceiptPull>, BuildError> {
    let app = app(account, ctx)?;
    let url = app.url("/topapi/message/corpconversation/getsendresult")?;
    Ok(Box::new(DingTalkPull { app, url, account: account.name.clone(), key: format!("{}/dingtalk", account.id) }))
}

struct DingTalkPull {
    app: App,
    url: Url,
    /// The account's name: its templates' sends are the ones asked about.
    account: String,
    /// The cursor's key.
    key: String,
}

/// What `send_result` says of `receiver`: read, reached, or not (with the list's name); None
/// while DingTalk is still sending.
fn state_of(answer: &Value, receiver: &str) -> Option<(ReceiptState, Option<String>)> {
    let result = answer.get("send_result")?;
    let lists = |name: &str| {
        result.get(name).and_then(Value::as_array).is_some_and(|ids| ids.iter().any(|id| id.as_str() == Some(receiver)))
    };
    if lists("read_user_id_list") {
        return Some((ReceiptState::Read, None));
    }
    if let Some(list) = UNDELIVERED_LISTS.into_iter().find(|name| lists(name)) {
        return Some((ReceiptState::Undelivered, Some(list.to_string())));
    }
    lists("unread_user_id_list").then_some((ReceiptState::Delivered, None))
}

impl DingTalkPull {
    /// `getsendresult` for one task: its answer, or why there is none.
    async fn send_result(&self, task_id: i64) -> Result<Value, PullError> {
        let body = json!({"agent_id": self.app.agent_id, "task_id": task_id});
        let answer: Result<Value, reply::Fault> = with_token(&self.app.tokens, self.app.source.as_ref(), |token| {
            let body = &body;
            async move {
                let mut url = self.url.clone();
                url.query_pairs_mut().append_pair("access_token", &token);
                match reply::check(self.app.http.post_json(url.as_str(), body).await, "dingtalk getsendresult") {
                    Err(reply::Fault::TokenRejected(reason)) => TokenAttempt::TokenRejected(reason),
                    other => TokenAttempt::Done(other),
                }
            }
        })
        .await;
        answer.map_err(|fault| PullError::Provider(fault.reason().to_string()))
    }
}

/// The task id a notice's send recorded.
fn task_id(message: &TraceRecord) -> Option<i64> {
    crate::recall::provider_id(message.detail.as_deref()?, TASK_ID)?.parse().ok()
}

#[async_trait]
impl AskEach for DingTalkPull {
    fn cursor(&self) -> &str {
        &self.key
    }

    fn account(&self) -> &str {
        &self.account
    }

    fn detail_prefix(&self) -> String {
        format!("{TASK_ID} ")
    }

    fn read_follows(&self) -> bool {
        true
    }

    /// A notice to `@all` has no one receiver to report on.
    fn askable(&self, message: &TraceRecord) -> bool {
        task_id(message).is_some() && message.receiver != "@all"
    }

    async fn ask(&self, message: &TraceRecord) -> Result<Option<Receipt>, PullError> {
        let answer = self.send_result(task_id(message).unwrap_or_default()).await?;
        Ok(state_of(&answer, message.receiver.trim()).map(|(state, code)| Receipt {
            provider: "dingtalk".into(),
            key: ReceiptKey::Message(message.message_id.clone()),
            state,
            code,
        }))
    }
}

#[async_trait]
impl ReceiptPull for DingTalkPull {
    fn name(&self) -> &str {
        "dingtalk"
    }

    /// Asks about each notice sent in the last day that was neither read nor refused, oldest
    /// first.
    async fn pull(&self, pass: &mut Pass<'_>) -> Result<(), PullError> {
        ask_each(self, pass).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_list_says_what_became_of_the_notice() {
        let answer = json!({"errcode": 0, "send_result": {"read_user_id_list": ["r"], "unread_user_id_list": ["u"],
            "invalid_user_id_list": [], "forbidden_user_id_list": ["f"], "failed_user_id_list": ["x"],
            "invalid_dept_id_list": [], "forbidden_list": []}, "request_id": "q"});
        assert_eq!(state_of(&answer, "r"), Some((ReceiptState::Read, None)));
        assert_eq!(state_of(&answer, "u"), Some((ReceiptState::Delivered, None)));
        assert_eq!(state_of(&answer, "f"), Some((ReceiptState::Undelivered, Some("forbidden_user_id_list".into()))));
        assert_eq!(state_of(&answer, "x"), Some((ReceiptState::Undelivered, Some("failed_user_id_list".into()))));
        assert_eq!(state_of(&answer, "nobody"), None, "still sending");
        assert_eq!(state_of(&json!({"errcode": 0}), "r"), None);
    }
}
