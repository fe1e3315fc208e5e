//! "What happened to this message": look up a message id's trace, or a receiver's messages and
//! their final states (newest first, paged), each naming its template; and recall the message
//! looked up (asked first), as `/recall` does.

use super::dashboard::{name_in, names_of};
use super::form::Form;
use super::language::filters;
use super::language::text;
use super::pager::Pager;
use super::render::{Chrome, PageResult, ok, shown_at};
use super::session::Session;
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Extension, Router};
use herald_store::MessageFilter;
use serde::Deserialize;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/trace", get(page)).route("/trace/recall", post(recall))
}

#[derive(Debug, Deserialize)]
struct TraceQuery {
    q: Option<String>,
    page: Option<i64>,
}

struct EventRow {
    /// The event as a value (the badge's class).
    event: String,
    /// The event in words.
    label: String,
    detail: String,
    at: String,
}

struct MessageRow {
    message_id: String,
    template_id: i64,
    template_name: String,
    run_id: Option<i64>,
    /// The final state as a value (the badge's class).
    state: String,
    /// The final state in words.
    state_label: String,
    detail: String,
    at: String,
}

#[derive(Template)]
#[template(path = "console/trace.html")]
struct TracePage {
    chrome: Chrome,
    q: String,
    /// The message's receiver, template (id and name) and run, when `q` is a message id with a
    /// trace.
    message: Option<(String, i64, String, Option<i64>)>,
    events: Vec<EventRow>,
    messages: Vec<MessageRow>,
    pager: Pager,
    /// The message's recall: asking whether to (None), or how it went.
    recall: Option<Recall>,
}

/// The recall of the message looked up, on the page.
enum Recall {
    Asking,
    Done(String),
}

async fn page(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Query(query): Query<TraceQuery>,
) -> PageResult {
    render(&state, &session, query, None).await
}

/// Asks first; on the confirming post recalls the message and shows its trace with the outcome.
async fn recall(State(state): State<AppState>, Extension(session): Extension<Session>, form: Form) -> PageResult {
    let id = form.get("message").unwrap_or_default().to_string();
    let query = TraceQuery { q: Some(id.clone()), page: None };
    if form.get("confirm") != Some("yes") {
        return render(&state, &session, query, Some(Recall::Asking)).await;
    }
    let (outcome, detail) = crate::recall::recall_any(&state, &id).await?;
    let said = text(&format!("trace-recall-{}", outcome.as_str().replace('_', "-")));
    let said = match detail {
        Some(detail) => format!("{said} ({detail})"),
        None => said,
    };
    render(&state, &session, query, Some(Recall::Done(said))).await
}

async fn render(state: &AppState, session: &Session, query: TraceQuery, recall: Option<Recall>) -> PageResult {
    let q = query.q.unwrap_or_default().trim().to_string();
    let page = Pager::page_of(query.page);
    let (mut trace, mut states) = (Vec::new(), Vec::new());
    if !q.is_empty() {
        trace = state.store.trace_of(&q).await?;
        let window = Pager::window(page);
        let filter = MessageFilter {
            receiver: Some(q.clone()),
            offset: window.offset,
            limit: window.limit,
            ..Default::default()
        };
        states = state.store.message_states(&filter).await?;
    }
    let pager = Pager::of("/trace", &[("q", &q)], page, &mut states);
    let names =
        names_of(state, trace.iter().map(|t| t.template_id).chain(states.iter().map(|m| m.template_id))).await?;
    let name = |id: i64| name_in(&names, id);
    let message = trace.first().map(|t| (t.receiver.clone(), t.template_id, name(t.template_id), t.run_id));
    let events = trace
        .iter()
        .map(|t| EventRow {
            event: t.event.clone(),
            label: state_word(&t.event),
            detail: t.detail.clone().unwrap_or_default(),
            at: shown_at(t.at),
        })
        .collect();
    let messages = states
        .into_iter()
        .map(|m| MessageRow {
            template_name: name(m.template_id),
            message_id: m.message_id,
            template_id: m.template_id,
            run_id: m.run_id,
            state_label: state_word(&m.state),
            state: m.state,
            detail: m.detail.unwrap_or_default(),
            at: shown_at(m.at),
        })
        .collect();
    let recall = recall.filter(|_| message.is_some());
    Ok(ok(&TracePage { chrome: Chrome::new(session, "/trace"), q, message, events, messages, pager, recall }))
}

/// A message's state or trace event (a [`herald_core::TraceEvent`] value) in the reader's words;
/// an unknown one as it is.
pub(crate) fn state_word(state: &str) -> String {
    match state {
        "accepted" => text("trace-state-accepted"),
        "sent" => text("trace-state-sent"),
        "retrying" => text("trace-state-retrying"),
        "failed" => text("trace-state-failed"),
        "deferred" => text("trace-state-deferred"),
        "paused" => text("trace-state-paused"),
        "dropped_quiet_hours" => text("trace-state-dropped-quiet-hours"),
        "dropped_dedup" => text("trace-state-dropped-dedup"),
        "discarded" => text("trace-state-discarded"),
        "cancelled" => text("trace-state-cancelled"),
        "test_skipped" => text("trace-state-test-skipped"),
        "suppressed" => text("trace-state-suppressed"),
        "recalled" => text("trace-state-recalled"),
        "delivered" => text("trace-state-delivered"),
        "undelivered" => text("trace-state-undelivered"),
        "read" => text("trace-state-read"),
        other => other.to_string(),
    }
}
