//! The DingTalk message a template's rendered content asks for. The robot and work notices take
//! the same `msg` shapes for text, markdown and link, and differently spelled ones for an action
//! card; both read the same content fields:
//!
//! - `msgtype`: `"text"` (the default), `"markdown"`, `"link"` or `"actionCard"`;
//! - `content`: the text, the markdown body, the link's summary or the card's markdown; required;
//! - `title`: required for markdown, link and action card;
//! - `messageUrl` (link): where the link opens; `picUrl` (link): its picture, required by work
//!   notices (a URL or media id), optional for the robot;
//! - `singleTitle` and `singleURL` (action card): the card's one button and where it opens.
//!
//! Other message types (feedCard, oa, ...) are refused rather than half-sent.

use crate::content_read::{message_type, required_str};
use serde_json::{Value, json};

/// Who the message goes through: a group robot or a work notice (`corpconversation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sender {
    Robot,
    WorkNotice,
}

/// Builds DingTalk's `{msgtype, ...}` object, or says why the content cannot be sent.
pub(crate) fn message(content: &Value, sender: Sender) -> Result<Value, String> {
    let msgtype = message_type(content)?;
    let text = required_str(content, "content")?;
    match msgtype {
        "text" => Ok(json!({ "msgtype": "text", "text": { "content": text } })),
        "markdown" => {
            let title = required_str(content, "title")?;
            Ok(json!({ "msgtype": "markdown", "markdown": { "title": title, "text": text } }))
        }
        "link" => link(content, text, sender),
        "actionCard" => action_card(content, text, sender),
        other => Err(format!("content.msgtype {other:?} is not supported (text, markdown, link or actionCard)")),
    }
}

fn link(content: &Value, text: &str, sender: Sender) -> Result<Value, String> {
    let title = required_str(content, "title")?;
    let url = required_str(content, "messageUrl")?;
    let mut link = json!({ "title": title, "text": text, "messageUrl": url });
    match (content.get("picUrl").and_then(Value::as_str).filter(|p| !p.trim().is_empty()), sender) {
        (Some(picture), _) => link["picUrl"] = json!(picture),
        (None, Sender::WorkNotice) => return Err("content.picUrl is required for a work notice link".into()),
        (None, Sender::Robot) => {}
    }
    Ok(json!({ "msgtype": "link", "link": link }))
}

fn action_card(content: &Value, text: &str, sender: Sender) -> Result<Value, String> {
    let title = required_str(content, "title")?;
    let button = required_str(content, "singleTitle")?;
    let url = required_str(content, "singleURL")?;
    Ok(match sender {
        Sender::Robot => json!({ "msgtype": "actionCard", "actionCard": {
            "title": title, "text": text, "singleTitle": button, "singleURL": url } }),
        Sender::WorkNotice => json!({ "msgtype": "action_card", "action_card": {
            "title": title, "markdown": text, "single_title": button, "single_url": url } }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Sender::{Robot, WorkNotice};

    #[test]
    fn text_is_the_default() {
        let msg = message(&json!({"content": "hi"}), Robot).unwrap();
        assert_eq!(msg, json!({"msgtype": "text", "text": {"content": "hi"}}));
    }

    #[test]
    fn markdown_takes_a_title() {
        let msg = message(&json!({"msgtype": "markdown", "title": "T", "content": "# hi"}), WorkNotice).unwrap();
        assert_eq!(msg, json!({"msgtype": "markdown", "markdown": {"title": "T", "text": "# hi"}}));
        assert!(message(&json!({"msgtype": "markdown", "content": "# hi"}), Robot).unwrap_err().contains("title"));
    }

    #[test]
    fn a_link_needs_a_title_and_url_and_a_picture_for_work_notices() {
        let content = json!({"msgtype": "link", "title": "Bill", "content": "Due today", "messageUrl": "https://b/1"});
        let link = json!({"title": "Bill", "text": "Due today", "messageUrl": "https://b/1"});
        assert_eq!(message(&content, Robot).unwrap(), json!({"msgtype": "link", "link": link}));
        assert!(message(&content, WorkNotice).unwrap_err().contains("content.picUrl"));
        let mut pictured = content.clone();
        pictured["picUrl"] = json!("@lADOADmaWMzazQKA");
        assert_eq!(message(&pictured, WorkNotice).unwrap()["link"]["picUrl"], "@lADOADmaWMzazQKA");
        let no_url = json!({"msgtype": "link", "title": "Bill", "content": "Due"});
        assert!(message(&no_url, Robot).unwrap_err().contains("content.messageUrl"));
    }

    #[test]
    fn an_action_card_is_spelled_as_each_sender_documents() {
        let content = json!({"msgtype": "actionCard", "title": "Review", "content": "## PR 7",
            "singleTitle": "Open", "singleURL": "https://git/7"});
        assert_eq!(
            message(&content, Robot).unwrap(),
            json!({"msgtype": "actionCard", "actionCard": {"title": "Review", "text": "## PR 7",
                "singleTitle": "Open", "singleURL": "https://git/7"}})
        );
        assert_eq!(
            message(&content, WorkNotice).unwrap(),
            json!({"msgtype": "action_card", "action_card": {"title": "Review", "markdown": "## PR 7",
                "single_title": "Open", "single_url": "https://git/7"}})
        );
        let no_button = json!({"msgtype": "actionCard", "title": "R", "content": "x", "singleURL": "https://g"});
        assert!(message(&no_button, Robot).unwrap_err().contains("content.singleTitle"));
    }

    #[test]
    fn blank_or_unknown_content_is_refused() {
        assert!(message(&json!({"content": "  "}), Robot).unwrap_err().contains("content.content"));
        assert!(message(&json!({}), Robot).is_err());
        assert!(message(&json!({"msgtype": "feedCard", "content": "x"}), Robot).unwrap_err().contains("feedCard"));
        assert!(message(&json!({"msgtype": 3, "content": "x"}), Robot).is_err());
    }
}
