//! A funnel: what became of the messages of a run or of a template's day, stage by stage —
//! accepted, then dropped on purpose (by reason), held, sent or failed — with the failure
//! reasons ranked. Delivered, read and undelivered come from provider receipts; where none came
//! in, they are absent rather than guessed.

use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Funnel {
    /// Messages taken onto the bus: every message counted below, and those still on their way.
    pub accepted: i64,
    /// Accepted but in no state yet: queued on the bus or being sent.
    pub in_flight: i64,
    /// Held, not final: deferred for quiet hours or paused with their run.
    pub held: i64,
    /// Not sent on purpose, by final state (discarded, test_skipped, dropped_quiet_hours, ...).
    pub dropped: BTreeMap<String, i64>,
    pub sent: i64,
    pub failed: i64,
    /// Sent messages the provider confirmed delivered (or read); absent without receipts.
    pub delivered: Option<i64>,
    /// Delivered messages the receiver read; absent without receipts.
    pub read: Option<i64>,
    /// Sent messages the provider reported not delivered; absent without receipts.
    pub undelivered: Option<i64>,
    /// Why messages failed, the most frequent first.
    pub failures: Vec<FailureCount>,
}

/// Messages by what their receipts said: delivered (or read), read, undelivered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReceiptCounts {
    pub delivered: i64,
    pub read: i64,
    pub undelivered: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FailureCount {
    pub reason: String,
    pub count: i64,
}

impl Funnel {
    /// The funnel of messages counted by state (final states, `deferred` and `paused`), of
    /// which `published` were taken onto the bus when known (a run's published rows).
    pub fn of(states: &[(String, i64)], published: Option<i64>, failures: Vec<(String, i64)>) -> Self {
        let mut funnel = Funnel::default();
        for (state, count) in states {
            match state.as_str() {
                "sent" => funnel.sent += count,
                "failed" => funnel.failed += count,
                "deferred" | "paused" => funnel.held += count,
                other => *funnel.dropped.entry(other.to_string()).or_default() += count,
            }
        }
        let counted: i64 = states.iter().map(|(_, n)| n).sum();
        funnel.accepted = published.unwrap_or(counted).max(counted);
        funnel.in_flight = funnel.accepted - counted;
        funnel.failures = failures.into_iter().map(|(reason, count)| FailureCount { reason, count }).collect();
        funnel
    }

    /// With the receipts' counts (messages delivered or read, read, undelivered); left absent
    /// when no receipt came in.
    pub fn with_receipts(mut self, counts: ReceiptCounts) -> Self {
        if counts.delivered + counts.read + counts.undelivered > 0 {
            (self.delivered, self.read, self.undelivered) =
                (Some(counts.delivered), Some(counts.read), Some(counts.undelivered));
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(pairs: &[(&str, i64)]) -> Vec<(String, i64)> {
        pairs.iter().map(|(s, n)| (s.to_string(), *n)).collect()
    }

    #[test]
    fn each_state_lands_in_one_stage_and_the_rest_is_in_flight() {
        let states = counts(&[("sent", 90), ("failed", 4), ("test_skipped", 3), ("discarded", 1), ("deferred", 2)]);
        let funnel = Funnel::of(&states, Some(105), vec![("HTTP 500".into(), 4)]);
        assert_eq!((funnel.accepted, funnel.in_flight, funnel.held), (105, 5, 2));
        assert_eq!((funnel.sent, funnel.failed), (90, 4));
        assert_eq!(funnel.dropped, BTreeMap::from([("discarded".into(), 1), ("test_skipped".into(), 3)]));
        assert_eq!(funnel.failures, [FailureCount { reason: "HTTP 500".into(), count: 4 }]);
        assert_eq!((funnel.delivered, funnel.read), (None, None), "no receipts yet");
        let none = funnel.clone().with_receipts(ReceiptCounts::default());
        assert_eq!((none.delivered, none.read, none.undelivered), (None, None, None), "none came in");
        let counts = ReceiptCounts { delivered: 3, read: 1, undelivered: 0 };
        let some = funnel.with_receipts(counts);
        assert_eq!((some.delivered, some.read, some.undelivered), (Some(3), Some(1), Some(0)));
    }

    #[test]
    fn without_a_published_count_every_message_counted_was_accepted() {
        let funnel = Funnel::of(&counts(&[("sent", 3)]), None, vec![]);
        assert_eq!((funnel.accepted, funnel.in_flight), (3, 0));
        // A published count below what was counted (a retention purge) never goes negative.
        assert_eq!(Funnel::of(&counts(&[("sent", 3)]), Some(1), vec![]).in_flight, 0);
    }
}
