//! The life of a crowd run and the progress figures shown while it streams.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Created by a fire, waiting for a streamer.
    Pending,
    /// A streamer is reading the crowd file and publishing batches.
    Streaming,
    /// Every batch is on the bus; workers are still delivering.
    Published,
    /// Every valid row has reached a final state.
    Completed,
    /// The run could not stream (its crowd file is gone, for example).
    Failed,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Streaming => "streaming",
            Self::Published => "published",
            Self::Completed => "completed",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Self::Pending,
            "streaming" => Self::Streaming,
            "published" => Self::Published,
            "completed" => Self::Completed,
            "failed" => Self::Failed,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunProgress {
    pub id: i64,
    pub template_id: i64,
    pub status: RunStatus,
    /// Rows in the crowd file when the run was created (known from the upload).
    pub rows_total: i64,
    /// Rows read so far (valid and invalid).
    pub rows_read: i64,
    /// Rows skipped because they were invalid.
    pub rows_invalid: i64,
    pub batches: i64,
    pub delivered: i64,
    pub failed: i64,
    /// Rows dropped by a policy (quiet hours, dedup, discard list).
    pub dropped: i64,
    /// Rows held until their quiet hours end (not yet final).
    pub deferred: i64,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub error: Option<String>,
}

impl RunProgress {
    /// Share of rows in a final state, 0.0 to 1.0.
    pub fn fraction_done(&self) -> f64 {
        if self.rows_total <= 0 {
            return if self.status == RunStatus::Completed { 1.0 } else { 0.0 };
        }
        let done = self.delivered + self.failed + self.dropped + self.rows_invalid;
        (done as f64 / self.rows_total as f64).min(1.0)
    }
}
