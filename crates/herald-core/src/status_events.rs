//! Status events out: the event types an endpoint may receive, how each event is named (a stable
//! id, so a repeat is recognisable), when a batch is ready to go, and how long a failed batch
//! waits before it is tried again. Pure: the store queues events, the node's dispatcher posts
//! them.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// What an endpoint can receive: a message's final or receipt state, or a run's end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum EventType {
    #[serde(rename = "message.sent")]
    Sent,
    #[serde(rename = "message.failed")]
    Failed,
    #[serde(rename = "message.delivered")]
    Delivered,
    #[serde(rename = "message.undelivered")]
    Undelivered,
    #[serde(rename = "message.read")]
    Read,
    #[serde(rename = "message.recalled")]
    Recalled,
    #[serde(rename = "message.suppressed")]
    Suppressed,
    #[serde(rename = "run.finished")]
    RunFinished,
}

impl EventType {
    /// Every type, in the order the API lists them. The store's triggers name the same trace
    /// events (a test keeps them equal).
    pub const ALL: [EventType; 8] = [
        Self::Sent,
        Self::Failed,
        Self::Delivered,
        Self::Undelivered,
        Self::Read,
        Self::Recalled,
        Self::Suppressed,
        Self::RunFinished,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "message.sent",
            Self::Failed => "message.failed",
            Self::Delivered => "message.delivered",
            Self::Undelivered => "message.undelivered",
            Self::Read => "message.read",
            Self::Recalled => "message.recalled",
            Self::Suppressed => "message.suppressed",
            Self::RunFinished => "run.finished",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// The trace event a message type is raised by (`sent` for `message.sent`); None for a run's.
    pub fn trace_event(self) -> Option<&'static str> {
        self.as_str().strip_prefix("message.")
    }
}

/// A set of event types as the store keeps it: each between commas (`,message.sent,run.finished,`),
/// so that a trigger finds one with a plain substring test.
pub fn stored_types(types: &[EventType]) -> String {
    let mut out = String::from(",");
    for t in EventType::ALL.into_iter().filter(|t| types.contains(t)) {
        out.push_str(t.as_str());
        out.push(',');
    }
    out
}

/// The types a stored set names, in [`EventType::ALL`]'s order; unknown names are left out.
pub fn types_of(stored: &str) -> Vec<EventType> {
    let names: Vec<&str> = stored.split(',').collect();
    EventType::ALL.into_iter().filter(|t| names.contains(&t.as_str())).collect()
}

/// The id a message's event carries, however often it is sent: a message reaches each of these
/// states once.
pub fn message_event_id(message_id: &str, trace_event: &str) -> String {
    format!("{message_id}.{trace_event}")
}

/// The id of a run's `run.finished` event.
pub fn run_event_id(run_id: i64) -> String {
    format!("run-{run_id}.finished")
}

/// How events are batched and retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batching {
    /// The most events in one call: 1 to [`MAX_BATCH`].
    pub max_batch: usize,
    /// The longest an event waits for its batch to fill.
    pub max_wait: Duration,
    /// The wait after a first failed call; doubled after each further failure.
    pub first_backoff: Duration,
    /// The longest wait between tries.
    pub max_backoff: Duration,
}

/// The most events a call carries.
pub const MAX_BATCH: usize = 100;

impl Default for Batching {
    fn default() -> Self {
        Self {
            max_batch: MAX_BATCH,
            max_wait: Duration::seconds(10),
            first_backoff: Duration::seconds(10),
            max_backoff: Duration::hours(1),
        }
    }
}

/// What is waiting at the head of an endpoint's queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// Events due now, counted up to the batch size.
    pub due: usize,
    /// When the oldest of them happened.
    pub oldest_at: DateTime<Utc>,
    /// Whether any of them was tried before (a retry goes as soon as it is due).
    pub retried: bool,
}

impl Batching {
    /// Whether the due events go now: a full batch, one that waited `max_wait`, or a retry.
    pub fn ready(&self, head: &Head, now: DateTime<Utc>) -> bool {
        head.due > 0 && (head.due >= self.max_batch || head.retried || now - head.oldest_at >= self.max_wait)
    }

    /// The wait before the next try of a batch tried `attempts` times (1 after the first failure):
    /// `first_backoff` doubled per further failure, at most `max_backoff`.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(30);
        let wait = self.first_backoff.num_milliseconds().saturating_mul(1_i64 << doublings);
        Duration::milliseconds(wait.min(self.max_backoff.num_milliseconds()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn types_are_named_and_stored_between_commas() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
        assert_eq!(EventType::parse("message.accepted"), None);
        assert_eq!(EventType::Sent.trace_event(), Some("sent"));
        assert_eq!(EventType::RunFinished.trace_event(), None);
        let stored = stored_types(&[EventType::RunFinished, EventType::Sent, EventType::Sent]);
        assert_eq!(stored, ",message.sent,run.finished,");
        assert_eq!(types_of(&stored), [EventType::Sent, EventType::RunFinished]);
        assert_eq!(stored_types(&[]), ",");
        assert!(types_of(",").is_empty());
    }

    #[test]
    fn event_ids_are_stable() {
        assert_eq!(message_event_id("m-1", "sent"), "m-1.sent");
        assert_eq!(run_event_id(7), "run-7.finished");
    }

    #[test]
    fn a_batch_goes_when_full_or_old_enough_or_retried() {
        let b = Batching::default();
        let t0 = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
        let head = |due, retried| Head { due, oldest_at: t0, retried };
        assert!(!b.ready(&head(0, false), t0 + Duration::hours(1)), "nothing due");
        assert!(!b.ready(&head(99, false), t0 + Duration::seconds(9)));
        assert!(b.ready(&head(100, false), t0));
        assert!(b.ready(&head(1, false), t0 + Duration::seconds(10)));
        assert!(b.ready(&head(1, true), t0), "a retry waits no more");
    }

    #[test]
    fn backoff_doubles_up_to_its_limit() {
        let b = Batching::default();
        let secs: Vec<i64> = [1, 2, 3, 4, 9, 100, u32::MAX].map(|a| b.backoff(a).num_seconds()).to_vec();
        assert_eq!(secs, [10, 20, 40, 80, 2560, 3600, 3600]);
        assert_eq!(b.backoff(0).num_seconds(), 10);
    }
}
