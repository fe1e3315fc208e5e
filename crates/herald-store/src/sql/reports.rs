//! Reports over final message states: what happened to the messages matching a filter, and the
//! messages of a run or of a template's day counted by state and by failure reason.

use super::Backend;
use super::codec::time_of;
use super::dialect::{BYTE_ORDER, Db, db_time};
use crate::error::Result;
use crate::model::{DeliveryScope, MessageFilter, MessageState};
use crate::repos::ReportRepo;
use async_trait::async_trait;
use const_format::formatcp;
use herald_core::funnel::ReceiptCounts;
use sqlx::Row;

#[async_trait]
impl ReportRepo for Backend {
    async fn message_states(&self, filter: &MessageFilter) -> Result<Vec<MessageState>> {
        let rows = sqlx::query(formatcp!(
            "SELECT message_id, template_id, run_id, receiver, state, detail, at FROM deliveries \
             WHERE ($1 IS NULL OR receiver = $1) AND ($2 IS NULL OR template_id = $2) \
             AND ($3 IS NULL OR run_id = $3) AND ($4 IS NULL OR at >= $4) AND ($5 IS NULL OR at < $5) \
             AND ($7 IS NULL OR state = $7) ORDER BY at DESC, message_id{BYTE_ORDER} LIMIT $6 OFFSET $8"
        ))
        .bind(&filter.receiver)
        .bind(filter.template_id)
        .bind(filter.run_id)
        .bind(filter.from.map(db_time))
        .bind(filter.to.map(db_time))
        .bind(filter.limit)
        .bind(filter.state.as_deref())
        .bind(filter.offset)
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

    async fn state_counts(&self, scope: DeliveryScope) -> Result<Vec<(String, i64)>> {
        let final_states = bound(sqlx::query_as(FINAL_STATES[scope_index(scope)]), scope);
        let mut counts: Vec<(String, i64)> = final_states.fetch_all(&self.pool).await?;
        let held: Vec<(String, i64)> =
            bound(sqlx::query_as(HELD[scope_index(scope)]), scope).fetch_all(&self.pool).await?;
        counts.extend(held);
        Ok(counts)
    }

    async fn failure_reasons(&self, scope: DeliveryScope, limit: i64) -> Result<Vec<(String, i64)>> {
        let query = bound(sqlx::query_as(FAILURES[scope_index(scope)]), scope).bind(limit);
        Ok(query.fetch_all(&self.pool).await?)
    }

    async fn receipt_counts(&self, scope: DeliveryScope) -> Result<ReceiptCounts> {
        let query = bound(sqlx::query_as(RECEIPTS[scope_index(scope)]), scope);
        let (delivered, read, undelivered): (i64, i64, i64) = query.fetch_one(&self.pool).await?;
        Ok(ReceiptCounts { delivered, read, undelivered })
    }
}

/// Each scope's rows of `deliveries`, as a WHERE clause ($1, and $2 $3 for a template's span).
const RUN_ROWS: &str = "run_id = $1";
const TEMPLATE_ROWS: &str = "template_id = $1 AND at >= $2 AND at < $3";
/// The same for held messages, which count from when they were held.
const RUN_HELD: &str = "run_id = $1";
const TEMPLATE_HELD: &str = "template_id = $1 AND created_at >= $2 AND created_at < $3";

/// Per scope (run, template span): final states counted.
const FINAL_STATES: [&str; 2] = [
    formatcp!("SELECT state, COUNT(*) FROM deliveries WHERE {RUN_ROWS} GROUP BY state ORDER BY state{BYTE_ORDER}"),
    formatcp!("SELECT state, COUNT(*) FROM deliveries WHERE {TEMPLATE_ROWS} GROUP BY state ORDER BY state{BYTE_ORDER}"),
];
/// Held messages are not final: deferred for quiet hours, or paused with their run.
const HELD: [&str; 2] = [
    formatcp!(
        "SELECT CASE WHEN paused THEN 'paused' ELSE 'deferred' END AS held, COUNT(*) FROM deferred_messages WHERE {RUN_HELD} GROUP BY 1 ORDER BY 1"
    ),
    formatcp!(
        "SELECT CASE WHEN paused THEN 'paused' ELSE 'deferred' END AS held, COUNT(*) FROM deferred_messages WHERE {TEMPLATE_HELD} GROUP BY 1 ORDER BY 1"
    ),
];
/// Failure reasons counted, the most frequent first; $last is the limit.
const FAILURES: [&str; 2] = [
    formatcp!(
        "SELECT COALESCE(detail, ''), COUNT(*) FROM deliveries WHERE {RUN_ROWS} AND state = 'failed' GROUP BY 1 ORDER BY COUNT(*) DESC, COALESCE(detail, ''){BYTE_ORDER} LIMIT $2"
    ),
    formatcp!(
        "SELECT COALESCE(detail, ''), COUNT(*) FROM deliveries WHERE {TEMPLATE_ROWS} AND state = 'failed' GROUP BY 1 ORDER BY COUNT(*) DESC, COALESCE(detail, ''){BYTE_ORDER} LIMIT $4"
    ),
];

/// Per scope: the sent messages whose receipts said delivered (or read), read, undelivered.
const RECEIPTS: [&str; 2] = [
    formatcp!("{RECEIPTS_OF} d.run_id = $1 AND {RECEIPT_EVENTS}"),
    formatcp!("{RECEIPTS_OF} d.template_id = $1 AND d.at >= $2 AND d.at < $3 AND {RECEIPT_EVENTS}"),
];
const RECEIPTS_OF: &str = "SELECT \
     COUNT(DISTINCT CASE WHEN t.event IN ('delivered', 'read') THEN t.message_id END), \
     COUNT(DISTINCT CASE WHEN t.event = 'read' THEN t.message_id END), \
     COUNT(DISTINCT CASE WHEN t.event = 'undelivered' THEN t.message_id END) \
     FROM deliveries d JOIN trace t ON t.message_id = d.message_id WHERE";
const RECEIPT_EVENTS: &str = "d.state = 'sent' AND t.event IN ('delivered', 'undelivered', 'read')";

fn scope_index(scope: DeliveryScope) -> usize {
    match scope {
        DeliveryScope::Run(_) => 0,
        DeliveryScope::TemplateBetween { .. } => 1,
    }
}

type QueryOf<'q, O> = sqlx::query::QueryAs<'q, Db, O, <Db as sqlx::Database>::Arguments<'q>>;

/// `query` with the scope's parameters bound, in the order its WHERE clause reads them.
fn bound<O>(query: QueryOf<'_, O>, scope: DeliveryScope) -> QueryOf<'_, O> {
    match scope {
        DeliveryScope::Run(run_id) => query.bind(run_id),
        DeliveryScope::TemplateBetween { template_id, from, to } => {
            query.bind(template_id).bind(db_time(from)).bind(db_time(to))
        }
    }
}
