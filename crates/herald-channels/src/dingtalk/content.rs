//! The DingTalk message a template's rendered content asks for. Both the robot and work notices
//! take the same `msg` shapes for text and markdown, so both read the same content fields:
//!
//! - `msgtype`: `"text"` (the default) or `"markdown"`;
//! - `content`: the text, or the markdown body; required, not blank;
//! - `title`: the markdown title shown in the conversation list; required for markdown.
//!
//! Other message types (link, actionCard, ...) are refused rather than half-sent.

use serde_json::{Value, json};

/// Builds DingTalk's `{msgtype, text|markdown}` object, or says why the content cannot be sent.
pub(crate) fn message(content: &Value) -> Result<Value, String> {
    let msgtype = match content.get("msgtype") {
        None | Some(Value::Null) => "text",
        Some(Value::String(t)) => t.as_str(),
        Some(_) => return Err("content.msgtype must be a string".into()),
    };
    let text = required_str(content, "content")?;
    match msgtype {
        "text" => Ok(json!({ "msgtype": "text", "text": { "content": text } })),
        "markdown" => {
            let title = required_str(content, "title")?;
            Ok(json!({ "msgtype": "markdown", "markdown": { "title": title, "text": text } }))
        }
        other => Err(format!("content.msgtype {other:?} is not supported (text or markdown)")),
    }
}

fn required_str<'a>(content: &'a Value, field: &str) -> Result<&'a str, String> {
    match content.get(field).and_then(Value::as_str) {
        Some(s) if !s.trim().is_empty() => Ok(s),
        _ => Err(format!("content.{field} is required and must be a non-empty string")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_the_default() {
        assert_eq!(message(&json!({"content": "hi"})).unwrap(), json!({"msgtype": "text", "text": {"content": "hi"}}));
    }

    #[test]
    fn markdown_takes_a_title() {
        let msg = message(&json!({"msgtype": "markdown", "title": "T", "content": "# hi"})).unwrap();
        assert_eq!(msg, json!({"msgtype": "markdown", "markdown": {"title": "T", "text": "# hi"}}));
        assert!(message(&json!({"msgtype": "markdown", "content": "# hi"})).unwrap_err().contains("title"));
    }

    #[test]
    fn blank_or_unknown_content_is_refused() {
        assert!(message(&json!({"content": "  "})).unwrap_err().contains("content.content"));
        assert!(message(&json!({})).is_err());
        assert!(message(&json!({"msgtype": "link", "content": "x"})).unwrap_err().contains("link"));
        assert!(message(&json!({"msgtype": 3, "content": "x"})).is_err());
    }
}
