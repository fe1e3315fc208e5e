//! The status events page: each endpoint with the types it takes, its backlog, last success and
//! last error; a form that makes one (its secret shown this once, on the page answering the
//! form); per endpoint, pause or resume, a replay of the last hour, day or week, and delete
//! (asks first). Every write is the API's operation, with its refusals.

use super::confirm::Confirm;
use super::form::Form;
use super::language::filters;
use super::language::{text, text_with};
use super::render::{Chrome, PageResult, html, ok, shown_at_opt};
use super::session::Session;
use crate::AppState;
use crate::error::ApiError;
use crate::status_events::{EndpointBody, ReplayBody, create_endpoint, delete_endpoint, replay_window};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Extension, Router};
use herald_core::status_events::EventType;
use herald_store::{EndpointSpec, EventEndpoint};
use serde::Deserialize;

/// Endpoints listed on the page; past that, `GET /api/event-endpoints` pages through them all.
const MAX_ENDPOINTS: i64 = 200;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/events", get(page).post(create))
        .route("/events/{id}/toggle", post(toggle))
        .route("/events/{id}/replay", post(replay))
        .route("/events/{id}/delete", post(delete))
}

struct EndpointRow {
    id: i64,
    name: String,
    url: String,
    types: String,
    enabled: bool,
    backlog: i64,
    oldest: String,
    last_success: String,
    last_error: String,
}

impl EndpointRow {
    fn of(e: EventEndpoint) -> Self {
        let error = match (&e.last_error, e.last_error_at) {
            (Some(error), at) => format!("{} · {error}", shown_at_opt(at)),
            _ => String::new(),
        };
        Self {
            id: e.id,
            types: e.events.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", "),
            enabled: e.enabled,
            backlog: e.backlog,
            oldest: shown_at_opt(e.oldest_waiting_at),
            last_success: shown_at_opt(e.last_success_at),
            last_error: error,
            name: e.name,
            url: e.url,
        }
    }
}

#[derive(Template)]
#[template(path = "console/events.html")]
struct EventsPage {
    chrome: Chrome,
    rows: Vec<EndpointRow>,
    types: Vec<&'static str>,
    /// A secret just made, shown this once.
    new_secret: Option<String>,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Done {
    done: Option<String>,
    queued: Option<u64>,
}

async fn events_page(state: &AppState, session: &Session) -> Result<EventsPage, ApiError> {
    let rows = state.store.list_event_endpoints(0, MAX_ENDPOINTS).await?.into_iter().map(EndpointRow::of).collect();
    Ok(EventsPage {
        chrome: Chrome::new(session, "/events"),
        rows,
        types: EventType::ALL.iter().map(|t| t.as_str()).collect(),
        new_secret: None,
        notice: None,
        error: None,
    })
}

async fn page(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Query(q): Query<Done>,
) -> PageResult {
    let mut page = events_page(&state, &session).await?;
    page.notice = match q.done.as_deref() {
        Some("replayed") => Some(text_with("events-replayed", &[("count", &q.queued.unwrap_or(0))])),
        Some("deleted") => Some(text("events-deleted")),
        Some("toggled") => Some(text("events-toggled")),
        _ => None,
    };
    Ok(ok(&page))
}

async fn create(State(state): State<AppState>, Extension(session): Extension<Session>, form: Form) -> PageResult {
    let events = form.all("events").iter().map(|name| EventType::parse(name)).collect::<Option<Vec<_>>>();
    let made = match events {
        Some(events) => {
            let body =
                EndpointBody { name: form.text("name"), url: form.text("url"), events: Some(events), enabled: None };
            create_endpoint(&state, body).await
        }
        None => Err(ApiError::field("events", text("events-unknown-type"))),
    };
    let mut page = events_page(&state, &session).await?;
    match made {
        Ok(made) => {
            page.new_secret = Some(made.secret);
            Ok(ok(&page))
        }
        Err(e) => {
            page.error = Some(e.to_string());
            Ok(html(e.status_and_code().0, &page))
        }
    }
}

async fn toggle(State(state): State<AppState>, Path(id): Path<i64>) -> PageResult {
    let e = state.store.get_event_endpoint(id).await?;
    let spec = EndpointSpec { name: e.name, url: e.url, events: e.events, enabled: !e.enabled };
    state.store.update_event_endpoint(id, &spec).await?;
    tracing::info!(endpoint = id, enabled = spec.enabled, "status event endpoint paused or resumed from the console");
    Ok(Redirect::to("/events?done=toggled").into_response())
}

/// Replays the last `hours` (1, 24 or 168) of the endpoint's events.
async fn replay(State(state): State<AppState>, Path(id): Path<i64>, form: Form) -> PageResult {
    let hours: i64 = match form.text("hours").as_str() {
        "1" => 1,
        "24" => 24,
        "168" => 168,
        other => return Err(ApiError::field("hours", text_with("events-replay-hours", &[("hours", &other)])).into()),
    };
    let from = state.clock.now() - chrono::Duration::hours(hours);
    let replayed = replay_window(&state, id, ReplayBody { from, to: None, run_id: None }).await?;
    Ok(Redirect::to(&format!("/events?done=replayed&queued={}", replayed.queued)).into_response())
}

async fn delete(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<i64>,
    form: Form,
) -> PageResult {
    if !Confirm::given(&form) {
        let e = state.store.get_event_endpoint(id).await?;
        let page = Confirm {
            chrome: Chrome::new(&session, "/events"),
            title: text_with("events-delete-title", &[("name", &e.name)]),
            text: text_with("events-delete-text", &[("backlog", &e.backlog)]),
            action: format!("/events/{id}/delete"),
            fields: Vec::new(),
            yes: text("events-delete-yes"),
            back: "/events".into(),
        };
        return Ok(ok(&page));
    }
    delete_endpoint(&state, id).await?;
    Ok(Redirect::to("/events?done=deleted").into_response())
}
