//! Crowd files: upload one (streamed and validated by the same code as `POST /api/crowds`) and
//! see its validation report, or find one (search by file name or id, paged, newest first) to
//! build a template on.

use super::language::{filters, text};
use super::pager::Pager;
use super::render::{Chrome, PageResult, html, ok, shown_at, thousands};
use super::session::Session;
use crate::crowds::{receive_upload, upload_body_limit};
use crate::error::ApiError;
use crate::{ApiLimits, AppState};
use askama::Template;
use axum::extract::{DefaultBodyLimit, Multipart, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Extension, Router};
use herald_crowd::ValidationReport;
use herald_store::Crowd;
use serde::Deserialize;

pub(crate) fn router(limits: &ApiLimits) -> Router<AppState> {
    Router::new().route("/crowds", get(page).post(upload).layer(DefaultBodyLimit::max(upload_body_limit(limits))))
}

pub(crate) struct CrowdRow {
    pub id: String,
    pub name: String,
    pub rows: String,
    pub bad_rows: String,
    pub columns: String,
    pub created_at: String,
}

impl CrowdRow {
    pub(crate) fn of(c: &Crowd) -> Self {
        Self {
            id: c.id.clone(),
            name: c.original_name.clone(),
            rows: thousands(c.rows),
            bad_rows: thousands(c.bad_rows),
            columns: c.columns.join(", "),
            created_at: shown_at(c.created_at),
        }
    }
}

/// What an upload found.
pub(crate) struct Report {
    crowd: CrowdRow,
    receiver_column: String,
    valid_rows: String,
    bad_rows: Vec<(u64, String)>,
    /// More bad rows than the report lists.
    more_bad_rows: bool,
}

#[derive(Template)]
#[template(path = "console/crowds.html")]
struct CrowdsPage {
    chrome: Chrome,
    notice: Option<String>,
    q: String,
    crowds: Vec<CrowdRow>,
    pager: Pager,
    report: Option<Report>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "console/crowd_report.html")]
struct ReportFragment {
    report: Option<Report>,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    q: Option<String>,
    page: Option<i64>,
    done: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Query(q): Query<ListQuery>,
) -> PageResult {
    Ok(ok(&crowds_page(&state, &session, q, None, None).await?))
}

/// The page with the crowds `q` asks for, and an upload's report or refusal.
async fn crowds_page(
    state: &AppState,
    session: &Session,
    q: ListQuery,
    report: Option<Report>,
    error: Option<String>,
) -> Result<CrowdsPage, ApiError> {
    let notice = (q.done.as_deref() == Some("deleted")).then(|| text("crowd-deleted"));
    let search = q.q.unwrap_or_default();
    let page = Pager::page_of(q.page);
    let mut crowds = state.store.list_crowds(&crate::filters::crowds(Some(&search), Pager::window(page))).await?;
    let pager = Pager::of("/crowds", &[("q", &search)], page, &mut crowds);
    Ok(CrowdsPage {
        chrome: Chrome::new(session, "/crowds"),
        notice,
        q: search,
        crowds: crowds.iter().map(CrowdRow::of).collect(),
        pager,
        report,
        error,
    })
}

async fn upload(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    multipart: Multipart,
) -> PageResult {
    let (status, report, error) = match receive_upload(&state, multipart).await {
        Ok((crowd, report)) => (StatusCode::CREATED, Some(report_of(&crowd, &report)), None),
        Err(e @ crate::error::ApiError::Internal(_)) => return Err(e.into()),
        Err(e) => (e.status_and_code().0, None, Some(e.to_string())),
    };
    if headers.contains_key("hx-request") {
        return Ok(html(status, &ReportFragment { report, error }));
    }
    Ok(html(status, &crowds_page(&state, &session, ListQuery::default(), report, error).await?))
}

fn report_of(crowd: &Crowd, report: &ValidationReport) -> Report {
    Report {
        crowd: CrowdRow::of(crowd),
        receiver_column: report.receiver_column.clone(),
        valid_rows: thousands(report.valid_rows as i64),
        bad_rows: report.bad_rows.iter().map(|b| (b.line, b.reason.clone())).collect(),
        more_bad_rows: report.bad_row_count > report.bad_rows.len() as u64,
    }
}
