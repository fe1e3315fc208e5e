//! Looking after uploaded crowds: the bad-row report kept from the upload, renaming, deleting
//! (refused while a template or a streaming run uses the crowd; the file goes, the record stays
//! for the runs that sent to it) and downloading the file as uploaded. The console's crowd page
//! goes through the same operations.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::Path;
use crate::json::JsonBody;
use axum::body::Body;
use axum::extract::State;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use herald_crowd::BadRow;
use herald_store::Crowd;
use serde::{Deserialize, Serialize};
use std::io::Read;

/// The longest crowd name, in characters (as an upload's file name).
pub(crate) const MAX_NAME_CHARS: usize = 200;
/// Bytes read from crowd storage per chunk of a download.
const DOWNLOAD_CHUNK: usize = 64 * 1024;
/// What deleting a crowd keeps.
pub(crate) const DELETE_KEEPS: &str = "its runs and their traces are kept; its file is removed";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/crowds/{id}/bad-rows", get(bad_rows))
        .route("/api/crowds/{id}/file", get(download))
        .route("/api/crowds/{id}", axum::routing::patch(rename).delete(remove))
}

/// The bad rows an upload found, as kept with the crowd.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct KeptReport {
    /// Every bad row the upload found.
    pub bad_row_count: i64,
    /// The first of them (up to 100), by line.
    pub bad_rows: Vec<BadRow>,
}

/// The bad-row report kept with crowd `id`.
pub(crate) async fn kept_report(state: &AppState, crowd: &Crowd) -> Result<KeptReport, ApiError> {
    let json = state.store.crowd_bad_rows(&crowd.id).await?;
    let bad_rows = match json {
        Some(json) => serde_json::from_str(&json)
            .map_err(|e| ApiError::Internal(format!("crowd {}'s kept report does not read: {e}", crowd.id)))?,
        None => Vec::new(),
    };
    Ok(KeptReport { bad_row_count: crowd.bad_rows, bad_rows })
}

#[utoipa::path(get, path = "/api/crowds/{id}/bad-rows", tag = "crowds", params(("id" = String, Path, description = "the crowd id")),
    responses((status = 200, description = "the bad rows its upload found", body = KeptReport)))]
async fn bad_rows(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<KeptReport>, ApiError> {
    let crowd = state.store.get_crowd(&id).await?;
    Ok(Json(kept_report(&state, &crowd).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CrowdRename {
    /// The name shown for the crowd: 1 to 200 characters.
    pub name: String,
}

/// A crowd name, refused (naming the field) when blank, too long or holding control characters.
pub(crate) fn checked_name(name: &str) -> Result<&str, ApiError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ApiError::field("name", "must not be blank"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::field("name", format!("is longer than {MAX_NAME_CHARS} characters")));
    }
    if name.chars().any(char::is_control) {
        return Err(ApiError::field("name", "must not hold control characters (line breaks, tabs)"));
    }
    Ok(name)
}

pub(crate) async fn rename_crowd(state: &AppState, id: &str, name: &str) -> Result<Crowd, ApiError> {
    let crowd = state.store.rename_crowd(id, checked_name(name)?).await?;
    tracing::info!(crowd_id = %id, name = ?crowd.original_name, "crowd renamed");
    Ok(crowd)
}

#[utoipa::path(patch, path = "/api/crowds/{id}", tag = "crowds", params(("id" = String, Path, description = "the crowd id")), request_body = CrowdRename,
    responses((status = 200, description = "renamed", body = Crowd)))]
async fn rename(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<CrowdRename>,
) -> Result<Json<Crowd>, ApiError> {
    Ok(Json(rename_crowd(&state, &id, &body.name).await?))
}

/// A deleted crowd's answer: what deleting keeps.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct CrowdDeleted {
    id: String,
    deleted: bool,
    kept: &'static str,
}

/// Deletes the record (refused while in use), then the file. A file that cannot be removed is
/// logged and left: the crowd is gone for every reader either way.
pub(crate) async fn delete_crowd(state: &AppState, id: &str) -> Result<(), ApiError> {
    state.store.delete_crowd(id, state.clock.now()).await?;
    if let Err(e) = state.crowds.delete(id).await {
        tracing::warn!(crowd_id = %id, error = %e, "crowd deleted, but its file could not be removed");
    }
    tracing::info!(crowd_id = %id, "crowd deleted");
    Ok(())
}

#[utoipa::path(delete, path = "/api/crowds/{id}", tag = "crowds", params(("id" = String, Path, description = "the crowd id")),
    responses((status = 200, description = "deleted; its runs are kept", body = CrowdDeleted),
        (status = 409, description = "a template uses it, or a run still reads its file")))]
async fn remove(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<CrowdDeleted>, ApiError> {
    delete_crowd(&state, &id).await?;
    Ok(Json(CrowdDeleted { id, deleted: true, kept: DELETE_KEEPS }))
}

#[utoipa::path(get, path = "/api/crowds/{id}/file", tag = "crowds", params(("id" = String, Path, description = "the crowd id")),
    responses((status = 200, description = "the CSV as uploaded", content_type = "text/csv", body = String)))]
async fn download(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    crowd_file(&state, &id).await
}

/// The crowd's file as uploaded, streamed a chunk at a time (never read whole), named after the
/// crowd for the browser's save dialog.
pub(crate) async fn crowd_file(state: &AppState, id: &str) -> Result<Response, ApiError> {
    let crowd = state.store.get_crowd(id).await?;
    let mut file = state.crowds.open(id).await.map_err(|e| ApiError::Internal(format!("crowd {id}: {e}")))?;
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Vec<u8>>>(4);
    tokio::task::spawn_blocking(move || {
        loop {
            let mut chunk = vec![0; DOWNLOAD_CHUNK];
            let read = file.read(&mut chunk);
            let done = matches!(read, Ok(0) | Err(_));
            let item = read.map(|n| {
                chunk.truncate(n);
                chunk
            });
            if matches!(item, Ok(ref c) if c.is_empty()) || tx.blocking_send(item).is_err() || done {
                return;
            }
        }
    });
    let body = Body::from_stream(futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) }));
    let headers = [
        (CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
        (CONTENT_DISPOSITION, attachment(&crowd.original_name)),
    ];
    Ok((headers, body).into_response())
}

/// `attachment` naming the file: a plain ASCII `filename` for old browsers and the exact name
/// as RFC 5987 `filename*`.
fn attachment(name: &str) -> String {
    let plain: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || ".-_ ".contains(c) { c } else { '_' }).collect();
    let exact: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>().replace('+', "%20");
    format!("attachment; filename=\"{plain}\"; filename*=UTF-8''{exact}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_download_is_named_after_the_crowd_safely() {
        assert_eq!(
            attachment("会员 名单\".csv"),
            "attachment; filename=\"__ ___.csv\"; filename*=UTF-8''%E4%BC%9A%E5%91%98%20%E5%90%8D%E5%8D%95%22.csv"
        );
    }

    #[test]
    fn names_are_trimmed_and_refused_when_blank_long_or_broken() {
        assert_eq!(checked_name("  members  ").unwrap(), "members");
        for bad in ["   ", "a\nb", &"x".repeat(MAX_NAME_CHARS + 1)] {
            assert!(checked_name(bad).unwrap_err().to_string().starts_with("name"), "{bad:?}");
        }
    }
}
