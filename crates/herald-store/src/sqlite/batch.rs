//! Many-row writes on SQLite: multi-row VALUES statements (SQLite has no arrays to bind a
//! column at once), or one statement per row inside one write transaction where few rows come. The shared
//! repositories call these by the same names as `postgres/batch.rs`.

use super::dialect::{Db, DbPool, Tx, begin_write, db_time};
use crate::deferral::DeferredRow;
use crate::error::Result;
use crate::model::{OutboxEntry, ShardPlan, TraceEntry};
use chrono::{DateTime, Utc};
use herald_core::shaped_chunks;
use sqlx::QueryBuilder;
use sqlx::types::Json;
use std::collections::HashSet;

pub(super) async fn insert_shards(tx: &mut Tx, run_id: i64, shards: &[ShardPlan]) -> Result<()> {
    for (n, shard) in shards.iter().enumerate() {
        sqlx::query("INSERT INTO run_shards (run_id, shard_no, checkpoint_json, end_offset) VALUES ($1, $2, $3, $4)")
            .bind(run_id)
            .bind(n as i32)
            .bind(Json(&shard.checkpoint))
            .bind(shard.end_offset)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Writes each outcome to the ledger unless its message is there already, and traces the new
/// ones; returns the message ids that were new.
pub(super) async fn insert_final_states(
    tx: &mut Tx,
    outcomes: &[&TraceEntry],
    now: DateTime<Utc>,
) -> Result<HashSet<String>> {
    let mut new = HashSet::with_capacity(outcomes.len());
    for chunk in shaped_chunks(outcomes, ROWS_PER_STATEMENT) {
        let mut insert = outcome_rows(
            "INSERT INTO deliveries (message_id, template_id, run_id, receiver, state, detail, at) ",
            chunk,
            now,
        );
        insert.push(" ON CONFLICT (message_id) DO NOTHING RETURNING message_id");
        let inserted: Vec<String> = insert.build_query_scalar().fetch_all(&mut **tx).await?;
        new.extend(inserted);
    }
    let traced: Vec<&TraceEntry> = outcomes.iter().copied().filter(|o| new.contains(o.message_id.as_str())).collect();
    trace_rows(tx, &traced, now).await?;
    Ok(new)
}

pub(super) async fn insert_trace(pool: &DbPool, outcomes: &[&TraceEntry], now: DateTime<Utc>) -> Result<()> {
    let mut tx = begin_write(pool).await?;
    trace_rows(&mut tx, outcomes, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Rows a multi-row statement carries at most (7 binds each, well within SQLite's 32,766
/// variables); fewer come in the few sizes of [`shaped_chunks`], so the writer keeps a few
/// prepared shapes per table instead of one per row count.
const ROWS_PER_STATEMENT: usize = 256;

/// Traces `outcomes` in input order, in multi-row statements of [`shaped_chunks`].
async fn trace_rows(tx: &mut Tx, outcomes: &[&TraceEntry], now: DateTime<Utc>) -> Result<()> {
    for chunk in shaped_chunks(outcomes, ROWS_PER_STATEMENT) {
        let mut insert = outcome_rows(
            "INSERT INTO trace (message_id, template_id, run_id, receiver, event, detail, at) ",
            chunk,
            now,
        );
        // `accepted` is unique per message (see trace_accepted_once); other events repeat freely.
        insert.push(" ON CONFLICT DO NOTHING");
        insert.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// `insert` (a table's seven outcome columns: message, template, run, receiver, event or
/// state, detail, time) followed by one VALUES row per outcome, all at `now`.
fn outcome_rows<'a>(insert: &str, outcomes: &'a [&TraceEntry], now: DateTime<Utc>) -> QueryBuilder<'a, Db> {
    let mut rows = QueryBuilder::<Db>::new(insert);
    rows.push_values(outcomes, |mut b, o| {
        b.push_bind(o.message_id.as_str())
            .push_bind(o.template_id)
            .push_bind(o.run_id)
            .push_bind(&o.receiver)
            .push_bind(o.event.as_str())
            .push_bind(&o.detail)
            .push_bind(db_time(now));
    });
    rows
}

/// Multi-row statements in one transaction, idempotent on message id.
pub(super) async fn insert_outbox(pool: &DbPool, entries: &[OutboxEntry]) -> Result<()> {
    let mut tx = begin_write(pool).await?;
    for chunk in shaped_chunks(entries, ROWS_PER_STATEMENT) {
        let mut insert = QueryBuilder::<Db>::new(
            "INSERT INTO outbox (message_id, template_id, run_id, receiver, content_json, delivered_at) ",
        );
        insert.push_values(chunk, |mut b, e| {
            b.push_bind(&e.message_id)
                .push_bind(e.template_id)
                .push_bind(e.run_id)
                .push_bind(&e.receiver)
                .push_bind(Json(&e.content))
                .push_bind(db_time(e.delivered_at));
        });
        insert.push(" ON CONFLICT (message_id) DO NOTHING");
        insert.build().execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Holds each message unless it is held already, tracing the new ones as deferred or paused;
/// seqs follow the input order, which is release order.
pub(super) async fn insert_deferred(tx: &mut Tx, rows: &[DeferredRow<'_>], now: DateTime<Utc>) -> Result<()> {
    for row in rows {
        let m = row.message;
        let inserted = sqlx::query(
            "INSERT INTO deferred_messages (message_id, template_id, run_id, receiver, variables_json, position, \
             release_at, created_at, paused, screened) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (message_id) DO NOTHING",
        )
        .bind(m.message_id.as_str())
        .bind(m.template_id)
        .bind(m.run_id)
        .bind(&m.receiver)
        .bind(&row.variables_json)
        .bind(m.position)
        .bind(db_time(row.release_at))
        .bind(db_time(now))
        .bind(row.paused)
        .bind(m.screened.as_str())
        .execute(&mut **tx)
        .await?;
        if inserted.rows_affected() == 1 {
            sqlx::query(
                "INSERT INTO trace (message_id, template_id, run_id, receiver, event, detail, at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(m.message_id.as_str())
            .bind(m.template_id)
            .bind(m.run_id)
            .bind(&m.receiver)
            .bind(row.event.as_str())
            .bind(&row.detail)
            .bind(db_time(now))
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}
