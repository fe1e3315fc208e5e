//! The embedded bus: a durable queue table (`bus_messages`, created by
//! `migrations/sqlite/0002_bus.sql`) in the same SQLite file as the rest of herald's state.
//! Time comes from herald's `Clock`, stored as unix milliseconds.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use herald_core::{Clock, shaped_chunks};
use sqlx::{QueryBuilder, Sqlite, SqlitePool};
use std::collections::HashSet;

use crate::{Bus, BusClaim, BusError, BusMessage, MAX_CLAIM, MAX_PAYLOAD_BYTES, RetryOutcome, TopicStats};

/// Enqueues one message: topic, key, payload, now.
const ENQUEUE: &str = "INSERT INTO bus_messages (topic, msg_key, payload, visible_at, created_at, updated_at)
     VALUES (?1, ?2, ?3, ?4, ?4, ?4)";

/// Messages one `publish_all` statement inserts at most (six binds each; their payloads are
/// bound, not part of the statement's text)...
const ENQUEUES_PER_STATEMENT: usize = 256;

/// ...and the payload bytes it carries at most (a statement's binds are copied for the
/// connection's thread), so a group of large messages is not held twice over at once.
const ENQUEUE_BYTES_PER_STATEMENT: usize = 4 << 20;

/// Claims one `ack_all` statement deletes at most (two binds each); fewer come in the few
/// sizes of [`shaped_chunks`].
const ACKS_PER_STATEMENT: usize = 256;

/// Longest `last_error` kept per message; provider error bodies can be large.
const MAX_ERROR_BYTES: usize = 4096;

/// id, topic, msg_key, payload, attempts, last_error, updated_at.
type DeadLetterRow = (i64, String, String, Vec<u8>, i64, Option<String>, i64);

/// A message that ran out of attempts, kept in the table for operators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub id: i64,
    pub topic: String,
    pub key: String,
    pub payload: Vec<u8>,
    pub attempts: u32,
    pub last_error: Option<String>,
    /// When it was dead-lettered.
    pub dead_at: DateTime<Utc>,
}

/// [`Bus`] on a SQLite queue table.
///
/// Claims run in a `BEGIN IMMEDIATE` transaction, so concurrent claimers (tasks of this
/// process or other processes on the same file) never receive the same message. Publish is
/// durable once the commit returns; with WAL the pool's `synchronous` setting decides whether
/// that includes power loss (FULL) or only process crashes (NORMAL).
#[derive(Clone)]
pub struct SqliteBus {
    pool: SqlitePool,
    clock: Arc<dyn Clock>,
    max_attempts: u32,
}

impl std::fmt::Debug for SqliteBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteBus").field("max_attempts", &self.max_attempts).finish_non_exhaustive()
    }
}

impl SqliteBus {
    /// `max_attempts` counts claims; a value of 0 is treated as 1. The pool must have run
    /// herald's SQLite migrations.
    pub fn new(pool: SqlitePool, clock: Arc<dyn Clock>, max_attempts: u32) -> Self {
        Self { pool, clock, max_attempts: max_attempts.max(1) }
    }

    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The oldest `limit` dead letters of `topic`.
    pub async fn dead_letters(&self, topic: &str, limit: usize) -> Result<Vec<DeadLetter>, BusError> {
        let rows: Vec<DeadLetterRow> = sqlx::query_as(
            "SELECT id, topic, msg_key, payload, attempts, last_error, updated_at
             FROM bus_messages
             WHERE topic = ?1 AND status = 'dead'
             ORDER BY id
             LIMIT ?2",
        )
        .bind(topic)
        .bind(to_i64(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, topic, key, payload, attempts, last_error, dead_at)| DeadLetter {
                id,
                topic,
                key,
                payload,
                attempts: to_u32(attempts),
                last_error,
                dead_at: DateTime::from_timestamp_millis(dead_at).unwrap_or_default(),
            })
            .collect())
    }

    /// Put a dead letter back on its topic with a fresh set of attempts. It keeps its id, so it
    /// is claimed ahead of messages published after it; `last_error` is kept for reference.
    pub async fn requeue_dead(&self, id: i64) -> Result<(), BusError> {
        let now = self.now_ms();
        let done = sqlx::query(
            "UPDATE bus_messages
             SET status = 'ready', attempts = 0, visible_at = ?1, updated_at = ?1
             WHERE id = ?2 AND status = 'dead'",
        )
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(BusError::NotDead { id });
        }
        tracing::info!(bus.message_id = id, "dead letter requeued");
        Ok(())
    }

    fn now_ms(&self) -> i64 {
        self.clock.now().timestamp_millis()
    }
}

#[async_trait::async_trait]
impl Bus for SqliteBus {
    async fn publish(&self, topic: &str, key: &str, payload: &[u8]) -> Result<(), BusError> {
        if payload.len() > MAX_PAYLOAD_BYTES {
            return Err(BusError::PayloadTooLarge { size: payload.len(), max: MAX_PAYLOAD_BYTES });
        }
        let now = self.now_ms();
        sqlx::query(ENQUEUE).bind(topic).bind(key).bind(payload).bind(now).execute(&self.pool).await?;
        Ok(())
    }

    /// All in one transaction: every message is enqueued, or none.
    async fn publish_all(&self, topic: &str, messages: &[BusMessage]) -> Result<(), BusError> {
        if let Some(m) = messages.iter().find(|m| m.payload.len() > MAX_PAYLOAD_BYTES) {
            return Err(BusError::PayloadTooLarge { size: m.payload.len(), max: MAX_PAYLOAD_BYTES });
        }
        if messages.is_empty() {
            return Ok(());
        }
        let now = self.now_ms();
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        for chunk in statements(messages) {
            let mut insert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO bus_messages (topic, msg_key, payload, visible_at, created_at, updated_at) ",
            );
            insert.push_values(chunk, |mut row, m| {
                row.push_bind(topic)
                    .push_bind(&m.key)
                    .push_bind(&m.payload)
                    .push_bind(now)
                    .push_bind(now)
                    .push_bind(now);
            });
            insert.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn claim(&self, topic: &str, max: usize, visibility: Duration) -> Result<Vec<BusClaim>, BusError> {
        let max = max.min(MAX_CLAIM);
        if max == 0 {
            return Ok(Vec::new());
        }
        let now = self.now_ms();
        let until = now.saturating_add(duration_ms(visibility));

        // An idle poll must not take the write lock: look for a claimable row with a plain read
        // first (WAL readers never block writers).
        let claimable: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM bus_messages WHERE topic = ?1 AND status <> 'dead' AND visible_at <= ?2 ORDER BY id LIMIT 1",
        )
        .bind(topic)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        if claimable.is_none() {
            return Ok(Vec::new());
        }

        // IMMEDIATE takes the write lock up front: the read of the queue head and the update
        // that takes it cannot interleave with another claimer's.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;

        // A claim that lapsed on its last attempt (a consumer that crashed or hung on it) is
        // dead-lettered rather than handed out past max_attempts, so a poison message that kills
        // its consumer cannot circulate forever.
        let swept = sqlx::query(
            "UPDATE bus_messages
             SET status = 'dead',
                 last_error = 'claim lapsed without ack or retry on attempt ' || attempts,
                 updated_at = ?1
             WHERE topic = ?2 AND status = 'inflight' AND visible_at <= ?1 AND attempts >= ?3",
        )
        .bind(now)
        .bind(topic)
        .bind(i64::from(self.max_attempts))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if swept > 0 {
            tracing::warn!(bus.topic = topic, count = swept, "lapsed claims dead-lettered");
        }

        let rows: Vec<(i64, String, String, Vec<u8>, i64, i64)> = sqlx::query_as(
            "UPDATE bus_messages
             SET status = 'inflight', attempts = attempts + 1, lease = lease + 1,
                 visible_at = ?1, updated_at = ?2
             WHERE id IN (
                 SELECT id FROM bus_messages
                 WHERE topic = ?3 AND status <> 'dead' AND visible_at <= ?2
                 ORDER BY id
                 LIMIT ?4
             )
             RETURNING id, topic, msg_key, payload, attempts, lease",
        )
        .bind(until)
        .bind(now)
        .bind(topic)
        .bind(to_i64(max))
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;

        let mut claims: Vec<BusClaim> = rows
            .into_iter()
            .map(|(id, topic, key, payload, attempts, lease)| BusClaim {
                id,
                topic,
                key,
                payload,
                attempts: to_u32(attempts),
                lease,
            })
            .collect();
        // RETURNING gives no order guarantee; consumers get the FIFO order they were promised.
        claims.sort_unstable_by_key(|d| d.id);
        Ok(claims)
    }

    async fn extend(&self, claim: &BusClaim, visibility: Duration) -> Result<(), BusError> {
        let until = self.now_ms().saturating_add(duration_ms(visibility));
        let done =
            sqlx::query("UPDATE bus_messages SET visible_at = ?1 WHERE id = ?2 AND lease = ?3 AND status = 'inflight'")
                .bind(until)
                .bind(claim.id)
                .bind(claim.lease)
                .execute(&self.pool)
                .await?;
        if done.rows_affected() == 0 {
            return Err(BusError::LeaseLost { id: claim.id });
        }
        Ok(())
    }

    async fn ack(&self, claim: &BusClaim) -> Result<(), BusError> {
        let done = sqlx::query("DELETE FROM bus_messages WHERE id = ?1 AND lease = ?2 AND status = 'inflight'")
            .bind(claim.id)
            .bind(claim.lease)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(BusError::LeaseLost { id: claim.id });
        }
        Ok(())
    }

    /// One statement per [`ACKS_PER_STATEMENT`] claims, the rest in [`shaped_chunks`].
    async fn ack_all(&self, claims: &[&BusClaim]) -> Result<Vec<i64>, BusError> {
        let mut acked: HashSet<i64> = HashSet::with_capacity(claims.len());
        for part in shaped_chunks(claims, ACKS_PER_STATEMENT) {
            let mut delete = QueryBuilder::<Sqlite>::new(
                "DELETE FROM bus_messages WHERE status = 'inflight' AND (id, lease) IN (VALUES ",
            );
            let mut rows = delete.separated(", ");
            for claim in part {
                rows.push("(").push_bind_unseparated(claim.id).push_unseparated(", ");
                rows.push_bind_unseparated(claim.lease).push_unseparated(")");
            }
            delete.push(") RETURNING id");
            acked.extend(delete.build_query_scalar::<i64>().fetch_all(&self.pool).await?);
        }
        Ok(claims.iter().map(|c| c.id).filter(|id| !acked.contains(id)).collect())
    }

    async fn retry(&self, claim: &BusClaim, error: &str, delay: Duration) -> Result<RetryOutcome, BusError> {
        let now = self.now_ms();
        // Decided on the stored attempts, under the same lease check, in one statement.
        let status: Option<(String,)> = sqlx::query_as(
            "UPDATE bus_messages
             SET status = CASE WHEN attempts >= ?1 THEN 'dead' ELSE 'ready' END,
                 visible_at = ?2, last_error = ?3, updated_at = ?4
             WHERE id = ?5 AND lease = ?6 AND status = 'inflight'
             RETURNING status",
        )
        .bind(i64::from(self.max_attempts))
        .bind(now.saturating_add(duration_ms(delay)))
        .bind(truncate(error, MAX_ERROR_BYTES))
        .bind(now)
        .bind(claim.id)
        .bind(claim.lease)
        .fetch_optional(&self.pool)
        .await?;
        match status {
            None => Err(BusError::LeaseLost { id: claim.id }),
            Some((status,)) if status == "dead" => {
                tracing::warn!(
                    bus.topic = %claim.topic,
                    bus.message_id = claim.id,
                    attempts = claim.attempts,
                    error,
                    "bus message dead-lettered"
                );
                Ok(RetryOutcome::DeadLettered)
            }
            Some(_) => Ok(RetryOutcome::Requeued),
        }
    }

    async fn dead_letter(&self, claim: &BusClaim, error: &str) -> Result<(), BusError> {
        let now = self.now_ms();
        let done = sqlx::query(
            "UPDATE bus_messages SET status = 'dead', last_error = ?1, updated_at = ?2
             WHERE id = ?3 AND lease = ?4 AND status = 'inflight'",
        )
        .bind(truncate(error, MAX_ERROR_BYTES))
        .bind(now)
        .bind(claim.id)
        .bind(claim.lease)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(BusError::LeaseLost { id: claim.id });
        }
        tracing::warn!(bus.topic = %claim.topic, bus.message_id = claim.id, error, "bus message dead-lettered");
        Ok(())
    }

    async fn stats(&self, topic: &str) -> Result<TopicStats, BusError> {
        let now = self.now_ms();
        // Two statements so each is answered from its own partial index.
        let (ready, delayed, in_flight): (i64, i64, i64) = sqlx::query_as(
            "SELECT
                 COALESCE(SUM(visible_at <= ?2), 0),
                 COALESCE(SUM(status = 'ready' AND visible_at > ?2), 0),
                 COALESCE(SUM(status = 'inflight' AND visible_at > ?2), 0)
             FROM bus_messages
             WHERE topic = ?1 AND status <> 'dead'",
        )
        .bind(topic)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        let (dead,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM bus_messages WHERE topic = ?1 AND status = 'dead'")
            .bind(topic)
            .fetch_one(&self.pool)
            .await?;
        Ok(TopicStats {
            ready: to_u64(ready),
            delayed: to_u64(delayed),
            in_flight: to_u64(in_flight),
            dead: to_u64(dead),
        })
    }
}

fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u32(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(if n < 0 { 0 } else { u32::MAX })
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// `messages` cut into the runs one INSERT takes: at most [`ENQUEUES_PER_STATEMENT`] messages
/// and [`ENQUEUE_BYTES_PER_STATEMENT`] payload bytes (a larger message goes alone), each run
/// in the few sizes of [`shaped_chunks`].
fn statements(messages: &[BusMessage]) -> impl Iterator<Item = &[BusMessage]> {
    runs_by_bytes(messages).flat_map(|run| shaped_chunks(run, ENQUEUES_PER_STATEMENT))
}

fn runs_by_bytes(messages: &[BusMessage]) -> impl Iterator<Item = &[BusMessage]> {
    let mut rest = messages;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut bytes = rest[0].payload.len();
        let mut len = 1;
        while len < rest.len().min(ENQUEUES_PER_STATEMENT)
            && bytes + rest[len].payload.len() <= ENQUEUE_BYTES_PER_STATEMENT
        {
            bytes += rest[len].payload.len();
            len += 1;
        }
        let (run, after) = rest.split_at(len);
        rest = after;
        Some(run)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_respects_char_boundaries() {
        assert_eq!(truncate("héllo", 2), "h");
        assert_eq!(truncate("héllo", 3), "hé");
        assert_eq!(truncate("abc", 10), "abc");
    }

    #[test]
    fn durations_saturate() {
        assert_eq!(duration_ms(Duration::from_millis(1500)), 1500);
        assert_eq!(duration_ms(Duration::MAX), i64::MAX);
    }

    #[test]
    fn a_publish_is_cut_by_count_and_by_bytes() {
        let of = |sizes: &[usize]| -> Vec<BusMessage> {
            sizes.iter().map(|&n| BusMessage { key: String::new(), payload: vec![0; n] }).collect()
        };
        let lens = |messages: &[BusMessage]| statements(messages).map(<[BusMessage]>::len).collect::<Vec<_>>();
        assert_eq!(lens(&of(&[])), Vec::<usize>::new());
        assert_eq!(lens(&of(&[10; 1_201])), [256, 256, 256, 256, 128, 32, 16, 1]);
        let mib = 1 << 20;
        assert_eq!(lens(&of(&[mib, mib, mib, mib, mib, 10])), [4, 2], "4 MiB a statement at most");
        assert_eq!(lens(&of(&[mib, mib, mib, 10, 10, 10, 10])), [4, 2, 1], "a run by bytes, shaped");
        assert_eq!(lens(&of(&[5 * mib, 10, 6 * mib])), [1, 1, 1], "a larger message goes alone");
    }
}
