//! Reports over final message states: what happened to the messages matching a filter, and a
//! run's messages counted by state.

use super::Backend;
use super::codec::time_of;
use super::dialect::{BYTE_ORDER, db_time};
use crate::error::Result;
use crate::model::{MessageFilter, MessageState};
use crate::repos::ReportRepo;
use async_trait::async_trait;
use const_format::formatcp;
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

    async fn run_state_counts(&self, run_id: i64) -> Result<Vec<(String, i64)>> {
        let mut counts: Vec<(String, i64)> = sqlx::query_as(formatcp!(
            "SELECT state, COUNT(*) FROM deliveries WHERE run_id = $1 GROUP BY state ORDER BY state{BYTE_ORDER}"
        ))
        .bind(run_id)
        .fetch_all(&self.pool)
        .await?;
        // Held messages are not final: deferred for quiet hours, or paused with their run.
        let held: Vec<(String, i64)> = sqlx::query_as(
            "SELECT CASE WHEN paused THEN 'paused' ELSE 'deferred' END AS held, COUNT(*) FROM deferred_messages \
             WHERE run_id = $1 GROUP BY 1 ORDER BY 1",
        )
        .bind(run_id)
        .fetch_all(&self.pool)
        .await?;
        counts.extend(held);
        Ok(counts)
    }
}
