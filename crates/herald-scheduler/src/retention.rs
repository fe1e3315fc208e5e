//! Retention: a housekeeping job that deletes trace, ledger and outbox rows older than the
//! retention period (and status events that waited as long for their endpoint, and fires
//! nothing names any more), and expired dedup records, in bounded statements.

use crate::jobs::{HousekeepingJob, JobError};
use chrono::Duration;
use herald_core::Clock;
use herald_store::{ClaimedFire, DedupStore, Store};
use std::sync::Arc;

/// Rows deleted per statement, so a purge never holds a long write lock.
const PURGE_BATCH: i64 = 5_000;

/// Deletes rows older than the retention period, and expired dedup records.
pub struct Retention {
    pub store: Arc<dyn Store>,
    pub dedup: Arc<dyn DedupStore>,
    pub clock: Arc<dyn Clock>,
    pub days: i64,
}

#[async_trait::async_trait]
impl HousekeepingJob for Retention {
    async fn run(&self, _fire: &ClaimedFire) -> Result<(), JobError> {
        let before = self.clock.now() - Duration::days(self.days);
        let deleted = self.store.purge_before(before, PURGE_BATCH).await?
            + self.store.purge_kept_job_runs(self.clock.now(), PURGE_BATCH).await?;
        let mut expired = 0;
        loop {
            let purged = self.dedup.purge_expired(self.clock.now(), PURGE_BATCH).await?;
            expired += purged;
            if purged < PURGE_BATCH as u64 {
                break;
            }
        }
        tracing::info!(deleted, expired, %before, "retention: old trace, ledger, outbox, fire and dedup rows deleted");
        Ok(())
    }
}
