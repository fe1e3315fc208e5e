//! The life of a crowd run, the progress figures shown while it streams, and the rules that
//! count a message's final state into its run and say when the run is complete.

use crate::trace::TraceEvent;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The trace detail of a message that was not sent because its run was cancelled.
pub const CANCELLED_REASON: &str = "its run was cancelled";

/// The trace detail of a message held because its run was paused.
pub const PAUSED_REASON: &str = "its run was paused; sent when it is resumed";

/// How long after a pause or cancel is committed every worker has seen it: a worker reads a
/// run's state at most this long before each send of it, so the answer waits this long and from
/// then on no send of the run starts (the sends already in flight finish).
pub const RUN_CONTROL_SEEN_WITHIN: std::time::Duration = std::time::Duration::from_millis(500);

/// Whether a run's messages may be sent now, as a worker asks before each send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunSendState {
    /// Send as usual (also a run the store no longer has: its template's checks decide).
    Open,
    /// Hold its messages until an operator resumes it.
    Paused,
    /// End its messages as `cancelled`, unsent. Final: a cancelled run never sends again.
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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
    /// Stopped by an operator: nothing more of it is sent; its queued and deferred messages
    /// end as `cancelled`.
    Cancelled,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Streaming => "streaming",
            Self::Published => "published",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    /// Whether the run has ended: nothing of it is streamed or sent any more.
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }

    /// Why an operator cannot pause, resume or cancel this run (`action` is the past
    /// participle: "cancelled"), or None when they can: only a run that has not ended.
    pub fn refuses_control(self, action: &str) -> Option<String> {
        self.is_finished()
            .then(|| format!("the run is {}; only a run that has not ended can be {action}", self.as_str()))
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Self::Pending,
            "streaming" => Self::Streaming,
            "published" => Self::Published,
            "completed" => Self::Completed,
            "failed" => Self::Failed,
            "cancelled" => Self::Cancelled,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunProgress {
    pub id: i64,
    /// Every message id of the run is this followed by its data row (1-based).
    pub message_id_prefix: String,
    pub template_id: i64,
    /// The crowd file it sends to.
    pub crowd_id: String,
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
    /// Rows dropped by a policy (quiet hours, dedup, discard list) or by a cancel.
    pub dropped: i64,
    /// Rows held until their quiet hours end (not yet final).
    pub deferred: i64,
    /// Rows held because the run is paused (not yet final), sent when it is resumed.
    pub held: i64,
    /// When an operator paused the run; None while it sends (or once resumed).
    pub paused_at: Option<DateTime<Utc>>,
    /// The scheduled time of the fire that started it; None for a run started now (console,
    /// API or CLI).
    pub fire_time: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub error: Option<String>,
    /// The run whose failed messages this run resends; None for a template's own run.
    pub resend_of: Option<i64>,
}

impl RunProgress {
    /// Why this run's failed messages cannot be resent now, if they cannot: a run that has not
    /// ended may still fail more (or send what failed on a retry), and a run without failures has
    /// nothing to resend. The failures themselves are read from the ledger, which keeps them
    /// for its retention time.
    pub fn resend_refusal(&self) -> Option<String> {
        if !self.status.is_finished() {
            let status = self.shown_status();
            return Some(format!("run {} has not ended ({status}); resend its failed messages once it has", self.id));
        }
        (self.failed == 0).then(|| format!("run {} has no failed messages to resend", self.id))
    }

    /// Whether an operator paused the run and it has not ended: its messages are held.
    pub fn is_paused(&self) -> bool {
        self.paused_at.is_some() && !self.status.is_finished()
    }

    /// Every status [`RunProgress::shown_status`] gives, in a run's order: what lists filter by.
    pub const SHOWN_STATUSES: [&'static str; 7] =
        ["pending", "streaming", "published", "paused", "completed", "failed", "cancelled"];

    /// The status to show a person: `paused` while paused; `failed` for a completed run that
    /// delivered nothing and failed some (not a green 100%); else the stored status. The store
    /// filters by the same rule in SQL (`SHOWN_STATUS` in herald-store's runs.rs).
    pub fn shown_status(&self) -> &'static str {
        if self.is_paused() {
            "paused"
        } else if self.status == RunStatus::Completed && self.delivered == 0 && self.failed > 0 {
            "failed"
        } else {
            self.status.as_str()
        }
    }

    /// Share of rows in a final state, 0.0 to 1.0.
    pub fn fraction_done(&self) -> f64 {
        if self.rows_total <= 0 {
            return if self.status == RunStatus::Completed { 1.0 } else { 0.0 };
        }
        let done = self.delivered + self.failed + self.dropped + self.rows_invalid;
        (done as f64 / self.rows_total as f64).min(1.0)
    }
}

/// A run's messages that reached a final state, by the counter each one goes to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunCounts {
    pub delivered: i64,
    pub failed: i64,
    /// Dropped by a policy (quiet hours, dedup, discard list) or by a cancel.
    pub dropped: i64,
}

impl RunCounts {
    /// Counts one message's final state: sent is delivered, failed is failed, and every other
    /// final state is a policy's drop. An event that is not final counts nowhere.
    pub fn count(&mut self, event: TraceEvent) {
        match event {
            TraceEvent::Sent => self.delivered += 1,
            TraceEvent::Failed => self.failed += 1,
            e if e.is_terminal() => self.dropped += 1,
            _ => {}
        }
    }

    /// Messages in a final state, of every kind.
    pub fn total(&self) -> i64 {
        self.delivered + self.failed + self.dropped
    }
}

/// The figures that decide whether a run is complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunTally {
    pub status: RunStatus,
    pub rows_read: i64,
    pub rows_invalid: i64,
    pub counts: RunCounts,
}

impl RunTally {
    /// A run completes once it is published (every batch is on the bus) and every valid row it
    /// read has reached a final state. Deferred rows are not final, so they hold it open.
    pub fn is_complete(&self) -> bool {
        self.status == RunStatus::Published && self.counts.total() + self.rows_invalid >= self.rows_read
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_final_state_counts_into_one_counter_and_other_events_into_none() {
        let mut counts = RunCounts::default();
        for event in TraceEvent::TERMINAL {
            counts.count(event);
        }
        assert_eq!(counts, RunCounts { delivered: 1, failed: 1, dropped: 6 });
        for event in [TraceEvent::Accepted, TraceEvent::Retrying, TraceEvent::Deferred] {
            counts.count(event);
        }
        assert_eq!(counts, RunCounts { delivered: 1, failed: 1, dropped: 6 }, "not final");
        assert_eq!(counts.total(), 8);
    }

    #[test]
    fn only_a_run_that_has_not_ended_can_be_paused_resumed_or_cancelled() {
        for status in [RunStatus::Pending, RunStatus::Streaming, RunStatus::Published] {
            assert_eq!(status.refuses_control("cancelled"), None, "{status:?}");
            assert!(!status.is_finished());
        }
        for status in [RunStatus::Completed, RunStatus::Failed, RunStatus::Cancelled] {
            let refusal = status.refuses_control("paused").expect("refused");
            assert!(refusal.contains(status.as_str()) && refusal.ends_with("can be paused"), "{refusal}");
            assert!(status.is_finished());
        }
        assert_eq!(RunStatus::parse("cancelled"), Some(RunStatus::Cancelled));
    }

    /// A published run of ten rows, none of them final yet.
    fn published_run(id: i64) -> RunProgress {
        RunProgress {
            id,
            message_id_prefix: format!("i-r{id}-"),
            template_id: 1,
            crowd_id: "c".into(),
            status: RunStatus::Published,
            rows_total: 10,
            rows_read: 10,
            rows_invalid: 0,
            batches: 1,
            delivered: 0,
            failed: 0,
            dropped: 0,
            deferred: 0,
            held: 0,
            paused_at: None,
            fire_time: None,
            created_at: DateTime::UNIX_EPOCH,
            finished_at: None,
            error: None,
            resend_of: None,
        }
    }

    #[test]
    fn a_paused_run_shows_as_paused_until_it_ends() {
        let mut run = published_run(1);
        run.held = 10;
        assert_eq!((run.is_paused(), run.shown_status()), (false, "published"));
        run.paused_at = Some(DateTime::UNIX_EPOCH);
        assert_eq!((run.is_paused(), run.shown_status()), (true, "paused"));
        run.status = RunStatus::Cancelled;
        assert_eq!((run.is_paused(), run.shown_status()), (false, "cancelled"), "an ended run is what it ended as");
        run.status = RunStatus::Completed;
        run.failed = 10;
        assert_eq!(run.shown_status(), "failed", "every message failed: not shown as a green 100%");
        run.delivered = 1;
        assert_eq!(run.shown_status(), "completed");
    }

    #[test]
    fn only_an_ended_run_with_failures_can_be_resent() {
        let mut run = published_run(7);
        (run.delivered, run.failed) = (6, 4);
        let refusal = run.resend_refusal().expect("still sending");
        assert!(refusal.contains("run 7 has not ended (published)"), "{refusal}");
        run.paused_at = Some(DateTime::UNIX_EPOCH);
        assert!(run.resend_refusal().expect("paused").contains("(paused)"));
        for status in [RunStatus::Completed, RunStatus::Failed, RunStatus::Cancelled] {
            run.status = status;
            assert_eq!(run.resend_refusal(), None, "{status:?}");
        }
        run.failed = 0;
        assert_eq!(run.resend_refusal().as_deref(), Some("run 7 has no failed messages to resend"));
    }

    #[test]
    fn a_run_completes_when_published_and_every_valid_row_read_is_final() {
        let tally = |status, rows_read, rows_invalid, delivered| RunTally {
            status,
            rows_read,
            rows_invalid,
            counts: RunCounts { delivered, failed: 0, dropped: 0 },
        };
        assert!(tally(RunStatus::Published, 5, 1, 4).is_complete());
        assert!(!tally(RunStatus::Published, 5, 1, 3).is_complete(), "one valid row still open");
        assert!(!tally(RunStatus::Streaming, 5, 1, 4).is_complete(), "more rows may come");
        assert!(tally(RunStatus::Published, 0, 0, 0).is_complete(), "an empty crowd");
        for status in [RunStatus::Pending, RunStatus::Completed, RunStatus::Failed, RunStatus::Cancelled] {
            assert!(!tally(status, 5, 0, 5).is_complete(), "{status:?} is not completed again");
        }
        let mut mixed = tally(RunStatus::Published, 4, 0, 1);
        for event in [TraceEvent::Failed, TraceEvent::DroppedDedup] {
            mixed.counts.count(event);
        }
        assert!(!mixed.is_complete());
        mixed.counts.count(TraceEvent::Discarded);
        assert!(mixed.is_complete());
    }
}
