//! The node's housekeeping jobs, run by the scheduler when their schedules fire: refreshing a
//! channel account's access token, releasing messages whose quiet hours are over (through the
//! normal bus, in order), and deleting trace, ledger and outbox rows past retention.

use chrono::Duration;
use herald_bus::Bus;
use herald_channels::registry::AccountChannels;
use herald_core::TraceEvent;
use herald_core::{Batch, BatchItem, Clock, DeliveryJob, JobOrigin, MAX_RECEIVERS_PER_BATCH, Recipient, topic_for};
use herald_scheduler::HousekeepingJob;
use herald_store::{ClaimedFire, DedupStore, DeferredMessage, Outcome, Store, StoreError};
use std::sync::Arc;

/// Refreshes one channel account's access token.
pub struct TokenRefresh {
    pub accounts: Arc<AccountChannels>,
}

#[async_trait::async_trait]
impl HousekeepingJob for TokenRefresh {
    async fn run(&self, fire: &ClaimedFire) -> Result<(), String> {
        let account_id = fire.account_id.ok_or("a token refresh schedule without an account")?;
        match self.accounts.refresh_token(account_id).await {
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err(format!("channel account {account_id} does not use access tokens")),
            Err(e) => Err(e.to_string()),
        }
    }
}

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
    async fn run(&self, _fire: &ClaimedFire) -> Result<(), String> {
        let mut released = 0;
        loop {
            let now = self.clock.now();
            let due = self.store.claim_deferred(now, RELEASE_PAGE, RELEASE_LEASE).await.map_err(|e| e.to_string())?;
            if due.is_empty() {
                break;
            }
            for group in group_in_order(&due) {
                let template = match self.store.get_template(group[0].template_id).await {
                    Ok(t) => t,
                    // Deleted while its messages waited: they fail, rather than block the queue.
                    Err(StoreError::NotFound { .. }) => {
                        let outcomes: Vec<Outcome> = group
                            .iter()
                            .map(|d| Outcome {
                                message_id: d.message_id.clone(),
                                template_id: d.template_id,
                                run_id: d.run_id,
                                receiver: d.receiver.clone(),
                                event: TraceEvent::Failed,
                                detail: Some("template was deleted while the message was deferred".into()),
                            })
                            .collect();
                        self.store.record_outcomes(&outcomes, self.clock.now()).await.map_err(|e| e.to_string())?;
                        continue;
                    }
                    Err(e) => return Err(format!("template {}: {e}", group[0].template_id)),
                };
                let job = release_job(group);
                let payload = serde_json::to_vec(&job).map_err(|e| e.to_string())?;
                self.bus
                    .publish(&topic_for(template.spec.channel), &job.key(), &payload)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            // Published first, then forgotten: a crash between republishes, which the ledger absorbs.
            let seqs: Vec<i64> = due.iter().map(|d| d.seq).collect();
            self.store.remove_deferred(&seqs).await.map_err(|e| e.to_string())?;
            released += due.len();
        }
        if released > 0 {
            tracing::info!(released, "quiet hours over: deferred messages released");
        }
        Ok(())
    }
}

/// Consecutive messages of one template and run, at most a batch each, keeping the order.
fn group_in_order(due: &[DeferredMessage]) -> Vec<&[DeferredMessage]> {
    let mut groups = Vec::new();
    let mut start = 0;
    for i in 1..=due.len() {
        let split = i == due.len()
            || due[i].template_id != due[start].template_id
            || due[i].run_id != due[start].run_id
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
    DeliveryJob { template_id: first.template_id, origin, batch: Batch { items }, released: true }
}

/// Deletes rows older than the retention period, and expired dedup records.
pub struct Retention {
    pub store: Arc<dyn Store>,
    pub dedup: Arc<dyn DedupStore>,
    pub clock: Arc<dyn Clock>,
    pub days: i64,
}

#[async_trait::async_trait]
impl HousekeepingJob for Retention {
    async fn run(&self, _fire: &ClaimedFire) -> Result<(), String> {
        let before = self.clock.now() - Duration::days(self.days);
        let deleted = self.store.purge_before(before, 5_000).await.map_err(|e| e.to_string())?;
        let mut expired = 0;
        loop {
            let purged = self.dedup.purge_expired(self.clock.now(), 5_000).await.map_err(|e| e.to_string())?;
            expired += purged;
            if purged < 5_000 {
                break;
            }
        }
        tracing::info!(deleted, expired, %before, "retention: old trace, ledger, outbox and dedup rows deleted");
        Ok(())
    }
}
