//! The logged-in user's own settings: the language pages read in (the browser's until they pick
//! one) and the time zone every page shows times in (UTC until they pick one; a schedule's own
//! zone is still shown beside its cron).

use super::form::Form;
use super::language::{Language, filters, text};
use super::render::{Chrome, PageResult, html, ok, shown_at};
use super::session::Session;
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use axum::{Extension, Router};
use chrono_tz::Tz;
use herald_store::UserSettings;
use serde::Deserialize;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/profile", get(page).post(save))
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    done: Option<String>,
}

#[derive(Template)]
#[template(path = "console/profile.html")]
struct ProfilePage {
    chrome: Chrome,
    notice: Option<String>,
    error: Option<String>,
    zones: Vec<&'static str>,
    languages: [Language; 2],
    /// The picked language's tag; empty when following the browser.
    language: &'static str,
    /// The time now, as the pages show it.
    now: String,
}

fn profile_page(state: &AppState, session: &Session, notice: Option<String>, error: Option<String>) -> ProfilePage {
    ProfilePage {
        chrome: Chrome::new(session, "/profile"),
        notice,
        error,
        zones: chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect(),
        languages: Language::ALL,
        language: session.language.map(Language::tag).unwrap_or(""),
        now: shown_at(state.clock.now()),
    }
}

async fn page(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Query(q): Query<PageQuery>,
) -> PageResult {
    let notice = (q.done.as_deref() == Some("saved")).then(|| text("profile-saved"));
    Ok(ok(&profile_page(&state, &session, notice, None)))
}

async fn save(State(state): State<AppState>, Extension(session): Extension<Session>, form: Form) -> PageResult {
    let refuse = |error: ApiError| {
        let page = profile_page(&state, &session, None, Some(error.to_string()));
        Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &page))
    };
    let mut settings = UserSettings {
        time_zone: (session.zone != Tz::UTC).then(|| session.zone.name().to_string()),
        language: session.language.map(|l| l.tag().to_string()),
    };
    if let Some(text) = form.get("zone") {
        let Ok(zone) = text.parse::<Tz>() else {
            let shown = herald_core::listing::clip(text, 40);
            return refuse(ApiError::field("zone", format!("{shown:?} is not an IANA time zone")));
        };
        settings.time_zone = (zone != Tz::UTC).then(|| zone.name().to_string());
    }
    if let Some(tag) = form.get("language") {
        let picked = Language::from_tag(tag);
        if picked.is_none() && !tag.is_empty() {
            let shown = herald_core::listing::clip(tag, 40);
            let tags: Vec<&str> = Language::ALL.iter().map(|l| l.tag()).collect();
            return refuse(ApiError::field("language", format!("{shown:?} is not one of {}", tags.join(", "))));
        }
        settings.language = picked.map(|l| l.tag().to_string());
    }
    state.store.set_user_settings(session.user_id, &settings, state.clock.now()).await.map_err(ApiError::from)?;
    tracing::info!(user = ?session.name, zone = ?settings.time_zone, language = ?settings.language, "console settings saved");
    Ok(Redirect::to("/profile?done=saved").into_response())
}
