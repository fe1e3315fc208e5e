//! An operator's cancel of a run. The run row turns `cancelled` in one short transaction, so
//! streamers stop at their next checkpoint and workers at their next send (they read the state
//! before each). Then its messages deferred for quiet hours or held for a pause end as
//! `cancelled`, a page per
//! transaction, so a million deferred rows never sit in memory or in one long write. A cancel
//! cut short before the last page leaves the rest to the quiet-hours release, whose workers end
//! them as `cancelled` too.

use super::Backend;
use super::deferred::{DEFERRED_COLUMNS, deferred_from_row};
use super::dialect::{Db, begin_write, db_time, push_in_list};
use super::ledger::{in_key_order, record_final_states};
use super::run_pause::locked_state;
use crate::error::Result;
use crate::model::TraceEntry;
use chrono::{DateTime, Utc};
use const_format::formatcp;
use herald_core::{CANCELLED_REASON, TraceEvent};
use sqlx::QueryBuilder;

/// Deferred messages ended per transaction.
const PAGE: i64 = 1_000;

impl Backend {
    pub(super) async fn cancel(&self, run_id: i64, now: DateTime<Utc>) -> Result<()> {
        self.mark_cancelled(run_id, now).await?;
        while self.cancel_deferred_page(run_id, now).await? > 0 {}
        Ok(())
    }

    async fn mark_cancelled(&self, run_id: i64, now: DateTime<Utc>) -> Result<()> {
        let mut tx = begin_write(self.writer()).await?;
        let (status, _) = locked_state(&mut tx, run_id, "cancelled").await?;
        sqlx::query(
            "UPDATE runs SET status = 'cancelled', finished_at = $1, lease_owner = NULL, lease_until = NULL \
             WHERE id = $2",
        )
        .bind(db_time(now))
        .bind(run_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(run_id, was = status.as_str(), "run cancelled");
        Ok(())
    }

    /// Ends one page of the run's deferred messages as `cancelled`; returns how many. The page
    /// is read before the write lock is taken (none at all for a run with nothing deferred);
    /// a message a release took meanwhile ends `cancelled` at its worker, and the ledger keeps
    /// whichever final state came first.
    async fn cancel_deferred_page(&self, run_id: i64, now: DateTime<Utc>) -> Result<usize> {
        let rows = sqlx::query(formatcp!(
            "SELECT {DEFERRED_COLUMNS} FROM deferred_messages WHERE run_id = $1 ORDER BY seq LIMIT {PAGE}"
        ))
        .bind(run_id)
        .fetch_all(&self.pool)
        .await?;
        let page = rows.iter().map(deferred_from_row).collect::<Result<Vec<_>>>()?;
        if page.is_empty() {
            return Ok(0);
        }
        let mut tx = begin_write(self.writer()).await?;
        let outcomes: Vec<TraceEntry> =
            page.iter().map(|d| d.ending(TraceEvent::Cancelled, CANCELLED_REASON)).collect();
        record_final_states(&mut tx, &in_key_order(&outcomes), now).await?;
        let mut gone = QueryBuilder::<Db>::new("DELETE FROM deferred_messages WHERE seq");
        push_in_list(&mut gone, page.iter().map(|d| d.seq));
        gone.build().execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(page.len())
    }
}
