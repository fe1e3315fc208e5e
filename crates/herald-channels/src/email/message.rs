//! Turning rendered template content into a MIME message: subject, and a text body, an HTML body
//! or both as `multipart/alternative`.

use lettre::Message;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailContent {
    pub subject: String,
    pub html: Option<String>,
    pub text: Option<String>,
}

impl EmailContent {
    /// Reads `subject`, `html` and `text` from the content object.
    pub fn from_content(content: &Value) -> Result<Self, String> {
        let Value::Object(fields) = content else {
            return Err("content must be an object".into());
        };
        let text_field = |name: &str| -> Result<Option<String>, String> {
            match fields.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(format!("content.{name} must be a string")),
            }
        };
        let subject = text_field("subject")?.ok_or("content has no subject")?;
        let html = text_field("html")?.filter(|s| !s.is_empty());
        let text = text_field("text")?.filter(|s| !s.is_empty());
        if html.is_none() && text.is_none() {
            return Err("content needs html or text".into());
        }
        Ok(Self { subject, html, text })
    }
}

/// The message from `from` to `to`; its Message-ID carries herald's message id, so a receiver
/// can tell a redelivery from a new mail. With `unsubscribe` (a marketing mail's link), it
/// offers one-click unsubscribe (RFC 8058).
pub fn build_message(
    from: &Mailbox,
    to: Mailbox,
    content: &EmailContent,
    message_id: &str,
    unsubscribe: Option<&str>,
) -> Result<Message, String> {
    let local: String =
        message_id.chars().map(|c| if c.is_ascii_alphanumeric() || "-._".contains(c) { c } else { '_' }).collect();
    let mut builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(content.subject.clone())
        .message_id(Some(format!("<{local}.herald@{}>", from.email.domain())));
    for header in unsubscribe.map(super::unsubscribe::one_click_headers).into_iter().flatten() {
        builder = builder.raw_header(header);
    }
    let built = match (&content.text, &content.html) {
        (Some(text), Some(html)) => builder.multipart(MultiPart::alternative_plain_html(text.clone(), html.clone())),
        (None, Some(html)) => builder.singlepart(SinglePart::html(html.clone())),
        (Some(text), None) => builder.singlepart(SinglePart::plain(text.clone())),
        (None, None) => return Err("content needs html or text".into()),
    };
    built.map_err(|e| format!("cannot build the message: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn content_fields() {
        let c = EmailContent::from_content(&json!({"subject": "Hi", "html": "<b>x</b>", "text": "x"})).unwrap();
        assert_eq!((c.html.as_deref(), c.text.as_deref()), (Some("<b>x</b>"), Some("x")));
        assert!(EmailContent::from_content(&json!({"html": "x"})).unwrap_err().contains("subject"));
        assert!(EmailContent::from_content(&json!({"subject": "s"})).unwrap_err().contains("html or text"));
        assert!(
            EmailContent::from_content(&json!({"subject": 1, "text": "x"})).unwrap_err().contains("content.subject")
        );
    }

    #[test]
    fn both_bodies_make_an_alternative() {
        let from: Mailbox = "Herald <noreply@example.com>".parse().unwrap();
        let to: Mailbox = "a@example.org".parse().unwrap();
        let content =
            EmailContent { subject: "验证码".into(), html: Some("<p>hi</p>".into()), text: Some("hi".into()) };
        let raw = String::from_utf8(build_message(&from, to, &content, "r1-2", None).unwrap().formatted()).unwrap();
        assert!(raw.contains("multipart/alternative"), "{raw}");
        assert!(raw.contains("Message-ID: <r1-2.herald@example.com>"), "{raw}");
        assert!(raw.contains("Subject: =?utf-8?"), "{raw}");
        assert!(!raw.contains("List-Unsubscribe"), "{raw}");
    }

    #[test]
    fn an_unsubscribe_link_adds_both_one_click_headers_unfolded() {
        let from: Mailbox = "Herald <noreply@example.com>".parse().unwrap();
        let to: Mailbox = "a@example.org".parse().unwrap();
        let content = EmailContent { subject: "Sale".into(), html: None, text: Some("50% off".into()) };
        let link = format!("https://herald.example.com/unsubscribe/{}", "A-b_9".repeat(30));
        let mail = build_message(&from, to, &content, "r1-3", Some(&link)).unwrap();
        let raw = String::from_utf8(mail.formatted()).unwrap();
        assert!(raw.contains(&format!("\r\nList-Unsubscribe: <{link}>\r\n")), "{raw}");
        assert!(raw.contains("\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"), "{raw}");
    }
}
