//! Dedup windows, austin's two rules: content dedup (the same content to the same receiver at
//! most N times in T seconds) on a sliding window, and frequency dedup (at most N messages per
//! receiver per channel per calendar day) on a fixed window. Both admit atomically: two workers
//! racing on one key never both pass when only one may. The embedded backend keeps the windows
//! in SQLite, cluster mode in Redis ([`crate::redis_dedup::RedisDedup`]). A dry run reads the
//! windows through the peeks, which count what an admit would count and record nothing.

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

    /// Read-only: for each of `keys`, how many events [`DedupStore::admit_sliding`] would count
    /// against its limit at `now` (those after `now - window`, later ones too), in the order of
    /// `keys`. Records nothing; reads the list together (one query per 10,000 keys on SQLite,
    /// one pipelined round trip on Redis).
    async fn peek_sliding(&self, keys: &[String], window: Duration, now: DateTime<Utc>) -> Result<Vec<u64>>;

    /// Read-only: for each key and bucket of `keys`, the count [`DedupStore::admit_fixed`] would
    /// compare with its limit at `now` (0 for none, or one expired by `now`), in the order of
    /// `keys`. Records nothing; reads the list together, as [`DedupStore::peek_sliding`].
    async fn peek_fixed(&self, keys: &[(String, String)], now: DateTime<Utc>) -> Result<Vec<u64>>;

    /// Deletes expired records (bounded: at most `max` per call); returns how many.
    async fn purge_expired(&self, now: DateTime<Utc>, max: i64) -> Result<u64>;
}
