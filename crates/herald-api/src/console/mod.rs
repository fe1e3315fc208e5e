//! The admin console: server-rendered pages (askama templates, htmx for the live parts) served
//! at `/` beside the API, every asset embedded in the binary. Pages call the same operations as
//! the REST handlers, so both refuse the same input with the same message.

mod accounts_page;
mod alarms_page;
mod api_reference;
mod assets;
mod calendars_page;
#[cfg(test)]
mod catalogue_check;
mod confirm;
mod crowd_page;
mod crowds_page;
mod csrf;
mod dashboard;
mod dry_run_page;
mod events_page;
mod form;
mod funnel_view;
mod housekeeping_page;
mod identity;
mod job_chart;
mod job_form;
mod job_page;
mod jobs_page;
mod keys_page;
mod language;
mod login;
pub mod login_guard;
mod outbox_page;
mod pager;
mod passwords;
mod policies_page;
mod profile_page;
mod render;
mod run_log;
mod run_story;
mod runs_page;
mod schedules_page;
mod session;
mod suppressions_page;
mod template_bulk;
mod template_form;
mod templates_page;
mod trace_page;
mod users_page;

pub use passwords::{hash_password, password_problem};
pub use session::ensure_setup_link;

use crate::AppState;
use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::Response;
use serde::{Deserialize, Serialize};

/// How the console treats its visitors.
#[derive(Debug, Clone)]
pub struct ConsoleSettings {
    /// A session ends this long after login.
    pub session_ttl: chrono::Duration,
    /// Whether session cookies carry `Secure`.
    pub secure_cookies: CookieSecurity,
    /// Run-now asks for a confirmation when the crowd has at least this many rows.
    pub confirm_run_rows: i64,
    /// How long the setup link printed at first start stays valid.
    pub setup_link_ttl: chrono::Duration,
}

impl Default for ConsoleSettings {
    fn default() -> Self {
        Self {
            session_ttl: chrono::Duration::hours(12),
            secure_cookies: CookieSecurity::Auto,
            confirm_run_rows: 10_000,
            setup_link_ttl: chrono::Duration::hours(24),
        }
    }
}

/// `auto`: Secure when the request came over https (directly or as `X-Forwarded-Proto`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CookieSecurity {
    #[default]
    Auto,
    Always,
    Never,
}

/// Every console route. Pages behind login also check the CSRF token of every write.
pub fn router(state: &AppState) -> Router<AppState> {
    let protected = Router::new()
        .merge(dashboard::router())
        .merge(templates_page::router())
        .merge(dry_run_page::router())
        .merge(events_page::router())
        .merge(policies_page::router())
        .merge(suppressions_page::router(&state.limits))
        .merge(outbox_page::router())
        .merge(users_page::router())
        .merge(profile_page::router())
        .merge(template_bulk::router())
        .merge(crowds_page::router(&state.limits))
        .merge(crowd_page::router())
        .merge(runs_page::router())
        .merge(trace_page::router())
        .merge(accounts_page::router())
        .merge(schedules_page::router())
        .merge(jobs_page::router())
        .merge(job_form::router())
        .merge(job_page::router())
        .merge(housekeeping_page::router())
        .merge(alarms_page::router())
        .merge(calendars_page::router())
        .merge(keys_page::router())
        .merge(api_reference::router())
        .merge(login::logout_router())
        // Layers run outside in: the session is found first, then the CSRF token checked.
        .route_layer(from_fn_with_state(state.clone(), csrf::require_token))
        .route_layer(from_fn_with_state(state.clone(), session::require_login));
    Router::new()
        .merge(login::router())
        .merge(assets::router())
        .merge(protected)
        .layer(from_fn(language::from_browser))
        .layer(from_fn(security_headers))
}

/// Only herald's own origin may serve scripts, styles, images or connections to a console page,
/// and no other site may frame it.
const CSP: &str = "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'";

async fn security_headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    response
}
