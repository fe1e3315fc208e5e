//! One crowd's page: what its upload found (the bad-row report, kept), the templates that send
//! to it, and rename, download and delete (which asks first and says what it keeps; refused,
//! with the reason, while the crowd is in use). Every write goes through the operations the
//! REST handlers use.

use super::confirm::Confirm;
use super::crowds_page::CrowdRow;
use super::form::Form;
use super::language::filters;
use super::language::{text, text_with};
use super::render::{Chrome, PageResult, html, ok, thousands};
use super::session::Session;
use crate::AppState;
use crate::crowd_admin as ops;
use crate::error::ApiError;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Extension, Router};
use herald_store::{TemplateFilter, Window};
use serde::Deserialize;

/// Templates named as the crowd's users on its page.
const USERS_SHOWN: i64 = 50;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/crowds/{id}", get(page))
        .route("/crowds/{id}/file", get(download))
        .route("/crowds/{id}/rename", post(rename))
        .route("/crowds/{id}/delete", post(delete))
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    done: Option<String>,
}

#[derive(Template)]
#[template(path = "console/crowd.html")]
struct CrowdPage {
    chrome: Chrome,
    notice: Option<String>,
    /// Why a rename or delete was refused.
    error: Option<String>,
    crowd: CrowdRow,
    valid_rows: String,
    receiver_column: String,
    size: String,
    bad_rows: Vec<(u64, String)>,
    more_bad_rows: bool,
    users: Vec<(i64, String)>,
}

async fn crowd_page(
    state: &AppState,
    session: &Session,
    id: &str,
    notice: Option<String>,
    error: Option<String>,
) -> Result<CrowdPage, ApiError> {
    let crowd = state.store.get_crowd(id).await?;
    let report = ops::kept_report(state, &crowd).await?;
    let using = TemplateFilter {
        crowd_id: Some(id.to_string()),
        window: Window::first(USERS_SHOWN),
        ..TemplateFilter::default()
    };
    let users = state.store.list_templates(&using).await?.into_iter().map(|t| (t.id, t.spec.name)).collect();
    Ok(CrowdPage {
        chrome: Chrome::new(session, "/crowds"),
        notice,
        error,
        valid_rows: thousands(crowd.valid_rows),
        receiver_column: crowd.receiver_column.clone(),
        size: text_with("crowd-size", &[("size", &thousands(crowd.size_bytes))]),
        more_bad_rows: report.bad_row_count > report.bad_rows.len() as i64,
        bad_rows: report.bad_rows.into_iter().map(|b| (b.line, b.reason)).collect(),
        crowd: CrowdRow::of(&crowd),
        users,
    })
}

async fn page(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> PageResult {
    let notice = (q.done.as_deref() == Some("renamed")).then(|| text("crowd-renamed"));
    Ok(ok(&crowd_page(&state, &session, &id, notice, None).await?))
}

async fn download(State(state): State<AppState>, Path(id): Path<String>) -> PageResult {
    Ok(ops::crowd_file(&state, &id).await?)
}

/// A refusal the operator can act on, shown on the crowd's page; anything else is an error page.
async fn refused(state: &AppState, session: &Session, id: &str, e: ApiError) -> PageResult {
    match e {
        ApiError::Invalid(_) | ApiError::Conflict(_) => {
            let status = e.status_and_code().0;
            Ok(html(status, &crowd_page(state, session, id, None, Some(e.to_string())).await?))
        }
        other => Err(other.into()),
    }
}

async fn rename(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
    form: Form,
) -> PageResult {
    match ops::rename_crowd(&state, &id, &form.text("name")).await {
        Ok(_) => Ok(Redirect::to(&format!("/crowds/{}?done=renamed", urlencoded(&id))).into_response()),
        Err(e) => refused(&state, &session, &id, e).await,
    }
}

async fn delete(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
    form: Form,
) -> PageResult {
    if !Confirm::given(&form) {
        let crowd = state.store.get_crowd(&id).await.map_err(ApiError::from)?;
        let page = Confirm {
            chrome: Chrome::new(&session, "/crowds"),
            title: text_with("crowd-delete-title", &[("name", &crowd.original_name)]),
            text: text_with("crowd-delete-text", &[("rows", &thousands(crowd.rows))]),
            action: format!("/crowds/{}/delete", urlencoded(&id)),
            fields: Vec::new(),
            yes: text("crowd-delete-yes"),
            back: format!("/crowds/{}", urlencoded(&id)),
        };
        return Ok(ok(&page));
    }
    match ops::delete_crowd(&state, &id).await {
        Ok(()) => Ok(Redirect::to("/crowds?done=deleted").into_response()),
        Err(e) => refused(&state, &session, &id, e).await,
    }
}

fn urlencoded(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_statuses_stay_client_errors() {
        assert_eq!(crate::error::ApiError::Conflict("x".into()).status_and_code().0, axum::http::StatusCode::CONFLICT);
    }

    #[test]
    fn the_pages_say_what_a_delete_keeps_in_the_api_words() {
        assert_eq!(text("crowd-delete-keeps"), ops::DELETE_KEEPS);
        assert_eq!(text("crowd-deleted"), format!("Crowd deleted: {}.", ops::DELETE_KEEPS));
        assert_eq!(
            text_with("crowd-delete-text", &[("rows", &thousands(1_200))]),
            format!("Its 1,200 rows can no longer be sent to: {}.", ops::DELETE_KEEPS)
        );
        assert_eq!(text_with("crowd-size", &[("size", &thousands(1))]), "1 byte");
        assert_eq!(text_with("crowd-size", &[("size", &thousands(2_048))]), "2,048 bytes");
    }
}
