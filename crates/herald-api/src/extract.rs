//! `Path` and `Query` extractors for the JSON API that refuse bad input in the API's error
//! shape (`{"code","msg"}`, 422) naming the parameter, where axum's own answer plain text.
//! They wrap axum's extractors, so handlers destructure them the same way.

use crate::error::ApiError;
use axum::extract::path::ErrorKind;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequestParts, MatchedPath};
use axum::http::request::Parts;
use herald_core::listing::{QUOTED_CHARS, clip};
use serde::de::DeserializeOwned;

pub struct Path<T>(pub T);

/// The client's address as the listener recorded it (herald's server does); None when the
/// router is served some other way.
pub struct ClientAddr(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let info = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>();
        Ok(ClientAddr(info.map(|axum::extract::ConnectInfo(addr)| addr.ip())))
    }
}

pub struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Path<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(rejection) => {
                let route = parts.extensions.get::<MatchedPath>().map(|m| m.as_str().to_string());
                Err(path_error(rejection, route.as_deref()))
            }
        }
    }
}

impl<S, T> FromRequestParts<S> for Query<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(rejection) => Err(query_error(rejection)),
        }
    }
}

/// Names the parameter: axum names it only for multi-parameter paths, so a one-parameter
/// route's name is read from its pattern (`/api/templates/{id}`).
fn path_error(rejection: PathRejection, route: Option<&str>) -> ApiError {
    let PathRejection::FailedToDeserializePathParams(e) = &rejection else {
        return ApiError::Internal(rejection.body_text());
    };
    let refuse = |key: &str, value: &str, expected: &str| {
        ApiError::field(key, format!("{:?} is not {}", clip(value, QUOTED_CHARS), type_name(expected)))
    };
    match (e.kind(), route.and_then(only_parameter)) {
        (ErrorKind::ParseErrorAtKey { key, value, expected_type }, _) => refuse(key, value, expected_type),
        (ErrorKind::ParseError { value, expected_type }, Some(key)) => refuse(key, value, expected_type),
        _ => ApiError::BadRequest(format!("bad path: {}", clip(&e.body_text(), QUOTED_CHARS * 4))),
    }
}

/// The name of a route pattern's one `{parameter}`, if it has exactly one.
fn only_parameter(route: &str) -> Option<&str> {
    let mut names = route.split('{').skip(1).filter_map(|rest| rest.split_once('}').map(|(name, _)| name));
    match (names.next(), names.next()) {
        (Some(name), None) => Some(name.trim_start_matches('*')),
        _ => None,
    }
}

/// `limit: invalid digit found in string` names the parameter first; keep that order.
fn query_error(rejection: QueryRejection) -> ApiError {
    let text = rejection.body_text();
    let detail = text.strip_prefix("Failed to deserialize query string: ").unwrap_or(&text);
    match detail.split_once(": ") {
        Some((param, problem)) if !param.contains(' ') => ApiError::field(param, problem),
        _ => ApiError::BadRequest(format!("bad query string: {detail}")),
    }
}

fn type_name(rust_type: &str) -> &'static str {
    match rust_type {
        "i64" | "i32" | "u64" | "u32" | "usize" => "a whole number",
        _ => "of the expected form",
    }
}
