//! Messages deferred by quiet hours or held for a paused run: kept in release order, claimed by
//! one release at a time under a lease once due, and forgotten once published.

use super::Backend;
use super::batch::insert_deferred;
use super::codec::{json_of, time_of};
use super::dialect::{Db, DbRow, SKIP_LOCKED, begin_write, db_time, push_in_list};
use crate::deferral::DeferredRow;
use crate::error::Result;
use crate::model::DeferredMessage;
use crate::repos::DeferredRepo;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use const_format::formatcp;
use herald_core::MessageId;
use sqlx::{QueryBuilder, Row};
use std::collections::HashSet;

/// Release order: release time, then run (API messages last), row position, deferral order.
pub(super) const DEFERRED_COLUMNS: &str =
    "seq, message_id, template_id, run_id, receiver, variables_json, position, release_at, screened";
const RELEASE_ORDER: &str = "release_at, run_id NULLS LAST, position, seq";

#[async_trait]
impl DeferredRepo for Backend {
    async fn defer_messages(&self, messages: &[DeferredMessage], now: DateTime<Utc>) -> Result<()> {
        // A message twice in one call is deferred once, as first given.
        let mut seen = HashSet::with_capacity(messages.len());
        let rows = messages
            .iter()
            .filter(|m| seen.insert(m.message_id.as_str()))
            .map(DeferredRow::quiet_hours)
            .collect::<Result<Vec<_>>>()?;
        if rows.is_empty() {
            return Ok(());
        }
        let mut tx = begin_write(self.writer()).await?;
        insert_deferred(&mut tx, &rows, now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn hold_for_pause(&self, run_id: i64, messages: &[DeferredMessage], now: DateTime<Utc>) -> Result<()> {
        if messages.is_empty() {
            return Ok(());
        }
        let mut tx = begin_write(self.writer()).await?;
        let still_paused = super::run_pause::paused_in(&mut tx, run_id).await?;
        let rows = messages.iter().map(|m| DeferredRow::paused(m, still_paused, now)).collect::<Result<Vec<_>>>()?;
        insert_deferred(&mut tx, &rows, now).await?;
        if !still_paused {
            // Resumed meanwhile: they are due as the resume's are, and the release runs for them.
            super::run_pause::bring_release_forward(&mut tx, crate::deferral::due_after_resume(now)).await?;
        }
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
        .fetch_all(self.writer())
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
        query.build().execute(self.writer()).await?;
        Ok(())
    }
}

pub(super) fn deferred_from_row(r: &DbRow) -> Result<DeferredMessage> {
    Ok(DeferredMessage {
        seq: r.try_get("seq")?,
        message_id: MessageId(r.try_get("message_id")?),
        template_id: r.try_get("template_id")?,
        run_id: r.try_get("run_id")?,
        receiver: r.try_get("receiver")?,
        variables: json_of(r, "variables_json")?,
        position: r.try_get("position")?,
        release_at: time_of(r, "release_at")?,
        screened: super::codec::screened(&r.try_get::<String, _>("screened")?)?,
    })
}
