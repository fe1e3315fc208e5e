//! Many-row writes on SQLite: multi-row VALUES statements (SQLite has no arrays to bind a
//! column at once), or one statement per row inside one write transaction where few rows come. The shared
//! repositories call these by the same names as `postgres/batch.rs`.

use super::dialect::{Db, DbPool, Inserted, Tx, begin_write, db_time};
use crate::deferral::DeferredRow;
use crate::error::Result;
use crate::model::{OutboxEntry, ShardPlan, TraceEntry};
use chrono::{DateTime, Utc};
use herald_core::shaped_chunks;
use herald_core::status_events::EventType;
use sqlx::QueryBuilder;
use sqlx::types::Json;
use std::collections::HashSet;
use std::sync::LazyLock;

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
/// ones; returns the message ids that were new. The ids come back only when some outcome's
/// message was final already (a batch delivered again): otherwise every one was new.
pub(super) async fn insert_final_states(
    tx: &mut Tx,
    outcomes: &[&TraceEntry],
    now: DateTime<Utc>,
) -> Result<HashSet<String>> {
    let inserts = shaped_chunks(outcomes, ROWS_PER_STATEMENT).map(|chunk| {
        let mut insert = outcome_rows(
            "INSERT INTO deliveries (message_id, template_id, run_id, receiver, state, detail, at) ",
            chunk,
            now,
        );
        insert.push(" ON CONFLICT (message_id) DO NOTHING");
        insert
    });
    let inserted = Inserted::run(tx, inserts.collect::<Vec<_>>()).await?;
    let new: HashSet<String> = if inserted.count == outcomes.len() as u64 {
        outcomes.iter().map(|o| o.message_id.as_str().to_string()).collect()
    } else {
        inserted.read::<String>(tx, "deliveries", "message_id").await?.into_iter().collect()
    };
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

/// Traces `outcomes` in input order, in multi-row statements of [`shaped_chunks`], and queues
/// the status events of the rows it added (known from the statements' own counts and last row
/// ids, with no read of the newest id before them).
async fn trace_rows(tx: &mut Tx, outcomes: &[&TraceEntry], now: DateTime<Utc>) -> Result<()> {
    let inserts = shaped_chunks(outcomes, ROWS_PER_STATEMENT).map(|chunk| {
        let mut insert = outcome_rows(
            "INSERT INTO trace (message_id, template_id, run_id, receiver, event, detail, at) ",
            chunk,
            now,
        );
        // `accepted` is unique per message (see trace_accepted_once); other events repeat freely.
        insert.push(" ON CONFLICT DO NOTHING");
        insert
    });
    let added = Inserted::run(tx, inserts.collect::<Vec<_>>()).await?;
    if added.count > 0 {
        queue_status_events(tx, added.after_rowid()).await?;
    }
    Ok(())
}

/// The trace's newest row id: the rows this write transaction adds after reading it come after
/// it (a write transaction is the database's only writer while it lasts). A receipts write reads
/// it first, its trace rows inserted one receipt at a time among other statements; [`trace_rows`]
/// counts its own instead.
pub(super) async fn newest_trace_id(tx: &mut Tx) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM trace").fetch_one(&mut **tx).await?)
}

/// Queues, for every endpoint that takes its type, the status event of each trace row after
/// `after` (those this transaction added), under the event id a replay gives it too; one
/// already waiting is left as it is. One statement for the whole write: with no endpoint it
/// reads nothing (the endpoints are the outer loop), with some it reads only the new rows.
/// PostgreSQL's trigger `trace_status_events` does the same per statement.
pub(super) async fn queue_status_events(tx: &mut Tx, after: i64) -> Result<()> {
    sqlx::query(QUEUE_STATUS_EVENTS.as_str()).bind(after).execute(&mut **tx).await?;
    Ok(())
}

/// [`queue_status_events`]'s statement, the trace events it takes named by herald-core's
/// message event types.
static QUEUE_STATUS_EVENTS: LazyLock<String> = LazyLock::new(|| {
    let events: Vec<String> = EventType::ALL.iter().filter_map(|t| t.trace_event()).map(|e| format!("'{e}'")).collect();
    format!(
        "INSERT INTO status_events (endpoint_id, event_id, kind, message_id, template_id, run_id, receiver, detail, at, due_at) \
         SELECT e.id, t.message_id || '.' || t.event, 'message.' || t.event, t.message_id, t.template_id, \
         t.run_id, t.receiver, t.detail, t.at, t.at FROM event_endpoints e CROSS JOIN trace t \
         WHERE t.id > $1 AND t.event IN ({}) AND instr(e.events, ',message.' || t.event || ',') > 0 \
         ORDER BY e.id, t.id ON CONFLICT (endpoint_id, event_id) DO NOTHING",
        events.join(", ")
    )
});

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
            // `deferred` and `paused` are no status event's type: nothing to queue.
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
