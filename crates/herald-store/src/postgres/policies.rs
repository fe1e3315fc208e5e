//! Send-time policy state: the discard list, per-channel rates, messages deferred by quiet
//! hours, queries over final message states, and retention.

use super::PgStore;
use crate::error::{Result, StoreError};
use crate::model::{ChannelRate, DeferredMessage, DiscardEntry, MessageFilter, MessageState};
use crate::repos::PolicyRepo;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use herald_core::{ChannelKind, MessageId, TraceEvent};
use sqlx::Row;
use std::collections::HashSet;

/// The tables retention purges: name, primary key (Postgres has no rowid) and time column.
const PURGED: [(&str, &str, &str); 3] =
    [("trace", "id", "at"), ("deliveries", "message_id", "at"), ("outbox", "id", "delivered_at")];

#[async_trait]
impl PolicyRepo for PgStore {
    async fn discard_template(&self, template_id: i64, reason: Option<&str>, now: DateTime<Utc>) -> Result<()> {
        // Discarding again keeps the first `since` and takes the new reason.
        let done = sqlx::query(
            "INSERT INTO discarded_templates (template_id, reason, since) SELECT id, $2, $3 FROM templates \
             WHERE id = $1 ON CONFLICT (template_id) DO UPDATE SET reason = excluded.reason",
        )
        .bind(template_id)
        .bind(reason)
        .bind(now)
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
                    since: r.try_get("since")?,
                })
            })
            .collect()
    }

    async fn is_discarded(&self, template_id: i64) -> Result<bool> {
        Ok(sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM discarded_templates WHERE template_id = $1)")
            .bind(template_id)
            .fetch_one(&self.pool)
            .await?)
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
                .bind(now)
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
        // Byte order, as SQLite sorts, whatever the database's collation.
        let rows = sqlx::query(
            "SELECT channel, rate_per_second, updated_at FROM channel_rates ORDER BY channel COLLATE \"C\"",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let channel: String = r.try_get("channel")?;
                Ok(ChannelRate {
                    channel: ChannelKind::parse(&channel)
                        .ok_or_else(|| StoreError::Corrupt(format!("channel {channel:?}")))?,
                    rate_per_second: r.try_get("rate_per_second")?,
                    updated_at: r.try_get("updated_at")?,
                })
            })
            .collect()
    }

    async fn defer_messages(&self, messages: &[DeferredMessage], now: DateTime<Utc>) -> Result<()> {
        // A message twice in one call is deferred once, as first given.
        let mut seen = HashSet::with_capacity(messages.len());
        let unique: Vec<&DeferredMessage> = messages.iter().filter(|m| seen.insert(m.message_id.as_str())).collect();
        if unique.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        // Release order is input order, so the seqs are drawn in input order; the rows are then
        // inserted in message-id order, the one order every writer takes the unique keys in, so
        // two workers deferring overlapping batches wait for each other instead of deadlocking.
        let mut seqs: Vec<i64> = sqlx::query_scalar(
            "SELECT nextval(pg_get_serial_sequence('deferred_messages', 'seq')) FROM generate_series(1, $1)",
        )
        .bind(unique.len() as i64)
        .fetch_all(&mut *tx)
        .await?;
        seqs.sort_unstable();
        let mut rows: Vec<(i64, &DeferredMessage)> = seqs.into_iter().zip(unique).collect();
        rows.sort_by(|a, b| a.1.message_id.as_str().cmp(b.1.message_id.as_str()));

        let mut seq = Vec::with_capacity(rows.len());
        let mut message_ids = Vec::with_capacity(rows.len());
        let mut template_ids = Vec::with_capacity(rows.len());
        let mut run_ids = Vec::with_capacity(rows.len());
        let mut receivers = Vec::with_capacity(rows.len());
        let mut variables = Vec::with_capacity(rows.len());
        let mut release_at = Vec::with_capacity(rows.len());
        let mut positions = Vec::with_capacity(rows.len());
        let mut details = Vec::with_capacity(rows.len());
        for (s, m) in &rows {
            seq.push(*s);
            message_ids.push(m.message_id.as_str());
            template_ids.push(m.template_id);
            run_ids.push(m.run_id);
            receivers.push(m.receiver.as_str());
            variables.push(serde_json::to_string(&m.variables).map_err(|e| StoreError::Corrupt(e.to_string()))?);
            release_at.push(m.release_at);
            positions.push(m.position);
            details.push(format!("quiet hours: released at {}", m.release_at.to_rfc3339()));
        }
        // Only the messages not deferred before are traced as deferred.
        sqlx::query(
            "WITH input AS ( \
               SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], \
                 $7::timestamptz[], $8::text[], $11::bigint[]) WITH ORDINALITY \
                 AS i (seq, message_id, template_id, run_id, receiver, variables, release_at, detail, position, ord)), \
             new AS ( \
               INSERT INTO deferred_messages \
                 (seq, message_id, template_id, run_id, receiver, variables_json, position, release_at, created_at) \
               SELECT seq, message_id, template_id, run_id, receiver, variables::jsonb, position, release_at, $9 \
               FROM input ORDER BY ord \
               ON CONFLICT (message_id) DO NOTHING RETURNING message_id) \
             INSERT INTO trace (message_id, template_id, run_id, receiver, event, detail, at) \
             SELECT i.message_id, i.template_id, i.run_id, i.receiver, $10, i.detail, $9 \
             FROM input i JOIN new n ON n.message_id = i.message_id ORDER BY i.seq",
        )
        .bind(&seq)
        .bind(&message_ids)
        .bind(&template_ids)
        .bind(&run_ids)
        .bind(&receivers)
        .bind(&variables)
        .bind(&release_at)
        .bind(&details)
        .bind(now)
        .bind(TraceEvent::Deferred.as_str())
        .bind(&positions)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn due_deferred(&self, now: DateTime<Utc>, limit: i64) -> Result<Vec<DeferredMessage>> {
        let rows = sqlx::query(
            "SELECT seq, message_id, template_id, run_id, receiver, variables_json::text AS variables_json, \
             position, release_at FROM deferred_messages WHERE release_at <= $1 \
             ORDER BY release_at, run_id NULLS LAST, position, seq LIMIT $2",
        )
        .bind(now)
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
        // SKIP LOCKED: a release on another node passes over the rows this one is claiming.
        let rows = sqlx::query(
            "UPDATE deferred_messages SET lease_until = $1 WHERE seq IN ( \
               SELECT seq FROM deferred_messages WHERE release_at <= $2 AND (lease_until IS NULL OR lease_until <= $2) \
               ORDER BY release_at, run_id NULLS LAST, position, seq LIMIT $3 FOR UPDATE SKIP LOCKED) \
             RETURNING seq, message_id, template_id, run_id, receiver, variables_json::text AS variables_json, \
               position, release_at",
        )
        .bind(now + lease)
        .bind(now)
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
        sqlx::query("DELETE FROM deferred_messages WHERE seq = ANY($1)").bind(seqs).execute(&self.pool).await?;
        Ok(())
    }

    async fn message_states(&self, filter: &MessageFilter) -> Result<Vec<MessageState>> {
        let rows = sqlx::query(
            "SELECT message_id, template_id, run_id, receiver, state, detail, at FROM deliveries \
             WHERE ($1::text IS NULL OR receiver = $1) AND ($2::bigint IS NULL OR template_id = $2) \
             AND ($3::bigint IS NULL OR run_id = $3) AND ($4::timestamptz IS NULL OR at >= $4) \
             AND ($5::timestamptz IS NULL OR at < $5) \
             ORDER BY at DESC, message_id COLLATE \"C\" LIMIT $6",
        )
        .bind(&filter.receiver)
        .bind(filter.template_id)
        .bind(filter.run_id)
        .bind(filter.from)
        .bind(filter.to)
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
                    at: r.try_get("at")?,
                })
            })
            .collect()
    }

    async fn run_state_counts(&self, run_id: i64) -> Result<Vec<(String, i64)>> {
        let mut counts: Vec<(String, i64)> = sqlx::query_as(
            "SELECT state, COUNT(*) FROM deliveries WHERE run_id = $1 GROUP BY state ORDER BY state COLLATE \"C\"",
        )
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
        // A batch below one would delete nothing forever (and Postgres refuses a negative LIMIT).
        let batch = batch.max(1);
        let mut total = 0;
        for (table, key, column) in PURGED {
            loop {
                // Bounded batches keep each statement's locks few and short on a busy cluster.
                let sql = format!(
                    "DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} WHERE {column} < $1 LIMIT $2)"
                );
                let done = sqlx::query(&sql).bind(before).bind(batch).execute(&self.pool).await?;
                total += done.rows_affected();
                if done.rows_affected() < batch as u64 {
                    break;
                }
            }
        }
        Ok(total)
    }
}

fn deferred_from_row(r: &sqlx::postgres::PgRow) -> Result<DeferredMessage> {
    let variables: String = r.try_get("variables_json")?;
    Ok(DeferredMessage {
        seq: r.try_get("seq")?,
        message_id: MessageId(r.try_get("message_id")?),
        template_id: r.try_get("template_id")?,
        run_id: r.try_get("run_id")?,
        receiver: r.try_get("receiver")?,
        variables: serde_json::from_str(&variables).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        position: r.try_get("position")?,
        release_at: r.try_get("release_at")?,
    })
}
