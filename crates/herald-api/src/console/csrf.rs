//! CSRF protection: every write of a session (form post or htmx request) must carry a token
//! derived from the session's secret cookie, in the `X-CSRF-Token` header or a `csrf` form
//! field; other sites can neither read the cookie nor compute the token. Forms shown before
//! login use a double-submit cookie instead (see `login.rs`).

use super::identity::Session;
use super::render::error_page;
use crate::AppState;
use crate::error::ApiError;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::Response;

pub(crate) const HEADER: &str = "x-csrf-token";
pub(crate) const FIELD: &str = "csrf";

/// Compares in time independent of where the strings differ.
pub(crate) fn same(a: &str, b: &str) -> bool {
    subtle::ConstantTimeEq::ct_eq(a.as_bytes(), b.as_bytes()).into()
}

/// The `csrf` field of a urlencoded body, if any.
pub(crate) fn form_token(body: &[u8]) -> Option<String> {
    url::form_urlencoded::parse(body).find(|(k, _)| k == FIELD).map(|(_, v)| v.into_owned())
}

fn refused() -> Response {
    error_page(ApiError::Forbidden(
        "the form's security token is missing or stale: reload the page and try again".into(),
    ))
}

/// Lets safe methods through; a write needs the session's token in the header or, for a
/// urlencoded form, in its `csrf` field (the body is read, checked and handed on).
pub(crate) async fn require_token(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let Some(expected) = req.extensions().get::<Session>().map(|s| s.csrf.clone()) else {
        return refused();
    };
    if let Some(sent) = req.headers().get(HEADER).and_then(|v| v.to_str().ok()) {
        return if same(sent, &expected) { next.run(req).await } else { refused() };
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return refused();
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, state.limits.max_json_bytes).await {
        Ok(b) => b,
        Err(_) => return error_page(ApiError::PayloadTooLarge("the form is too large".into())),
    };
    match form_token(&bytes) {
        Some(sent) if same(&sent, &expected) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        _ => refused(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::identity::csrf_token_for as token_for;

    #[test]
    fn tokens_follow_the_session_and_compare_exactly() {
        let a = token_for("session-a");
        assert_eq!(a, token_for("session-a"));
        assert_ne!(a, token_for("session-b"));
        assert!(same(&a, &token_for("session-a")));
        assert!(!same(&a, &a[..63]));
        assert!(!same(&a, &token_for("session-b")));
    }

    #[test]
    fn the_form_field_is_found_among_others() {
        assert_eq!(form_token(b"name=x&csrf=abc%20d&y=1").as_deref(), Some("abc d"));
        assert_eq!(form_token(b"name=x"), None);
    }
}
