//! What a recall of a whole template looks for: its sent messages inside a provider's recall
//! window that were not recalled yet, and its send API messages with no final state. Both are
//! read a page at a time in message id order (keyset), so a recall never holds a day of
//! messages in memory.

use super::Backend;
use super::dialect::db_time;
use super::ledger::trace_record_of;
use crate::error::Result;
use crate::model::TraceRecord;
use crate::repos::RecallRepo;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use herald_core::TraceEvent;

#[async_trait]
impl RecallRepo for Backend {
    async fn sent_not_recalled(
        &self,
        template_id: i64,
        since: DateTime<Utc>,
        after: &str,
        limit: i64,
    ) -> Result<Vec<TraceRecord>> {
        let rows = sqlx::query(
            "SELECT d.message_id, d.template_id, d.run_id, d.receiver, d.state AS event, d.detail, d.at \
             FROM deliveries d WHERE d.template_id = $1 AND d.state = $2 AND d.at >= $3 AND d.message_id > $4 \
             AND NOT EXISTS (SELECT 1 FROM trace t WHERE t.message_id = d.message_id AND t.event = $5) \
             ORDER BY d.message_id LIMIT $6",
        )
        .bind(template_id)
        .bind(TraceEvent::Sent.as_str())
        .bind(db_time(since))
        .bind(after)
        .bind(TraceEvent::Recalled.as_str())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(trace_record_of).collect()
    }

    async fn unsent_requests(
        &self,
        template_id: i64,
        since: DateTime<Utc>,
        after: &str,
        limit: i64,
    ) -> Result<Vec<TraceRecord>> {
        let rows = sqlx::query(
            "SELECT t.message_id, t.template_id, t.run_id, t.receiver, t.event, t.detail, t.at FROM trace t \
             WHERE t.template_id = $1 AND t.event = $2 AND t.run_id IS NULL AND t.at >= $3 AND t.message_id > $4 \
             AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = t.message_id) \
             ORDER BY t.message_id LIMIT $5",
        )
        .bind(template_id)
        .bind(TraceEvent::Accepted.as_str())
        .bind(db_time(since))
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(trace_record_of).collect()
    }
}
