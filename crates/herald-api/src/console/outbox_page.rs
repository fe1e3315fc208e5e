//! The outbox channel's deliveries (what a test or a dry-run template "sent"): filtered by
//! template, run and receiver, oldest first a page at a time (by id, so a page stays put while
//! more arrive), each linking to its message's trace.

use super::dashboard::{name_in, names_of};
use super::language::{filters, text_with};
use super::render::{Chrome, PageResult, ok, shown_at};
use super::session::Session;
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Extension, Router};
use herald_core::listing::clip;
use herald_store::OutboxFilter;
use serde::Deserialize;

/// Deliveries on one page.
const PAGE_SIZE: i64 = 50;
/// Characters of a delivery's content shown in the list.
const CONTENT_CHARS: usize = 160;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/outbox", get(page))
}

#[derive(Debug, Deserialize)]
struct OutboxQuery {
    template: Option<String>,
    run: Option<String>,
    receiver: Option<String>,
    /// Deliveries after this id (the previous page's last).
    after: Option<i64>,
}

struct Row {
    id: i64,
    message_id: String,
    template_id: i64,
    template_name: String,
    run_id: Option<i64>,
    receiver: String,
    content: String,
    at: String,
}

#[derive(Template)]
#[template(path = "console/outbox.html")]
struct OutboxPage {
    chrome: Chrome,
    template: String,
    run: String,
    receiver: String,
    error: Option<String>,
    rows: Vec<Row>,
    total: i64,
    /// The link to the next page, when there is one.
    next: Option<String>,
}

/// An optional id field: blank for any, refused (naming it) when not a number.
fn id_field(field: &str, text: &str) -> Result<Option<i64>, ApiError> {
    match text.trim() {
        "" => Ok(None),
        t => t.parse().map(Some).map_err(|_| {
            ApiError::field(field, text_with("outbox-not-an-id", &[("value", &format!("{:?}", clip(t, 40)))]))
        }),
    }
}

async fn page(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Query(q): Query<OutboxQuery>,
) -> PageResult {
    let (template, run, receiver) =
        (q.template.unwrap_or_default(), q.run.unwrap_or_default(), q.receiver.unwrap_or_default().trim().to_string());
    let filter = (|| -> Result<OutboxFilter, ApiError> {
        Ok(OutboxFilter {
            template_id: id_field("template", &template)?,
            run_id: id_field("run", &run)?,
            receiver: (!receiver.is_empty()).then(|| receiver.clone()),
            after_id: q.after.unwrap_or(0).max(0),
            limit: PAGE_SIZE,
        })
    })();
    let (entries, total, error) = match filter {
        Ok(filter) => {
            let entries = state.store.list_outbox(&filter).await?;
            let total = state.store.count_outbox(filter.template_id, filter.run_id).await?;
            (entries, total, None)
        }
        Err(e) => (Vec::new(), 0, Some(e.to_string())),
    };
    let next = (entries.len() as i64 == PAGE_SIZE).then(|| entries.last().map(|e| e.id)).flatten().map(|last| {
        url::form_urlencoded::Serializer::new("/outbox?".to_string())
            .extend_pairs([("template", template.as_str()), ("run", &run), ("receiver", &receiver)])
            .append_pair("after", &last.to_string())
            .finish()
    });
    let names = names_of(&state, entries.iter().map(|e| e.template_id)).await?;
    let rows = entries
        .into_iter()
        .map(|e| Row {
            template_name: name_in(&names, e.template_id),
            id: e.id,
            message_id: e.message_id,
            template_id: e.template_id,
            run_id: e.run_id,
            receiver: e.receiver,
            content: clip(&e.content.to_string(), CONTENT_CHARS),
            at: shown_at(e.delivered_at),
        })
        .collect();
    Ok(ok(&OutboxPage { chrome: Chrome::new(&session, "/outbox"), template, run, receiver, error, rows, total, next }))
}
