//! WeCom (企业微信): the group robot (a webhook keyed by the robot's `key`) and app messages
//! (sent as an app of the corp with the corp access token). Both answer `{errcode, errmsg}`;
//! `reply` turns that into a send verdict, `token` fetches the corp access token.
//!
//! Error codes follow WeCom's global return-code table (developer.work.weixin.qq.com
//! document/path/90313): -1 system busy, 45009 API frequency limit and 45033 concurrency limit
//! are passing faults; 40014 (invalid access_token) and 42001 (access_token expired) mean the
//! token must be fetched again; everything else is permanent.

pub mod app;
mod reply;
pub mod robot;
mod token;

use crate::account::{BuildError, ChannelAccount};
use serde::de::DeserializeOwned;

/// Where WeCom's API lives; accounts may point `baseUrl` elsewhere (tests, proxies).
pub const DEFAULT_BASE_URL: &str = "https://qyapi.weixin.qq.com";

fn default_base_url() -> String {
    DEFAULT_BASE_URL.to_string()
}

/// `parse_config`, with a missing field named as the field at fault rather than the root.
fn parse<T: DeserializeOwned>(account: &ChannelAccount) -> Result<T, BuildError> {
    crate::account::parse_config(account).map_err(|e| match e {
        BuildError::Config { field, message } => match missing_field(&message) {
            Some(name) => BuildError::Config { field: name, message: "is required".into() },
            None => BuildError::Config { field, message },
        },
        other => other,
    })
}

fn missing_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split_once('`').map(|(name, _)| name.to_string())
}

fn config_error(field: &str, message: impl Into<String>) -> BuildError {
    BuildError::Config { field: field.into(), message: message.into() }
}

/// A base URL without its trailing slash, checked to be http(s).
fn check_base_url(base_url: &str) -> Result<String, BuildError> {
    let parsed = url::Url::parse(base_url).map_err(|e| config_error("baseUrl", e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(config_error("baseUrl", "must be an http or https URL"));
    }
    if parsed.query().is_some() {
        return Err(config_error("baseUrl", "must not carry a query"));
    }
    Ok(base_url.trim_end_matches('/').to_string())
}

/// Text of the content field `name`, if it is a non-empty string.
fn text_field<'a>(content: &'a serde_json::Value, name: &str) -> Option<&'a str> {
    content.get(name).and_then(|v| v.as_str()).filter(|s| !s.trim().is_empty())
}

/// What WeCom shows for a message: `msgtype` (text or markdown) and its content, read from
/// the rendered template content (`title` optional, `body` or austin's `content` required).
struct Text {
    msgtype: &'static str,
    content: String,
}

fn message_text(content: &serde_json::Value) -> Result<Text, String> {
    let msgtype = match content.get("msgtype").and_then(|v| v.as_str()) {
        None | Some("text") => "text",
        Some("markdown") => "markdown",
        Some(other) => return Err(format!("content.msgtype {other:?} is not supported (text or markdown)")),
    };
    let Some(body) = text_field(content, "body").or_else(|| text_field(content, "content")) else {
        return Err("content has no body".into());
    };
    let content = match (text_field(content, "title"), msgtype) {
        (None, _) => body.to_string(),
        (Some(title), "markdown") => format!("### {title}\n{body}"),
        (Some(title), _) => format!("{title}\n{body}"),
    };
    Ok(Text { msgtype, content })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn missing_fields_are_named() {
        assert_eq!(missing_field("missing field `corpSecret`").as_deref(), Some("corpSecret"));
        assert_eq!(missing_field("unknown field `x`"), None);
    }

    #[test]
    fn text_is_read_from_title_and_body() {
        let t = message_text(&json!({"title": "Hi", "body": "there"})).unwrap();
        assert_eq!((t.msgtype, t.content.as_str()), ("text", "Hi\nthere"));
        let t = message_text(&json!({"msgtype": "markdown", "content": "**x**"})).unwrap();
        assert_eq!((t.msgtype, t.content.as_str()), ("markdown", "**x**"));
        assert!(message_text(&json!({"title": "only"})).is_err());
        assert!(message_text(&json!({"msgtype": "image", "body": "x"})).is_err());
    }

    #[test]
    fn base_urls_must_be_http() {
        assert_eq!(check_base_url("http://127.0.0.1:8080/").unwrap(), "http://127.0.0.1:8080");
        assert!(check_base_url("ftp://x").is_err());
        assert!(check_base_url("https://x/?key=1").is_err());
    }
}
