//! Dedup windows in Redis, for cluster mode: each admit is one Lua script, so it is atomic
//! across every node. Times come from the caller's `now`, never from Redis `TIME`, so tests can
//! drive a test clock; Redis TTLs (relative to `now`) only let forgotten keys go.
//!
//! Keys, all under the prefix given to [`RedisDedup::new`]:
//!
//! * `<prefix>:s:<key>`: a sliding window, a sorted set of admitted events scored by time (ms);
//! * `<prefix>:f:<key length>:<key>:<bucket>`: a fixed window's counter (the length keeps
//!   `("a:b", "c")` and `("a", "b:c")` apart);
//! * `<prefix>:expiry`: a sorted set of the keys above scored by when they expire, which
//!   [`DedupStore::purge_expired`] walks.
//!
//! The scripts touch a key and the expiry index together, and the purge script deletes keys
//! it reads from the index; on Redis Cluster give the prefix a hash tag (`{herald}:dedup`) so
//! they all live in one slot. The peeks (a dry run's reads) are plain read commands, pipelined:
//! one round trip for a whole list of keys, nothing written.

use crate::dedup::DedupStore;
use crate::error::Result;
use crate::redis_conn::redis_error;
use crate::time::to_ms;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use redis::Script;
use redis::aio::ConnectionManager;
use std::fmt;
use std::sync::LazyLock;

/// Admits one event when fewer than `limit` are newer than `now - window`.
/// KEYS: events, expiry index. ARGV: now, now - window, limit, member, ttl, expires at.
static SLIDING: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
        if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
            return 0
        end
        redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
        redis.call('PEXPIRE', KEYS[1], ARGV[5])
        local due = redis.call('ZSCORE', KEYS[2], KEYS[1])
        if not due or tonumber(due) < tonumber(ARGV[6]) then
            redis.call('ZADD', KEYS[2], ARGV[6], KEYS[1])
        end
        if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[5]) then
            redis.call('PEXPIRE', KEYS[2], ARGV[5])
        end
        return 1
        ",
    )
});

/// Admits one event when the bucket's counter is below `limit`; a bucket past its expiry (by
/// the caller's clock) starts again from zero. Checks before it increments, so a refusal
/// leaves the counter alone.
/// KEYS: counter, expiry index. ARGV: now, limit, expires at, ttl.
static FIXED: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        local due = redis.call('ZSCORE', KEYS[2], KEYS[1])
        if due and tonumber(due) <= tonumber(ARGV[1]) then
            redis.call('DEL', KEYS[1])
        end
        if tonumber(redis.call('GET', KEYS[1]) or '0') >= tonumber(ARGV[2]) then
            return 0
        end
        if redis.call('INCR', KEYS[1]) == 1 then
            redis.call('PEXPIRE', KEYS[1], ARGV[4])
            redis.call('ZADD', KEYS[2], ARGV[3], KEYS[1])
            if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[4]) then
                redis.call('PEXPIRE', KEYS[2], ARGV[4])
            end
        end
        return 1
        ",
    )
});

/// Deletes up to `max` keys whose expiry has passed and drops them from the index.
/// KEYS: expiry index. ARGV: now, max.
static PURGE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
        for _, key in ipairs(due) do
            redis.call('DEL', key)
            redis.call('ZREM', KEYS[1], key)
        end
        return #due
        ",
    )
});

/// [`DedupStore`] on Redis, through a [`ConnectionManager`] (which reconnects by itself).
#[derive(Clone)]
pub struct RedisDedup {
    conn: ConnectionManager,
    prefix: String,
}

impl fmt::Debug for RedisDedup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisDedup").field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

impl RedisDedup {
    /// Dedup windows under `prefix` (e.g. `herald:dedup`) on an existing connection manager.
    pub fn new(conn: ConnectionManager, prefix: &str) -> Self {
        Self { conn, prefix: prefix.to_string() }
    }

    /// Dedup windows under `prefix` on a new connection (see [`crate::redis_conn::connect`]).
    pub async fn connect(client: redis::Client, prefix: &str) -> Result<Self> {
        Ok(Self::new(crate::redis_conn::connect(client).await?, prefix))
    }

    fn index_key(&self) -> String {
        format!("{}:expiry", self.prefix)
    }

    fn sliding_key(&self, key: &str) -> String {
        format!("{}:s:{key}", self.prefix)
    }

    fn fixed_key(&self, key: &str, bucket: &str) -> String {
        format!("{}:f:{}:{key}:{bucket}", self.prefix, key.len())
    }
}

#[async_trait]
impl DedupStore for RedisDedup {
    async fn admit_sliding(&self, key: &str, limit: u32, window: Duration, now: DateTime<Utc>) -> Result<bool> {
        if limit == 0 {
            return Ok(false);
        }
        let now_ms = to_ms(now);
        let window_ms = window.num_milliseconds().max(0);
        // Two events of one key at the same millisecond must stay two members.
        let member = format!("{now_ms}-{:016x}", rand::random::<u64>());
        let admitted: i64 = SLIDING
            .key(self.sliding_key(key))
            .key(self.index_key())
            .arg(now_ms)
            .arg(now_ms - window_ms)
            .arg(limit)
            .arg(member)
            .arg(window_ms.max(1))
            .arg(now_ms + window_ms)
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(redis_error)?;
        Ok(admitted == 1)
    }

    async fn admit_fixed(
        &self,
        key: &str,
        bucket: &str,
        limit: u32,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        if limit == 0 {
            return Ok(false);
        }
        let ttl_ms = (expires_at - now).num_milliseconds().max(1);
        let admitted: i64 = FIXED
            .key(self.fixed_key(key, bucket))
            .key(self.index_key())
            .arg(to_ms(now))
            .arg(limit)
            .arg(to_ms(expires_at))
            .arg(ttl_ms)
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(redis_error)?;
        Ok(admitted == 1)
    }

    async fn peek_sliding(&self, keys: &[String], window: Duration, now: DateTime<Utc>) -> Result<Vec<u64>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        // What the admit script keeps after trimming: scores above now - window.
        let after = format!("({}", to_ms(now) - window.num_milliseconds().max(0));
        let mut pipe = redis::pipe();
        for key in keys {
            pipe.cmd("ZCOUNT").arg(self.sliding_key(key)).arg(&after).arg("+inf");
        }
        pipe.query_async(&mut self.conn.clone()).await.map_err(redis_error)
    }

    async fn peek_fixed(&self, keys: &[(String, String)], now: DateTime<Utc>) -> Result<Vec<u64>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for (key, bucket) in keys {
            let counter = self.fixed_key(key, bucket);
            pipe.cmd("GET").arg(&counter).cmd("ZSCORE").arg(self.index_key()).arg(&counter);
        }
        let answers: Vec<(Option<u64>, Option<f64>)> =
            pipe.query_async(&mut self.conn.clone()).await.map_err(redis_error)?;
        let now_ms = to_ms(now) as f64;
        // The admit script starts a bucket whose expiry has passed again from zero.
        Ok(answers
            .into_iter()
            .map(|(count, due)| if due.is_some_and(|d| d <= now_ms) { 0 } else { count.unwrap_or(0) })
            .collect())
    }

    /// Counts the expired keys taken off the index, including any Redis had already let go
    /// by their TTL.
    async fn purge_expired(&self, now: DateTime<Utc>, max: i64) -> Result<u64> {
        if max <= 0 {
            return Ok(0);
        }
        let purged: u64 = PURGE
            .key(self.index_key())
            .arg(to_ms(now))
            .arg(max)
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(redis_error)?;
        Ok(purged)
    }
}
