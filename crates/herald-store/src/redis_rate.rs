//! Rate buckets in Redis, for cluster mode: one bucket per key for every node. Each acquire is
//! one Lua script (GCRA, the generic cell rate algorithm): it reserves the permits on the
//! key's theoretical arrival time and answers how long the caller must wait before using
//! them, so callers queue in the order they asked and, from an idle bucket, no window of
//! length `d` admits more than `rate * d + burst` events across all nodes. Time is Redis's
//! own clock (`TIME`), so node clocks cannot skew the rate.
//!
//! Keys: `<prefix>:rate:<key>@<rate>`, holding the arrival time in microseconds, expiring once
//! the bucket is full again. The rate is part of the key so that a new rate takes effect at
//! once, as in the process, rather than after the reservations made at the old one. While
//! Redis is unreachable each node falls back to its own in-process bucket (the cluster then
//! allows up to one rate per node), with a warning.

use crate::rate::{LocalRates, RateGate, burst_of};
use crate::redis_conn::Guarded;
use async_trait::async_trait;
use herald_core::rate::effective_rate;
use redis::Script;
use redis::aio::ConnectionManager;
use std::sync::LazyLock;
use std::time::Duration;

/// Reserves permits; returns the microseconds to wait before using them.
/// KEYS: bucket. ARGV: emission interval (µs), burst, permits.
static RESERVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
        local interval = tonumber(ARGV[1])
        local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
        if tat < now then
            tat = now
        end
        local next_tat = tat + interval * tonumber(ARGV[3])
        local ttl_ms = math.ceil((next_tat - now) / 1000) + 1000
        redis.call('SET', KEYS[1], string.format('%.0f', next_tat), 'PX', ttl_ms)
        local wait = next_tat - interval * tonumber(ARGV[2]) - now
        if wait < 0 then
            return 0
        end
        return wait
        ",
    )
});

/// [`RateGate`] on Redis, with an in-process fallback.
pub struct RedisRates {
    redis: Guarded,
    prefix: String,
    fallback: LocalRates,
}

impl RedisRates {
    /// Buckets under `<prefix>:rate:`.
    pub fn new(conn: ConnectionManager, prefix: &str) -> Self {
        Self {
            redis: Guarded::new(conn, "rate buckets", "this node's own buckets"),
            prefix: prefix.to_string(),
            fallback: LocalRates::default(),
        }
    }

    fn key(&self, key: &str, rate: f64) -> String {
        format!("{}:rate:{key}@{rate}", self.prefix)
    }
}

#[async_trait]
impl RateGate for RedisRates {
    async fn acquire(&self, key: &str, rate: f64, permits: u32) {
        // The same range as the local buckets, so a stored rate predating the API's check
        // limits alike on both.
        let Some(rate) = effective_rate(rate).filter(|_| permits > 0) else { return };
        let interval_us = (1_000_000.0 / rate).round().max(1.0) as u64;
        let bucket = self.key(key, rate);
        let wait = self
            .redis
            .run(|mut conn| async move {
                RESERVE
                    .key(bucket)
                    .arg(interval_us)
                    .arg(burst_of(rate))
                    .arg(permits)
                    .invoke_async::<u64>(&mut conn)
                    .await
            })
            .await;
        match wait {
            Some(0) => {}
            Some(us) => tokio::time::sleep(Duration::from_micros(us)).await,
            None => self.fallback.acquire(key, rate, permits).await,
        }
    }
}
