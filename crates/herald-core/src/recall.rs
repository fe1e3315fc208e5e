//! Recall: what an operator's request to take messages back answers for each message, and how
//! many one request may name (as austin's send API).

use serde::Serialize;

/// The most message ids one recall request names.
pub const MAX_RECALL_IDS: usize = 100;

/// The trace detail of a message recalled before any worker sent it.
pub const RECALLED_BEFORE_SENDING: &str = "recalled before it was sent";

/// How the recall of one message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecallOutcome {
    /// Taken back: not sent and now never will be, or recalled by the provider.
    Recalled,
    /// Its channel or provider cannot take it back, or it was never sent (failed, dropped).
    NotRecallable,
    /// Being sent right now, or past the provider's recall window.
    TooLate,
    /// The provider's recall failed for a passing reason: asking again may work.
    Failed,
    /// No message of that template has this id.
    NotFound,
}

impl RecallOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Recalled => "recalled",
            Self::NotRecallable => "not_recallable",
            Self::TooLate => "too_late",
            Self::Failed => "failed",
            Self::NotFound => "not_found",
        }
    }
}
