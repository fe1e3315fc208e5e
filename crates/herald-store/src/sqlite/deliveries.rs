//! The delivery ledger (one final state per message id), the trace, and the outbox channel's
//! table. A message id already in the ledger is never counted or traced as final again, so a
//! redelivered batch is harmless.

use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::model::{OutboxEntry, OutboxFilter, Outcome, TraceRecord};
use crate::repos::DeliveryRepo;
use crate::time::{from_ms, to_ms};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use herald_core::{MessageId, TraceEvent};
use sqlx::{QueryBuilder, Row, Sqlite};
use std::collections::BTreeMap;

#[async_trait]
impl DeliveryRepo for SqliteStore {
    async fn finished_messages(&self, ids: &[MessageId]) -> Result<Vec<MessageId>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = QueryBuilder::<Sqlite>::new("SELECT message_id FROM deliveries WHERE message_id IN (");
        let mut list = query.separated(", ");
        for id in ids {
            list.push_bind(id.as_str());
        }
        query.push(")");
        let found: Vec<String> = query.build_query_scalar().fetch_all(&self.pool).await?;
        Ok(found.into_iter().map(MessageId).collect())
    }

    async fn record_outcomes(&self, outcomes: &[Outcome], now: DateTime<Utc>) -> Result<u64> {
        if outcomes.is_empty() {
            return Ok(0);
        }
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let mut per_run: BTreeMap<i64, RunCounts> = BTreeMap::new();
        let mut new = 0;
        for o in outcomes {
            if !o.event.is_terminal() {
                return Err(StoreError::Conflict(format!("{} is not a final state", o.event.as_str())));
            }
            let state = o.event.as_str();
            let inserted = sqlx::query(
                "INSERT INTO deliveries (message_id, template_id, run_id, receiver, state, detail, at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (message_id) DO NOTHING",
            )
            .bind(o.message_id.as_str())
            .bind(o.template_id)
            .bind(o.run_id)
            .bind(&o.receiver)
            .bind(state)
            .bind(&o.detail)
            .bind(to_ms(now))
            .execute(&mut *tx)
            .await?;
            if inserted.rows_affected() == 0 {
                continue;
            }
            new += 1;
            insert_trace(&mut tx, o, now).await?;
            if let Some(run_id) = o.run_id {
                let counts = per_run.entry(run_id).or_default();
                match o.event {
                    TraceEvent::Sent => counts.delivered += 1,
                    TraceEvent::Failed => counts.failed += 1,
                    _ => counts.dropped += 1,
                }
            }
        }
        for (run_id, counts) in per_run {
            sqlx::query(
                "UPDATE runs SET delivered = delivered + ?, failed = failed + ?, dropped = dropped + ? WHERE id = ?",
            )
            .bind(counts.delivered)
            .bind(counts.failed)
            .bind(counts.dropped)
            .bind(run_id)
            .execute(&mut *tx)
            .await?;
            super::runs::complete_if_done(&mut tx, run_id, now).await?;
        }
        tx.commit().await?;
        Ok(new)
    }

    async fn record_trace(&self, outcomes: &[Outcome], now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for o in outcomes {
            insert_trace(&mut tx, o, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn trace_of(&self, message_id: &str) -> Result<Vec<TraceRecord>> {
        let rows = sqlx::query("SELECT * FROM trace WHERE message_id = ? ORDER BY id")
            .bind(message_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(TraceRecord {
                    message_id: r.try_get("message_id")?,
                    template_id: r.try_get("template_id")?,
                    run_id: r.try_get("run_id")?,
                    receiver: r.try_get("receiver")?,
                    event: r.try_get("event")?,
                    detail: r.try_get("detail")?,
                    at: from_ms(r.try_get("at")?),
                })
            })
            .collect()
    }

    async fn insert_outbox(&self, entries: &[OutboxEntry]) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO outbox (message_id, template_id, run_id, receiver, content_json, delivered_at) ",
        );
        insert.push_values(entries, |mut b, e| {
            b.push_bind(&e.message_id)
                .push_bind(e.template_id)
                .push_bind(e.run_id)
                .push_bind(&e.receiver)
                .push_bind(e.content.to_string())
                .push_bind(to_ms(e.delivered_at));
        });
        insert.push(" ON CONFLICT (message_id) DO NOTHING");
        insert.build().execute(&self.pool).await?;
        Ok(())
    }

    async fn list_outbox(&self, filter: &OutboxFilter) -> Result<Vec<OutboxEntry>> {
        let rows = sqlx::query(
            "SELECT * FROM outbox WHERE id > ?1 AND (?2 IS NULL OR template_id = ?2) \
             AND (?3 IS NULL OR run_id = ?3) AND (?4 IS NULL OR receiver = ?4) ORDER BY id LIMIT ?5",
        )
        .bind(filter.after_id)
        .bind(filter.template_id)
        .bind(filter.run_id)
        .bind(&filter.receiver)
        .bind(filter.limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let content: String = r.try_get("content_json")?;
                Ok(OutboxEntry {
                    id: r.try_get("id")?,
                    message_id: r.try_get("message_id")?,
                    template_id: r.try_get("template_id")?,
                    run_id: r.try_get("run_id")?,
                    receiver: r.try_get("receiver")?,
                    content: serde_json::from_str(&content).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    delivered_at: from_ms(r.try_get("delivered_at")?),
                })
            })
            .collect()
    }

    async fn count_outbox(&self, template_id: Option<i64>, run_id: Option<i64>) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox WHERE (?1 IS NULL OR template_id = ?1) AND (?2 IS NULL OR run_id = ?2)",
        )
        .bind(template_id)
        .bind(run_id)
        .fetch_one(&self.pool)
        .await?)
    }
}

#[derive(Default)]
struct RunCounts {
    delivered: i64,
    failed: i64,
    dropped: i64,
}

async fn insert_trace(tx: &mut sqlx::Transaction<'_, Sqlite>, o: &Outcome, now: DateTime<Utc>) -> Result<()> {
    // `accepted` is unique per message (see trace_accepted_once); other events repeat freely.
    sqlx::query(
        "INSERT INTO trace (message_id, template_id, run_id, receiver, event, detail, at) VALUES (?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT DO NOTHING",
    )
    .bind(o.message_id.as_str())
    .bind(o.template_id)
    .bind(o.run_id)
    .bind(&o.receiver)
    .bind(o.event.as_str())
    .bind(&o.detail)
    .bind(to_ms(now))
    .execute(&mut **tx)
    .await?;
    Ok(())
}
