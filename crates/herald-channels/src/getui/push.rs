//! The Getui channel: single pushes by cid, and batches as list pushes of one task.

use super::reply::{self, Verdict};
use super::token::GetuiTokenSource;
use crate::http::OutboundHttp;
use crate::tokens::{TokenAttempt, Tokens, with_token};
use crate::{Channel, OutgoingMessage, SendResult};
use async_trait::async_trait;
use herald_core::{ChannelKind, MessageId};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// Most cids one `push/list/cid` call takes.
pub const MAX_LIST_CIDS: usize = 1000;

/// The statuses Getui answers for a cid it took: online, offline (held for the device), and
/// inactive for 90 days (`successed_ignore`).
pub const SENT_STATUSES: [&str; 3] = ["successed_online", "successed_offline", "successed_ignore"];

/// What a send records of a push Getui took, `task {taskid}: {status}`: a receipt naming the
/// task and the cid finds its message by it.
pub fn sent_detail(taskid: &str, status: &str) -> String {
    format!("task {taskid}: {status}")
}

pub struct GetuiPush {
    pub(super) http: OutboundHttp,
    /// `{baseUrl}/v2/{appId}`.
    pub(super) api_url: String,
    pub(super) tokens: Tokens,
    pub(super) source: Arc<GetuiTokenSource>,
}

/// The `push_message.notification` for a rendered content.
pub fn notification(content: &Value) -> Result<Value, String> {
    let text = |name: &str| content.get(name).and_then(Value::as_str).filter(|s| !s.trim().is_empty());
    let title = text("title").ok_or("content has no title")?;
    let body = text("body").or_else(|| text("content")).ok_or("content has no body")?;
    Ok(match text("url") {
        Some(url) => json!({"title": title, "body": body, "click_type": "url", "url": url}),
        None => json!({"title": title, "body": body, "click_type": "none"}),
    })
}

/// A single push's `request_id` (10 to 32 characters), derived from the message id so that a
/// redelivered message repeats it and Getui drops the duplicate.
pub fn request_id(message_id: &MessageId) -> String {
    let digest = Sha256::digest(message_id.as_str().as_bytes());
    hex::encode(&digest[..16])
}

/// Messages that render to one notification, to distinct cids: one list push.
struct Group {
    notification: Value,
    indices: Vec<usize>,
    cids: HashSet<String>,
}

impl GetuiPush {
    async fn post(&self, path: &str, token: &str, body: &Value) -> Verdict {
        let url = format!("{}{path}", self.api_url);
        let response = self.http.send(Method::POST, &url, |r| r.header("token", token).json(body)).await;
        reply::read(response, token)
    }

    /// Creates the list-push task for `notification`, returning its taskid.
    async fn create_task(&self, token: &str, notification: &Value) -> Result<String, TokenAttempt> {
        // A task pushes nothing by itself, so a fresh request_id per task is harmless; a
        // derived one would make Getui drop the task when a failed batch is tried again.
        let body = json!({
            "request_id": uuid::Uuid::new_v4().simple().to_string(),
            "push_message": {"notification": notification},
        });
        match self.post("/push/list/message", token, &body).await {
            Verdict::Ok(data) => match data.get("taskid").and_then(Value::as_str) {
                Some(taskid) if !taskid.is_empty() => Ok(taskid.to_string()),
                _ => Err(TokenAttempt::Done(SendResult::Permanent { reason: "getui created no taskid".into() })),
            },
            Verdict::TokenRejected(reason) => Err(TokenAttempt::TokenRejected(reason)),
            Verdict::Failed(result) => Err(TokenAttempt::Done(result)),
        }
    }

    /// Pushes one notification to `batch` (distinct cids, at most `MAX_LIST_CIDS`).
    async fn push_list(&self, notification: &Value, batch: &[&OutgoingMessage]) -> Vec<SendResult> {
        let cids: Vec<&str> = batch.iter().map(|m| m.receiver.trim()).collect();
        // Kept across the refresh-once retry: a task created before the token was refused is
        // reused, and the per-cid answer outlives the closure.
        let task: Mutex<Option<String>> = Mutex::new(None);
        let answer: Mutex<Option<Value>> = Mutex::new(None);
        let overall = with_token(&self.tokens, self.source.as_ref(), |token| {
            let (task, answer, cids) = (&task, &answer, &cids);
            async move {
                let existing = task.lock().expect("task lock").clone();
                let taskid = match existing {
                    Some(taskid) => taskid,
                    None => match self.create_task(&token, notification).await {
                        Ok(taskid) => {
                            *task.lock().expect("task lock") = Some(taskid.clone());
                            taskid
                        }
                        Err(attempt) => return attempt,
                    },
                };
                let body = json!({"audience": {"cid": cids}, "taskid": taskid, "is_async": false});
                match self.post("/push/list/cid", &token, &body).await {
                    Verdict::Ok(data) => {
                        *answer.lock().expect("answer lock") = Some(data);
                        TokenAttempt::Done(SendResult::Sent { detail: None })
                    }
                    Verdict::TokenRejected(reason) => TokenAttempt::TokenRejected(reason),
                    Verdict::Failed(result) => TokenAttempt::Done(result),
                }
            }
        })
        .await;
        match answer.into_inner().expect("answer lock") {
            Some(data) => cids.iter().map(|cid| judge(&data, cid, false)).collect(),
            None => vec![overall; batch.len()],
        }
    }
}

/// A cid's outcome from `data: {taskid: {cid: status}}`. Statuses `successed_online`,
/// `successed_offline` and `successed_ignore` (inactive for 90 days) count as sent.
fn judge(data: &Value, cid: &str, missing_is_sent: bool) -> SendResult {
    let found = data.as_object().into_iter().flatten().find_map(|(taskid, cids)| {
        cids.get(cid).map(|status| (taskid, status.as_str().unwrap_or_default().to_string()))
    });
    match found {
        Some((taskid, status)) if status.starts_with("successed") => {
            SendResult::Sent { detail: Some(sent_detail(taskid, &status)) }
        }
        Some((taskid, status)) => {
            SendResult::Permanent { reason: format!("getui task {taskid}: cid status {status:?}") }
        }
        None if missing_is_sent => SendResult::Sent { detail: None },
        None => SendResult::Permanent { reason: "getui reported no status for this cid".into() },
    }
}

#[async_trait]
impl Channel for GetuiPush {
    fn kind(&self) -> ChannelKind {
        ChannelKind::GetuiPush
    }

    async fn send(&self, message: &OutgoingMessage) -> SendResult {
        let cid = message.receiver.trim();
        if cid.is_empty() {
            return SendResult::Permanent { reason: "no receiver cid".into() };
        }
        let notification = match notification(&message.content) {
            Ok(n) => n,
            Err(reason) => return SendResult::Permanent { reason },
        };
        let body = json!({
            "request_id": request_id(&message.message_id),
            "audience": {"cid": [cid]},
            "push_message": {"notification": notification},
        });
        let body = &body;
        with_token(&self.tokens, self.source.as_ref(), |token| async move {
            match self.post("/push/single/cid", &token, body).await {
                Verdict::Ok(data) => TokenAttempt::Done(judge(&data, cid, true)),
                Verdict::TokenRejected(reason) => TokenAttempt::TokenRejected(reason),
                Verdict::Failed(result) => TokenAttempt::Done(result),
            }
        })
        .await
    }

    /// Messages with the same notification go out as one list push per 1000 cids; a message
    /// left alone (or repeating a cid already in its group) goes out as a single push.
    async fn send_batch(&self, messages: &[OutgoingMessage]) -> Vec<SendResult> {
        let mut results: Vec<Option<SendResult>> = vec![None; messages.len()];
        let mut groups: Vec<Group> = Vec::new();
        for (i, message) in messages.iter().enumerate() {
            let cid = message.receiver.trim();
            let notification = match notification(&message.content) {
                Ok(n) if !cid.is_empty() => n,
                // `send` reports what is wrong with it.
                _ => {
                    results[i] = Some(self.send(message).await);
                    continue;
                }
            };
            let open = groups
                .iter_mut()
                .find(|g| g.notification == notification && g.indices.len() < MAX_LIST_CIDS && !g.cids.contains(cid));
            match open {
                Some(group) => {
                    group.indices.push(i);
                    group.cids.insert(cid.to_string());
                }
                None => groups.push(Group { notification, indices: vec![i], cids: HashSet::from([cid.to_string()]) }),
            }
        }
        for group in groups {
            if let &[i] = group.indices.as_slice() {
                results[i] = Some(self.send(&messages[i]).await);
                continue;
            }
            let batch: Vec<&OutgoingMessage> = group.indices.iter().map(|&i| &messages[i]).collect();
            let outcomes = self.push_list(&group.notification, &batch).await;
            for (&i, outcome) in group.indices.iter().zip(outcomes) {
                results[i] = Some(outcome);
            }
        }
        results.into_iter().map(|r| r.expect("every message has a result")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_and_request_ids() {
        let n = notification(&json!({"title": "T", "body": "B"})).unwrap();
        assert_eq!(n, json!({"title": "T", "body": "B", "click_type": "none"}));
        let n = notification(&json!({"title": "T", "content": "B", "url": "https://x/"})).unwrap();
        assert_eq!(n["click_type"], "url");
        assert!(notification(&json!({"body": "B"})).is_err());
        let id = request_id(&MessageId("r1-1".into()));
        assert_eq!(id.len(), 32);
        assert_eq!(id, request_id(&MessageId("r1-1".into())));
        assert_ne!(id, request_id(&MessageId("r1-2".into())));
    }

    #[test]
    fn statuses_are_judged_per_cid() {
        let data =
            json!({"RASL_1": {"a": "successed_online", "b": "successed_offline", "c": "target user is invalid"}});
        assert!(matches!(judge(&data, "a", false), SendResult::Sent { .. }));
        assert!(matches!(judge(&data, "b", false), SendResult::Sent { .. }));
        assert!(matches!(judge(&data, "c", false), SendResult::Permanent { .. }));
        assert!(matches!(judge(&data, "d", false), SendResult::Permanent { .. }));
        assert!(matches!(judge(&data, "d", true), SendResult::Sent { .. }));
    }
}
