//! Reading a rendered template's content the same way in every channel that offers message
//! types: the `msgtype` asked for (text when none) and the fields a type requires.

use serde_json::Value;

/// The content's `msgtype`; `"text"` when it has none.
pub(crate) fn message_type(content: &Value) -> Result<&str, String> {
    match content.get("msgtype") {
        None | Some(Value::Null) => Ok("text"),
        Some(Value::String(t)) => Ok(t.as_str()),
        Some(_) => Err("content.msgtype must be a string".into()),
    }
}

/// The content field `field`, which must be a string that is not blank.
pub(crate) fn required_str<'a>(content: &'a Value, field: &str) -> Result<&'a str, String> {
    match content.get(field).and_then(Value::as_str) {
        Some(s) if !s.trim().is_empty() => Ok(s),
        _ => Err(format!("content.{field} is required and must be a non-empty string")),
    }
}
