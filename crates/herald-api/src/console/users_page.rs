//! Console users: the list, adding one (name and a password typed twice, checked as the setup
//! link and `herald user add` check them), disabling or enabling one (never yourself, never the
//! last enabled user) and setting a new password for one, which ends their sessions.

use super::form::{FieldErrors, Form};
use super::language::{filters, text, text_with};
use super::login::new_user_problems;
use super::pager::Pager;
use super::passwords::{hash_password, password_problem};
use super::render::{Chrome, PageResult, html, ok, shown_at};
use super::session::Session;
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde::Deserialize;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/users", get(page).post(add))
        .route("/users/disable", post(disable))
        .route("/users/enable", post(enable))
        .route("/users/password", post(password))
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    page: Option<i64>,
    done: Option<String>,
}

struct UserRow {
    name: String,
    created_at: String,
    disabled: bool,
    you: bool,
}

#[derive(Template)]
#[template(path = "console/users.html")]
struct UsersPage {
    chrome: Chrome,
    notice: Option<String>,
    error: Option<String>,
    users: Vec<UserRow>,
    pager: Pager,
    /// The add form as typed, when it was refused.
    name: String,
    errors: FieldErrors,
}

async fn users_page(
    state: &AppState,
    session: &Session,
    q: ListQuery,
    error: Option<String>,
    name: String,
    errors: FieldErrors,
) -> Result<UsersPage, ApiError> {
    let page = Pager::page_of(q.page);
    let mut users = state.store.list_users(Pager::window(page)).await?;
    let pager = Pager::of("/users", &[], page, &mut users);
    let notice = match q.done.as_deref() {
        Some("added") => Some(text("user-done-added")),
        Some("disabled") => Some(text("user-done-disabled")),
        Some("enabled") => Some(text("user-done-enabled")),
        Some("password") => Some(text("user-done-password")),
        _ => None,
    };
    Ok(UsersPage {
        chrome: Chrome::new(session, "/users"),
        notice,
        error,
        users: users
            .into_iter()
            .map(|u| UserRow {
                you: u.name == session.name,
                disabled: u.disabled_at.is_some(),
                created_at: shown_at(u.created_at),
                name: u.name,
            })
            .collect(),
        pager,
        name,
        errors,
    })
}

async fn page(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Query(q): Query<ListQuery>,
) -> PageResult {
    Ok(ok(&users_page(&state, &session, q, None, String::new(), FieldErrors::default()).await?))
}

/// The page with a refusal above the list.
async fn refused(state: &AppState, session: &Session, e: ApiError) -> PageResult {
    match e {
        ApiError::Invalid(_) | ApiError::Conflict(_) | ApiError::NotFound(_) => {
            let status = e.status_and_code().0;
            let page = users_page(
                state,
                session,
                ListQuery::default(),
                Some(e.to_string()),
                String::new(),
                FieldErrors::default(),
            )
            .await?;
            Ok(html(status, &page))
        }
        other => Err(other.into()),
    }
}

async fn add(State(state): State<AppState>, Extension(session): Extension<Session>, form: Form) -> PageResult {
    let name = form.text("name");
    let password = form.get("password").unwrap_or_default().to_string();
    let errors = new_user_problems(&name, &password, Some(form.get("password2").unwrap_or_default()));
    if !errors.is_empty() {
        let page = users_page(&state, &session, ListQuery::default(), None, name, errors).await?;
        return Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    let hash = hash_password(password).await?;
    match state.store.create_user(&name, &hash, state.clock.now()).await {
        Ok(user) => {
            tracing::info!(user = ?user.name, by = ?session.name, "console user added");
            Ok(Redirect::to("/users?done=added").into_response())
        }
        Err(e) => refused(&state, &session, e.into()).await,
    }
}

async fn set_disabled(state: &AppState, session: &Session, form: &Form, disabled: bool) -> PageResult {
    let name = form.text("name");
    if disabled && name == session.name {
        return refused(state, session, ApiError::Conflict(text("user-not-yourself"))).await;
    }
    match state.store.set_user_disabled(&name, disabled, state.clock.now()).await {
        Ok(()) => {
            tracing::info!(user = ?name, by = ?session.name, disabled, "console user disabled or enabled");
            Ok(Redirect::to(if disabled { "/users?done=disabled" } else { "/users?done=enabled" }).into_response())
        }
        Err(e) => refused(state, session, e.into()).await,
    }
}

async fn disable(State(state): State<AppState>, Extension(session): Extension<Session>, form: Form) -> PageResult {
    set_disabled(&state, &session, &form, true).await
}

async fn enable(State(state): State<AppState>, Extension(session): Extension<Session>, form: Form) -> PageResult {
    set_disabled(&state, &session, &form, false).await
}

async fn password(State(state): State<AppState>, Extension(session): Extension<Session>, form: Form) -> PageResult {
    let name = form.text("name");
    let password = form.get("password").unwrap_or_default().to_string();
    if let Some(problem) = password_problem(&password) {
        let problem = text_with("user-password-problem", &[("name", &name), ("problem", &problem)]);
        return refused(&state, &session, ApiError::field("password", problem)).await;
    }
    let hash = hash_password(password).await?;
    match state.store.set_user_password(&name, &hash, state.clock.now()).await {
        Ok(()) => {
            tracing::info!(user = ?name, by = ?session.name, "console user's password set");
            Ok(Redirect::to("/users?done=password").into_response())
        }
        Err(e) => refused(&state, &session, e.into()).await,
    }
}
