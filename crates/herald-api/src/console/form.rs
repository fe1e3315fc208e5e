//! Reading console forms (urlencoded, repeated keys kept in order) and placing the API's
//! field errors next to the form fields they name.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::{FromRequest, Request};
use std::collections::BTreeMap;

/// A urlencoded form body.
#[derive(Debug, Clone, Default)]
pub(crate) struct Form(pub Vec<(String, String)>);

impl Form {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The field's value, trimmed; empty when absent.
    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or_default().trim().to_string()
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
    }

    pub fn parse(body: &[u8]) -> Self {
        Self(url::form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
    }
}

impl FromRequest<AppState> for Form {
    type Rejection = super::render::UiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::to_bytes(req.into_body(), state.limits.max_json_bytes)
            .await
            .map_err(|_| ApiError::PayloadTooLarge(super::language::text("login-form-too-large")))?;
        Ok(Self::parse(&bytes))
    }
}

/// Messages per form field, and those that name no field of the form.
#[derive(Debug, Clone, Default)]
pub(crate) struct FieldErrors {
    fields: BTreeMap<String, Vec<String>>,
    pub general: Vec<String>,
}

impl FieldErrors {
    /// Sorts an API error's messages onto form fields; `field_of` maps an API field name
    /// (`schedule.cron`) to a form field (`cron`), None for messages shown above the form.
    /// Internal errors are not the user's to fix and are passed back.
    pub fn from_api(error: ApiError, field_of: impl Fn(&str) -> Option<&'static str>) -> Result<Self, ApiError> {
        let mut errors = Self::default();
        match error {
            ApiError::Invalid(list) => {
                for e in list {
                    match field_of(&e.field) {
                        Some(field) => errors.add(field, e.message),
                        None => errors.general.push(e.to_string()),
                    }
                }
            }
            ApiError::Internal(detail) => return Err(ApiError::Internal(detail)),
            other => errors.general.push(other.to_string()),
        }
        Ok(errors)
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.fields.entry(field.to_string()).or_default().push(message.into());
    }

    /// The messages for `field`, joined, if any.
    pub fn get(&self, field: &str) -> Option<String> {
        self.fields.get(field).map(|m| m.join("; "))
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.general.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_core::FieldError;

    #[test]
    fn repeated_keys_keep_their_order() {
        let form = Form::parse(b"k=a&v=1&k=b&v=2&name=%20x%20");
        assert_eq!(form.all("k"), ["a", "b"]);
        assert_eq!(form.text("name"), "x");
        assert_eq!(form.text("missing"), "");
    }

    #[test]
    fn field_errors_land_on_their_fields() {
        let error = ApiError::Invalid(vec![
            FieldError::new("schedule.cron", "bad"),
            FieldError::new("content", "no {$x}"),
            FieldError::new("content", "no {$y}"),
            FieldError::new("elsewhere", "odd"),
        ]);
        let errors = FieldErrors::from_api(error, |f| match f {
            "schedule.cron" => Some("cron"),
            "content" => Some("content"),
            _ => None,
        })
        .unwrap();
        assert_eq!(errors.get("cron").as_deref(), Some("bad"));
        assert_eq!(errors.get("content").as_deref(), Some("no {$x}; no {$y}"));
        assert_eq!(errors.general, ["elsewhere: odd"]);
        assert!(FieldErrors::from_api(ApiError::Internal("x".into()), |_| None).is_err());
    }
}
