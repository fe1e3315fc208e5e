//! Dedup windows on the SQLite file. A sliding admit counts and records inside one
//! `BEGIN IMMEDIATE` transaction, so the write lock is held from the count on and two stores
//! on the same file (or two connections of one pool) cannot both pass the last free place.
//! The peeks read without a transaction: a sliding peek in one `SELECT` per list, a fixed one
//! in a few, of the sizes of [`shaped_chunks`].

use super::SqliteStore;
use super::dialect::push_in_list;
use crate::dedup::DedupStore;
use crate::error::Result;
use crate::time::to_ms;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use herald_core::shaped_chunks;
use sqlx::{QueryBuilder, Row, Sqlite};
use std::collections::HashMap;

/// The most keys one fixed peek's statement lists (two binds each, far below SQLite's limit of
/// 32,766 variables). A longer list is read in several statements.
const KEYS_PER_PEEK: usize = 256;

#[async_trait]
impl DedupStore for SqliteStore {
    async fn admit_sliding(&self, key: &str, limit: u32, window: Duration, now: DateTime<Utc>) -> Result<bool> {
        if limit == 0 {
            return Ok(false);
        }
        let now_ms = to_ms(now);
        let window_ms = window.num_milliseconds().max(0);
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let admitted: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM dedup_events WHERE key = ? AND at_ms > ?")
            .bind(key)
            .bind(now_ms - window_ms)
            .fetch_one(&mut *tx)
            .await?;
        if admitted >= i64::from(limit) {
            return Ok(false);
        }
        sqlx::query("INSERT INTO dedup_events (key, at_ms, expires_at) VALUES (?, ?, ?)")
            .bind(key)
            .bind(now_ms)
            .bind(now_ms + window_ms)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
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
        // One statement is one write transaction: the conflict check, the limit test and the
        // increment happen under the write lock. A bucket past its expiry starts from one.
        let count: Option<i64> = sqlx::query_scalar(
            "INSERT INTO dedup_counters (key, bucket, count, expires_at) VALUES (?1, ?2, 1, ?3) \
             ON CONFLICT (key, bucket) DO UPDATE SET \
                count = CASE WHEN expires_at <= ?4 THEN 1 ELSE count + 1 END, \
                expires_at = CASE WHEN expires_at <= ?4 THEN excluded.expires_at ELSE expires_at END \
             WHERE count < ?5 OR expires_at <= ?4 \
             RETURNING count",
        )
        .bind(key)
        .bind(bucket)
        .bind(to_ms(expires_at))
        .bind(to_ms(now))
        .bind(i64::from(limit))
        .fetch_optional(&self.writer)
        .await?;
        Ok(count.is_some())
    }

    async fn peek_sliding(&self, keys: &[String], window: Duration, now: DateTime<Utc>) -> Result<Vec<u64>> {
        let after = to_ms(now) - window.num_milliseconds().max(0);
        let mut found: HashMap<String, i64> = HashMap::new();
        let mut query = QueryBuilder::<Sqlite>::new("SELECT key, COUNT(*) FROM dedup_events WHERE at_ms > ");
        query.push_bind(after);
        query.push(" AND key");
        push_in_list(&mut query, keys.iter().map(String::as_str));
        query.push(" GROUP BY key");
        for row in query.build().fetch_all(&self.pool).await? {
            found.insert(row.try_get(0)?, row.try_get(1)?);
        }
        Ok(keys.iter().map(|k| found.get(k).map_or(0, |&n| n.max(0) as u64)).collect())
    }

    async fn peek_fixed(&self, keys: &[(String, String)], now: DateTime<Utc>) -> Result<Vec<u64>> {
        let mut found: HashMap<(String, String), i64> = HashMap::new();
        for part in shaped_chunks(keys, KEYS_PER_PEEK) {
            // An expired bucket is one the next admit starts again from zero.
            let mut query =
                QueryBuilder::<Sqlite>::new("SELECT key, bucket, count FROM dedup_counters WHERE expires_at > ");
            query.push_bind(to_ms(now));
            query.push(" AND (key, bucket) IN (VALUES ");
            let mut list = query.separated(", ");
            for (key, bucket) in part {
                list.push("(");
                list.push_bind_unseparated(key.as_str());
                list.push_unseparated(", ");
                list.push_bind_unseparated(bucket.as_str());
                list.push_unseparated(")");
            }
            query.push(")");
            for row in query.build().fetch_all(&self.pool).await? {
                found.insert((row.try_get(0)?, row.try_get(1)?), row.try_get(2)?);
            }
        }
        Ok(keys.iter().map(|k| found.get(k).map_or(0, |&n| n.max(0) as u64)).collect())
    }

    async fn purge_expired(&self, now: DateTime<Utc>, max: i64) -> Result<u64> {
        if max <= 0 {
            return Ok(0);
        }
        let events = sqlx::query(
            "DELETE FROM dedup_events WHERE rowid IN \
             (SELECT rowid FROM dedup_events WHERE expires_at <= ? LIMIT ?)",
        )
        .bind(to_ms(now))
        .bind(max)
        .execute(&self.writer)
        .await?
        .rows_affected();
        let left = max - i64::try_from(events).unwrap_or(max);
        if left <= 0 {
            return Ok(events);
        }
        let counters = sqlx::query(
            "DELETE FROM dedup_counters WHERE rowid IN \
             (SELECT rowid FROM dedup_counters WHERE expires_at <= ? LIMIT ?)",
        )
        .bind(to_ms(now))
        .bind(left)
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(events + counters)
    }
}
