//! The logged-in user's own settings: the time zone every page shows times in (UTC until they
//! pick one; a schedule's own zone is still shown beside its cron).

use super::form::Form;
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
    /// The time now, as the pages show it.
    now: String,
}

fn profile_page(state: &AppState, session: &Session, notice: Option<String>, error: Option<String>) -> ProfilePage {
    ProfilePage {
        chrome: Chrome::new(session, "/profile"),
        notice,
        error,
        zones: chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect(),
        now: shown_at(state.clock.now()),
    }
}

async fn page(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Query(q): Query<PageQuery>,
) -> PageResult {
    let notice =
        (q.done.as_deref() == Some("saved")).then(|| "Saved: every page shows times in this zone.".to_string());
    Ok(ok(&profile_page(&state, &session, notice, None)))
}

async fn save(State(state): State<AppState>, Extension(session): Extension<Session>, form: Form) -> PageResult {
    let text = form.text("zone");
    let Ok(zone) = text.parse::<Tz>() else {
        let error =
            ApiError::field("zone", format!("{:?} is not an IANA time zone", herald_core::listing::clip(&text, 40)));
        return Ok(html(
            StatusCode::UNPROCESSABLE_ENTITY,
            &profile_page(&state, &session, None, Some(error.to_string())),
        ));
    };
    let stored = (zone != Tz::UTC).then(|| zone.name());
    state.store.set_user_time_zone(session.user_id, stored, state.clock.now()).await.map_err(ApiError::from)?;
    tracing::info!(user = ?session.name, zone = zone.name(), "display time zone set");
    Ok(Redirect::to("/profile?done=saved").into_response())
}
