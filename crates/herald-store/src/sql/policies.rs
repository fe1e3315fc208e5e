//! Send-time policy state: the discard list, per-channel rates, messages deferred by quiet
//! hours, queries over final message states, and retention.

use super::Backend;
use super::batch::insert_deferred;
use super::codec::{json_of, time_of};
use super::dialect::{BYTE_ORDER, Db, DbRow, SKIP_LOCKED, begin_write, db_time, push_in_list};
use crate::deferral::DeferredRow;
use crate::error::{Result, StoreError};
use crate::model::{ChannelRate, DeferredMessage, DiscardEntry, MessageFilter, MessageState};
use crate::repos::PolicyRepo;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use const_format::formatcp;
use herald_core::{ChannelKind, MessageId};
use sqlx::{QueryBuilder, Row};
use std::collections::HashSet;

/// The tables retention purges: name, primary key and time column.
const PURGED: [(&str, &str, &str); 3] =
    [("trace", "id", "at"), ("deliveries", "message_id", "at"), ("outbox", "id", "delivered_at")];

/// Release order: release time, then run (API messages last), row position, deferral order.
const DEFERRED_COLUMNS: &str = "seq, message_id, template_id, run_id, receiver, variables_json, position, release_at";
const RELEASE_ORDER: &str = "release_at, run_id NULLS LAST, position, seq";

#[async_trait]
impl PolicyRepo for Backend {
    async fn discard_template(&self, template_id: i64, reason: Option<&str>, now: DateTime<Utc>) -> Result<()> {
        // Discarding again keeps the first `since` and takes the new reason.
        let done = sqlx::query(
            "INSERT INTO discarded_templates (template_id, reason, since) SELECT id, $2, $3 FROM templates \
             WHERE id = $1 ON CONFLICT (template_id) DO UPDATE SET reason = excluded.reason",
        )
        .bind(template_id)
        .bind(reason)
        .bind(db_time(now))
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found("template", template_id));
        }
        Ok(())
    }

    async fn undiscard_template(&self, template_id: i64) -> Result<()> {
        sqlx::query("DELETE FROM discarded_templates WHERE template_id = $1")
            .bind(template_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn discarded(&self) -> Result<Vec<DiscardEntry>> {
        let rows = sqlx::query("SELECT template_id, reason, since FROM discarded_templates ORDER BY template_id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(DiscardEntry {
                    template_id: r.try_get("template_id")?,
                    reason: r.try_get("reason")?,
                    since: time_of(r, "since")?,
                })
            })
            .collect()
    }

    async fn is_discarded(&self, template_id: i64) -> Result<bool> {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT template_id FROM discarded_templates WHERE template_id = $1")
                .bind(template_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(found.is_some())
    }

    async fn set_channel_rate(&self, channel: ChannelKind, rate: Option<f64>, now: DateTime<Utc>) -> Result<()> {
        match rate {
            Some(rate) => {
                sqlx::query(
                    "INSERT INTO channel_rates (channel, rate_per_second, updated_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (channel) DO UPDATE SET rate_per_second = excluded.rate_per_second, \
                     updated_at = excluded.updated_at",
                )
                .bind(channel.as_str())
                .bind(rate)
                .bind(db_time(now))
                .execute(&self.pool)
                .await?
            }
            None => {
                sqlx::query("DELETE FROM channel_rates WHERE channel = $1")
                    .bind(channel.as_str())
                    .execute(&self.pool)
                    .await?
            }
        };
        Ok(())
    }

    async fn channel_rates(&self) -> Result<Vec<ChannelRate>> {
        let rows = sqlx::query(formatcp!(
            "SELECT channel, rate_per_second, updated_at FROM channel_rates ORDER BY channel{BYTE_ORDER}"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let channel: String = r.try_get("channel")?;
                Ok(ChannelRate {
                    channel: ChannelKind::parse(&channel)
                        .ok_or_else(|| StoreError::Corrupt(format!("channel {channel:?}")))?,
                    rate_per_second: r.try_get("rate_per_second")?,
                    updated_at: time_of(r, "updated_at")?,
                })
            })
            .collect()
    }

    async fn defer_messages(&self, messages: &[DeferredMessage], now: DateTime<Utc>) -> Result<()> {
        // A message twice in one call is deferred once, as first given.
        let mut seen = HashSet::with_capacity(messages.len());
        let rows = messages
            .iter()
            .filter(|m| seen.insert(m.message_id.as_str()))
            .map(DeferredRow::of)
            .collect::<Result<Vec<_>>>()?;
        if rows.is_empty() {
            return Ok(());
        }
        let mut tx = begin_write(&self.pool).await?;
        insert_deferred(&mut tx, &rows, now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn due_deferred(&self, now: DateTime<Utc>, limit: i64) -> Result<Vec<DeferredMessage>> {
        let rows = sqlx::query(formatcp!(
            "SELECT {DEFERRED_COLUMNS} FROM deferred_messages WHERE release_at <= $1 ORDER BY {RELEASE_ORDER} LIMIT $2"
        ))
        .bind(db_time(now))
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
        let rows = sqlx::query(formatcp!(
            "UPDATE deferred_messages SET lease_until = $1 WHERE seq IN ( \
               SELECT seq FROM deferred_messages WHERE release_at <= $2 AND (lease_until IS NULL OR lease_until <= $2) \
               ORDER BY {RELEASE_ORDER} LIMIT $3{SKIP_LOCKED}) \
             RETURNING {DEFERRED_COLUMNS}"
        ))
        .bind(db_time(now + lease))
        .bind(db_time(now))
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
        let mut query = QueryBuilder::<Db>::new("DELETE FROM deferred_messages WHERE seq");
        push_in_list(&mut query, seqs.iter().copied());
        query.build().execute(&self.pool).await?;
        Ok(())
    }

    async fn message_states(&self, filter: &MessageFilter) -> Result<Vec<MessageState>> {
        let rows = sqlx::query(formatcp!(
            "SELECT message_id, template_id, run_id, receiver, state, detail, at FROM deliveries \
             WHERE ($1 IS NULL OR receiver = $1) AND ($2 IS NULL OR template_id = $2) \
             AND ($3 IS NULL OR run_id = $3) AND ($4 IS NULL OR at >= $4) AND ($5 IS NULL OR at < $5) \
             ORDER BY at DESC, message_id{BYTE_ORDER} LIMIT $6"
        ))
        .bind(&filter.receiver)
        .bind(filter.template_id)
        .bind(filter.run_id)
        .bind(filter.from.map(db_time))
        .bind(filter.to.map(db_time))
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
                    at: time_of(r, "at")?,
                })
            })
            .collect()
    }

    async fn run_state_counts(&self, run_id: i64) -> Result<Vec<(String, i64)>> {
        let mut counts: Vec<(String, i64)> = sqlx::query_as(formatcp!(
            "SELECT state, COUNT(*) FROM deliveries WHERE run_id = $1 GROUP BY state ORDER BY state{BYTE_ORDER}"
        ))
        .bind(run_id)
        .fetch_all(&self.pool)
        .await?;
        let deferred: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM deferred_messages WHERE run_id = $1")
            .bind(run_id)
            .fetch_one(&self.pool)
            .await?;
        if deferred > 0 {
            counts.push(("deferred".into(), deferred));
        }
        Ok(counts)
    }

    async fn purge_before(&self, before: DateTime<Utc>, batch: i64) -> Result<u64> {
        // A batch below one would delete nothing forever (and PostgreSQL refuses a negative LIMIT).
        let batch = batch.max(1);
        let mut total = 0;
        for (table, key, column) in PURGED {
            loop {
                // Bounded batches keep each statement's locks few and short on a busy node.
                // The names come from PURGED above, never from input.
                let sql = format!(
                    "DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} WHERE {column} < $1 LIMIT $2)"
                );
                let done = sqlx::query(&sql).bind(db_time(before)).bind(batch).execute(&self.pool).await?;
                total += done.rows_affected();
                if done.rows_affected() < batch as u64 {
                    break;
                }
            }
        }
        Ok(total)
    }
}

fn deferred_from_row(r: &DbRow) -> Result<DeferredMessage> {
    Ok(DeferredMessage {
        seq: r.try_get("seq")?,
        message_id: MessageId(r.try_get("message_id")?),
        template_id: r.try_get("template_id")?,
        run_id: r.try_get("run_id")?,
        receiver: r.try_get("receiver")?,
        variables: json_of(r, "variables_json")?,
        position: r.try_get("position")?,
        release_at: time_of(r, "release_at")?,
    })
}
