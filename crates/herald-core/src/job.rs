//! What travels on the bus: one batch of receivers for one template, and where it came from.

use crate::batching::Batch;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobOrigin {
    /// A batch streamed from a crowd run.
    Run { run_id: i64 },
    /// A batch accepted by the send API.
    Api { request_id: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryJob {
    pub template_id: i64,
    pub origin: JobOrigin,
    pub batch: Batch,
    /// Released after quiet hours: not deferred again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub released: bool,
}

impl DeliveryJob {
    pub fn run_id(&self) -> Option<i64> {
        match self.origin {
            JobOrigin::Run { run_id } => Some(run_id),
            JobOrigin::Api { .. } => None,
        }
    }

    /// The bus key: keeps one receiver's messages of one template in order on keyed buses.
    pub fn key(&self) -> String {
        let first =
            self.batch.items.first().and_then(|i| i.recipients.first()).map(|r| r.receiver.as_str()).unwrap_or("");
        format!("{}:{first}", self.template_id)
    }
}

/// The bus topic a channel's jobs travel on.
pub fn topic_for(channel: crate::ChannelKind) -> String {
    format!("herald.{}", channel.as_str())
}

/// Schedule kinds other than templates' (housekeeping jobs).
pub mod schedule_kinds {
    /// A template's cron.
    pub const TEMPLATE: &str = "template";
    /// Refreshes a channel account's access token ahead of expiry.
    pub const TOKEN_REFRESH: &str = "token_refresh";
    /// Publishes messages whose quiet hours are over.
    pub const QUIET_RELEASE: &str = "quiet_release";
    /// Deletes trace, ledger and outbox rows past the retention period.
    pub const RETENTION: &str = "retention";
}
