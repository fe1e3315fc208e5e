//! A JSON body extractor whose rejections name the field at fault (`channel: unknown variant
//! "pigeon"`), answered as 422 in the API's error shape instead of axum's plain text.

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge("request body is too large".into())
            } else {
                ApiError::BadRequest(format!("could not read the request body: {e}"))
            }
        })?;
        parse(&bytes).map(JsonBody)
    }
}

pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let unknown = e.path().iter().any(|segment| matches!(segment, serde_path_to_error::Segment::Unknown));
        let path = e.path().to_string();
        let inner = e.into_inner();
        // Where no field is known (a syntax error before any key, or inside one, which the
        // path writes as `?`), the line and column say where the fault is; serde's text ends
        // with them. A key literally named `?` is a known field.
        if unknown {
            return ApiError::BadRequest(format!("the body is not valid JSON: {inner}"));
        }
        if path == "." || path.is_empty() {
            ApiError::BadRequest(format!("invalid JSON body: {inner}"))
        } else {
            ApiError::field(&path, inner.to_string())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        content: serde_json::Value,
    }

    #[test]
    fn syntax_errors_say_where_and_name_a_field_only_when_one_is_known() {
        let err = parse::<Body>(b"{\"name\": \"x\",\n tru}").unwrap_err().to_string();
        assert!(err.starts_with("the body is not valid JSON") && err.contains("line 2 column"), "{err}");
        let err = parse::<Body>(b"{\"name\": \"x\",\n \"content\": {\"a\": tru}}").unwrap_err().to_string();
        assert!(err.starts_with("content.a: ") && err.contains("line 2 column"), "{err}");
        let err = parse::<Body>(b"{\"name\": null, \"content\": 1}").unwrap_err().to_string();
        assert!(err.starts_with("name: "), "{err}");
        let err = parse::<Body>(b"{\"name\": \"x\", \"?\": 1}").unwrap_err().to_string();
        assert!(err.starts_with("?: unknown field"), "found by the property test: {err}");
    }
}
