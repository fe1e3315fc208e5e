//! What a template's content holds for each channel, for forms: the fields each channel reads
//! (see the channel's module for how it reads them), with a label and a line of help. Content
//! values may hold `{$column}` placeholders; a field a channel does not read is still sent
//! (webhooks and the outbox get the whole content).

use crate::account_form::FieldKind::{Choice, Text};
use crate::account_form::{FormField, field};
use herald_core::ChannelKind;

const EMAIL: &[FormField] = &[
    field("/subject", "Subject", "the mail's subject line", Text, true),
    field("/html", "HTML body", "the body as HTML; give it, the plain text, or both", Text, false),
    field("/text", "Plain-text body", "the body as plain text (sent beside the HTML when both are given)", Text, false),
];

const SMS: &[FormField] = &[field(
    "/params",
    "Template parameters",
    "a JSON object of the SMS template's variables, e.g. {\"code\": \"{$code}\", \"minutes\": \"5\"}; Tencent takes them in the account's parameter order",
    Text,
    true,
)];

const DINGTALK: &[FormField] = &[
    field("/msgtype", "Message type", "text, or markdown (which needs a title)", Choice(&["text", "markdown"]), false),
    field("/title", "Title", "the markdown message's title in the conversation list", Text, false),
    field("/content", "Text", "the message text, or the markdown body", Text, true),
];

const WECOM: &[FormField] = &[
    field("/msgtype", "Message type", "text or markdown", Choice(&["text", "markdown"]), false),
    field("/title", "Title", "an optional first line (a heading in markdown)", Text, false),
    field("/body", "Body", "the message", Text, true),
];

const FEISHU: &[FormField] =
    &[field("/content", "Text", "the message text; a receiver of @all mentions everyone", Text, true)];

const GETUI: &[FormField] = &[
    field("/title", "Title", "the notification's title", Text, true),
    field("/body", "Body", "the notification's text", Text, true),
    field("/url", "Link", "opened when the notification is tapped; nothing happens without it", Text, false),
];

const WEBHOOK: &[FormField] = &[field(
    "/url",
    "URL",
    "where the message is POSTed (the outbound address policy applies); the whole content goes in the body",
    Text,
    true,
)];

/// The content fields a form asks for on `kind` (none for the outbox, which takes any).
pub fn content_fields(kind: ChannelKind) -> &'static [FormField] {
    match kind {
        ChannelKind::Outbox => &[],
        ChannelKind::Webhook => WEBHOOK,
        ChannelKind::Email => EMAIL,
        ChannelKind::Sms => SMS,
        ChannelKind::DingTalkRobot | ChannelKind::DingTalkWorkNotice => DINGTALK,
        ChannelKind::WeComRobot | ChannelKind::WeComApp => WECOM,
        ChannelKind::FeishuBot => FEISHU,
        ChannelKind::GetuiPush => GETUI,
    }
}

impl FormField {
    /// The content key of a top-level content field (`/subject` is `subject`).
    pub fn key(&self) -> &'static str {
        self.pointer.trim_start_matches('/')
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_fields_make_content_each_channel_accepts() {
        let dingtalk = json!({"msgtype": "markdown", "title": "T", "content": "# hi"});
        assert!(crate::dingtalk::content::message(&dingtalk).is_ok());
        assert_eq!(
            content_fields(ChannelKind::DingTalkRobot).iter().map(FormField::key).collect::<Vec<_>>(),
            ["msgtype", "title", "content"]
        );
        assert!(content_fields(ChannelKind::Outbox).is_empty());
        for kind in ChannelKind::ALL.into_iter().filter(|k| *k != ChannelKind::Outbox) {
            assert!(content_fields(kind).iter().any(|f| f.required), "{kind} needs something");
        }
    }
}
