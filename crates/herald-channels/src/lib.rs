//! herald-channels: every way herald delivers a message sits behind the `Channel` trait. A
//! channel answers each send with a `SendResult` that tells the worker whether to record
//! success, try again later, or give up.

pub mod account;
pub mod account_form;
pub mod address_policy;
pub mod build;
pub mod content_form;
mod content_read;
pub mod dingtalk;
pub mod email;
pub mod feishu;
pub mod getui;
pub mod http;
pub mod outbox;
pub mod recall;
pub mod receipts;
pub mod redis_tokens;
pub mod registry;
pub mod resolver;
pub mod sealing;
pub mod sms;
pub mod tokens;
pub mod webhook;
pub mod wecom;

pub use account::{BuildContext, BuildError, Built, ChannelAccount};
pub use build::build;
pub use recall::{RecallResult, SentMessage};

use async_trait::async_trait;
use herald_core::{ChannelKind, MessageId};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// One rendered message for one receiver.
#[derive(Debug, Clone)]
pub struct OutgoingMessage {
    pub message_id: MessageId,
    pub template_id: i64,
    pub run_id: Option<i64>,
    pub receiver: String,
    pub msg_type: i32,
    /// The template content with this receiver's placeholders filled in.
    pub content: Value,
}

/// How a send went, as a retry policy sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendResult {
    Sent {
        detail: Option<String>,
    },
    /// A passing fault (timeout, 5xx, rate limit): try again, not before `after` if given.
    Retryable {
        reason: String,
        after: Option<Duration>,
    },
    /// Trying again cannot help (bad receiver, 4xx).
    Permanent {
        reason: String,
    },
}

#[async_trait]
pub trait Channel: Send + Sync + 'static {
    fn kind(&self) -> ChannelKind;
    async fn send(&self, message: &OutgoingMessage) -> SendResult;

    /// True when `send_batch` is cheaper than one `send` per message (a batch API, one
    /// transaction); the worker then hands it whole batches.
    fn prefers_batch(&self) -> bool {
        false
    }

    /// Whether [`Channel::recall`] can take a sent message back (within the provider's window).
    fn recalls(&self) -> bool {
        false
    }

    /// Takes back a message this channel sent, by what its send recorded. Channels whose
    /// provider cannot recall keep this default.
    async fn recall(&self, _sent: &SentMessage, _now: chrono::DateTime<chrono::Utc>) -> RecallResult {
        RecallResult::NotRecallable { reason: format!("{} messages cannot be recalled", self.kind()) }
    }

    /// Sends several messages; providers with a batch API override this. One result per
    /// message, in order.
    async fn send_batch(&self, messages: &[OutgoingMessage]) -> Vec<SendResult> {
        let mut results = Vec::with_capacity(messages.len());
        for message in messages {
            results.push(self.send(message).await);
        }
        results
    }
}

/// The channels a worker can deliver through: fixed ones by kind (outbox, webhook) and, when
/// configured, account-based ones built on demand.
#[derive(Clone, Default)]
pub struct Channels {
    by_kind: HashMap<ChannelKind, Arc<dyn Channel>>,
    accounts: Option<Arc<registry::AccountChannels>>,
}

impl Channels {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(mut self, channel: Arc<dyn Channel>) -> Self {
        self.by_kind.insert(channel.kind(), channel);
        self
    }

    pub fn with_accounts(mut self, accounts: Arc<registry::AccountChannels>) -> Self {
        self.accounts = Some(accounts);
        self
    }

    pub fn get(&self, kind: ChannelKind) -> Option<&Arc<dyn Channel>> {
        self.by_kind.get(&kind)
    }

    /// The channel a template sends through: its fixed channel, or its channel account's.
    pub async fn resolve(&self, kind: ChannelKind, account: Option<&str>) -> Result<Arc<dyn Channel>, String> {
        if !kind.needs_account() {
            return self
                .by_kind
                .get(&kind)
                .cloned()
                .ok_or_else(|| format!("channel {kind} is not enabled on this node"));
        }
        let accounts = self.accounts.as_ref().ok_or_else(|| format!("channel {kind} needs channel accounts"))?;
        let name = account.ok_or_else(|| format!("channel {kind} sends through a channel account; none is set"))?;
        accounts.resolve(name, kind).await.map_err(|e| e.to_string())
    }

    /// The kinds this registry can deliver through.
    pub fn kinds(&self) -> Vec<ChannelKind> {
        if self.accounts.is_some() {
            return ChannelKind::ALL.to_vec();
        }
        let mut kinds: Vec<ChannelKind> = self.by_kind.keys().copied().collect();
        kinds.sort();
        kinds
    }
}
