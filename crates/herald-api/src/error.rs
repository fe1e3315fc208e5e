//! The API's error type. Every error answers with austin's body shape, `{"code", "msg"}`, plus
//! the fields at fault; store and bus failures are logged and answered without their detail.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use herald_core::FieldError;
use herald_core::listing::{QUOTED_CHARS, clip};
use herald_store::StoreError;

/// austin's response codes.
pub mod codes {
    pub const SUCCESS: &str = "0";
    pub const BAD_PARAMETERS: &str = "A0001";
    pub const TEMPLATE_NOT_FOUND: &str = "A0002";
    pub const TOO_MANY_RECEIVERS: &str = "A0003";
    pub const UNAUTHORIZED: &str = "A0005";
    pub const FORBIDDEN: &str = "A0006";
    pub const TOO_MANY_REQUESTS: &str = "A0429";
    pub const SERVICE_ERROR: &str = "B0001";
    pub const NOT_FOUND: &str = "B0404";
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{}", join(.0))]
    Invalid(Vec<FieldError>),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    TemplateNotFound(String),
    #[error("{0}")]
    TooManyReceivers(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    TooManyRequests(String),
    #[error("a valid API key is required (X-API-Key header or Authorization: Bearer)")]
    Unauthorized,
    #[error("internal error")]
    Internal(String),
}

/// The most field errors one answer lists; the rest are counted.
pub const MAX_ERRORS_PER_ANSWER: usize = 20;

/// The most characters of one message in an answer: messages may quote input.
pub const MAX_MESSAGE_CHARS: usize = 500;

fn join(errors: &[FieldError]) -> String {
    let mut text = bounded(errors).iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; ");
    if errors.len() > MAX_ERRORS_PER_ANSWER {
        text.push_str(&format!("; and {} more errors", errors.len() - MAX_ERRORS_PER_ANSWER));
    }
    text
}

/// The errors an answer lists: the first [`MAX_ERRORS_PER_ANSWER`], each clipped.
fn bounded(errors: &[FieldError]) -> Vec<FieldError> {
    errors
        .iter()
        .take(MAX_ERRORS_PER_ANSWER)
        .map(|e| FieldError::new(clip(&e.field, QUOTED_CHARS * 2), clip(&e.message, MAX_MESSAGE_CHARS)))
        .collect()
}

impl ApiError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, message)])
    }

    pub(crate) fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::BadRequest(_) | Self::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, codes::BAD_PARAMETERS),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, codes::NOT_FOUND),
            Self::TemplateNotFound(_) => (StatusCode::NOT_FOUND, codes::TEMPLATE_NOT_FOUND),
            Self::TooManyReceivers(_) => (StatusCode::UNPROCESSABLE_ENTITY, codes::TOO_MANY_RECEIVERS),
            Self::Conflict(_) => (StatusCode::CONFLICT, codes::BAD_PARAMETERS),
            Self::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, codes::BAD_PARAMETERS),
            Self::Forbidden(_) => (StatusCode::FORBIDDEN, codes::FORBIDDEN),
            Self::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, codes::BAD_PARAMETERS),
            Self::TooManyRequests(_) => (StatusCode::TOO_MANY_REQUESTS, codes::TOO_MANY_REQUESTS),
            Self::Unauthorized => (StatusCode::UNAUTHORIZED, codes::UNAUTHORIZED),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, codes::SERVICE_ERROR),
        }
    }
}

/// Every error's body: austin's `code` and `msg`, and for a 422 the fields at fault.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// austin's code: A0001 bad parameters, A0002 template not found, A0003 too many
    /// receivers, A0005 no valid API key, A0006 forbidden, A0429 too many requests, B0001
    /// service error, B0404 no such thing.
    pub code: &'static str,
    /// What went wrong, at most 500 characters.
    pub msg: String,
    /// The fields at fault (at most 20), on a 422.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let Self::Internal(detail) = &self {
            tracing::error!(%detail, "internal error answering a request");
        }
        // An Invalid's text is already bounded by `join`.
        let msg = match &self {
            Self::Invalid(_) => self.to_string(),
            other => clip(&other.to_string(), MAX_MESSAGE_CHARS),
        };
        let errors = match &self {
            Self::Invalid(errors) => Some(bounded(errors)),
            _ => None,
        };
        (status, Json(ErrorBody { code, msg, errors })).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { .. } => Self::NotFound(e.to_string()),
            StoreError::Conflict(msg) => Self::Conflict(msg),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<herald_bus::BusError> for ApiError {
    fn from(e: herald_bus::BusError) -> Self {
        Self::Internal(format!("bus: {e}"))
    }
}
