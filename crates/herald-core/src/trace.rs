//! The events in a message's life, as recorded in its trace.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
}

impl TraceEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Sent => "sent",
            Self::Retrying => "retrying",
            Self::Failed => "failed",
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Sent | Self::Failed)
    }
}
