//! The API keys page: every key by its first characters, name, scope and last use; a form that
//! makes a key and shows it this once (on the page answering the form, never in a URL); and a
//! revoke button that asks first. The API's rules and refusals apply as they are.

use super::form::Form;
use super::language::filters;
use super::language::{text, text_with};
use super::render::{Chrome, PageResult, html, ok, shown_at, shown_at_opt};
use super::session::Session;
use crate::AppState;
use crate::auth::create_api_key;
use crate::error::ApiError;
use crate::keys::{checked, revoke_key};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use axum::{Extension, Router};
use serde::Deserialize;

/// Keys listed on the page; past that, `GET /api/keys` pages through them all.
const MAX_KEYS: i64 = 500;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/keys", get(page).post(create)).route("/keys/{id}/revoke", get(confirm).post(revoke))
}

struct KeyRow {
    id: i64,
    prefix: String,
    name: String,
    scope: &'static str,
    created: String,
    last_used: String,
    revoked: Option<String>,
}

#[derive(Template)]
#[template(path = "console/keys.html")]
struct KeysPage {
    chrome: Chrome,
    rows: Vec<KeyRow>,
    /// A key just made, shown this once.
    new_key: Option<String>,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Done {
    done: Option<String>,
}

async fn keys_page(state: &AppState, session: &Session) -> Result<KeysPage, ApiError> {
    let rows = state
        .store
        .list_api_keys(MAX_KEYS, 0)
        .await?
        .into_iter()
        .map(|k| KeyRow {
            id: k.id,
            prefix: if k.prefix.is_empty() { "—".into() } else { format!("{}…", k.prefix) },
            name: k.name,
            scope: k.scope.as_str(),
            created: shown_at(k.created_at),
            last_used: shown_at_opt(k.last_used_at),
            revoked: k.revoked_at.map(shown_at),
        })
        .collect();
    Ok(KeysPage { chrome: Chrome::new(session, "/keys"), rows, new_key: None, notice: None, error: None })
}

async fn page(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Query(q): Query<Done>,
) -> PageResult {
    let mut page = keys_page(&state, &session).await?;
    page.notice = (q.done.as_deref() == Some("revoked")).then(|| text("keys-revoked-notice"));
    Ok(ok(&page))
}

async fn create(State(state): State<AppState>, Extension(session): Extension<Session>, form: Form) -> PageResult {
    let name = form.text("name");
    let made = match checked(&name, &form.text("scope")) {
        Ok((name, scope)) => {
            create_api_key(state.store.as_ref(), name, scope, state.clock.now()).await.map_err(ApiError::from)
        }
        Err(e) => Err(e),
    };
    let mut page = keys_page(&state, &session).await?;
    match made {
        Ok((id, key)) => {
            tracing::info!(key_id = id, "API key created from the console");
            page.new_key = Some(key);
            Ok(ok(&page))
        }
        Err(e) => {
            let (status, _) = e.status_and_code();
            page.error = Some(e.to_string());
            Ok(html(status, &page))
        }
    }
}

#[derive(Template)]
#[template(path = "console/key_revoke.html")]
struct ConfirmPage {
    chrome: Chrome,
    id: i64,
    name: String,
}

async fn confirm(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<i64>,
) -> PageResult {
    let keys = state.store.list_api_keys(MAX_KEYS, 0).await?;
    let key = keys
        .into_iter()
        .find(|k| k.id == id)
        .ok_or_else(|| ApiError::NotFound(text_with("keys-not-found", &[("id", &id)])))?;
    Ok(ok(&ConfirmPage { chrome: Chrome::new(&session, "/keys"), id, name: key.name }))
}

async fn revoke(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<i64>,
) -> PageResult {
    match revoke_key(&state, id).await {
        Ok(()) => Ok(Redirect::to("/keys?done=revoked").into_response()),
        Err(e @ ApiError::Conflict(_)) => {
            let mut page = keys_page(&state, &session).await?;
            page.error = Some(e.to_string());
            Ok(html(StatusCode::CONFLICT, &page))
        }
        Err(e) => Err(e.into()),
    }
}
