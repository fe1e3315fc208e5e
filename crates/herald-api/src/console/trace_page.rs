//! "What happened to this message": look up a message id's trace, or a receiver's messages and
//! their final states.

use super::render::{Chrome, PageResult, ok, utc};
use super::session::Session;
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Extension, Router};
use herald_store::MessageFilter;
use serde::Deserialize;

const MAX_MESSAGES: i64 = 200;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/trace", get(page))
}

#[derive(Debug, Deserialize)]
struct TraceQuery {
    q: Option<String>,
}

struct EventRow {
    event: String,
    detail: String,
    at: String,
}

struct MessageRow {
    message_id: String,
    template_id: i64,
    run_id: Option<i64>,
    state: String,
    detail: String,
    at: String,
}

#[derive(Template)]
#[template(path = "console/trace.html")]
struct TracePage {
    chrome: Chrome,
    q: String,
    /// The message's receiver, template and run, when `q` is a message id with a trace.
    message: Option<(String, i64, Option<i64>)>,
    events: Vec<EventRow>,
    messages: Vec<MessageRow>,
}

async fn page(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Query(query): Query<TraceQuery>,
) -> PageResult {
    let q = query.q.unwrap_or_default().trim().to_string();
    let (mut events, mut messages, mut message) = (Vec::new(), Vec::new(), None);
    if !q.is_empty() {
        let trace = state.store.trace_of(&q).await?;
        message = trace.first().map(|t| (t.receiver.clone(), t.template_id, t.run_id));
        events = trace
            .iter()
            .map(|t| EventRow { event: t.event.clone(), detail: t.detail.clone().unwrap_or_default(), at: utc(t.at) })
            .collect();
        let filter = MessageFilter { receiver: Some(q.clone()), limit: MAX_MESSAGES, ..Default::default() };
        messages = state
            .store
            .message_states(&filter)
            .await?
            .into_iter()
            .map(|m| MessageRow {
                message_id: m.message_id,
                template_id: m.template_id,
                run_id: m.run_id,
                state: m.state,
                detail: m.detail.unwrap_or_default(),
                at: utc(m.at),
            })
            .collect();
    }
    Ok(ok(&TracePage { chrome: Chrome::new(&session, "/trace"), q, message, events, messages }))
}
