//! Status events out, as stored: the endpoints that receive them (`event_endpoints`) and the
//! queue of events each has yet to take (`status_events`). Events are queued by triggers in the
//! transaction that writes a message's trace event or ends a run, so none is lost between a
//! state and its event; the node's dispatcher claims a batch under a lease, posts it, and
//! deletes it on a 2xx or puts it back with a later due time.

use crate::error::Result;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use herald_core::status_events::{Batching, EventType};
use serde::Serialize;

/// An endpoint as listed: never its secret.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventEndpoint {
    pub id: i64,
    pub name: String,
    pub url: String,
    /// The event types it receives.
    pub events: Vec<EventType>,
    /// False: its events are queued and kept, and none is sent until it is enabled again.
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
    /// Events waiting for it (retries included).
    pub backlog: i64,
    /// When the oldest waiting event happened.
    pub oldest_waiting_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    /// Why its last failed call failed (cleared by a success).
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
}

/// An endpoint as created or changed.
#[derive(Debug, Clone)]
pub struct EndpointSpec {
    pub name: String,
    pub url: String,
    pub events: Vec<EventType>,
    pub enabled: bool,
}

/// What the dispatcher needs of an enabled endpoint.
#[derive(Debug, Clone)]
pub struct EndpointTarget {
    pub id: i64,
    pub url: String,
    pub secret_sealed: String,
}

/// One queued event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedEvent {
    pub id: i64,
    /// Stable: a repeat of the event carries the same id.
    pub event_id: String,
    /// The event type, as [`EventType::as_str`] spells it.
    pub kind: String,
    pub message_id: Option<String>,
    pub template_id: i64,
    pub run_id: Option<i64>,
    pub receiver: Option<String>,
    /// The trace event's detail (a provider's code, a reason), or a run's status when it ended.
    pub detail: Option<String>,
    pub at: DateTime<Utc>,
    /// Calls that carried it and failed.
    pub attempts: i32,
}

/// What a replay asks for again: the endpoint's types in a time window, of one run or all.
#[derive(Debug, Clone, Copy)]
pub struct ReplayWindow {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub run_id: Option<i64>,
}

#[async_trait]
pub trait StatusEventRepo: Send + Sync {
    /// Creates an endpoint with its sealed secret; returns its id.
    async fn create_event_endpoint(&self, spec: &EndpointSpec, secret_sealed: &str, now: DateTime<Utc>) -> Result<i64>;
    /// Changes an endpoint; NotFound when there is none.
    async fn update_event_endpoint(&self, id: i64, spec: &EndpointSpec) -> Result<()>;
    /// Replaces an endpoint's sealed secret; NotFound when there is none.
    async fn set_event_endpoint_secret(&self, id: i64, secret_sealed: &str) -> Result<()>;
    /// Deletes an endpoint and its waiting events; NotFound when there is none.
    async fn delete_event_endpoint(&self, id: i64) -> Result<()>;
    async fn get_event_endpoint(&self, id: i64) -> Result<EventEndpoint>;
    /// Endpoints in id order, a window at a time.
    async fn list_event_endpoints(&self, offset: i64, limit: i64) -> Result<Vec<EventEndpoint>>;
    /// The enabled endpoints, with what the dispatcher needs.
    async fn enabled_event_targets(&self) -> Result<Vec<EndpointTarget>>;
    /// Claims the batch at the head of an endpoint's queue for `holder` until `until`, when it is
    /// ready by `batching` at `now` (full, waited long enough, or a retry); else claims nothing.
    async fn claim_status_events(
        &self,
        endpoint_id: i64,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        batching: &Batching,
    ) -> Result<Vec<QueuedEvent>>;
    /// The endpoint took the events: deletes those `holder` still holds, notes the success.
    async fn acknowledge_status_events(
        &self,
        endpoint_id: i64,
        holder: &str,
        ids: &[i64],
        now: DateTime<Utc>,
    ) -> Result<()>;
    /// The call failed: the events `holder` still holds wait until `due_at`, one attempt more,
    /// and the endpoint notes `error`.
    async fn retry_status_events(
        &self,
        endpoint_id: i64,
        holder: &str,
        ids: &[i64],
        due_at: DateTime<Utc>,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<()>;
    /// Queues again, for the endpoint, the events of its types that happened in `window` and are
    /// still in the trace (and runs that ended in it), with their own ids; those already waiting
    /// are left as they are. Returns how many were queued.
    async fn replay_status_events(&self, endpoint_id: i64, window: &ReplayWindow, now: DateTime<Utc>) -> Result<u64>;
}

#[cfg(test)]
mod tests {
    use herald_core::status_events::EventType;

    /// PostgreSQL's trace trigger (per statement since `0023`) lists the message types' trace
    /// events (SQLite's statement, `sqlite/batch.rs`, is written from the types themselves; its
    /// trigger is dropped by `0025_trace_status_events_by_statement`).
    #[test]
    fn the_trace_trigger_queues_exactly_the_message_types() {
        let mut wanted: Vec<String> =
            EventType::ALL.iter().filter_map(|t| t.trace_event()).map(|e| format!("'{e}'")).collect();
        wanted.sort();
        let sql = include_str!("../../../migrations/postgres/0023_trace_status_events_by_statement.sql");
        let line = sql.lines().find(|l| l.contains("t.event IN (")).expect("the trace trigger's condition");
        let list = &line[line.find("IN (").unwrap() + 4..line.rfind(')').unwrap()];
        let mut listed: Vec<String> = list.trim_end_matches(')').split(", ").map(str::to_string).collect();
        listed.sort();
        assert_eq!(listed, wanted, "{line}");
    }
}
