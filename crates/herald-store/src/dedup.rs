//! Dedup windows, austin's two rules: content dedup (the same content to the same receiver at
//! most N times in T seconds) on a sliding window, and frequency dedup (at most N messages per
//! receiver per channel per calendar day) on a fixed window. Both admit atomically: two workers
//! racing on one key never both pass when only one may. The embedded backend keeps the windows
//! in SQLite, cluster mode in Redis ([`crate::redis_dedup::RedisDedup`]).

use crate::error::Result;
use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDate, Utc};

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

/// Content dedup: the same content to the same receiver at most `limit` times in `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentDedup {
    pub limit: u32,
    pub window: Duration,
}

impl Default for ContentDedup {
    /// austin's default: once per 300 seconds.
    fn default() -> Self {
        Self { limit: 1, window: Duration::seconds(300) }
    }
}

impl ContentDedup {
    /// `key` names receiver and content (the caller hashes the content).
    pub async fn admit(&self, store: &dyn DedupStore, key: &str, now: DateTime<Utc>) -> Result<bool> {
        store.admit_sliding(key, self.limit, self.window, now).await
    }
}

/// Frequency dedup: at most `limit` messages per receiver per channel per calendar day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrequencyDedup {
    pub limit: u32,
}

impl Default for FrequencyDedup {
    /// austin's default: five a day.
    fn default() -> Self {
        Self { limit: 5 }
    }
}

impl FrequencyDedup {
    /// `key` names receiver and channel; `day` is the calendar day in the time zone the caller
    /// counts days in. The day's counter is kept until two days after `now`, which outlives the
    /// day in every time zone.
    pub async fn admit(&self, store: &dyn DedupStore, key: &str, day: NaiveDate, now: DateTime<Utc>) -> Result<bool> {
        let bucket = day.format("%Y-%m-%d").to_string();
        store.admit_fixed(key, &bucket, self.limit, now + Duration::days(2), now).await
    }
}
