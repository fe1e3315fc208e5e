//! The operator's brakes: the discard list (put a template on it to drop its sends at once,
//! take it off to let them go again) and flow control (a cluster-wide sends-per-second limit per
//! channel). Every write goes through the operations the REST handlers use.

use super::dashboard::{name_in, names_of};
use super::form::Form;
use super::language::filters;
use super::language::{text, text_with};
use super::render::{Chrome, PageResult, html, ok, shown_at};
use super::session::Session;
use crate::AppState;
use crate::error::ApiError;
use crate::policies as ops;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Extension, Router};
use herald_core::ChannelKind;
use herald_store::{TemplateFilter, Window};
use serde::Deserialize;

/// Discard entries shown; the API pages through any more.
const DISCARDS_SHOWN: usize = 200;
/// Templates the discard form's picker offers, by id.
const TEMPLATES_OFFERED: i64 = 500;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/policies", get(page))
        .route("/policies/discard", post(discard))
        .route("/policies/undiscard", post(undiscard))
        .route("/policies/rate", post(rate))
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    done: Option<String>,
}

struct DiscardRow {
    template_id: i64,
    name: String,
    reason: String,
    since: String,
}

struct RateRow {
    channel: &'static str,
    rate: String,
}

#[derive(Template)]
#[template(path = "console/policies.html")]
struct PoliciesPage {
    chrome: Chrome,
    notice: Option<String>,
    error: Option<String>,
    discards: Vec<DiscardRow>,
    more_discards: bool,
    templates: Vec<(i64, String)>,
    rates: Vec<RateRow>,
}

async fn policies_page(
    state: &AppState,
    session: &Session,
    notice: Option<String>,
    error: Option<String>,
) -> Result<PoliciesPage, ApiError> {
    let mut entries = state.store.discarded().await?;
    let more_discards = entries.len() > DISCARDS_SHOWN;
    entries.truncate(DISCARDS_SHOWN);
    let names = names_of(state, entries.iter().map(|e| e.template_id)).await?;
    let discards = entries
        .iter()
        .map(|e| DiscardRow {
            template_id: e.template_id,
            name: name_in(&names, e.template_id),
            reason: e.reason.clone().unwrap_or_default(),
            since: shown_at(e.since),
        })
        .collect();
    let offered = TemplateFilter { window: Window::first(TEMPLATES_OFFERED), ..TemplateFilter::default() };
    let templates = state.store.list_templates(&offered).await?.into_iter().map(|t| (t.id, t.spec.name)).collect();
    let set = state.store.channel_rates().await?;
    let rates = ChannelKind::ALL
        .iter()
        .map(|&c| RateRow {
            channel: c.as_str(),
            rate: set.iter().find(|r| r.channel == c).map(|r| r.rate_per_second.to_string()).unwrap_or_default(),
        })
        .collect();
    Ok(PoliciesPage {
        chrome: Chrome::new(session, "/policies"),
        notice,
        error,
        discards,
        more_discards,
        templates,
        rates,
    })
}

async fn page(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Query(q): Query<PageQuery>,
) -> PageResult {
    let notice = match q.done.as_deref() {
        Some("discarded") => Some(text("policy-discarded")),
        Some("undiscarded") => Some(text("policy-undiscarded")),
        Some("rate") => Some(text("policy-rate-saved")),
        _ => None,
    };
    Ok(ok(&policies_page(&state, &session, notice, None).await?))
}

/// After a write: back to the page saying what was done, or the page with the refusal.
async fn answered(state: &AppState, session: &Session, result: Result<(), ApiError>, done: &str) -> PageResult {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/policies?done={done}")).into_response()),
        Err(e @ (ApiError::Invalid(_) | ApiError::TemplateNotFound(_) | ApiError::NotFound(_))) => {
            let status = e.status_and_code().0;
            Ok(html(status, &policies_page(state, session, None, Some(e.to_string())).await?))
        }
        Err(e) => Err(e.into()),
    }
}

fn template_id(form: &Form) -> Result<i64, ApiError> {
    form.text("template").parse().map_err(|_| ApiError::field("template", text("policy-pick-template")))
}

async fn discard(State(state): State<AppState>, Extension(session): Extension<Session>, form: Form) -> PageResult {
    let result = match template_id(&form) {
        Ok(id) => ops::discard_template(&state, id, Some(&form.text("reason"))).await,
        Err(e) => Err(e),
    };
    answered(&state, &session, result, "discarded").await
}

async fn undiscard(State(state): State<AppState>, Extension(session): Extension<Session>, form: Form) -> PageResult {
    let result = match template_id(&form) {
        Ok(id) => ops::undiscard_template(&state, id).await,
        Err(e) => Err(e),
    };
    answered(&state, &session, result, "undiscarded").await
}

async fn rate(State(state): State<AppState>, Extension(session): Extension<Session>, form: Form) -> PageResult {
    let result = async {
        let channel = crate::filters::channel(Some(&form.text("channel")))?
            .ok_or_else(|| ApiError::field("channel", text("policy-pick-channel")))?;
        let typed = form.text("rate");
        let rate = match typed.as_str() {
            "" => None,
            t => Some(t.parse::<f64>().map_err(|_| {
                let quoted = format!("{:?}", herald_core::listing::clip(t, 40));
                ApiError::field("ratePerSecond", text_with("policy-not-a-number", &[("value", &quoted)]))
            })?),
        };
        ops::set_channel_rate(&state, channel, rate).await
    }
    .await;
    answered(&state, &session, result, "rate").await
}
