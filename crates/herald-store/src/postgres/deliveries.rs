//! The delivery ledger (one final state per message id), the trace, and the outbox channel's
//! table. A message id already in the ledger is never counted or traced as final again, so a
//! redelivered batch is harmless, and of several workers racing on one message only the one
//! whose ledger insert wins counts it into the run.

use super::PgStore;
use crate::error::{Result, StoreError};
use crate::model::{OutboxEntry, OutboxFilter, Outcome, TraceRecord};
use crate::repos::DeliveryRepo;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use herald_core::{MessageId, TraceEvent};
use sqlx::Row;
use std::collections::BTreeMap;

/// Column arrays for an `UNNEST` insert of outcomes.
#[derive(Default)]
struct OutcomeColumns<'a> {
    message_ids: Vec<&'a str>,
    template_ids: Vec<i64>,
    run_ids: Vec<Option<i64>>,
    receivers: Vec<&'a str>,
    events: Vec<&'static str>,
    details: Vec<Option<&'a str>>,
}

impl<'a> OutcomeColumns<'a> {
    fn of(outcomes: &[&'a Outcome]) -> Self {
        let mut c = Self::default();
        for o in outcomes {
            c.message_ids.push(o.message_id.as_str());
            c.template_ids.push(o.template_id);
            c.run_ids.push(o.run_id);
            c.receivers.push(&o.receiver);
            c.events.push(o.event.as_str());
            c.details.push(o.detail.as_deref());
        }
        c
    }
}

/// New final states of one run, by kind.
#[derive(Default)]
struct RunCounts {
    delivered: i64,
    failed: i64,
    dropped: i64,
}

/// The outcomes ordered by message id, a message's own events kept in their given order.
/// Every writer takes the ledger's and the trace index's keys in this one order, so two
/// workers writing overlapping batches wait for each other instead of deadlocking.
fn in_key_order(outcomes: &[Outcome]) -> Vec<&Outcome> {
    let mut sorted: Vec<&Outcome> = outcomes.iter().collect();
    sorted.sort_by(|a, b| a.message_id.as_str().cmp(b.message_id.as_str()));
    sorted
}

#[async_trait]
impl DeliveryRepo for PgStore {
    async fn finished_messages(&self, ids: &[MessageId]) -> Result<Vec<MessageId>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<&str> = ids.iter().map(MessageId::as_str).collect();
        let found: Vec<String> = sqlx::query_scalar("SELECT message_id FROM deliveries WHERE message_id = ANY($1)")
            .bind(&ids)
            .fetch_all(&self.pool)
            .await?;
        Ok(found.into_iter().map(MessageId).collect())
    }

    async fn record_outcomes(&self, outcomes: &[Outcome], now: DateTime<Utc>) -> Result<u64> {
        if let Some(o) = outcomes.iter().find(|o| !o.event.is_terminal()) {
            return Err(StoreError::Conflict(format!("{} is not a final state", o.event.as_str())));
        }
        let mut sorted = in_key_order(outcomes);
        // The first outcome of a message wins, as it would one statement at a time.
        sorted.dedup_by(|later, first| later.message_id == first.message_id);
        if sorted.is_empty() {
            return Ok(0);
        }
        let c = OutcomeColumns::of(&sorted);
        let mut tx = self.pool.begin().await?;
        // One statement: the ledger rows that are new, and a final trace event for each of them.
        let new = sqlx::query(
            "WITH input AS ( \
               SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[]) \
                 WITH ORDINALITY AS i (message_id, template_id, run_id, receiver, event, detail, ord)), \
             new AS ( \
               INSERT INTO deliveries (message_id, template_id, run_id, receiver, state, detail, at) \
               SELECT message_id, template_id, run_id, receiver, event, detail, $7 FROM input ORDER BY ord \
               ON CONFLICT (message_id) DO NOTHING RETURNING message_id, run_id, state), \
             traced AS ( \
               INSERT INTO trace (message_id, template_id, run_id, receiver, event, detail, at) \
               SELECT i.message_id, i.template_id, i.run_id, i.receiver, i.event, i.detail, $7 \
               FROM input i JOIN new n ON n.message_id = i.message_id ORDER BY i.ord \
               ON CONFLICT DO NOTHING) \
             SELECT run_id, state FROM new",
        )
        .bind(&c.message_ids)
        .bind(&c.template_ids)
        .bind(&c.run_ids)
        .bind(&c.receivers)
        .bind(&c.events)
        .bind(&c.details)
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        let mut per_run: BTreeMap<i64, RunCounts> = BTreeMap::new();
        for row in &new {
            let Some(run_id) = row.try_get::<Option<i64>, _>("run_id")? else { continue };
            let state: String = row.try_get("state")?;
            let counts = per_run.entry(run_id).or_default();
            match state.as_str() {
                s if s == TraceEvent::Sent.as_str() => counts.delivered += 1,
                s if s == TraceEvent::Failed.as_str() => counts.failed += 1,
                // Every other final state is a policy's drop (quiet hours, dedup, discard list).
                _ => counts.dropped += 1,
            }
        }
        // Runs in id order, for the same reason the ledger keys are sorted.
        for (run_id, counts) in per_run {
            sqlx::query(
                "UPDATE runs SET delivered = delivered + $1, failed = failed + $2, dropped = dropped + $3 WHERE id = $4",
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
        Ok(new.len() as u64)
    }

    async fn record_trace(&self, outcomes: &[Outcome], now: DateTime<Utc>) -> Result<()> {
        if outcomes.is_empty() {
            return Ok(());
        }
        let sorted = in_key_order(outcomes);
        let c = OutcomeColumns::of(&sorted);
        // `accepted` is unique per message (see trace_accepted_once); other events repeat freely.
        sqlx::query(
            "INSERT INTO trace (message_id, template_id, run_id, receiver, event, detail, at) \
             SELECT message_id, template_id, run_id, receiver, event, detail, $7 \
             FROM UNNEST($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[]) \
               WITH ORDINALITY AS i (message_id, template_id, run_id, receiver, event, detail, ord) \
             ORDER BY ord ON CONFLICT DO NOTHING",
        )
        .bind(&c.message_ids)
        .bind(&c.template_ids)
        .bind(&c.run_ids)
        .bind(&c.receivers)
        .bind(&c.events)
        .bind(&c.details)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn trace_of(&self, message_id: &str) -> Result<Vec<TraceRecord>> {
        let rows = sqlx::query("SELECT * FROM trace WHERE message_id = $1 ORDER BY id")
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
                    at: r.try_get("at")?,
                })
            })
            .collect()
    }

    async fn insert_outbox(&self, entries: &[OutboxEntry]) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let message_ids: Vec<&str> = entries.iter().map(|e| e.message_id.as_str()).collect();
        let template_ids: Vec<i64> = entries.iter().map(|e| e.template_id).collect();
        let run_ids: Vec<Option<i64>> = entries.iter().map(|e| e.run_id).collect();
        let receivers: Vec<&str> = entries.iter().map(|e| e.receiver.as_str()).collect();
        let contents: Vec<String> = entries.iter().map(|e| e.content.to_string()).collect();
        let delivered_at: Vec<DateTime<Utc>> = entries.iter().map(|e| e.delivered_at).collect();
        // Input order is kept, so outbox ids follow delivery order within a batch.
        sqlx::query(
            "INSERT INTO outbox (message_id, template_id, run_id, receiver, content_json, delivered_at) \
             SELECT message_id, template_id, run_id, receiver, content::jsonb, delivered_at \
             FROM UNNEST($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::timestamptz[]) \
               WITH ORDINALITY AS e (message_id, template_id, run_id, receiver, content, delivered_at, ord) \
             ORDER BY ord ON CONFLICT (message_id) DO NOTHING",
        )
        .bind(&message_ids)
        .bind(&template_ids)
        .bind(&run_ids)
        .bind(&receivers)
        .bind(&contents)
        .bind(&delivered_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn list_outbox(&self, filter: &OutboxFilter) -> Result<Vec<OutboxEntry>> {
        let rows = sqlx::query(
            "SELECT id, message_id, template_id, run_id, receiver, content_json::text AS content_json, delivered_at \
             FROM outbox WHERE id > $1 AND ($2::bigint IS NULL OR template_id = $2) \
             AND ($3::bigint IS NULL OR run_id = $3) AND ($4::text IS NULL OR receiver = $4) ORDER BY id LIMIT $5",
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
                    delivered_at: r.try_get("delivered_at")?,
                })
            })
            .collect()
    }

    async fn count_outbox(&self, template_id: Option<i64>, run_id: Option<i64>) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox WHERE ($1::bigint IS NULL OR template_id = $1) \
             AND ($2::bigint IS NULL OR run_id = $2)",
        )
        .bind(template_id)
        .bind(run_id)
        .fetch_one(&self.pool)
        .await?)
    }
}
