//! Delivery receipts: what a provider reports after a send, that the message reached the
//! receiver, did not, or was read. A receipt names its message either by herald's message id
//! (which the send handed the provider: Aliyun's `OutId`) or by the provider's own id that the
//! send recorded (Tencent's `SerialNo`, reported as `sid`). Each lands in the trace once per
//! message and state, so repeated and out-of-order receipts are harmless; one that names no
//! sent message is kept apart and reported, never dropped silently.

use crate::TraceEvent;
use serde::Serialize;

/// What a receipt says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptState {
    Delivered,
    Undelivered,
    Read,
}

impl ReceiptState {
    /// The trace event it is recorded as.
    pub fn event(self) -> TraceEvent {
        match self {
            Self::Delivered => TraceEvent::Delivered,
            Self::Undelivered => TraceEvent::Undelivered,
            Self::Read => TraceEvent::Read,
        }
    }

    pub fn as_str(self) -> &'static str {
        self.event().as_str()
    }
}

/// How a receipt names its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceiptKey {
    /// herald's message id, echoed by the provider.
    Message(String),
    /// The provider's id of the message: the detail its send recorded, in [`provider_detail`]'s
    /// words, under any of these supplier names.
    Provider { suppliers: Vec<String>, id: String },
    /// A message of a provider's task that went to many receivers (a Getui list push): sent to
    /// `receiver`, its send having recorded one of `details`; `id` is the task's, for the
    /// unmatched list.
    Task { details: Vec<String>, receiver: String, id: String },
}

/// One receipt as a provider pushed (or answered) it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// Who reported it (`tencent`, `aliyun`), for the unmatched list.
    pub provider: String,
    pub key: ReceiptKey,
    pub state: ReceiptState,
    /// The provider's status code (`DELIVRD`, `MK:0001`), kept as the trace event's detail.
    pub code: Option<String>,
}

impl Receipt {
    /// The reference shown for a receipt that names no sent message.
    pub fn reference(&self) -> &str {
        match &self.key {
            ReceiptKey::Message(id) => id,
            ReceiptKey::Provider { id, .. } | ReceiptKey::Task { id, .. } => id,
        }
    }
}

/// How a batch of receipts went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptTally {
    /// New in a message's trace.
    pub recorded: u64,
    /// Already in the trace (a provider's repeat).
    pub repeated: u64,
    /// Naming no sent message: kept in the unmatched list.
    pub unmatched: u64,
}

impl std::ops::AddAssign for ReceiptTally {
    fn add_assign(&mut self, other: Self) {
        self.recorded += other.recorded;
        self.repeated += other.repeated;
        self.unmatched += other.unmatched;
    }
}

/// The detail a send records for the provider's id of the message, `{supplier}: {id}`, which
/// a receipt naming that id is matched by.
pub fn provider_detail(supplier: &str, id: &str) -> String {
    format!("{supplier}: {id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipts_are_traced_as_their_own_events() {
        let states = [ReceiptState::Delivered, ReceiptState::Undelivered, ReceiptState::Read];
        let names: Vec<&str> = states.iter().map(|s| s.as_str()).collect();
        assert_eq!(names, ["delivered", "undelivered", "read"]);
        assert!(states.iter().all(|s| !s.event().is_terminal()), "the ledger keeps `sent`");
        assert_eq!(provider_detail("tencent#2", "5000:10"), "tencent#2: 5000:10");
    }
}
