//! The in-memory ledger of one topic consumer: messages received but not yet settled, per
//! partition, and the offset each partition may commit. Pure, no Kafka calls, so the commit rule
//! is unit-tested here: a partition commits the first offset it has not settled (or one past the
//! last received when all are settled), so a commit never moves past an unacked message.

use std::collections::{BTreeMap, BTreeSet};

/// Bits of a lease that hold the claim sequence; the partition sits above them.
const SEQ_BITS: u32 = 40;
const SEQ_MASK: i64 = (1 << SEQ_BITS) - 1;

/// A lease names one claim of one message: the partition in the high bits (so `ack` can find
/// the message from `BusClaim { id: offset, lease }` alone) and a per-bus claim sequence below.
pub(crate) fn lease_for(partition: i32, seq: i64) -> i64 {
    (i64::from(partition) << SEQ_BITS) | (seq & SEQ_MASK)
}

/// The partition a lease was issued for; negative leases never come from this bus.
pub(crate) fn lease_partition(lease: i64) -> Option<i32> {
    if lease < 0 { None } else { i32::try_from(lease >> SEQ_BITS).ok() }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// Waiting for its `herald-not-before` time; not handed out yet.
    Delayed { not_before_ms: i64 },
    /// Handed out under `lease` until `deadline_ms`, then handed out again.
    InFlight { lease: i64, deadline_ms: i64 },
    /// A retry or dead letter is producing its copy; not handed out meanwhile.
    Settling { lease: i64, deadline_ms: i64 },
}

#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub key: String,
    pub payload: Vec<u8>,
    pub attempts: u32,
    pub status: Status,
}

/// One message handed to a claimer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Handout {
    pub partition: i32,
    pub offset: i64,
    pub key: String,
    pub payload: Vec<u8>,
    pub attempts: u32,
    pub lease: i64,
}

/// What one sweep of the ledger found.
#[derive(Debug, Default)]
pub(crate) struct Sweep {
    /// Due delayed messages and lapsed claims, handed out again.
    pub handed: Vec<Handout>,
    /// Lapsed claims on their last attempt, now `Settling`: the caller dead-letters them.
    pub exhausted: Vec<Handout>,
}

/// Settling refused: the claim is no longer current (lapsed and re-claimed, or its partition
/// was revoked and the message is someone else's now).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Lost;

#[derive(Debug, Default)]
struct PartitionLedger {
    outstanding: BTreeMap<i64, Entry>,
    /// One past the last offset received since the partition was assigned.
    received_to: Option<i64>,
    /// The last position handed to a commit.
    committed: Option<i64>,
}

impl PartitionLedger {
    /// The position to commit if it moved forward since the last commit.
    fn advance(&mut self) -> Option<i64> {
        let pos = self.outstanding.keys().next().copied().or(self.received_to)?;
        if self.committed.is_some_and(|c| c >= pos) {
            return None;
        }
        self.committed = Some(pos);
        Some(pos)
    }
}

#[derive(Debug, Default)]
pub(crate) struct Ledger {
    partitions: BTreeMap<i32, PartitionLedger>,
    assigned: BTreeSet<i32>,
    /// Whether the consumer's partitions are paused because too many messages are delayed.
    pub paused: bool,
}

impl Ledger {
    /// A (re)assignment starts each partition afresh: Kafka resumes it from the committed offset.
    pub fn assign(&mut self, partitions: &[i32]) {
        for p in partitions {
            self.partitions.remove(p);
            self.assigned.insert(*p);
        }
        self.paused = false;
    }

    /// Forgets revoked partitions: their unsettled messages go to the next owner. Returns the
    /// positions last committed, for a final synchronous commit.
    pub fn revoke(&mut self, partitions: &[i32]) -> Vec<(i32, i64)> {
        let mut last = Vec::new();
        for p in partitions {
            self.assigned.remove(p);
            if let Some(pos) = self.partitions.remove(p).and_then(|l| l.committed) {
                last.push((*p, pos));
            }
        }
        last
    }

    pub fn assigned(&self) -> Vec<i32> {
        self.assigned.iter().copied().collect()
    }

    /// Records a received message. A delayed one is held; otherwise it is handed out at once
    /// under `lease` and returned.
    pub fn receive(&mut self, partition: i32, offset: i64, entry: Entry) -> Option<Handout> {
        let ledger = self.partitions.entry(partition).or_default();
        // Where this assignment started: already committed (or the reset point), no progress.
        ledger.committed.get_or_insert(offset);
        ledger.received_to = Some(ledger.received_to.map_or(offset + 1, |r| r.max(offset + 1)));
        let handout = match entry.status {
            Status::InFlight { lease, .. } => Some(Handout {
                partition,
                offset,
                key: entry.key.clone(),
                payload: entry.payload.clone(),
                attempts: entry.attempts,
                lease,
            }),
            Status::Delayed { .. } | Status::Settling { .. } => None,
        };
        ledger.outstanding.insert(offset, entry);
        handout
    }

    /// Hands out up to `max` due delayed messages and lapsed claims, oldest offset first per
    /// partition. A lapsed claim counts as another attempt; one already at `max_attempts` is
    /// returned in `exhausted` instead, as a poison message that kills its consumer must not
    /// circulate forever.
    pub fn sweep(
        &mut self,
        now_ms: i64,
        max: usize,
        deadline_ms: i64,
        max_attempts: u32,
        next_seq: &mut dyn FnMut() -> i64,
    ) -> Sweep {
        let mut sweep = Sweep::default();
        for (&partition, ledger) in &mut self.partitions {
            for (&offset, entry) in &mut ledger.outstanding {
                if sweep.handed.len() >= max {
                    return sweep;
                }
                let lapsed = match entry.status {
                    Status::Delayed { not_before_ms } if not_before_ms <= now_ms => false,
                    Status::InFlight { deadline_ms: d, .. } if d <= now_ms => true,
                    _ => continue,
                };
                let lease = lease_for(partition, next_seq());
                let exhausted = lapsed && entry.attempts >= max_attempts;
                if exhausted {
                    entry.status = Status::Settling { lease, deadline_ms };
                } else {
                    if lapsed {
                        entry.attempts = entry.attempts.saturating_add(1);
                    }
                    entry.status = Status::InFlight { lease, deadline_ms };
                }
                let handout = Handout {
                    partition,
                    offset,
                    key: entry.key.clone(),
                    payload: entry.payload.clone(),
                    attempts: entry.attempts,
                    lease,
                };
                if exhausted { sweep.exhausted.push(handout) } else { sweep.handed.push(handout) }
            }
        }
        sweep
    }

    /// Pushes a current claim's deadline to `deadline_ms` (its holder is still working on it).
    pub fn extend(&mut self, partition: i32, offset: i64, lease: i64, deadline_ms: i64) -> Result<(), Lost> {
        let entry = self.entry_mut(partition, offset)?;
        match entry.status {
            Status::InFlight { lease: l, .. } if l == lease => {
                entry.status = Status::InFlight { lease, deadline_ms };
                Ok(())
            }
            _ => Err(Lost),
        }
    }

    /// Holds a claimed message while its retry or dead-letter copy is produced.
    pub fn begin_settle(&mut self, partition: i32, offset: i64, lease: i64) -> Result<(), Lost> {
        let entry = self.entry_mut(partition, offset)?;
        match entry.status {
            Status::InFlight { lease: l, deadline_ms } if l == lease => {
                entry.status = Status::Settling { lease, deadline_ms };
                Ok(())
            }
            _ => Err(Lost),
        }
    }

    /// The copy could not be produced: the claim is current again.
    pub fn abort_settle(&mut self, partition: i32, offset: i64, lease: i64) {
        if let Ok(entry) = self.entry_mut(partition, offset)
            && let Status::Settling { lease: l, deadline_ms } = entry.status
            && l == lease
        {
            entry.status = Status::InFlight { lease, deadline_ms };
        }
    }

    /// Marks a claimed message handled. Returns the partition's new commit position when it
    /// moved: the first offset still unsettled, or one past the last received.
    pub fn settle(&mut self, partition: i32, offset: i64, lease: i64) -> Result<Option<i64>, Lost> {
        let entry = self.entry_mut(partition, offset)?;
        match entry.status {
            Status::InFlight { lease: l, .. } | Status::Settling { lease: l, .. } if l == lease => {}
            _ => return Err(Lost),
        }
        let ledger = self.partitions.get_mut(&partition).ok_or(Lost)?;
        ledger.outstanding.remove(&offset);
        Ok(ledger.advance())
    }

    /// Held for a future not-before time.
    pub fn delayed(&self) -> usize {
        self.count(|s| matches!(s, Status::Delayed { .. }))
    }

    /// Handed out and not yet settled.
    pub fn in_flight(&self) -> usize {
        self.count(|s| !matches!(s, Status::Delayed { .. }))
    }

    fn count(&self, f: impl Fn(&Status) -> bool) -> usize {
        self.partitions.values().flat_map(|l| l.outstanding.values()).filter(|e| f(&e.status)).count()
    }

    fn entry_mut(&mut self, partition: i32, offset: i64) -> Result<&mut Entry, Lost> {
        self.partitions.get_mut(&partition).and_then(|l| l.outstanding.get_mut(&offset)).ok_or(Lost)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(status: Status) -> Entry {
        Entry { key: "k".into(), payload: b"p".to_vec(), attempts: 1, status }
    }

    fn in_flight(lease: i64) -> Entry {
        entry(Status::InFlight { lease, deadline_ms: 1_000 })
    }

    #[test]
    fn lease_round_trips_the_partition() {
        for (p, seq) in [(0, 0), (5, 1), (1023, SEQ_MASK), (7, SEQ_MASK + 5)] {
            let lease = lease_for(p, seq);
            assert!(lease >= 0);
            assert_eq!(lease_partition(lease), Some(p));
        }
        assert_ne!(lease_for(1, 1), lease_for(1, 2));
        assert_eq!(lease_partition(-1), None);
    }

    #[test]
    fn commit_never_passes_an_unsettled_offset() {
        let mut l = Ledger::default();
        for off in 0..4 {
            l.receive(0, off, in_flight(off + 10));
        }
        assert_eq!(l.settle(0, 0, 10), Ok(Some(1)));
        assert_eq!(l.settle(0, 2, 12), Ok(None));
        assert_eq!(l.settle(0, 3, 13), Ok(None));
        assert_eq!(l.settle(0, 1, 11), Ok(Some(4)));
    }

    #[test]
    fn commit_follows_received_offsets_across_gaps() {
        let mut l = Ledger::default();
        l.receive(2, 10, in_flight(1));
        l.receive(2, 15, in_flight(2));
        assert_eq!(l.settle(2, 15, 2), Ok(None));
        assert_eq!(l.settle(2, 10, 1), Ok(Some(16)));
    }

    #[test]
    fn stale_or_unknown_leases_are_lost() {
        let mut l = Ledger::default();
        l.receive(0, 0, in_flight(7));
        assert_eq!(l.settle(0, 0, 8), Err(Lost));
        assert_eq!(l.settle(1, 0, 7), Err(Lost));
        assert_eq!(l.settle(0, 0, 7), Ok(Some(1)));
        assert_eq!(l.settle(0, 0, 7), Err(Lost));
    }

    #[test]
    fn revoked_partitions_are_forgotten() {
        let mut l = Ledger::default();
        l.assign(&[0, 1]);
        l.receive(0, 0, in_flight(1));
        l.receive(0, 1, in_flight(2));
        assert_eq!(l.settle(0, 0, 1), Ok(Some(1)));
        assert_eq!(l.revoke(&[0]), vec![(0, 1)]);
        assert_eq!(l.settle(0, 1, 2), Err(Lost));
        assert_eq!(l.assigned(), vec![1]);
    }

    #[test]
    fn delayed_messages_wait_and_hold_the_commit() {
        let mut l = Ledger::default();
        assert!(l.receive(0, 0, entry(Status::Delayed { not_before_ms: 500 })).is_none());
        assert!(l.receive(0, 1, in_flight(3)).is_some());
        assert_eq!(l.settle(0, 1, 3), Ok(None), "offset 0 is still delayed");
        let mut seq = 100;
        let mut next = || {
            seq += 1;
            seq
        };
        assert!(l.sweep(499, 10, 2_000, 5, &mut next).handed.is_empty());
        let sweep = l.sweep(500, 10, 2_000, 5, &mut next);
        assert_eq!(sweep.handed.len(), 1);
        assert_eq!(sweep.handed[0].attempts, 1, "a delayed hand-out is not a new attempt");
        assert_eq!(l.settle(0, 0, sweep.handed[0].lease), Ok(Some(2)));
    }

    #[test]
    fn lapsed_claims_come_back_then_exhaust() {
        let mut l = Ledger::default();
        l.receive(0, 0, in_flight(1));
        let mut seq = 100;
        let mut next = || {
            seq += 1;
            seq
        };
        assert!(l.sweep(999, 10, 2_000, 2, &mut next).handed.is_empty());
        let sweep = l.sweep(1_000, 10, 2_000, 2, &mut next);
        assert_eq!(sweep.handed[0].attempts, 2);
        assert_eq!(l.settle(0, 0, 1), Err(Lost), "the lapsed claim's ack is refused");
        let sweep = l.sweep(2_000, 10, 3_000, 2, &mut next);
        assert!(sweep.handed.is_empty());
        assert_eq!(sweep.exhausted.len(), 1);
        assert_eq!(l.in_flight(), 1);
        assert_eq!(l.settle(0, 0, sweep.exhausted[0].lease), Ok(Some(1)));
    }

    #[test]
    fn aborted_settle_restores_the_claim() {
        let mut l = Ledger::default();
        l.receive(0, 0, in_flight(4));
        assert_eq!(l.begin_settle(0, 0, 4), Ok(()));
        assert_eq!(l.begin_settle(0, 0, 4), Err(Lost), "a second retry of the same claim is refused");
        l.abort_settle(0, 0, 4);
        assert_eq!(l.begin_settle(0, 0, 4), Ok(()));
        assert_eq!(l.settle(0, 0, 4), Ok(Some(1)));
    }
}
