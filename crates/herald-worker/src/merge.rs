//! Bus batches handled together: the batches one claim took that share a template, a run (or
//! none, for the send API), their screening flags and their attempt go through the pipeline as
//! one batch, so a thousand one-receiver `/send` batches cost a few dozen statements, not
//! twenty thousand. A message id met twice (a window republished after a crash, a `/send`
//! retried under its bizId) is handled once. Each merged batch remembers which claims it came
//! from, so the worker can ack the claims whose messages all ended and retry only those with a
//! message to retry.

use herald_bus::BusClaim;
use herald_core::{BatchItem, DeliveryJob, MessageId, Recipient};
use std::collections::HashSet;

/// The most receivers one merged batch holds; a claim's batches beyond it start another.
pub const MAX_MERGED_RECEIVERS: usize = 1_000;

/// One claimed bus message and the batch it carried.
pub struct Claimed {
    pub claim: BusClaim,
    pub job: DeliveryJob,
}

/// Batches that go through the pipeline as one.
pub struct Merged {
    pub job: DeliveryJob,
    /// The claims it was made of, in claim order.
    pub parts: Vec<Claimed>,
    /// The message ids in `job`, one per receiver (so also its receiver count).
    ids: HashSet<MessageId>,
}

/// What must be equal for two batches to be handled as one: the pipeline asks the template,
/// the run, the flags and the attempt once per batch.
fn merge_key(c: &Claimed) -> (i64, Option<i64>, bool, bool, u32) {
    (c.job.template_id, c.job.run_id(), c.job.released, c.job.admitted, c.claim.attempts)
}

/// Groups `claimed` into merged batches of at most [`MAX_MERGED_RECEIVERS`] receivers (a
/// single batch larger than that stays whole), in the order the claims came.
pub fn merge(claimed: Vec<Claimed>) -> Vec<Merged> {
    let mut merged: Vec<Merged> = Vec::new();
    for c in claimed {
        let size = c.job.batch.receiver_count();
        let open = merged
            .iter_mut()
            .find(|m| merge_key(&m.parts[0]) == merge_key(&c) && m.ids.len() + size <= MAX_MERGED_RECEIVERS);
        match open {
            Some(m) => m.add(c),
            None => merged.push(Merged::of(c)),
        }
    }
    merged
}

impl Merged {
    fn of(c: Claimed) -> Self {
        let mut merged = Merged {
            // The batch starts empty (`add` fills it), so only the job's other fields are copied.
            job: DeliveryJob {
                template_id: c.job.template_id,
                origin: c.job.origin.clone(),
                batch: Default::default(),
                released: c.job.released,
                admitted: c.job.admitted,
            },
            parts: Vec::new(),
            ids: HashSet::new(),
        };
        merged.add(c);
        merged
    }

    /// Adds the claim's receivers not in the batch yet.
    fn add(&mut self, c: Claimed) {
        for item in &c.job.batch.items {
            let recipients: Vec<Recipient> =
                item.recipients.iter().filter(|r| self.ids.insert(r.message_id.clone())).cloned().collect();
            if !recipients.is_empty() {
                self.job.batch.items.push(BatchItem { variables: item.variables.clone(), recipients });
            }
        }
        self.parts.push(c);
    }

    /// The claims with a message in `retryable` (to hand back), and the rest (to ack).
    pub fn split_by_retry<'a>(&'a self, retryable: &[(MessageId, String)]) -> (Vec<&'a BusClaim>, Vec<&'a BusClaim>) {
        let retry: HashSet<&MessageId> = retryable.iter().map(|(id, _)| id).collect();
        let (back, done): (Vec<&Claimed>, Vec<&Claimed>) =
            self.parts.iter().partition(|c| c.job.batch.recipients().any(|r| retry.contains(&r.message_id)));
        (back.into_iter().map(|c| &c.claim).collect(), done.into_iter().map(|c| &c.claim).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_core::{Batch, JobOrigin};
    use std::collections::BTreeMap;

    fn claimed(id: i64, template_id: i64, origin: JobOrigin, receivers: usize) -> Claimed {
        let recipients = (0..receivers)
            .map(|n| Recipient { message_id: MessageId(format!("m{id}-{n}")), receiver: format!("r{n}") })
            .collect();
        let item = BatchItem { recipients, variables: BTreeMap::new() };
        let job =
            DeliveryJob { template_id, origin, batch: Batch { items: vec![item] }, released: false, admitted: false };
        let claim = BusClaim { id, topic: "t".into(), key: "k".into(), payload: Vec::new(), attempts: 1, lease: 1 };
        Claimed { claim, job }
    }

    fn api() -> JobOrigin {
        JobOrigin::Api { request_id: "r".into() }
    }

    fn ids(m: &Merged) -> Vec<i64> {
        m.parts.iter().map(|c| c.claim.id).collect()
    }

    #[test]
    fn batches_of_one_template_and_origin_merge_in_claim_order() {
        let merged = merge(vec![
            claimed(1, 7, api(), 1),
            claimed(2, 8, api(), 1),
            claimed(3, 7, api(), 2),
            claimed(4, 7, JobOrigin::Run { run_id: 5 }, 1),
        ]);
        assert_eq!(merged.iter().map(ids).collect::<Vec<_>>(), vec![vec![1, 3], vec![2], vec![4]]);
        let receivers: Vec<&str> = merged[0].job.batch.recipients().map(|r| r.message_id.as_str()).collect();
        assert_eq!(receivers, ["m1-0", "m3-0", "m3-1"]);
    }

    #[test]
    fn a_merged_batch_stops_at_the_receiver_limit_and_a_larger_one_stays_whole() {
        let merged = merge(vec![
            claimed(1, 7, api(), 600),
            claimed(2, 7, api(), 400),
            claimed(3, 7, api(), 1),
            claimed(4, 7, api(), MAX_MERGED_RECEIVERS + 5),
        ]);
        assert_eq!(merged.iter().map(ids).collect::<Vec<_>>(), vec![vec![1, 2], vec![3], vec![4]]);
    }

    #[test]
    fn batches_on_different_attempts_or_flags_stay_apart() {
        let mut retried = claimed(2, 7, api(), 1);
        retried.claim.attempts = 2;
        let mut released = claimed(3, 7, api(), 1);
        released.job.released = true;
        let merged = merge(vec![claimed(1, 7, api(), 1), retried, released]);
        assert_eq!(merged.len(), 3);
    }

    #[test]
    fn a_message_met_twice_is_handled_once() {
        let merged = merge(vec![claimed(1, 7, api(), 2), claimed(1, 7, api(), 3)]);
        let receivers: Vec<&str> = merged[0].job.batch.recipients().map(|r| r.message_id.as_str()).collect();
        assert_eq!(receivers, ["m1-0", "m1-1", "m1-2"]);
        assert_eq!(merged[0].parts.len(), 2);
    }

    #[test]
    fn only_claims_holding_a_retryable_message_go_back() {
        let merged = merge(vec![claimed(1, 7, api(), 2), claimed(2, 7, api(), 2), claimed(3, 7, api(), 1)]);
        let retryable = vec![(MessageId("m2-1".into()), "timeout".into())];
        let (back, done) = merged[0].split_by_retry(&retryable);
        assert_eq!(back.iter().map(|c| c.id).collect::<Vec<_>>(), vec![2]);
        assert_eq!(done.iter().map(|c| c.id).collect::<Vec<_>>(), vec![1, 3]);
    }
}
