//! Crowd uploads: a multipart `file` field streamed to crowd storage and validated row by row.
//! The client's file name is kept for display only; storage names are generated.

use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::paging::{DEFAULT_LIMIT, PageOf, PageQuery};
use crate::{ApiLimits, AppState};
use axum::extract::multipart::{MultipartError, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use herald_crowd::{
    Checkpoint, CrowdFormat, CrowdReader, CrowdRow, RowOutcome, SavedCrowd, StoreError as CrowdStoreError,
    ValidationReport, body_stream,
};
use herald_store::Crowd;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::crowd_admin::MAX_NAME_CHARS;

pub fn router(limits: &ApiLimits) -> Router<AppState> {
    Router::new()
        .route("/api/crowds", get(list).post(upload).layer(DefaultBodyLimit::max(upload_body_limit(limits))))
        .route("/api/crowds/{id}", get(read))
}

/// An uploaded crowd and what validating it found.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Uploaded {
    crowd: Crowd,
    report: ValidationReport,
}

/// The multipart form of an upload.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) struct CrowdUpload {
    /// The CSV: a header row, then one receiver a row.
    #[schema(format = Binary, value_type = String)]
    file: Vec<u8>,
    /// The column naming the receiver (`userId` when absent); sent before `file`.
    #[schema(rename = "receiverColumn")]
    receiver_column: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct CrowdQuery {
    /// Part of the uploaded file's name (any case), or the crowd id.
    q: Option<String>,
    /// Items per page: 1 to 500, 100 when absent.
    limit: Option<i64>,
    /// Items to skip: 0 to 100,000.
    offset: Option<i64>,
}

#[utoipa::path(get, path = "/api/crowds", tag = "crowds", params(CrowdQuery),
    responses((status = 200, description = "a page of crowds, newest first", body = PageOf<Crowd>)))]
async fn list(State(state): State<AppState>, Query(q): Query<CrowdQuery>) -> Result<Json<Value>, ApiError> {
    let page = PageQuery::new(q.limit.unwrap_or(DEFAULT_LIMIT), q.offset).check()?;
    let filter = crate::filters::crowds(q.q.as_deref(), page.window());
    let (items, next) = page.take_fetched(state.store.list_crowds(&filter).await?);
    Ok(Json(page.wrap(&items, next)))
}

#[utoipa::path(post, path = "/api/crowds", tag = "crowds", request_body(content = CrowdUpload, content_type = "multipart/form-data"),
    responses((status = 201, description = "stored and validated; bad rows are reported, not sent to", body = Uploaded)))]
async fn upload(
    State(state): State<AppState>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, Json<Uploaded>), ApiError> {
    // A body that is not multipart at all is refused in the API's shape, like any other.
    let multipart =
        multipart.map_err(|e| ApiError::BadRequest(format!("not a multipart upload: {}", e.body_text())))?;
    let (crowd, report) = receive_upload(&state, multipart).await?;
    Ok((StatusCode::CREATED, Json(Uploaded { crowd, report })))
}

/// Reads an upload's fields (`receiverColumn`, then `file`), streams the file to crowd storage
/// while validating it, and records it. The REST API and the console both upload through here.
pub(crate) async fn receive_upload(
    state: &AppState,
    mut multipart: Multipart,
) -> Result<(Crowd, ValidationReport), ApiError> {
    let mut format = CrowdFormat::default();
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        match field.name() {
            Some("receiverColumn") => {
                let column = field.text().await.map_err(multipart_error)?;
                let column = column.trim();
                if column.is_empty() {
                    return Err(ApiError::field("receiverColumn", "must not be empty"));
                }
                format.receiver_column = column.to_string();
            }
            Some("file") => {
                let name: String = field.file_name().unwrap_or("upload.csv").chars().take(MAX_NAME_CHARS).collect();
                let saved = state
                    .crowds
                    .save(body_stream(field), state.limits.max_upload_bytes, &format)
                    .await
                    .map_err(save_error)?;
                let crowd = match record_crowd(&*state.store, &saved, name, state.clock.now()).await {
                    Ok(crowd) => crowd,
                    Err(e) => {
                        let _ = state.crowds.delete(&saved.crowd_id).await;
                        return Err(e);
                    }
                };
                tracing::info!(crowd_id = %crowd.id, rows = crowd.rows, bad_rows = crowd.bad_rows, "crowd uploaded");
                return Ok((crowd, saved.report));
            }
            _ => {}
        }
    }
    Err(ApiError::field("file", "the multipart body has no `file` field"))
}

/// The request body limit of an upload route: multipart framing adds a little to the file
/// itself; the crowd store enforces the real limit.
pub(crate) fn upload_body_limit(limits: &ApiLimits) -> usize {
    usize::try_from(limits.max_upload_bytes).unwrap_or(usize::MAX).saturating_add(64 * 1024)
}

/// Records a crowd file that crowd storage saved, with the bad rows its validation listed.
pub async fn record_crowd(
    store: &dyn herald_store::Store,
    saved: &SavedCrowd,
    original_name: String,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Crowd, ApiError> {
    let crowd = crowd_record(saved, original_name, now);
    let bad_rows = serde_json::to_string(&saved.report.bad_rows).map_err(|e| ApiError::Internal(e.to_string()))?;
    store.insert_crowd(&crowd, &bad_rows).await?;
    Ok(crowd)
}

/// The store's record of a crowd file that crowd storage saved.
pub fn crowd_record(saved: &SavedCrowd, original_name: String, now: chrono::DateTime<chrono::Utc>) -> Crowd {
    let report = &saved.report;
    Crowd {
        id: saved.crowd_id.clone(),
        original_name,
        receiver_column: report.receiver_column.clone(),
        columns: report.columns.clone(),
        rows: report.rows as i64,
        valid_rows: report.valid_rows as i64,
        bad_rows: report.bad_row_count as i64,
        size_bytes: saved.size_bytes as i64,
        created_at: now,
    }
}

pub(crate) fn multipart_error(e: MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::PayloadTooLarge(format!("upload too large: {}", e.body_text()));
    }
    ApiError::BadRequest(format!("bad multipart body: {}", e.body_text()))
}

fn save_error(e: CrowdStoreError) -> ApiError {
    match e {
        CrowdStoreError::TooLarge { limit } => {
            ApiError::PayloadTooLarge(format!("crowd file is larger than the {limit}-byte limit"))
        }
        CrowdStoreError::Invalid(problem) => ApiError::field("file", problem.to_string()),
        // The route's body limit ends the stream with an error, however large the client's
        // frames: that is an over-size upload, not an interrupted one.
        CrowdStoreError::Body(problem) => match problem.downcast_ref::<MultipartError>() {
            Some(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::PayloadTooLarge(format!("upload too large: {}", e.body_text()))
            }
            _ => ApiError::BadRequest(format!("upload interrupted: {problem}")),
        },
        other => ApiError::Internal(other.to_string()),
    }
}

#[utoipa::path(get, path = "/api/crowds/{id}", tag = "crowds", params(("id" = String, Path, description = "the crowd id")),
    responses((status = 200, description = "the crowd", body = Crowd)))]
async fn read(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<Crowd>, ApiError> {
    Ok(Json(state.store.get_crowd(&id).await?))
}

/// The first valid row of a crowd file (the console previews content with it), or None when
/// the file has no valid row. Reads rows only up to that one.
pub(crate) async fn first_valid_row(state: &AppState, crowd: &Crowd) -> Result<Option<CrowdRow>, ApiError> {
    let file =
        state.crowds.open(&crowd.id).await.map_err(|e| ApiError::Internal(format!("crowd {}: {e}", crowd.id)))?;
    let format = CrowdFormat::with_receiver_column(crowd.receiver_column.clone());
    let read = tokio::task::spawn_blocking(move || -> Result<Option<CrowdRow>, herald_crowd::CrowdError> {
        for row in CrowdReader::open(file, &format, Checkpoint::default())? {
            if let RowOutcome::Valid(row) = row? {
                return Ok(Some(row));
            }
        }
        Ok(None)
    });
    match read.await {
        Ok(Ok(row)) => Ok(row),
        Ok(Err(e)) => Err(ApiError::Internal(format!("reading crowd {}: {e}", crowd.id))),
        Err(e) => Err(ApiError::Internal(format!("reading crowd {}: {e}", crowd.id))),
    }
}
