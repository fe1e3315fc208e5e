//! The cluster's clock: the database's. Each node measures the offset between PostgreSQL's
//! `now()` and its own clock at start and every few seconds after, and answers `now()` with
//! its own clock plus that offset, so a node whose clock drifts still schedules on the shared
//! time (and the fire ledger's uniqueness covers what little skew remains).

use chrono::{DateTime, Duration, Utc};
use herald_core::Clock;
use herald_store::PgStore;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

pub struct DatabaseClock {
    offset_ms: AtomicI64,
}

impl DatabaseClock {
    /// Measures the offset now, then keeps it fresh in the background.
    pub async fn start(store: PgStore) -> anyhow::Result<Arc<Self>> {
        let clock = Arc::new(Self { offset_ms: AtomicI64::new(0) });
        clock.measure(&store).await?;
        let weak = Arc::downgrade(&clock);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(10));
            loop {
                every.tick().await;
                let Some(clock) = weak.upgrade() else { break };
                if let Err(e) = clock.measure(&store).await {
                    tracing::warn!(error = %e, "could not read the database clock; keeping the last offset");
                }
            }
        });
        Ok(clock)
    }

    async fn measure(&self, store: &PgStore) -> anyhow::Result<()> {
        let before = Utc::now();
        let db = store.database_now().await?;
        let after = Utc::now();
        // The database read its clock somewhere in the round trip: assume the middle.
        let local = before + (after - before) / 2;
        let offset = (db - local).num_milliseconds();
        if offset.abs() > 1_000 {
            tracing::warn!(offset_ms = offset, "this node's clock is off from the database's; using the database's");
        }
        self.offset_ms.store(offset, Ordering::Relaxed);
        Ok(())
    }
}

impl Clock for DatabaseClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }
}
