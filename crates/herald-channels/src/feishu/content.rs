//! The Feishu bot message a template's rendered content asks for, in the shapes of Feishu's custom
//! bot documentation:
//!
//! - `msgtype`: `"text"` (the default), `"post"` (rich text) or `"interactive"` (a card);
//! - `content`: the text; for a post each line is a paragraph; for a card it is the card's
//!   `lark_md` body; required, not blank;
//! - `title`: the post's or card's title; required for both.
//!
//! A receiver of `@all` mentions everyone in whichever shape the message takes. Other message
//! types (image, share_chat) are refused rather than half-sent. An app bot's message API takes
//! the same message with its content as a JSON string (`app_message`).

use crate::content_read::{message_type, required_str};
use serde_json::{Value, json};

/// The `{msg_type, content | card}` part of the bot's request.
pub(crate) fn message(content: &Value, mention_all: bool) -> Result<Value, String> {
    let msgtype = message_type(content)?;
    let text = required_str(content, "content")?;
    match msgtype {
        "text" => {
            let text =
                if mention_all { format!("{text} <at user_id=\"all\">所有人</at>") } else { text.to_string() };
            Ok(json!({ "msg_type": "text", "content": { "text": text } }))
        }
        "post" => Ok(post(required_str(content, "title")?, text, mention_all)),
        "interactive" => Ok(card(required_str(content, "title")?, text, mention_all)),
        other => Err(format!("content.msgtype {other:?} is not supported (text, post or interactive)")),
    }
}

/// `(msg_type, content)` as the app bot's message API (`im/v1/messages`) takes them: the custom
/// bot's message with its content as a JSON string (a post without its `post` wrapper, a card
/// as the content itself).
pub(crate) fn app_message(content: &Value) -> Result<(String, String), String> {
    let bot = message(content, false)?;
    let msg_type = bot["msg_type"].as_str().unwrap_or("text").to_string();
    let inner = match msg_type.as_str() {
        "post" => &bot["content"]["post"],
        "interactive" => &bot["card"],
        _ => &bot["content"],
    };
    Ok((msg_type, inner.to_string()))
}

/// Rich text: one paragraph per line, `@all` as an `at` element closing the last one.
fn post(title: &str, text: &str, mention_all: bool) -> Value {
    let mut paragraphs: Vec<Vec<Value>> =
        text.lines().map(|line| vec![json!({ "tag": "text", "text": line })]).collect();
    if mention_all && let Some(last) = paragraphs.last_mut() {
        last.push(json!({ "tag": "at", "user_id": "all" }));
    }
    json!({ "msg_type": "post", "content": { "post": { "zh_cn": { "title": title, "content": paragraphs } } } })
}

/// A card with a plain-text header and the text as `lark_md`.
fn card(title: &str, text: &str, mention_all: bool) -> Value {
    let body = if mention_all { format!("{text}\n<at id=all></at>") } else { text.to_string() };
    json!({ "msg_type": "interactive", "card": {
        "header": { "title": { "tag": "plain_text", "content": title } },
        "elements": [{ "tag": "div", "text": { "tag": "lark_md", "content": body } }],
    } })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_the_default_and_mentions_everyone_on_request() {
        assert_eq!(
            message(&json!({"content": "hi"}), false).unwrap(),
            json!({"msg_type": "text", "content": {"text": "hi"}})
        );
        assert_eq!(
            message(&json!({"content": "hi"}), true).unwrap()["content"]["text"],
            "hi <at user_id=\"all\">所有人</at>"
        );
    }

    #[test]
    fn a_post_has_a_paragraph_per_line() {
        let msg = message(&json!({"msgtype": "post", "title": "Release", "content": "v2 is out\nnotes inside"}), true);
        let post = &msg.unwrap()["content"]["post"]["zh_cn"];
        assert_eq!(post["title"], "Release");
        assert_eq!(
            post["content"],
            json!([[{"tag": "text", "text": "v2 is out"}], [{"tag": "text", "text": "notes inside"}, {"tag": "at", "user_id": "all"}]])
        );
    }

    #[test]
    fn an_app_message_carries_the_same_content_as_a_string() {
        let (kind, text) = app_message(&json!({"content": "hi"})).unwrap();
        assert_eq!((kind.as_str(), text.as_str()), ("text", r#"{"text":"hi"}"#));
        let (kind, post) = app_message(&json!({"msgtype": "post", "title": "T", "content": "a"})).unwrap();
        let post: Value = serde_json::from_str(&post).unwrap();
        assert_eq!((kind.as_str(), &post["zh_cn"]["title"]), ("post", &json!("T")));
        let (kind, card) = app_message(&json!({"msgtype": "interactive", "title": "T", "content": "**a**"})).unwrap();
        let card: Value = serde_json::from_str(&card).unwrap();
        assert_eq!((kind.as_str(), &card["header"]["title"]["content"]), ("interactive", &json!("T")));
    }

    #[test]
    fn a_card_carries_its_title_and_markdown() {
        let msg =
            message(&json!({"msgtype": "interactive", "title": "Alert", "content": "**disk** full"}), false).unwrap();
        assert_eq!(msg["card"]["header"]["title"]["content"], "Alert");
        assert_eq!(msg["card"]["elements"][0]["text"], json!({"tag": "lark_md", "content": "**disk** full"}));
        assert!(
            message(&json!({"msgtype": "interactive", "content": "x"}), false).unwrap_err().contains("content.title")
        );
        assert!(message(&json!({"msgtype": "image", "content": "x"}), false).unwrap_err().contains("image"));
    }
}
