//! The delivery ledger's hot window in Redis, for cluster mode: a [`LedgerRepo`] decorator
//! that, once the store has durably recorded final outcomes, marks their message ids in Redis
//! for a while (a day by default), and answers [`LedgerRepo::finished_messages`] from Redis
//! first, asking the store only about the ids Redis does not know. A redelivered batch (a
//! consumer group rebalance, a retry) is then told what is done without a database query.
//!
//! The store stays the record. Redis only ever says "finished" for what the store holds as
//! finished, and an id Redis does not know (never marked, expired, flushed) is looked up in
//! the store, so a flushed or unreachable Redis costs speed, never a double send; while Redis
//! is unreachable every lookup goes to the store and marking is skipped, with a warning.
//!
//! Keys: `<prefix>:ledger:<message id>`. Message ids carry the installation's id (made once per
//! database), so a database recreated beside the same prefix makes ids Redis has never seen and
//! its runs are sent in full (tested in crates/herald/tests/exactly_once.rs).

use crate::error::Result;
use crate::model::{AcceptedRows, OutboxEntry, OutboxFilter, TraceEntry, TraceRecord};
use crate::redis_conn::Guarded;
use crate::repos::LedgerRepo;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use herald_core::MessageId;
use redis::aio::ConnectionManager;
use std::sync::Arc;
use std::time::Duration;

pub struct RedisLedger {
    store: Arc<dyn LedgerRepo>,
    redis: Guarded,
    prefix: String,
    window: Duration,
}

impl RedisLedger {
    /// The ledger of `store`, with finished ids kept under `<prefix>:ledger:` for `window`.
    pub fn new(store: Arc<dyn LedgerRepo>, conn: ConnectionManager, prefix: &str, window: Duration) -> Self {
        Self {
            store,
            redis: Guarded::new(conn, "the delivery ledger's hot window", "the store's ledger"),
            prefix: prefix.to_string(),
            window: window.max(Duration::from_secs(1)),
        }
    }

    fn key(&self, id: &MessageId) -> String {
        format!("{}:ledger:{id}", self.prefix)
    }

    /// Of `ids`, those Redis holds as finished; None when Redis cannot say.
    async fn known_finished(&self, ids: &[MessageId]) -> Option<Vec<bool>> {
        let keys: Vec<String> = ids.iter().map(|id| self.key(id)).collect();
        self.redis
            .run(|mut conn| async move {
                redis::cmd("MGET").arg(keys).query_async::<Vec<Option<String>>>(&mut conn).await
            })
            .await
            .filter(|found| found.len() == ids.len())
            .map(|found| found.iter().map(Option::is_some).collect())
    }

    /// Marks `ids` finished for the window; best effort.
    async fn mark_finished(&self, ids: impl Iterator<Item = &MessageId>) {
        let mut pipe = redis::pipe();
        let mut any = false;
        for id in ids {
            pipe.cmd("SET").arg(self.key(id)).arg(1).arg("EX").arg(self.window.as_secs()).ignore();
            any = true;
        }
        if any {
            self.redis.run(|mut conn| async move { pipe.query_async::<()>(&mut conn).await }).await;
        }
    }
}

#[async_trait]
impl LedgerRepo for RedisLedger {
    async fn finished_messages(&self, ids: &[MessageId]) -> Result<Vec<MessageId>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let Some(known) = self.known_finished(ids).await else {
            return self.store.finished_messages(ids).await;
        };
        let (hot, cold): (Vec<_>, Vec<_>) = ids.iter().zip(known).partition(|(_, known)| *known);
        let mut finished: Vec<MessageId> = hot.into_iter().map(|(id, _)| id.clone()).collect();
        let unknown: Vec<MessageId> = cold.into_iter().map(|(id, _)| id.clone()).collect();
        if unknown.is_empty() {
            return Ok(finished);
        }
        let from_store = self.store.finished_messages(&unknown).await?;
        // The window refills from the store, e.g. after Redis was flushed.
        self.mark_finished(from_store.iter()).await;
        finished.extend(from_store);
        Ok(finished)
    }

    async fn record_outcomes(&self, outcomes: &[TraceEntry], now: DateTime<Utc>) -> Result<u64> {
        let new = self.store.record_outcomes(outcomes, now).await?;
        self.mark_finished(outcomes.iter().map(|o| &o.message_id)).await;
        Ok(new)
    }

    async fn record_trace(&self, outcomes: &[TraceEntry], now: DateTime<Utc>) -> Result<()> {
        self.store.record_trace(outcomes, now).await
    }

    async fn record_accepted_rows(&self, rows: &AcceptedRows, now: DateTime<Utc>) -> Result<()> {
        self.store.record_accepted_rows(rows, now).await
    }

    async fn trace_of(&self, message_id: &str) -> Result<Vec<TraceRecord>> {
        self.store.trace_of(message_id).await
    }

    async fn insert_outbox(&self, entries: &[OutboxEntry]) -> Result<()> {
        self.store.insert_outbox(entries).await
    }

    async fn list_outbox(&self, filter: &OutboxFilter) -> Result<Vec<OutboxEntry>> {
        self.store.list_outbox(filter).await
    }

    async fn count_outbox(&self, template_id: Option<i64>, run_id: Option<i64>) -> Result<i64> {
        self.store.count_outbox(template_id, run_id).await
    }
}
