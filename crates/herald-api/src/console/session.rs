//! Console sessions: a random token in an HttpOnly, SameSite=Strict cookie (Secure over https),
//! stored only as its sha256 hash with an expiry; `require_login` admits a request that holds a
//! live one. Also the one-time setup link that creates the first user.

use super::identity::csrf_token_for;
use super::language::{self, Language};
use super::render::error_page;
use super::{ConsoleSettings, CookieSecurity};
use crate::AppState;
use crate::error::ApiError;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use herald_store::UserRepo;
use rand::RngCore;
use sha2::{Digest, Sha256};

pub(crate) const SESSION_COOKIE: &str = "herald_session";

pub(crate) use super::identity::Session;

/// 32 random bytes, hex.
pub(crate) fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub(crate) fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The value of cookie `name` in the request, if sent.
pub(crate) fn read_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Whether cookies set in answer to this request should be `Secure`.
pub(crate) fn secure(settings: &ConsoleSettings, headers: &HeaderMap) -> bool {
    match settings.secure_cookies {
        CookieSecurity::Always => true,
        CookieSecurity::Never => false,
        CookieSecurity::Auto => headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|p| p.eq_ignore_ascii_case("https")),
    }
}

/// A `Set-Cookie` value; `max_age` 0 deletes the cookie.
pub(crate) fn set_cookie(name: &str, value: &str, max_age_secs: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}");
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

/// Starts a session for `user_id`; returns the `Set-Cookie` value carrying it.
pub(crate) async fn start(state: &AppState, user_id: i64, headers: &HeaderMap) -> Result<HeaderValue, ApiError> {
    let settings = &state.console;
    let now = state.clock.now();
    let token = new_token();
    state.store.create_session(&hash_token(&token), user_id, now, now + settings.session_ttl).await?;
    // Logging in is a good moment to forget sessions that ran out.
    state.store.purge_sessions(now).await?;
    Ok(set_cookie(SESSION_COOKIE, &token, settings.session_ttl.num_seconds(), secure(settings, headers)))
}

/// Admits requests with a live session; sends the others to the login page (htmx requests
/// through `HX-Redirect`, since a redirect would only swap the login page into a fragment).
pub(crate) async fn require_login(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let token = read_cookie(req.headers(), SESSION_COOKIE).map(str::to_string);
    if let Some(token) = token {
        let token_hash = hash_token(&token);
        match state.store.session_user(&token_hash, state.clock.now()).await {
            Ok(Some(user)) => {
                let csrf = csrf_token_for(&token);
                let settings = user.settings;
                let zone = settings.time_zone.as_deref().and_then(|z| z.parse().ok()).unwrap_or(chrono_tz::Tz::UTC);
                let picked = settings.language.as_deref().and_then(Language::from_tag);
                let language = picked.unwrap_or_else(language::current);
                let session =
                    Session { user_id: user.user_id, name: user.name, zone, language: picked, token_hash, csrf };
                req.extensions_mut().insert(session);
                let answer = super::render::DISPLAY_ZONE.scope(zone, next.run(req));
                return language::speaking(language, answer).await;
            }
            Ok(None) => {}
            Err(e) => return error_page(ApiError::from(e)),
        }
    }
    if req.headers().contains_key("hx-request") {
        return (StatusCode::OK, [("hx-redirect", "/login")]).into_response();
    }
    Redirect::to(&login_url(&req)).into_response()
}

/// `/login`, with the page asked for as `next` when it was a plain page view.
fn login_url(req: &Request) -> String {
    let target = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
    if req.method() == Method::GET && target != "/" {
        let next: String = url::form_urlencoded::byte_serialize(target.as_bytes()).collect();
        format!("/login?next={next}")
    } else {
        "/login".to_string()
    }
}

/// Creates a one-time setup link token when no user exists yet (replacing any earlier link);
/// returns it to be printed once. None when a user exists.
pub async fn ensure_setup_link(
    store: &dyn UserRepo,
    settings: &ConsoleSettings,
    now: DateTime<Utc>,
) -> Result<Option<String>, herald_store::StoreError> {
    if store.count_users().await? > 0 {
        return Ok(None);
    }
    let token = new_token();
    store.create_setup_token(&hash_token(&token), now, now + settings.setup_link_ttl).await?;
    Ok(Some(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_by_exact_name() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("a=1; herald_session_x=2; herald_session=abc"));
        assert_eq!(read_cookie(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(read_cookie(&headers, "b"), None);
    }

    #[test]
    fn session_cookies_are_http_only_strict_and_secure_when_asked() {
        let c = set_cookie(SESSION_COOKIE, "t", 60, false);
        assert_eq!(c, "herald_session=t; Path=/; HttpOnly; SameSite=Strict; Max-Age=60");
        assert!(set_cookie(SESSION_COOKIE, "t", 60, true).to_str().unwrap().ends_with("; Secure"));
        let mut headers = HeaderMap::new();
        let auto = ConsoleSettings::default();
        assert!(!secure(&auto, &headers));
        headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert!(secure(&auto, &headers));
        let never = ConsoleSettings { secure_cookies: CookieSecurity::Never, ..Default::default() };
        assert!(!secure(&never, &headers));
    }

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(hash_token(&a).len(), 64);
        assert_ne!(hash_token(&a), a);
    }
}
