//! Status events out: endpoints kept with their sealed secrets, and the queue that the trace's
//! writes fill (`queue_status_events` in `sqlite/batch.rs`; on PostgreSQL the trace trigger of
//! `0023_trace_status_events_by_statement`), with the runs' trigger of `0017_status_events` /
//! `0015_status_events`.
//! A batch is claimed under a lease (rows another node holds are skipped), deleted on success,
//! put back with a later due time on failure; a replay queues the trace's events again under
//! their own ids.

use super::Backend;
use super::codec::{opt_time_of, time_of};
use super::dialect::{Db, DbRow, SKIP_LOCKED, TRUE, Tx, begin_write, db_time, push_in_list};
use crate::error::{Result, StoreError};
use crate::status_events::{EndpointSpec, EndpointTarget, EventEndpoint, QueuedEvent, ReplayWindow, StatusEventRepo};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use const_format::formatcp;
use herald_core::status_events::{Batching, EventType, Head, stored_types, types_of};
use sqlx::{QueryBuilder, Row};

/// Trace rows a replay reads per statement (and transaction), by trace id.
const REPLAY_IDS_PER_STATEMENT: i64 = 10_000;

const ENDPOINT_COLUMNS: &str = "e.id, e.name, e.url, e.events, e.enabled, e.created_at, e.last_success_at, \
     e.last_error, e.last_error_at, \
     (SELECT COUNT(*) FROM status_events q WHERE q.endpoint_id = e.id) AS backlog, \
     (SELECT MIN(q.at) FROM status_events q WHERE q.endpoint_id = e.id) AS oldest_waiting_at";

fn endpoint_of(row: &DbRow) -> Result<EventEndpoint> {
    Ok(EventEndpoint {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        url: row.try_get("url")?,
        events: types_of(&row.try_get::<String, _>("events")?),
        enabled: row.try_get("enabled")?,
        created_at: time_of(row, "created_at")?,
        backlog: row.try_get("backlog")?,
        oldest_waiting_at: opt_time_of(row, "oldest_waiting_at")?,
        last_success_at: opt_time_of(row, "last_success_at")?,
        last_error: row.try_get("last_error")?,
        last_error_at: opt_time_of(row, "last_error_at")?,
    })
}

fn event_of(row: &DbRow) -> Result<QueuedEvent> {
    Ok(QueuedEvent {
        id: row.try_get("id")?,
        event_id: row.try_get("event_id")?,
        kind: row.try_get("kind")?,
        message_id: row.try_get("message_id")?,
        template_id: row.try_get("template_id")?,
        run_id: row.try_get("run_id")?,
        receiver: row.try_get("receiver")?,
        detail: row.try_get("detail")?,
        at: time_of(row, "at")?,
        attempts: row.try_get("attempts")?,
    })
}

fn found(affected: u64, id: i64) -> Result<()> {
    if affected == 0 { Err(StoreError::not_found("event endpoint", id)) } else { Ok(()) }
}

/// The head of an endpoint's queue: the ids due at `now` and not held, up to a batch, locked
/// for this transaction where the database locks rows.
async fn due_head(tx: &mut Tx, endpoint_id: i64, now: DateTime<Utc>, max: usize) -> Result<(Vec<i64>, Option<Head>)> {
    let rows = sqlx::query(formatcp!(
        "SELECT id, at, attempts FROM status_events WHERE endpoint_id = $1 AND due_at <= $2 \
         AND (held_until IS NULL OR held_until <= $2) ORDER BY due_at, id LIMIT $3{SKIP_LOCKED}"
    ))
    .bind(endpoint_id)
    .bind(db_time(now))
    .bind(max as i64)
    .fetch_all(&mut **tx)
    .await?;
    let mut ids = Vec::with_capacity(rows.len());
    let mut head: Option<Head> = None;
    for row in &rows {
        ids.push(row.try_get::<i64, _>("id")?);
        let (at, retried) = (time_of(row, "at")?, row.try_get::<i32, _>("attempts")? > 0);
        let h = head.get_or_insert(Head { due: 0, oldest_at: at, retried: false });
        h.due += 1;
        h.oldest_at = h.oldest_at.min(at);
        h.retried |= retried;
    }
    Ok((ids, head))
}

#[async_trait]
impl StatusEventRepo for Backend {
    async fn create_event_endpoint(&self, spec: &EndpointSpec, secret_sealed: &str, now: DateTime<Utc>) -> Result<i64> {
        let id = sqlx::query_scalar(
            "INSERT INTO event_endpoints (name, url, secret_sealed, events, enabled, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(&spec.name)
        .bind(&spec.url)
        .bind(secret_sealed)
        .bind(stored_types(&spec.events))
        .bind(spec.enabled)
        .bind(db_time(now))
        .fetch_one(self.writer())
        .await?;
        Ok(id)
    }

    async fn update_event_endpoint(&self, id: i64, spec: &EndpointSpec) -> Result<()> {
        let done =
            sqlx::query("UPDATE event_endpoints SET name = $1, url = $2, events = $3, enabled = $4 WHERE id = $5")
                .bind(&spec.name)
                .bind(&spec.url)
                .bind(stored_types(&spec.events))
                .bind(spec.enabled)
                .bind(id)
                .execute(self.writer())
                .await?;
        found(done.rows_affected(), id)
    }

    async fn set_event_endpoint_secret(&self, id: i64, secret_sealed: &str) -> Result<()> {
        let done = sqlx::query("UPDATE event_endpoints SET secret_sealed = $1 WHERE id = $2")
            .bind(secret_sealed)
            .bind(id)
            .execute(self.writer())
            .await?;
        found(done.rows_affected(), id)
    }

    async fn delete_event_endpoint(&self, id: i64) -> Result<()> {
        let mut tx = begin_write(self.writer()).await?;
        sqlx::query("DELETE FROM status_events WHERE endpoint_id = $1").bind(id).execute(&mut *tx).await?;
        let done = sqlx::query("DELETE FROM event_endpoints WHERE id = $1").bind(id).execute(&mut *tx).await?;
        found(done.rows_affected(), id)?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_event_endpoint(&self, id: i64) -> Result<EventEndpoint> {
        let row = sqlx::query(formatcp!("SELECT {ENDPOINT_COLUMNS} FROM event_endpoints e WHERE e.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found("event endpoint", id))?;
        endpoint_of(&row)
    }

    async fn list_event_endpoints(&self, offset: i64, limit: i64) -> Result<Vec<EventEndpoint>> {
        let rows =
            sqlx::query(formatcp!("SELECT {ENDPOINT_COLUMNS} FROM event_endpoints e ORDER BY e.id LIMIT $1 OFFSET $2"))
                .bind(limit)
                .bind(offset)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(endpoint_of).collect()
    }

    async fn enabled_event_targets(&self) -> Result<Vec<EndpointTarget>> {
        let rows = sqlx::query_as::<_, (i64, String, String)>(formatcp!(
            "SELECT id, url, secret_sealed FROM event_endpoints WHERE enabled = {TRUE} ORDER BY id"
        ))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(id, url, secret_sealed)| EndpointTarget { id, url, secret_sealed }).collect())
    }

    async fn claim_status_events(
        &self,
        endpoint_id: i64,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        batching: &Batching,
    ) -> Result<Vec<QueuedEvent>> {
        let mut tx = begin_write(self.writer()).await?;
        let (ids, head) = due_head(&mut tx, endpoint_id, now, batching.max_batch).await?;
        if !head.is_some_and(|head| batching.ready(&head, now)) {
            tx.rollback().await?;
            return Ok(Vec::new());
        }
        let mut query = QueryBuilder::<Db>::new("UPDATE status_events SET holder = ");
        query.push_bind(holder).push(", held_until = ").push_bind(db_time(until));
        query.push(" WHERE (held_until IS NULL OR held_until <= ").push_bind(db_time(now)).push(") AND id");
        push_in_list(&mut query, ids.iter().copied());
        query.push(" RETURNING *");
        let rows = query.build().fetch_all(&mut *tx).await?;
        tx.commit().await?;
        let mut events = rows.iter().map(event_of).collect::<Result<Vec<_>>>()?;
        events.sort_by_key(|e| ids.iter().position(|id| *id == e.id));
        Ok(events)
    }

    async fn acknowledge_status_events(
        &self,
        endpoint_id: i64,
        holder: &str,
        ids: &[i64],
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = begin_write(self.writer()).await?;
        let mut query = QueryBuilder::<Db>::new("DELETE FROM status_events WHERE endpoint_id = ");
        query.push_bind(endpoint_id).push(" AND holder = ").push_bind(holder).push(" AND id");
        push_in_list(&mut query, ids.iter().copied());
        query.build().execute(&mut *tx).await?;
        sqlx::query(
            "UPDATE event_endpoints SET last_success_at = $1, last_error = NULL, last_error_at = NULL WHERE id = $2",
        )
        .bind(db_time(now))
        .bind(endpoint_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn retry_status_events(
        &self,
        endpoint_id: i64,
        holder: &str,
        ids: &[i64],
        due_at: DateTime<Utc>,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = begin_write(self.writer()).await?;
        let mut query = QueryBuilder::<Db>::new(
            "UPDATE status_events SET attempts = attempts + 1, holder = NULL, held_until = NULL, due_at = ",
        );
        query.push_bind(db_time(due_at)).push(", last_error = ").push_bind(error);
        query.push(" WHERE endpoint_id = ").push_bind(endpoint_id).push(" AND holder = ").push_bind(holder);
        query.push(" AND id");
        push_in_list(&mut query, ids.iter().copied());
        query.build().execute(&mut *tx).await?;
        sqlx::query("UPDATE event_endpoints SET last_error = $1, last_error_at = $2 WHERE id = $3")
            .bind(error)
            .bind(db_time(now))
            .bind(endpoint_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn replay_status_events(&self, endpoint_id: i64, window: &ReplayWindow, now: DateTime<Utc>) -> Result<u64> {
        let types = self.get_event_endpoint(endpoint_id).await?.events;
        let trace_events: Vec<&str> = types.iter().filter_map(|t| t.trace_event()).collect();
        let mut queued = 0;
        if !trace_events.is_empty() {
            queued += replay_messages(self, endpoint_id, &trace_events, window, now).await?;
        }
        if types.contains(&EventType::RunFinished) {
            queued += replay_runs(self, endpoint_id, window, now).await?;
        }
        Ok(queued)
    }
}

/// The trace's events in the window, queued again a slice of trace ids at a time.
async fn replay_messages(
    store: &Backend,
    endpoint_id: i64,
    trace_events: &[&str],
    window: &ReplayWindow,
    now: DateTime<Utc>,
) -> Result<u64> {
    let (low, high): (Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT MIN(id), MAX(id) FROM trace WHERE at >= $1 AND at < $2")
            .bind(db_time(window.from))
            .bind(db_time(window.to))
            .fetch_one(&store.pool)
            .await?;
    let (Some(low), Some(high)) = (low, high) else { return Ok(0) };
    let mut queued = 0;
    let mut start = low;
    while start <= high {
        let mut query = QueryBuilder::<Db>::new(
            "INSERT INTO status_events (endpoint_id, event_id, kind, message_id, template_id, run_id, receiver, \
             detail, at, due_at) SELECT ",
        );
        query.push_bind(endpoint_id);
        query.push(
            ", t.message_id || '.' || t.event, 'message.' || t.event, t.message_id, t.template_id, t.run_id, \
             t.receiver, t.detail, t.at, ",
        );
        query.push_bind(db_time(now));
        query.push(" FROM trace t WHERE t.id >= ").push_bind(start);
        query.push(" AND t.id < ").push_bind(start.saturating_add(REPLAY_IDS_PER_STATEMENT));
        query.push(" AND t.at >= ").push_bind(db_time(window.from));
        query.push(" AND t.at < ").push_bind(db_time(window.to));
        if let Some(run_id) = window.run_id {
            query.push(" AND t.run_id = ").push_bind(run_id);
        }
        query.push(" AND t.event");
        push_in_list(&mut query, trace_events.iter().map(|e| e.to_string()));
        query.push(" ORDER BY t.id ON CONFLICT (endpoint_id, event_id) DO NOTHING");
        let mut tx = begin_write(&store.pool).await?;
        queued += query.build().execute(&mut *tx).await?.rows_affected();
        tx.commit().await?;
        start = start.saturating_add(REPLAY_IDS_PER_STATEMENT);
    }
    Ok(queued)
}

/// Runs that ended in the window, their `run.finished` queued again.
async fn replay_runs(store: &Backend, endpoint_id: i64, window: &ReplayWindow, now: DateTime<Utc>) -> Result<u64> {
    let mut query = QueryBuilder::<Db>::new(
        "INSERT INTO status_events (endpoint_id, event_id, kind, template_id, run_id, detail, at, due_at) SELECT ",
    );
    query.push_bind(endpoint_id);
    query.push(", 'run-' || r.id || '.finished', 'run.finished', r.template_id, r.id, r.status, r.finished_at, ");
    query.push_bind(db_time(now));
    query.push(" FROM runs r WHERE r.status IN ('completed', 'failed', 'cancelled') AND r.finished_at >= ");
    query.push_bind(db_time(window.from)).push(" AND r.finished_at < ").push_bind(db_time(window.to));
    if let Some(run_id) = window.run_id {
        query.push(" AND r.id = ").push_bind(run_id);
    }
    query.push(" ORDER BY r.id ON CONFLICT (endpoint_id, event_id) DO NOTHING");
    let mut tx = begin_write(&store.pool).await?;
    let queued = query.build().execute(&mut *tx).await?.rows_affected();
    tx.commit().await?;
    Ok(queued)
}
