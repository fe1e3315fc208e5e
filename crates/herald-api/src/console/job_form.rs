//! Creating, editing and deleting a scheduled job in the console: the job as the API takes it,
//! written as JSON in one field (a new job starts from an example; an edited one shows its
//! secrets masked, and masked ones sent back keep their stored values), saved through the API's
//! own checks, with each refusal listed by the field it names.

use super::form::Form;
use super::job_page::not_found;
use super::language::filters;
use super::render::{Chrome, PageResult, html, ok};
use super::session::Session;
use crate::AppState;
use crate::error::ApiError;
use crate::jobs::{create_job, delete_job, update_job};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Extension, Router};
use herald_core::scheduled_job::JobSpec;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/jobs/new", get(new_page).post(create))
        .route("/jobs/{id}/edit", get(edit_page).post(update))
        .route("/jobs/{id}/delete", post(remove))
}

/// What a new job's field starts with: an HTTP call every morning, with the rules spelled out.
const EXAMPLE: &str = r#"{
  "name": "nightly-export",
  "description": "",
  "http": {"method": "POST", "url": "https://crm.example/export", "headers": {}, "body": "{}"},
  "schedule": {"type": "cron", "cron": "0 30 2 * * ?", "timezone": "UTC", "misfire": "fire_once"},
  "timeoutMs": 60000,
  "retries": {"max": 3, "backoffMs": 1000},
  "overlap": "serial",
  "maxConcurrent": 1
}"#;

#[derive(Template)]
#[template(path = "console/job_form.html")]
struct JobFormPage {
    chrome: Chrome,
    /// None for a new job.
    id: Option<i64>,
    name: String,
    spec: String,
    /// Each refusal: the field it names (empty for the whole job) and why.
    errors: Vec<(String, String)>,
}

async fn new_page(Extension(session): Extension<Session>) -> PageResult {
    let page = JobFormPage {
        chrome: Chrome::new(&session, "/jobs"),
        id: None,
        name: String::new(),
        spec: EXAMPLE.into(),
        errors: vec![],
    };
    Ok(ok(&page))
}

async fn edit_page(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<i64>,
) -> PageResult {
    let job = state.store.get_job(id).await.map_err(not_found(id))?;
    let spec = serde_json::to_string_pretty(&job.spec.masked()).map_err(|e| ApiError::Internal(e.to_string()))?;
    let page =
        JobFormPage { chrome: Chrome::new(&session, "/jobs"), id: Some(id), name: job.spec.name, spec, errors: vec![] };
    Ok(ok(&page))
}

async fn create(State(state): State<AppState>, Extension(session): Extension<Session>, form: Form) -> PageResult {
    let text = form.get("spec").unwrap_or_default().to_string();
    let saved = match read_spec(&text) {
        Ok(spec) => create_job(&state, &spec).await,
        Err(e) => Err(e),
    };
    match saved {
        Ok(job) => Ok(Redirect::to(&format!("/jobs/{}?done=created", job.id)).into_response()),
        Err(e) => refused(&session, None, String::new(), text, e),
    }
}

async fn update(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<i64>,
    form: Form,
) -> PageResult {
    let stored = state.store.get_job(id).await.map_err(not_found(id))?;
    let text = form.get("spec").unwrap_or_default().to_string();
    let saved = match read_spec(&text) {
        Ok(spec) => update_job(&state, id, spec).await,
        Err(e) => Err(e),
    };
    match saved {
        Ok(_) => Ok(Redirect::to(&format!("/jobs/{id}?done=saved")).into_response()),
        Err(e) => refused(&session, Some(id), stored.spec.name, text, e),
    }
}

async fn remove(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<i64>,
) -> PageResult {
    let stored = state.store.get_job(id).await.map_err(not_found(id))?;
    match delete_job(&state, id).await {
        Ok(()) => Ok(Redirect::to("/jobs?done=deleted").into_response()),
        Err(e @ ApiError::Conflict(_)) => {
            let spec = serde_json::to_string_pretty(&stored.spec.masked()).unwrap_or_default();
            refused(&session, Some(id), stored.spec.name, spec, e)
        }
        Err(e) => Err(e.into()),
    }
}

/// The field's JSON as a job; a fault names where it is.
fn read_spec(text: &str) -> Result<JobSpec, ApiError> {
    crate::json::parse(text.as_bytes())
}

/// The form again, with what was sent and why it was refused (422, or 409 for a delete).
fn refused(session: &Session, id: Option<i64>, name: String, spec: String, error: ApiError) -> PageResult {
    let (status, errors) = match error {
        ApiError::Invalid(list) => {
            (StatusCode::UNPROCESSABLE_ENTITY, list.into_iter().map(|e| (e.field, e.message)).collect())
        }
        ApiError::Internal(detail) => return Err(ApiError::Internal(detail).into()),
        e @ ApiError::Conflict(_) => (StatusCode::CONFLICT, vec![(String::new(), e.to_string())]),
        other => (StatusCode::UNPROCESSABLE_ENTITY, vec![(String::new(), other.to_string())]),
    };
    let page = JobFormPage { chrome: Chrome::new(session, "/jobs"), id, name, spec, errors };
    Ok(html(status, &page))
}
