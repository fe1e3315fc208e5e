//! The delivery ledger (one final state per message id), the trace (a crowd run's `accepted`
//! events kept a published window to a row, in `accepted_rows`), and the outbox channel's
//! table. A message id already in the ledger is never counted or traced as final again, so a
//! redelivered batch is harmless, and of several workers racing on one message only the one
//! whose ledger insert wins counts it into the run.

use super::Backend;
use super::batch::{insert_final_states, insert_outbox, insert_trace};
use super::codec::{json_of, time_of};
use super::dialect::{CLAIMS_AMONG, Db, LOCKED_IN_KEY_ORDER, Tx, begin_write, db_time, push_in_list};
use super::run_counts::count_final_states;
use crate::error::{Result, StoreError};
use crate::model::{AcceptedRows, OutboxEntry, OutboxFilter, TraceEntry, TraceRecord};
use crate::repos::LedgerRepo;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use herald_core::{MessageId, RunCounts, TraceEvent};
use sqlx::types::Json;
use sqlx::{QueryBuilder, Row};
use std::collections::{BTreeMap, HashSet};

/// The outcomes ordered by message id, a message's own events kept in their given order.
/// Every writer takes the ledger's and the trace index's keys in this one order, so two
/// workers writing overlapping batches wait for each other instead of deadlocking.
pub(super) fn in_key_order(outcomes: &[TraceEntry]) -> Vec<&TraceEntry> {
    let mut sorted: Vec<&TraceEntry> = outcomes.iter().collect();
    sorted.sort_by(|a, b| a.message_id.as_str().cmp(b.message_id.as_str()));
    sorted
}

/// Writes final states in the caller's transaction (`sorted` in key order, one per message):
/// the ledger and trace rows of those not final yet, the end of their claims, and their runs'
/// counters. Returns how many were new.
pub(super) async fn record_final_states(tx: &mut Tx, sorted: &[&TraceEntry], now: DateTime<Utc>) -> Result<u64> {
    let new: HashSet<String> = insert_final_states(tx, sorted, now).await?;
    let mut per_run: BTreeMap<i64, RunCounts> = BTreeMap::new();
    for o in sorted.iter().filter(|o| new.contains(o.message_id.as_str())) {
        if let Some(run_id) = o.run_id {
            per_run.entry(run_id).or_default().count(o.event);
        }
    }
    // A final message is no longer being sent: its claim ends with it.
    let mut ended = QueryBuilder::<Db>::new(format!("DELETE FROM send_claims WHERE {CLAIMS_AMONG}"));
    push_in_list(&mut ended, sorted.iter().map(|o| o.message_id.as_str()));
    ended.push(LOCKED_IN_KEY_ORDER);
    ended.build().execute(&mut **tx).await?;
    // Runs in id order, for the same reason the ledger keys are sorted.
    for (run_id, counts) in &per_run {
        count_final_states(tx, *run_id, counts, now).await?;
    }
    Ok(new.len() as u64)
}

#[async_trait]
impl LedgerRepo for Backend {
    async fn finished_messages(&self, ids: &[MessageId]) -> Result<Vec<MessageId>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = QueryBuilder::<Db>::new("SELECT message_id FROM deliveries WHERE message_id");
        push_in_list(&mut query, ids.iter().map(MessageId::as_str));
        let found: Vec<String> = query.build_query_scalar().fetch_all(&self.pool).await?;
        Ok(found.into_iter().map(MessageId).collect())
    }

    async fn record_outcomes(&self, outcomes: &[TraceEntry], now: DateTime<Utc>) -> Result<u64> {
        if let Some(o) = outcomes.iter().find(|o| !o.event.is_terminal()) {
            return Err(StoreError::Conflict(format!("{} is not a final state", o.event.as_str())));
        }
        let mut sorted = in_key_order(outcomes);
        // The first outcome of a message wins, as it would one statement at a time.
        sorted.dedup_by(|later, first| later.message_id == first.message_id);
        if sorted.is_empty() {
            return Ok(0);
        }
        let mut tx = begin_write(self.writer()).await?;
        let new = record_final_states(&mut tx, &sorted, now).await?;
        tx.commit().await?;
        Ok(new)
    }

    async fn record_trace(&self, outcomes: &[TraceEntry], now: DateTime<Utc>) -> Result<()> {
        if outcomes.is_empty() {
            return Ok(());
        }
        insert_trace(self.writer(), &in_key_order(outcomes), now).await
    }

    async fn record_accepted_rows(&self, rows: &AcceptedRows, now: DateTime<Utc>) -> Result<()> {
        let Some((first, last)) = rows.span() else { return Ok(()) };
        sqlx::query(
            "INSERT INTO accepted_rows (run_id, first_row, last_row, template_id, message_prefix, receivers, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (run_id, first_row) DO UPDATE \
             SET last_row = excluded.last_row, receivers = excluded.receivers \
             WHERE excluded.last_row > accepted_rows.last_row",
        )
        .bind(rows.run_id)
        .bind(row_key(first))
        .bind(row_key(last))
        .bind(rows.template_id)
        .bind(&rows.message_prefix)
        .bind(Json(&rows.rows))
        .bind(db_time(now))
        .execute(self.writer())
        .await?;
        Ok(())
    }

    async fn trace_of(&self, message_id: &str) -> Result<Vec<TraceRecord>> {
        let rows = sqlx::query("SELECT * FROM trace WHERE message_id = $1 ORDER BY id")
            .bind(message_id)
            .fetch_all(&self.pool)
            .await?;
        let mut trace: Vec<TraceRecord> = rows.iter().map(trace_record_of).collect::<Result<_>>()?;
        if !trace.iter().any(|t| t.event == TraceEvent::Accepted.as_str())
            && let Some(accepted) = self.accepted_in_rows(message_id).await?
        {
            trace.insert(0, accepted);
        }
        Ok(trace)
    }

    async fn insert_outbox(&self, entries: &[OutboxEntry]) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        insert_outbox(self.writer(), entries).await
    }

    async fn list_outbox(&self, filter: &OutboxFilter) -> Result<Vec<OutboxEntry>> {
        let rows = sqlx::query(
            "SELECT id, message_id, template_id, run_id, receiver, content_json, delivered_at \
             FROM outbox WHERE id > $1 AND ($2 IS NULL OR template_id = $2) \
             AND ($3 IS NULL OR run_id = $3) AND ($4 IS NULL OR receiver = $4) ORDER BY id LIMIT $5",
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
                Ok(OutboxEntry {
                    id: r.try_get("id")?,
                    message_id: r.try_get("message_id")?,
                    template_id: r.try_get("template_id")?,
                    run_id: r.try_get("run_id")?,
                    receiver: r.try_get("receiver")?,
                    content: json_of(r, "content_json")?,
                    delivered_at: time_of(r, "delivered_at")?,
                })
            })
            .collect()
    }

    async fn count_outbox(&self, template_id: Option<i64>, run_id: Option<i64>) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox WHERE ($1 IS NULL OR template_id = $1) AND ($2 IS NULL OR run_id = $2)",
        )
        .bind(template_id)
        .bind(run_id)
        .fetch_one(&self.pool)
        .await?)
    }
}

impl Backend {
    /// A run message's `accepted` event, read from the recorded window that holds its row.
    async fn accepted_in_rows(&self, message_id: &str) -> Result<Option<TraceRecord>> {
        let id = MessageId(message_id.to_string());
        let Some((prefix, run_id, row)) = id.run_row() else { return Ok(None) };
        let window = sqlx::query(
            "SELECT template_id, receivers, at FROM accepted_rows \
             WHERE run_id = $1 AND first_row <= $2 AND last_row >= $2 AND message_prefix = $3 \
             ORDER BY first_row DESC LIMIT 1",
        )
        .bind(run_id)
        .bind(row_key(row))
        .bind(prefix)
        .fetch_optional(&self.pool)
        .await?;
        let Some(window) = window else { return Ok(None) };
        let rows: Vec<(u64, String)> = json_of(&window, "receivers")?;
        let Ok(at_row) = rows.binary_search_by_key(&row, |(r, _)| *r) else { return Ok(None) };
        Ok(Some(TraceRecord {
            message_id: message_id.to_string(),
            template_id: window.try_get("template_id")?,
            run_id: Some(run_id),
            receiver: rows[at_row].1.clone(),
            event: TraceEvent::Accepted.as_str().to_string(),
            detail: None,
            at: time_of(&window, "at")?,
        }))
    }
}

/// A data row as the database keeps it (a crowd has far fewer than 2^63 rows).
fn row_key(row: u64) -> i64 {
    i64::try_from(row).unwrap_or(i64::MAX)
}

/// A trace row (or a row read as one: `message_id`, `template_id`, `run_id`, `receiver`,
/// `event`, `detail`, `at`).
pub(super) fn trace_record_of(row: &super::dialect::DbRow) -> Result<TraceRecord> {
    Ok(TraceRecord {
        message_id: row.try_get("message_id")?,
        template_id: row.try_get("template_id")?,
        run_id: row.try_get("run_id")?,
        receiver: row.try_get("receiver")?,
        event: row.try_get("event")?,
        detail: row.try_get("detail")?,
        at: time_of(row, "at")?,
    })
}
