//! Rendering: the chrome every page shares (user, CSRF token, active tab), HTML responses,
//! error pages, and the formats times are shown in.

use super::identity::Session;
use super::language::filters;
use crate::error::ApiError;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// What the page layout needs beyond the page itself.
#[derive(Debug, Clone)]
pub(crate) struct Chrome {
    pub user: String,
    /// The zone the page's times are shown in.
    pub zone: String,
    pub csrf: String,
    /// The tab to highlight.
    pub nav: &'static str,
}

impl Chrome {
    pub fn new(session: &Session, nav: &'static str) -> Self {
        Self { user: session.name.clone(), zone: session.zone.name().to_string(), csrf: session.csrf.clone(), nav }
    }

    pub fn tabs(&self) -> Vec<Tab> {
        TABS.iter().map(|&(path, label)| Tab { path, label, active: path == self.nav }).collect()
    }
}

pub(crate) struct Tab {
    pub path: &'static str,
    /// The catalogue key of the label.
    pub label: &'static str,
    pub active: bool,
}

/// The tabs of the top bar: path, the catalogue key of its label.
pub(crate) const TABS: [(&str, &str); 14] = [
    ("/", "nav-dashboard"),
    ("/templates", "nav-templates"),
    ("/crowds", "nav-crowds"),
    ("/runs", "nav-runs"),
    ("/trace", "nav-trace"),
    ("/accounts", "nav-accounts"),
    ("/schedules", "nav-schedules"),
    ("/jobs", "nav-jobs"),
    ("/policies", "nav-policies"),
    ("/outbox", "nav-outbox"),
    ("/keys", "nav-keys"),
    ("/events", "nav-events"),
    ("/users", "nav-users"),
    ("/api-reference", "nav-api"),
];

pub(crate) fn html<T: Template>(status: StatusCode, page: &T) -> Response {
    match page.render() {
        Ok(body) => (status, Html(body)).into_response(),
        Err(e) => error_page(ApiError::Internal(format!("rendering a page: {e}"))),
    }
}

pub(crate) fn ok<T: Template>(page: &T) -> Response {
    html(StatusCode::OK, page)
}

#[derive(Template)]
#[template(path = "console/error.html")]
struct ErrorPage {
    status: u16,
    message: String,
}

/// A page for an error: its status, and its message (an internal error's detail is logged,
/// never shown).
pub(crate) fn error_page(error: ApiError) -> Response {
    let (status, _) = error.status_and_code();
    if let ApiError::Internal(detail) = &error {
        tracing::error!(%detail, "internal error answering a console request");
    }
    let page = ErrorPage { status: status.as_u16(), message: error.to_string() };
    match page.render() {
        Ok(body) => (status, Html(body)).into_response(),
        Err(_) => (status, error.to_string()).into_response(),
    }
}

/// A handler's error, answered as an error page.
#[derive(Debug)]
pub(crate) struct UiError(pub ApiError);

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        error_page(self.0)
    }
}

impl From<ApiError> for UiError {
    fn from(e: ApiError) -> Self {
        Self(e)
    }
}

impl From<herald_store::StoreError> for UiError {
    fn from(e: herald_store::StoreError) -> Self {
        Self(e.into())
    }
}

pub(crate) type PageResult = Result<Response, UiError>;

/// `2026-05-04 09:30:00 CST`, in `tz`.
pub(crate) fn time_in(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S %Z").to_string()
}

tokio::task_local! {
    /// The time zone the logged-in user reads times in, for the request being answered (set by
    /// the login check; UTC outside a session).
    pub(crate) static DISPLAY_ZONE: Tz;
}

/// The zone this request's times are shown in.
pub(crate) fn display_zone() -> Tz {
    DISPLAY_ZONE.try_with(|z| *z).unwrap_or(Tz::UTC)
}

/// A time as the reader sees it, in their zone and naming it: `2026-05-04 09:30:00 CST`.
pub(crate) fn shown_at(t: DateTime<Utc>) -> String {
    time_in(t, display_zone())
}

pub(crate) fn shown_at_opt(t: Option<DateTime<Utc>>) -> String {
    t.map(shown_at).unwrap_or_else(|| "—".into())
}

/// 1234567 as `1,234,567`.
pub(crate) fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_times_read_well() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(-1_234_567), "-1,234,567");
        let t = DateTime::parse_from_rfc3339("2026-05-04T01:30:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(time_in(t, chrono_tz::Asia::Shanghai), "2026-05-04 09:30:00 CST");
        assert_eq!(shown_at(t), "2026-05-04 01:30:00 UTC");
    }
}
