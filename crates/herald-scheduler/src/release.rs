//! The quiet-hours release: a housekeeping job that publishes held messages that are due (their
//! quiet hours are over, or their paused run was resumed), through the one door onto the bus,
//! oldest first and in pages, each marked with what it passed before it was held. Each page is
//! claimed under a lease (two releases never publish the same message), published, then
//! forgotten.

use crate::jobs::{HousekeepingJob, JobError};
use herald_bus::{Bus, EncodedJobs};
use herald_core::{Batch, BatchItem, Clock, DeliveryJob, JobOrigin, MAX_RECEIVERS_PER_BATCH, Recipient, TraceEvent};
use herald_store::{ClaimedFire, DeferredMessage, Store, StoreError, TraceEntry};
use std::sync::Arc;

/// Publishes deferred messages that are due, oldest first, in pages.
pub struct QuietRelease {
    pub store: Arc<dyn Store>,
    pub bus: Arc<dyn Bus>,
    pub clock: Arc<dyn Clock>,
}

const RELEASE_PAGE: i64 = 1_000;
/// A page of released messages is held this long; a release that dies holding one leaves it
/// to the next release after that.
const RELEASE_LEASE: chrono::Duration = chrono::Duration::minutes(5);

#[async_trait::async_trait]
impl HousekeepingJob for QuietRelease {
    async fn run(&self, _fire: &ClaimedFire) -> Result<(), JobError> {
        let mut released = 0;
        loop {
            let due = self.store.claim_deferred(self.clock.now(), RELEASE_PAGE, RELEASE_LEASE).await?;
            if due.is_empty() {
                break;
            }
            for group in group_in_order(&due) {
                self.release(group).await?;
            }
            // Published first, then forgotten: a crash between republishes, which the ledger absorbs.
            let seqs: Vec<i64> = due.iter().map(|d| d.seq).collect();
            self.store.remove_deferred(&seqs).await?;
            released += due.len();
        }
        if released > 0 {
            tracing::info!(released, "quiet hours over: deferred messages released");
        }
        Ok(())
    }
}

impl QuietRelease {
    /// Publishes one group (one template and run); fails it when its template was deleted
    /// meanwhile, rather than block the queue.
    async fn release(&self, group: &[DeferredMessage]) -> Result<(), JobError> {
        let template_id = group[0].template_id;
        let template = match self.store.get_template(template_id).await {
            Ok(t) => t,
            Err(StoreError::NotFound { .. }) => {
                let reason = "template was deleted while the message was deferred";
                let outcomes: Vec<TraceEntry> = group.iter().map(|d| d.ending(TraceEvent::Failed, reason)).collect();
                self.store.record_outcomes(&outcomes, self.clock.now()).await?;
                return Ok(());
            }
            Err(e) => return Err(format!("template {template_id}: {e}").into()),
        };
        let encoded = EncodedJobs::encode(template.spec.channel, &[release_job(group)])?;
        encoded.publish(self.bus.as_ref()).await?;
        Ok(())
    }
}

/// Consecutive messages of one template and run that passed the same screens, at most a batch
/// each, keeping the order.
fn group_in_order(due: &[DeferredMessage]) -> Vec<&[DeferredMessage]> {
    let mut groups = Vec::new();
    let mut start = 0;
    for i in 1..=due.len() {
        let split = i == due.len()
            || due[i].template_id != due[start].template_id
            || due[i].run_id != due[start].run_id
            || due[i].screened != due[start].screened
            || i - start == MAX_RECEIVERS_PER_BATCH;
        if split {
            groups.push(&due[start..i]);
            start = i;
        }
    }
    groups
}

fn release_job(group: &[DeferredMessage]) -> DeliveryJob {
    let first = &group[0];
    let origin = match first.run_id {
        Some(run_id) => JobOrigin::Run { run_id },
        None => JobOrigin::Api { request_id: format!("released-{}", first.seq) },
    };
    // One item per message keeps the order exactly as deferred.
    let items = group
        .iter()
        .map(|d| BatchItem {
            variables: d.variables.clone(),
            recipients: vec![Recipient { receiver: d.receiver.clone(), message_id: d.message_id.clone() }],
        })
        .collect();
    let (released, admitted) = first.screened.job_flags();
    DeliveryJob { template_id: first.template_id, origin, batch: Batch { items }, released, admitted }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use herald_core::Screened;

    fn deferred(seq: i64, template_id: i64, run_id: Option<i64>) -> DeferredMessage {
        DeferredMessage {
            seq,
            message_id: herald_core::Installation::new("t").run_row(run_id.unwrap_or(0), seq as u64),
            template_id,
            run_id,
            receiver: format!("r{seq}"),
            variables: Default::default(),
            position: seq,
            release_at: Utc.with_ymd_and_hms(2026, 1, 1, 8, 0, 0).unwrap(),
            screened: Screened::QuietHours,
        }
    }

    #[test]
    fn groups_keep_order_and_split_by_template_run_and_batch_size() {
        let mut due: Vec<DeferredMessage> = (0..150).map(|i| deferred(i, 1, Some(7))).collect();
        due.push(deferred(150, 2, Some(8)));
        due.push(deferred(151, 1, Some(7)));
        due.push(DeferredMessage { screened: Screened::Fully, ..deferred(152, 1, Some(7)) });
        let sizes: Vec<usize> = group_in_order(&due).iter().map(|g| g.len()).collect();
        assert_eq!(sizes, vec![100, 50, 1, 1, 1]);
        let seqs: Vec<i64> = group_in_order(&due).concat().iter().map(|d| d.seq).collect();
        assert_eq!(seqs, (0..153).collect::<Vec<_>>());
    }

    #[test]
    fn a_released_job_is_marked_released_with_one_item_per_message() {
        let due: Vec<DeferredMessage> = (0..3).map(|i| deferred(i, 1, Some(7))).collect();
        let job = release_job(&due);
        assert!(job.released && !job.admitted, "deferred for quiet hours: dedup still to come");
        assert_eq!(job.origin, JobOrigin::Run { run_id: 7 });
        assert_eq!(job.batch.items.len(), 3);
        let api = release_job(&[deferred(9, 1, None)]);
        assert_eq!(api.origin, JobOrigin::Api { request_id: "released-9".into() });
        for screened in [Screened::Not, Screened::QuietHours, Screened::Fully] {
            let job = release_job(&[DeferredMessage { screened, ..deferred(1, 1, Some(7)) }]);
            assert_eq!(Screened::of(&job), screened, "held for a pause, released past what it passed");
        }
    }
}
