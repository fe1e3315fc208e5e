//! The events in a message's life, as recorded in its trace.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TraceEvent {
    /// Taken onto the bus (by a run or the send API).
    Accepted,
    /// Handed to the channel and confirmed.
    Sent,
    /// A send attempt failed and will be retried.
    Retrying,
    /// Failed for good.
    Failed,
    /// Held for the end of the template's quiet hours; sent (or not) when released.
    Deferred,
    /// Held because its run was paused; sent (or not) when the run is resumed.
    Paused,
    /// Dropped because it fell in the template's quiet hours under the `drop` policy.
    DroppedQuietHours,
    /// Dropped by a dedup rule (same content too often, or too many per day).
    DroppedDedup,
    /// Dropped because its template is on the discard list.
    Discarded,
    /// Not sent because its run was cancelled.
    Cancelled,
    /// Not sent because its template is in test mode and the receiver is not one it lists.
    TestSkipped,
    /// Not sent because the receiver is on the suppression list for this channel and kind.
    Suppressed,
    /// Taken back from the receiver after it was sent (the provider's recall), on an
    /// operator's request. The ledger keeps `sent`: it was sent.
    Recalled,
    /// The provider's receipt: it reached the receiver's device or mailbox.
    Delivered,
    /// The provider's receipt: it did not reach the receiver (the detail has the provider's code).
    Undelivered,
    /// The provider's receipt: the receiver read it.
    Read,
}

impl TraceEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Sent => "sent",
            Self::Retrying => "retrying",
            Self::Failed => "failed",
            Self::Deferred => "deferred",
            Self::Paused => "paused",
            Self::DroppedQuietHours => "dropped_quiet_hours",
            Self::DroppedDedup => "dropped_dedup",
            Self::Discarded => "discarded",
            Self::Cancelled => "cancelled",
            Self::TestSkipped => "test_skipped",
            Self::Suppressed => "suppressed",
            Self::Recalled => "recalled",
            Self::Delivered => "delivered",
            Self::Undelivered => "undelivered",
            Self::Read => "read",
        }
    }

    /// The terminal state called `name`, if it is one.
    pub fn terminal(name: &str) -> Option<Self> {
        Self::TERMINAL.into_iter().find(|e| e.as_str() == name)
    }

    /// Every message ends in exactly one of these.
    pub fn is_terminal(self) -> bool {
        Self::TERMINAL.contains(&self)
    }

    /// Terminal states that mean the message was not sent on purpose (a policy or an
    /// operator's cancel, not a fault).
    pub fn is_dropped(self) -> bool {
        matches!(
            self,
            Self::DroppedQuietHours
                | Self::DroppedDedup
                | Self::Discarded
                | Self::Cancelled
                | Self::TestSkipped
                | Self::Suppressed
        )
    }

    pub const TERMINAL: [TraceEvent; 8] = [
        Self::Sent,
        Self::Failed,
        Self::DroppedQuietHours,
        Self::DroppedDedup,
        Self::Discarded,
        Self::Cancelled,
        Self::TestSkipped,
        Self::Suppressed,
    ];
}
