//! Many-row writes on PostgreSQL: each column bound as one array and `UNNEST`ed, so a batch is
//! one statement (one round trip, one plan) whatever its size. Rows go in key order, the one
//! order every writer takes the unique keys in, so overlapping batches of two workers wait for
//! each other instead of deadlocking. The shared repositories call these by the same names as
//! `sqlite/batch.rs`.

use super::dialect::{DbPool, Tx};
use crate::deferral::DeferredRow;
use crate::error::Result;
use crate::model::{OutboxEntry, ShardPlan, TraceEntry};
use chrono::{DateTime, Utc};
use std::collections::HashSet;

pub(super) async fn insert_shards(tx: &mut Tx, run_id: i64, shards: &[ShardPlan]) -> Result<()> {
    let numbers: Vec<i32> = (0..shards.len() as i32).collect();
    let checkpoints: Vec<String> = shards.iter().map(|s| s.checkpoint.to_string()).collect();
    let ends: Vec<Option<i64>> = shards.iter().map(|s| s.end_offset).collect();
    sqlx::query(
        "INSERT INTO run_shards (run_id, shard_no, checkpoint_json, end_offset) \
         SELECT $1, n, c::jsonb, e FROM UNNEST($2::int[], $3::text[], $4::bigint[]) AS u (n, c, e)",
    )
    .bind(run_id)
    .bind(&numbers)
    .bind(&checkpoints)
    .bind(&ends)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

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
    fn of(outcomes: &[&'a TraceEntry]) -> Self {
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

/// Writes each outcome to the ledger unless its message is there already, and traces the new
/// ones, in one statement; returns the message ids that were new.
pub(super) async fn insert_final_states(
    tx: &mut Tx,
    outcomes: &[&TraceEntry],
    now: DateTime<Utc>,
) -> Result<HashSet<String>> {
    let c = OutcomeColumns::of(outcomes);
    let new: Vec<String> = sqlx::query_scalar(
        "WITH input AS ( \
           SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[]) \
             WITH ORDINALITY AS i (message_id, template_id, run_id, receiver, event, detail, ord)), \
         new AS ( \
           INSERT INTO deliveries (message_id, template_id, run_id, receiver, state, detail, at) \
           SELECT message_id, template_id, run_id, receiver, event, detail, $7 FROM input ORDER BY ord \
           ON CONFLICT (message_id) DO NOTHING RETURNING message_id), \
         traced AS ( \
           INSERT INTO trace (message_id, template_id, run_id, receiver, event, detail, at) \
           SELECT i.message_id, i.template_id, i.run_id, i.receiver, i.event, i.detail, $7 \
           FROM input i JOIN new n ON n.message_id = i.message_id ORDER BY i.ord \
           ON CONFLICT DO NOTHING) \
         SELECT message_id FROM new",
    )
    .bind(&c.message_ids)
    .bind(&c.template_ids)
    .bind(&c.run_ids)
    .bind(&c.receivers)
    .bind(&c.events)
    .bind(&c.details)
    .bind(now)
    .fetch_all(&mut **tx)
    .await?;
    Ok(new.into_iter().collect())
}

pub(super) async fn insert_trace(pool: &DbPool, outcomes: &[&TraceEntry], now: DateTime<Utc>) -> Result<()> {
    let c = OutcomeColumns::of(outcomes);
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
    .execute(pool)
    .await?;
    Ok(())
}

/// Nothing to read: on PostgreSQL the trigger `trace_status_events` queues the status events of
/// the rows each trace INSERT adds, as part of that statement (`sqlite/batch.rs` does it per
/// write: a receipts write reads this first, its other trace writes count their rows).
pub(super) async fn newest_trace_id(_: &mut Tx) -> Result<i64> {
    Ok(0)
}

/// Nothing to do: the trigger `trace_status_events` queued the events with their statements.
pub(super) async fn queue_status_events(_: &mut Tx, _after: i64) -> Result<()> {
    Ok(())
}

/// One statement, idempotent on message id; input order is kept, so outbox ids follow delivery
/// order within a batch.
pub(super) async fn insert_outbox(pool: &DbPool, entries: &[OutboxEntry]) -> Result<()> {
    let message_ids: Vec<&str> = entries.iter().map(|e| e.message_id.as_str()).collect();
    let template_ids: Vec<i64> = entries.iter().map(|e| e.template_id).collect();
    let run_ids: Vec<Option<i64>> = entries.iter().map(|e| e.run_id).collect();
    let receivers: Vec<&str> = entries.iter().map(|e| e.receiver.as_str()).collect();
    let contents: Vec<String> = entries.iter().map(|e| e.content.to_string()).collect();
    let delivered_at: Vec<DateTime<Utc>> = entries.iter().map(|e| e.delivered_at).collect();
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
    .execute(pool)
    .await?;
    Ok(())
}

/// Holds each message unless it is held already, tracing the new ones as deferred or paused.
pub(super) async fn insert_deferred(tx: &mut Tx, rows: &[DeferredRow<'_>], now: DateTime<Utc>) -> Result<()> {
    // Release order is input order, so the seqs are drawn in input order; the rows are then
    // inserted in message-id order (see the module note).
    let mut seqs: Vec<i64> = sqlx::query_scalar(
        "SELECT nextval(pg_get_serial_sequence('deferred_messages', 'seq')) FROM generate_series(1, $1)",
    )
    .bind(rows.len() as i64)
    .fetch_all(&mut **tx)
    .await?;
    seqs.sort_unstable();
    let mut keyed: Vec<(i64, &DeferredRow<'_>)> = seqs.into_iter().zip(rows).collect();
    keyed.sort_by(|a, b| a.1.message.message_id.as_str().cmp(b.1.message.message_id.as_str()));

    let mut seq = Vec::with_capacity(keyed.len());
    let mut message_ids = Vec::with_capacity(keyed.len());
    let mut template_ids = Vec::with_capacity(keyed.len());
    let mut run_ids = Vec::with_capacity(keyed.len());
    let mut receivers = Vec::with_capacity(keyed.len());
    let mut variables = Vec::with_capacity(keyed.len());
    let mut release_at = Vec::with_capacity(keyed.len());
    let mut positions = Vec::with_capacity(keyed.len());
    let mut details = Vec::with_capacity(keyed.len());
    let mut paused = Vec::with_capacity(keyed.len());
    let mut screened = Vec::with_capacity(keyed.len());
    let mut events = Vec::with_capacity(keyed.len());
    for (s, row) in &keyed {
        let m = row.message;
        seq.push(*s);
        message_ids.push(m.message_id.as_str());
        template_ids.push(m.template_id);
        run_ids.push(m.run_id);
        receivers.push(m.receiver.as_str());
        variables.push(row.variables_json.as_str());
        release_at.push(row.release_at);
        positions.push(m.position);
        details.push(row.detail.as_str());
        paused.push(row.paused);
        screened.push(m.screened.as_str());
        events.push(row.event.as_str());
    }
    // Only the messages not held before are traced as held.
    sqlx::query(
        "WITH input AS ( \
           SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], \
             $7::timestamptz[], $8::text[], $10::text[], $11::bigint[], $12::boolean[], $13::text[]) WITH ORDINALITY \
             AS i (seq, message_id, template_id, run_id, receiver, variables, release_at, detail, event, position, \
               paused, screened, ord)), \
         new AS ( \
           INSERT INTO deferred_messages (seq, message_id, template_id, run_id, receiver, variables_json, position, \
             release_at, created_at, paused, screened) \
           SELECT seq, message_id, template_id, run_id, receiver, variables::jsonb, position, release_at, $9, \
             paused, screened \
           FROM input ORDER BY ord \
           ON CONFLICT (message_id) DO NOTHING RETURNING message_id) \
         INSERT INTO trace (message_id, template_id, run_id, receiver, event, detail, at) \
         SELECT i.message_id, i.template_id, i.run_id, i.receiver, i.event, i.detail, $9 \
         FROM input i JOIN new n ON n.message_id = i.message_id ORDER BY i.seq",
    )
    .bind(&seq)
    .bind(&message_ids)
    .bind(&template_ids)
    .bind(&run_ids)
    .bind(&receivers)
    .bind(&variables)
    .bind(&release_at)
    .bind(&details)
    .bind(now)
    .bind(&events)
    .bind(&positions)
    .bind(&paused)
    .bind(&screened)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
