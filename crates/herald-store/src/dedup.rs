//! Dedup windows, austin's two rules: content dedup (the same content to the same receiver at
//! most N times in T seconds) on a sliding window, and frequency dedup (at most N messages per
//! receiver per channel per calendar day) on a fixed window. Both admit atomically: two workers
//! racing on one key never both pass when only one may. The embedded backend keeps the windows
//! in SQLite, cluster mode in Redis ([`crate::redis_dedup::RedisDedup`]).

use crate::error::Result;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

#[async_trait]
pub trait DedupStore: Send + Sync {
    /// Sliding window: admits (and records) one event for `key` when fewer than `limit` events
    /// were admitted in `(now - window, now]`; false otherwise, and a refusal records nothing.
    /// Atomic. Events stamped after `now` (by a worker whose clock runs ahead) count too, so
    /// clock skew between workers never lets an extra send through.
    async fn admit_sliding(&self, key: &str, limit: u32, window: Duration, now: DateTime<Utc>) -> Result<bool>;

    /// Fixed window: admits when fewer than `limit` events were admitted under `key` + `bucket`
    /// (e.g. a date "2026-05-01"); the record expires at `expires_at` (set when the bucket's
    /// first event is admitted; an expired bucket starts again from zero). Atomic.
    async fn admit_fixed(
        &self,
        key: &str,
        bucket: &str,
        limit: u32,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool>;

    /// Deletes expired records (bounded: at most `max` per call); returns how many.
    async fn purge_expired(&self, now: DateTime<Utc>, max: i64) -> Result<u64>;
}
