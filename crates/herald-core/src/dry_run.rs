//! The arithmetic of a dry run's dedup: the verdict the worker's atomic admits would reach for
//! each message of a crowd, from what the store's windows hold (read, never counted) plus what
//! this crowd's own earlier messages would have added. The crowd's own counts are remembered
//! for a bounded number of keys.

use crate::policies::DedupChecks;
use std::collections::HashMap;

/// The most distinct dedup keys (content and frequency keys together: a crowd with both rules
/// has two per receiver) one dry run remembers its crowd's own counts for. A key costs about
/// 100 bytes (a 256-byte receiver's frequency key some 350), so this holds about 10 MB, 35 at
/// most. A key first seen after that counts only what the store holds, so a receiver repeated
/// in a crowd that large may be counted as sent more often than a real run would send to it;
/// the answer then says its repeats are not exact.
pub const MAX_TRACKED_KEYS: usize = 100_000;

/// Whether one more event is admitted under a limit: `stored` events in the store's window and
/// `earlier` ones admitted before it in this crowd. The store's atomic admit, as arithmetic.
pub fn admits(stored: u64, earlier: u64, limit: u32) -> bool {
    stored.saturating_add(earlier) < u64::from(limit)
}

/// What the store's windows hold for one message's checks (0 where it has no such check).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stored {
    pub content: u64,
    pub frequency: u64,
}

/// The events a crowd's earlier messages would have added, per dedup key.
#[derive(Debug)]
pub struct CrowdRepeats {
    admitted: HashMap<String, u64>,
    max_keys: usize,
    /// False once an admitted event could not be remembered.
    exact: bool,
}

impl Default for CrowdRepeats {
    fn default() -> Self {
        Self::bounded(MAX_TRACKED_KEYS)
    }
}

impl CrowdRepeats {
    fn bounded(max_keys: usize) -> Self {
        Self { admitted: HashMap::new(), max_keys, exact: true }
    }

    /// Whether the message with `checks` would pass dedup, given what the store holds for it and
    /// what this crowd's earlier messages added; counts what it adds, in the worker's order (its
    /// content event stays counted when the frequency check then refuses it).
    pub fn admit(&mut self, checks: &DedupChecks, stored: Stored) -> bool {
        if let Some(check) = &checks.content
            && !self.count(&check.key, stored.content, check.limit)
        {
            return false;
        }
        if let Some(check) = &checks.frequency
            && !self.count(&check.key, stored.frequency, check.limit)
        {
            return false;
        }
        true
    }

    fn count(&mut self, key: &str, stored: u64, limit: u32) -> bool {
        let earlier = self.admitted.get(key).copied().unwrap_or(0);
        if !admits(stored, earlier, limit) {
            return false;
        }
        if let Some(count) = self.admitted.get_mut(key) {
            *count += 1;
        } else if self.admitted.len() < self.max_keys {
            self.admitted.insert(key.to_string(), 1);
        } else {
            self.exact = false;
        }
        true
    }

    /// Whether every event admitted was remembered, so repeats within the crowd were counted
    /// exactly.
    pub fn exact(&self) -> bool {
        self.exact
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ChannelKind;
    use crate::policies::{FixedCheck, SlidingCheck};
    use chrono::{TimeZone, Utc};

    fn checks(content: Option<(&str, u32)>, frequency: Option<(&str, u32)>) -> DedupChecks {
        DedupChecks {
            content: content.map(|(key, limit)| SlidingCheck { key: key.into(), limit, window_secs: 300 }),
            frequency: frequency.map(|(key, limit)| FixedCheck {
                key: key.into(),
                bucket: "2026-06-01".into(),
                limit,
                expires_at: Utc.with_ymd_and_hms(2026, 6, 2, 0, 0, 0).unwrap(),
                channel: ChannelKind::Sms,
            }),
        }
    }

    #[test]
    fn a_limit_admits_while_stored_and_earlier_events_stay_below_it() {
        assert!(admits(0, 0, 1));
        assert!(!admits(1, 0, 1));
        assert!(!admits(0, 1, 1));
        assert!(admits(2, 2, 5));
        assert!(!admits(3, 2, 5));
        assert!(!admits(0, 0, 0), "a limit of zero admits nothing, as the store's admit");
        assert!(!admits(u64::MAX, 1, u32::MAX), "no overflow");
    }

    #[test]
    fn repeats_in_the_crowd_count_against_the_limit_with_what_is_stored() {
        let mut repeats = CrowdRepeats::default();
        let once = checks(Some(("c:a", 2)), None);
        // One event stored already: the first repeat passes, the second is refused.
        let stored = Stored { content: 1, frequency: 0 };
        assert_eq!([repeats.admit(&once, stored), repeats.admit(&once, stored)], [true, false]);
        // Another key has its own count; nothing at all to check always passes.
        assert!(repeats.admit(&checks(Some(("c:b", 2)), None), Stored::default()));
        assert!(repeats.admit(&checks(None, None), Stored::default()));
        assert!(repeats.exact());
    }

    #[test]
    fn a_content_event_stays_counted_when_frequency_refuses_as_in_the_worker() {
        let mut repeats = CrowdRepeats::default();
        let stored = Stored::default();
        // Frequency allows one a day; content allows two of each content.
        assert!(repeats.admit(&checks(Some(("c:x", 2)), Some(("f:r", 1))), stored));
        assert!(!repeats.admit(&checks(Some(("c:y", 2)), Some(("f:r", 1))), stored), "the day is full");
        assert!(!repeats.admit(&checks(Some(("c:y", 2)), Some(("f:r", 1))), stored));
        // Content y was admitted twice above (each then refused by frequency): a third is refused
        // by content already, even without a frequency rule.
        assert!(!repeats.admit(&checks(Some(("c:y", 2)), None), stored));
        // A content refusal adds nothing to the frequency count.
        let mut fresh = CrowdRepeats::default();
        let full = Stored { content: 2, frequency: 0 };
        assert!(!fresh.admit(&checks(Some(("c:z", 2)), Some(("f:s", 1))), full));
        assert!(fresh.admit(&checks(None, Some(("f:s", 1))), stored));
    }

    #[test]
    fn keys_beyond_the_bound_count_only_what_is_stored_and_the_answer_says_so() {
        let mut repeats = CrowdRepeats::bounded(2);
        let stored = Stored::default();
        for key in ["a", "b"] {
            assert!(repeats.admit(&checks(Some((key, 1)), None), stored));
        }
        assert!(repeats.exact(), "two keys fit");
        assert!(!repeats.admit(&checks(Some(("a", 1)), None), stored), "tracked keys keep counting");
        assert!(repeats.exact(), "a refusal adds nothing to remember");
        assert!(repeats.admit(&checks(Some(("c", 1)), None), stored));
        assert!(!repeats.exact(), "c's event could not be remembered");
        assert!(repeats.admit(&checks(Some(("c", 1)), None), stored), "so c's repeat passes: an overcount");
        let held = Stored { content: 1, frequency: 0 };
        assert!(!repeats.admit(&checks(Some(("c", 1)), None), held), "an untracked key counts what is stored");
    }
}
