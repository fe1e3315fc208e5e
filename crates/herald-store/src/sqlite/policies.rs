//! Send-time policy state: the discard list, per-channel rates, messages deferred by quiet
//! hours, queries over final message states, and retention.

use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::model::{ChannelRate, DeferredMessage, DiscardEntry, MessageFilter, MessageState};
use crate::repos::PolicyRepo;
use crate::time::{from_ms, to_ms};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use herald_core::{ChannelKind, MessageId, TraceEvent};
use sqlx::{QueryBuilder, Row, Sqlite};

#[async_trait]
impl PolicyRepo for SqliteStore {
    async fn discard_template(&self, template_id: i64, reason: Option<&str>, now: DateTime<Utc>) -> Result<()> {
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM templates WHERE id = ?")
            .bind(template_id)
            .fetch_optional(&self.pool)
            .await?;
        exists.ok_or_else(|| StoreError::not_found("template", template_id))?;
        sqlx::query(
            "INSERT INTO discarded_templates (template_id, reason, since) VALUES (?, ?, ?) \
             ON CONFLICT (template_id) DO UPDATE SET reason = excluded.reason",
        )
        .bind(template_id)
        .bind(reason)
        .bind(to_ms(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn undiscard_template(&self, template_id: i64) -> Result<()> {
        sqlx::query("DELETE FROM discarded_templates WHERE template_id = ?")
            .bind(template_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn discarded(&self) -> Result<Vec<DiscardEntry>> {
        let rows = sqlx::query("SELECT * FROM discarded_templates ORDER BY template_id").fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(DiscardEntry {
                    template_id: r.try_get("template_id")?,
                    reason: r.try_get("reason")?,
                    since: from_ms(r.try_get("since")?),
                })
            })
            .collect()
    }

    async fn is_discarded(&self, template_id: i64) -> Result<bool> {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT template_id FROM discarded_templates WHERE template_id = ?")
                .bind(template_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(found.is_some())
    }

    async fn set_channel_rate(&self, channel: ChannelKind, rate: Option<f64>, now: DateTime<Utc>) -> Result<()> {
        match rate {
            Some(rate) => {
                sqlx::query(
                    "INSERT INTO channel_rates (channel, rate_per_second, updated_at) VALUES (?, ?, ?) \
                     ON CONFLICT (channel) DO UPDATE SET rate_per_second = excluded.rate_per_second, \
                     updated_at = excluded.updated_at",
                )
                .bind(channel.as_str())
                .bind(rate)
                .bind(to_ms(now))
                .execute(&self.pool)
                .await?
            }
            None => {
                sqlx::query("DELETE FROM channel_rates WHERE channel = ?")
                    .bind(channel.as_str())
                    .execute(&self.pool)
                    .await?
            }
        };
        Ok(())
    }

    async fn channel_rates(&self) -> Result<Vec<ChannelRate>> {
        let rows = sqlx::query("SELECT * FROM channel_rates ORDER BY channel").fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let channel: String = r.try_get("channel")?;
                Ok(ChannelRate {
                    channel: ChannelKind::parse(&channel)
                        .ok_or_else(|| StoreError::Corrupt(format!("channel {channel:?}")))?,
                    rate_per_second: r.try_get("rate_per_second")?,
                    updated_at: from_ms(r.try_get("updated_at")?),
                })
            })
            .collect()
    }

    async fn defer_messages(&self, messages: &[DeferredMessage], now: DateTime<Utc>) -> Result<()> {
        if messages.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        for m in messages {
            let variables = serde_json::to_string(&m.variables).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let inserted = sqlx::query(
                "INSERT INTO deferred_messages (message_id, template_id, run_id, receiver, variables_json, position, release_at, \
                 created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (message_id) DO NOTHING",
            )
            .bind(m.message_id.as_str())
            .bind(m.template_id)
            .bind(m.run_id)
            .bind(&m.receiver)
            .bind(variables)
            .bind(m.position)
            .bind(to_ms(m.release_at))
            .bind(to_ms(now))
            .execute(&mut *tx)
            .await?;
            if inserted.rows_affected() == 1 {
                sqlx::query(
                    "INSERT INTO trace (message_id, template_id, run_id, receiver, event, detail, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(m.message_id.as_str())
                .bind(m.template_id)
                .bind(m.run_id)
                .bind(&m.receiver)
                .bind(TraceEvent::Deferred.as_str())
                .bind(format!("quiet hours: released at {}", m.release_at.to_rfc3339()))
                .bind(to_ms(now))
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    async fn due_deferred(&self, now: DateTime<Utc>, limit: i64) -> Result<Vec<DeferredMessage>> {
        let rows = sqlx::query(
            "SELECT * FROM deferred_messages WHERE release_at <= ? \
             ORDER BY release_at, run_id IS NULL, run_id, position, seq LIMIT ?",
        )
        .bind(to_ms(now))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(deferred_from_row).collect()
    }

    async fn claim_deferred(
        &self,
        now: DateTime<Utc>,
        limit: i64,
        lease: chrono::Duration,
    ) -> Result<Vec<DeferredMessage>> {
        let rows = sqlx::query(
            "UPDATE deferred_messages SET lease_until = ?1 WHERE seq IN ( \
               SELECT seq FROM deferred_messages WHERE release_at <= ?2 AND (lease_until IS NULL OR lease_until <= ?2) \
               ORDER BY release_at, run_id IS NULL, run_id, position, seq LIMIT ?3) \
             RETURNING *",
        )
        .bind(to_ms(now + lease))
        .bind(to_ms(now))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut claimed = rows.iter().map(deferred_from_row).collect::<Result<Vec<_>>>()?;
        claimed.sort_by(DeferredMessage::release_order);
        Ok(claimed)
    }

    async fn remove_deferred(&self, seqs: &[i64]) -> Result<()> {
        if seqs.is_empty() {
            return Ok(());
        }
        let mut query = QueryBuilder::<Sqlite>::new("DELETE FROM deferred_messages WHERE seq IN (");
        let mut list = query.separated(", ");
        for seq in seqs {
            list.push_bind(*seq);
        }
        query.push(")");
        query.build().execute(&self.pool).await?;
        Ok(())
    }

    async fn message_states(&self, filter: &MessageFilter) -> Result<Vec<MessageState>> {
        let rows = sqlx::query(
            "SELECT * FROM deliveries WHERE (?1 IS NULL OR receiver = ?1) AND (?2 IS NULL OR template_id = ?2) \
             AND (?3 IS NULL OR run_id = ?3) AND (?4 IS NULL OR at >= ?4) AND (?5 IS NULL OR at < ?5) \
             ORDER BY at DESC, message_id LIMIT ?6",
        )
        .bind(&filter.receiver)
        .bind(filter.template_id)
        .bind(filter.run_id)
        .bind(filter.from.map(to_ms))
        .bind(filter.to.map(to_ms))
        .bind(filter.limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(MessageState {
                    message_id: r.try_get("message_id")?,
                    template_id: r.try_get("template_id")?,
                    run_id: r.try_get("run_id")?,
                    receiver: r.try_get("receiver")?,
                    state: r.try_get("state")?,
                    detail: r.try_get("detail")?,
                    at: from_ms(r.try_get("at")?),
                })
            })
            .collect()
    }

    async fn run_state_counts(&self, run_id: i64) -> Result<Vec<(String, i64)>> {
        let mut counts: Vec<(String, i64)> =
            sqlx::query_as("SELECT state, COUNT(*) FROM deliveries WHERE run_id = ? GROUP BY state ORDER BY state")
                .bind(run_id)
                .fetch_all(&self.pool)
                .await?;
        let deferred: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM deferred_messages WHERE run_id = ?")
            .bind(run_id)
            .fetch_one(&self.pool)
            .await?;
        if deferred > 0 {
            counts.push(("deferred".into(), deferred));
        }
        Ok(counts)
    }

    async fn purge_before(&self, before: DateTime<Utc>, batch: i64) -> Result<u64> {
        let mut total = 0;
        for (table, column) in [("trace", "at"), ("deliveries", "at"), ("outbox", "delivered_at")] {
            loop {
                // Bounded batches keep each write lock short on a busy node.
                let sql = format!(
                    "DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table} WHERE {column} < ? LIMIT ?)"
                );
                let done = sqlx::query(&sql).bind(to_ms(before)).bind(batch).execute(&self.pool).await?;
                total += done.rows_affected();
                if done.rows_affected() < batch as u64 {
                    break;
                }
            }
        }
        Ok(total)
    }
}

fn deferred_from_row(r: &sqlx::sqlite::SqliteRow) -> Result<DeferredMessage> {
    let variables: String = r.try_get("variables_json")?;
    Ok(DeferredMessage {
        seq: r.try_get("seq")?,
        message_id: MessageId(r.try_get("message_id")?),
        template_id: r.try_get("template_id")?,
        run_id: r.try_get("run_id")?,
        receiver: r.try_get("receiver")?,
        variables: serde_json::from_str(&variables).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        position: r.try_get("position")?,
        release_at: from_ms(r.try_get("release_at")?),
    })
}
