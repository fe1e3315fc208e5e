//! Resend to failed, the store's part: a run's failed messages read from the ledger as a stream
//! (a million of them never sit in memory as rows), and the resend run created over the crowd
//! file that holds them, at most one per run (a unique index, so two operators racing get one
//! resend and a conflict naming it).

use super::Backend;
use super::dialect::{Tx, begin_write, db_time};
use crate::error::{Result, StoreError};
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use herald_core::{MessageId, TraceEvent};

impl Backend {
    pub(super) async fn visit_failed(&self, run_id: i64, visit: &mut (dyn FnMut(MessageId) + Send)) -> Result<u64> {
        let mut rows =
            sqlx::query_scalar::<_, String>("SELECT message_id FROM deliveries WHERE run_id = $1 AND state = $2")
                .bind(run_id)
                .bind(TraceEvent::Failed.as_str())
                .fetch(&self.pool);
        let mut count = 0;
        while let Some(id) = rows.try_next().await? {
            visit(MessageId(id));
            count += 1;
        }
        Ok(count)
    }

    pub(super) async fn insert_resend(
        &self,
        parent: i64,
        crowd_id: &str,
        rows: i64,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let mut tx = begin_write(self.writer()).await?;
        let template_id: i64 = sqlx::query_scalar("SELECT template_id FROM runs WHERE id = $1")
            .bind(parent)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::not_found("run", parent))?;
        refuse_second_resend(&mut tx, parent).await?;
        let template = super::templates::template_in(&mut tx, template_id).await?.ok_or_else(|| {
            StoreError::Conflict(format!("run {parent}'s template {template_id} was deleted; it cannot send again"))
        })?;
        let not_before = template.spec.run_not_before(now);
        let inserted = sqlx::query_scalar(
            "INSERT INTO runs (template_id, crowd_id, status, rows_total, created_at, not_before, resend_of) \
             VALUES ($1, $2, 'pending', $3, $4, $5, $6) RETURNING id",
        )
        .bind(template_id)
        .bind(crowd_id)
        .bind(rows)
        .bind(db_time(now))
        .bind(not_before.map(db_time))
        .bind(parent)
        .fetch_one(&mut *tx)
        .await;
        let id: i64 = match inserted {
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                return Err(StoreError::Conflict(format!("run {parent} is being resent already")));
            }
            other => other?,
        };
        tx.commit().await?;
        tracing::info!(run_id = id, resend_of = parent, rows, "resend run created");
        Ok(id)
    }

    pub(super) async fn resend_of(&self, run_id: i64) -> Result<Option<i64>> {
        let row: Option<Option<i64>> = sqlx::query_scalar("SELECT resend_of FROM runs WHERE id = $1")
            .bind(run_id)
            .fetch_optional(&self.pool)
            .await?;
        row.ok_or_else(|| StoreError::not_found("run", run_id))
    }
}

/// A run is resent once: a second resend would send again to the receivers the first reached.
async fn refuse_second_resend(tx: &mut Tx, parent: i64) -> Result<()> {
    let earlier: Option<i64> =
        sqlx::query_scalar("SELECT id FROM runs WHERE resend_of = $1").bind(parent).fetch_optional(&mut **tx).await?;
    match earlier {
        Some(resend) => Err(StoreError::Conflict(format!(
            "run {parent} was resent already as run {resend}; resend run {resend}'s failed messages instead"
        ))),
        None => Ok(()),
    }
}
