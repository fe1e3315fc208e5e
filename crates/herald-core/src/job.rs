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
    /// Its messages passed every screen (quiet hours and dedup) before they were held for a
    /// paused run: they are sent as they are, not counted by dedup a second time.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub admitted: bool,
}

/// How far a held message was screened before it was held, so its next handling skips what
/// it already passed: quiet hours are screened first, dedup last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Screened {
    /// Not yet screened.
    Not,
    /// Past its quiet hours (released, or held after they were checked); dedup still to come.
    QuietHours,
    /// Past every screen: sent as it is.
    Fully,
}

impl Screened {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Not => "not",
            Self::QuietHours => "quiet_hours",
            Self::Fully => "fully",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "not" => Self::Not,
            "quiet_hours" => Self::QuietHours,
            "fully" => Self::Fully,
            _ => return None,
        })
    }

    /// What a job's messages have passed.
    pub fn of(job: &DeliveryJob) -> Self {
        match (job.released, job.admitted) {
            (_, true) => Self::Fully,
            (true, false) => Self::QuietHours,
            (false, false) => Self::Not,
        }
    }

    /// The job flags `(released, admitted)` that make a handling skip what was passed.
    pub fn job_flags(self) -> (bool, bool) {
        (self >= Self::QuietHours, self == Self::Fully)
    }
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

/// What a schedule row runs when it fires: a template's crowd send, or one of the node's
/// housekeeping jobs. Stored as its `as_str` name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleKind {
    /// A template's cron: a fire creates a run of its crowd.
    Template,
    /// Refreshes a channel account's access token ahead of expiry.
    TokenRefresh,
    /// Publishes messages whose quiet hours are over.
    QuietRelease,
    /// Deletes trace, ledger and outbox rows past the retention period.
    Retention,
    /// Asks providers for delivery receipts (Tencent and Aliyun SMS, DingTalk work notices,
    /// Feishu app-bot messages).
    ReceiptPull,
    /// A user's scheduled job (an HTTP call): a fire is one run of it.
    Job,
    /// Sends the node's alarm receivers how the last day's fires went.
    DailyReport,
}

impl ScheduleKind {
    pub const ALL: [ScheduleKind; 7] = [
        ScheduleKind::Template,
        ScheduleKind::TokenRefresh,
        ScheduleKind::QuietRelease,
        ScheduleKind::Retention,
        ScheduleKind::ReceiptPull,
        ScheduleKind::Job,
        ScheduleKind::DailyReport,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ScheduleKind::Template => "template",
            ScheduleKind::TokenRefresh => "token_refresh",
            ScheduleKind::QuietRelease => "quiet_release",
            ScheduleKind::Retention => "retention",
            ScheduleKind::ReceiptPull => "receipt_pull",
            ScheduleKind::Job => "job",
            ScheduleKind::DailyReport => "daily_report",
        }
    }

    /// The kind a stored name names; None for a name this version does not know.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl std::fmt::Display for ScheduleKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::{Batch, DeliveryJob, JobOrigin, ScheduleKind, Screened};

    #[test]
    fn schedule_kinds_read_back_their_names() {
        for kind in ScheduleKind::ALL {
            assert_eq!(ScheduleKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(ScheduleKind::parse("key_rotation"), None);
    }

    #[test]
    fn a_held_message_skips_on_release_only_what_it_passed() {
        let mut job = DeliveryJob {
            template_id: 1,
            origin: JobOrigin::Run { run_id: 2 },
            batch: Batch { items: vec![] },
            released: false,
            admitted: false,
        };
        for level in [Screened::Not, Screened::QuietHours, Screened::Fully] {
            (job.released, job.admitted) = level.job_flags();
            assert_eq!(Screened::of(&job), level);
            assert_eq!(Screened::parse(level.as_str()), Some(level));
        }
        let old = r#"{"template_id":1,"origin":{"kind":"run","run_id":2},"batch":{"items":[]},"released":true}"#;
        let read: DeliveryJob = serde_json::from_str(old).unwrap();
        assert_eq!(Screened::of(&read), Screened::QuietHours, "a job from before `admitted` reads as it was");
    }
}
