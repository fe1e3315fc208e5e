//! Taking a sent message back: what a channel needs to recall one (what its send recorded) and
//! how a recall went. Only some providers can recall: DingTalk work notices, WeCom app messages
//! and Feishu app-bot messages, within 24 hours of sending; every other channel answers
//! `NotRecallable`.

use crate::SendResult;
use chrono::{DateTime, Duration, Utc};

/// No provider herald recalls through takes a message back later than this after sending
/// (DingTalk and WeCom: 24 hours): how far back a whole template's recall looks.
pub const LONGEST_RECALL_WINDOW: Duration = Duration::hours(24);

/// The provider's id a send recorded in `detail` after `label` (`task_id 123` → `123`).
pub fn provider_id<'d>(detail: &'d str, label: &str) -> Option<&'d str> {
    detail.strip_prefix(label)?.strip_prefix(' ').filter(|id| !id.is_empty())
}

/// A message a channel sent, as the delivery ledger recorded it.
#[derive(Debug, Clone)]
pub struct SentMessage {
    pub message_id: String,
    pub receiver: String,
    /// What the send recorded: the provider's id of the message (`task_id 123`, `msgid ab`).
    pub detail: Option<String>,
    pub sent_at: DateTime<Utc>,
}

impl SentMessage {
    /// The provider's id its send recorded after `label` (`task_id`, `msgid`).
    pub fn provider_id(&self, label: &str) -> Option<&str> {
        provider_id(self.detail.as_deref()?, label)
    }

    /// Whether the provider's recall window (from sending) has passed at `now`.
    pub fn past(&self, window: Duration, now: DateTime<Utc>) -> bool {
        now - self.sent_at > window
    }
}

/// How a recall went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecallResult {
    /// The provider took it back.
    Recalled,
    /// The channel or provider cannot take this message back.
    NotRecallable { reason: String },
    /// The provider's recall window has passed.
    TooLate { reason: String },
    /// A passing fault (network, busy provider): asking again may work.
    Failed { reason: String },
}

impl RecallResult {
    /// A recall call's answer, as the send path classifies provider answers: accepted is
    /// recalled, a passing fault failed, anything else not recallable.
    pub fn of_call(result: SendResult) -> Self {
        match result {
            SendResult::Sent { .. } => Self::Recalled,
            SendResult::Retryable { reason, .. } => Self::Failed { reason },
            SendResult::Permanent { reason } => Self::NotRecallable { reason },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(detail: Option<&str>) -> SentMessage {
        SentMessage {
            message_id: "m".into(),
            receiver: "u".into(),
            detail: detail.map(str::to_string),
            sent_at: DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn the_provider_id_is_read_after_its_label_only() {
        assert_eq!(sent(Some("task_id 123")).provider_id("task_id"), Some("123"));
        assert_eq!(sent(Some("msgid ab-c")).provider_id("msgid"), Some("ab-c"));
        assert_eq!(sent(Some("msgid ab")).provider_id("task_id"), None);
        assert_eq!(sent(Some("task_id ")).provider_id("task_id"), None);
        assert_eq!(sent(Some("task_idx 1")).provider_id("task_id"), None);
        assert_eq!(sent(None).provider_id("msgid"), None);
    }

    #[test]
    fn the_window_counts_from_sending() {
        let m = sent(None);
        let window = Duration::hours(24);
        assert!(!m.past(window, m.sent_at + window), "the last moment is inside");
        assert!(m.past(window, m.sent_at + window + Duration::seconds(1)));
    }
}
