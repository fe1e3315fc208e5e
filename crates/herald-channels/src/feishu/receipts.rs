//! App-bot messages' reading pulled from Feishu: `GET {baseUrl}/open-apis/im/v1/messages/
//! {message_id}/read_users?user_id_type=..&page_size=100` answers `data.items[]` of `{user_id_type,
//! user_id, timestamp}`, the users who read it (Feishu answers for a bot's own messages of the
//! last 7 days). Each message sent to one user in the last day is asked about, by the
//! `message_id` its send recorded, until its receiver is listed, which lands as `read`. Feishu
//! says nothing of delivery, so no other receipt comes of it; a message to a chat or an email
//! address names no user to look for and is not asked about.

use super::app::{App, MESSAGE_ID, app};
use crate::account::{BuildContext, BuildError, ChannelAccount};
use crate::receipts::{AskEach, Pass, PullError, ReceiptPull, ask_each};
use async_trait::async_trait;
use herald_core::receipt::{Receipt, ReceiptKey, ReceiptState};
use herald_store::TraceRecord;
use reqwest::Method;
use serde_json::Value;

/// The receiver id types `read_users` lists readers by.
const USER_ID_TYPES: [&str; 3] = ["open_id", "union_id", "user_id"];

pub(crate) fn pull(account: &ChannelAccount, ctx: &BuildContext) -> Result<Option<Box<dyn ReceiptPull>>, BuildError> {
    let app = app(account, ctx)?;
    if !USER_ID_TYPES.contains(&app.receive_id_type.as_str()) {
        return Ok(None);
    }
    Ok(Some(Box::new(FeishuPull { app, account: account.name.clone(), key: format!("{}/feishu", account.id) })))
}

struct FeishuPull {
    app: App,
    account: String,
    key: String,
}

/// Feishu's id of the message, as its send recorded it.
fn message_id_of(message: &TraceRecord) -> Option<&str> {
    crate::recall::provider_id(message.detail.as_deref()?, MESSAGE_ID)
}

/// Whether `answer`'s readers list `receiver`.
fn read_by(answer: &Value, receiver: &str) -> bool {
    let items = answer["data"]["items"].as_array().map(Vec::as_slice).unwrap_or_default();
    items.iter().any(|item| item["user_id"].as_str() == Some(receiver))
}

#[async_trait]
impl AskEach for FeishuPull {
    fn cursor(&self) -> &str {
        &self.key
    }

    fn account(&self) -> &str {
        &self.account
    }

    fn detail_prefix(&self) -> String {
        format!("{MESSAGE_ID} ")
    }

    fn read_follows(&self) -> bool {
        true
    }

    fn askable(&self, message: &TraceRecord) -> bool {
        message_id_of(message).is_some()
    }

    async fn ask(&self, message: &TraceRecord) -> Result<Option<Receipt>, PullError> {
        let id = message_id_of(message).unwrap_or_default();
        let mut url = self.app.message_url(id, &["read_users"]);
        url.query_pairs_mut().append_pair("user_id_type", &self.app.receive_id_type).append_pair("page_size", "100");
        let answer = self
            .app
            .call(Method::GET, &url, None, "feishu read_users")
            .await
            .map_err(|fault| PullError::Provider(fault.reason().to_string()))?;
        Ok(read_by(&answer, message.receiver.trim()).then(|| Receipt {
            provider: "feishu".into(),
            key: ReceiptKey::Message(message.message_id.clone()),
            state: ReceiptState::Read,
            code: None,
        }))
    }
}

#[async_trait]
impl ReceiptPull for FeishuPull {
    fn name(&self) -> &str {
        "feishu"
    }

    /// Asks about each message sent to a user in the last day that was not read yet.
    async fn pull(&self, pass: &mut Pass<'_>) -> Result<(), PullError> {
        ask_each(self, pass).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_reader_is_found_by_id() {
        let answer = json!({"code": 0, "msg": "success", "data": {"items": [{"user_id_type": "open_id",
            "user_id": "ou_1", "timestamp": "1609484183000", "tenant_key": "t"}], "has_more": false}});
        assert!(read_by(&answer, "ou_1"));
        assert!(!read_by(&answer, "ou_2"));
        assert!(!read_by(&json!({"code": 0, "data": {}}), "ou_1"));
    }
}
