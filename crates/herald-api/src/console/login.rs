//! Logging in and out, and the one-time setup link that creates the first user. Forms shown
//! before login carry a double-submit token: a random value both in a SameSite=Strict cookie
//! and in the form, which another site can neither read nor set.

use super::csrf;
use super::form::{FieldErrors, Form};
use super::language::{filters, text, text_with};
use super::passwords::{hash_password, password_problem, verify_password};
use super::render::{PageResult, UiError, error_page, html, ok};
use super::session::{self, SESSION_COOKIE, Session, hash_token, new_token, read_cookie, set_cookie};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::ClientAddr;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use herald_core::listing::{QUOTED_CHARS, clip};
use herald_store::StoreError;
use serde::Deserialize;
use std::time::Instant;

const LOGIN_CSRF_COOKIE: &str = "herald_login_csrf";
const MAX_NAME_CHARS: usize = 100;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/login", get(login_form).post(login)).route("/setup/{token}", get(setup_form).post(setup))
}

pub(crate) fn logout_router() -> Router<AppState> {
    Router::new().route("/logout", post(logout))
}

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginPage {
    csrf: String,
    name: String,
    next: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "console/setup.html")]
struct SetupPage {
    csrf: String,
    token: String,
    name: String,
    errors: FieldErrors,
}

#[derive(Debug, Deserialize)]
struct LoginQuery {
    next: Option<String>,
}

/// The longest `next=` target kept.
const MAX_TARGET_BYTES: usize = 2048;

/// A page of this site to go to after login; anything else is ignored. Browsers drop tabs and
/// line breaks from URLs and read `\\` as `/`, so `/\t/evil.example` or `/\\evil.example` would
/// leave the site: a target must be a path starting with one `/`, with no control character
/// and no backslash anywhere.
fn local_target(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && n.len() <= MAX_TARGET_BYTES
                && !n.chars().any(|c| c.is_control() || c == '\\') =>
        {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}

/// The pre-login token: the one already in the visitor's cookie, or a new one to set.
fn pre_login_token(headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    match read_cookie(headers, LOGIN_CSRF_COOKIE) {
        Some(t) if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) => (t.to_string(), None),
        _ => {
            let t = new_token();
            let cookie = set_cookie(LOGIN_CSRF_COOKIE, &t, 3600, false);
            (t, Some(cookie))
        }
    }
}

fn pre_login_token_ok(headers: &HeaderMap, form: &Form) -> bool {
    match (read_cookie(headers, LOGIN_CSRF_COOKIE), form.get(csrf::FIELD)) {
        (Some(cookie), Some(sent)) => csrf::same(cookie, sent),
        _ => false,
    }
}

fn stale_form() -> Response {
    error_page(ApiError::Forbidden(text("login-stale-form")))
}

fn with_cookie(mut response: Response, cookie: Option<HeaderValue>) -> Response {
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

async fn login_form(headers: HeaderMap, Query(q): Query<LoginQuery>) -> Response {
    let (token, cookie) = pre_login_token(&headers);
    let page = LoginPage { csrf: token, name: String::new(), next: local_target(q.next.as_deref()), error: None };
    with_cookie(ok(&page), cookie)
}

async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientAddr(client): ClientAddr,
    form: Form,
) -> PageResult {
    if !pre_login_token_ok(&headers, &form) {
        return Ok(stale_form());
    }
    let name = form.text("name");
    let next = local_target(form.get("next"));
    let refused = |status: StatusCode, error: String| {
        let page =
            LoginPage { csrf: form.text(csrf::FIELD), name: name.clone(), next: next.clone(), error: Some(error) };
        html(status, &page)
    };
    let guard = &state.login_guard;
    if let Err(throttled) = guard.check(client, &name, Instant::now()) {
        tracing::info!(user = ?clip(&name, QUOTED_CHARS), client = ?client, "console login throttled");
        let wait = throttled.retry_after.as_secs().max(1);
        let mut page = refused(StatusCode::TOO_MANY_REQUESTS, text_with("login-throttled", &[("wait", &wait)]));
        page.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(wait));
        return Ok(page);
    }
    let Some(_slot) = guard.begin(client) else {
        return Ok(refused(StatusCode::TOO_MANY_REQUESTS, text("login-busy")));
    };
    let password = form.get("password").unwrap_or_default().to_string();
    let user = if name.is_empty() { None } else { state.store.user_by_name(&name).await? };
    let trusted = !guard.is_suspect(client, Instant::now());
    let matches = match verify_password(password, user.as_ref().map(|u| u.password_hash.clone()), trusted).await {
        Err(ApiError::TooManyRequests(busy)) => return Ok(refused(StatusCode::TOO_MANY_REQUESTS, busy)),
        other => other?,
    };
    let Some(user) = user.filter(|_| matches) else {
        guard.failed(client, &name, Instant::now());
        // Debug formatting escapes line breaks and terminal codes: a name cannot forge lines.
        tracing::info!(user = ?clip(&name, QUOTED_CHARS), client = ?client, "console login refused");
        return Ok(refused(StatusCode::UNAUTHORIZED, text("login-wrong")));
    };
    guard.succeeded(client, &name);
    if user.disabled_at.is_some() {
        tracing::info!(user = ?user.name, "console login of a disabled user refused");
        return Ok(refused(StatusCode::FORBIDDEN, text("login-user-disabled")));
    }
    let cookie = session::start(&state, user.id, &headers).await?;
    tracing::info!(user = ?user.name, "console login");
    Ok(logged_in(&next, cookie))
}

fn logged_in(target: &str, session_cookie: HeaderValue) -> Response {
    let mut response = Redirect::to(target).into_response();
    response.headers_mut().append(header::SET_COOKIE, session_cookie);
    response.headers_mut().append(header::SET_COOKIE, set_cookie(LOGIN_CSRF_COOKIE, "", 0, false));
    response
}

async fn logout(State(state): State<AppState>, Extension(session): Extension<Session>) -> PageResult {
    state.store.delete_session(&session.token_hash).await?;
    tracing::info!(user = ?session.name, "console logout");
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", 0, false));
    Ok(response)
}

fn unknown_link() -> UiError {
    UiError(ApiError::NotFound(text("setup-unknown-link")))
}

async fn setup_form(State(state): State<AppState>, headers: HeaderMap, Path(token): Path<String>) -> PageResult {
    if !state.store.setup_token_valid(&hash_token(&token), state.clock.now()).await? {
        return Err(unknown_link());
    }
    let (csrf, cookie) = pre_login_token(&headers);
    let page = SetupPage { csrf, token, name: String::new(), errors: FieldErrors::default() };
    Ok(with_cookie(ok(&page), cookie))
}

/// Checks a new user's name and password the way `herald user add` does.
pub(crate) fn new_user_problems(name: &str, password: &str, again: Option<&str>) -> FieldErrors {
    let mut errors = FieldErrors::default();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        errors.add("name", text_with("setup-name-problem", &[("max", &MAX_NAME_CHARS)]));
    }
    if let Some(problem) = password_problem(password) {
        errors.add("password", problem);
    } else if again.is_some_and(|a| a != password) {
        errors.add("password2", text("setup-passwords-differ"));
    }
    errors
}

async fn setup(State(state): State<AppState>, headers: HeaderMap, Path(token): Path<String>, form: Form) -> PageResult {
    if !pre_login_token_ok(&headers, &form) {
        return Ok(stale_form());
    }
    let name = form.text("name");
    let password = form.get("password").unwrap_or_default().to_string();
    let errors = new_user_problems(&name, &password, Some(form.get("password2").unwrap_or_default()));
    if !errors.is_empty() {
        let page = SetupPage { csrf: form.text(csrf::FIELD), token, name, errors };
        return Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    let hash = hash_password(password).await?;
    let user = match state.store.redeem_setup_token(&hash_token(&token), &name, &hash, state.clock.now()).await {
        Ok(user) => user,
        Err(StoreError::NotFound { .. } | StoreError::Conflict(_)) => return Err(unknown_link()),
        Err(e) => return Err(e.into()),
    };
    tracing::info!(user = ?user.name, "first console user created from the setup link");
    let cookie = session::start(&state, user.id, &headers).await?;
    Ok(logged_in("/", cookie))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_pages_are_targets() {
        assert_eq!(local_target(Some("/runs/4")), "/runs/4");
        assert_eq!(local_target(Some("//evil.example/")), "/");
        assert_eq!(local_target(Some("https://evil.example/")), "/");
        assert_eq!(local_target(None), "/");
        for hostile in ["/\t/evil.example", "/\\evil.example", "/a\\b", "/x\r\nSet-Cookie: a=b", "/\n/evil", "/\u{7f}"]
        {
            assert_eq!(local_target(Some(hostile)), "/", "{hostile:?}");
        }
        assert_eq!(local_target(Some(&format!("/{}", "a".repeat(MAX_TARGET_BYTES)))), "/");
        assert_eq!(local_target(Some("/templates?id=4#x")), "/templates?id=4#x");
    }

    #[test]
    fn new_users_need_a_name_and_a_long_password_typed_twice() {
        assert!(new_user_problems("ann", "long enough pass", Some("long enough pass")).is_empty());
        let e = new_user_problems("", "short", None);
        assert!(e.get("name").is_some() && e.get("password").is_some());
        let e = new_user_problems("ann", "long enough pass", Some("long enough pasS"));
        assert_eq!(e.get("password2").as_deref(), Some("the two passwords differ"));
        let e = new_user_problems(&"n".repeat(101), "long enough pass", None);
        assert_eq!(e.get("name").as_deref(), Some("must be 1 to 100 printable characters"));
    }

    #[tokio::test]
    async fn the_login_pages_speak_the_browser_language() {
        use super::super::language::{Language, speaking};
        let wait = speaking(Language::Chinese, async { text_with("login-throttled", &[("wait", &30)]) }).await;
        assert_eq!(wait, "登录失败次数过多，请 30 秒后再试");
        assert_eq!(text_with("login-throttled", &[("wait", &30)]), "too many failed logins; try again in 30 s");
    }
}
