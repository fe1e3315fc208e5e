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

const SMS: &[FormField] = &[
    field(
        "/params",
        "Template parameters",
        "a JSON object of the SMS template's variables, e.g. {\"code\": \"{$code}\", \"minutes\": \"5\"}; Tencent takes them in the account's parameter order",
        Text,
        true,
    ),
    field(
        "/templateCode",
        "Aliyun template code",
        "this template's own Aliyun TemplateCode (SMS_...), used instead of the account's; empty keeps the account's",
        Text,
        false,
    ),
    field(
        "/templateId",
        "Tencent template ID",
        "this template's own Tencent TemplateId, used instead of the account's; empty keeps the account's",
        Text,
        false,
    ),
    field(
        "/paramOrder",
        "Tencent parameter order",
        "the names in the parameters in the order of that Tencent template's {1}, {2}, ..., as a JSON list, e.g. [\"code\", \"minutes\"]",
        Text,
        false,
    ),
];

const DINGTALK: &[FormField] = &[
    field(
        "/msgtype",
        "Message type",
        "text; markdown, link or actionCard (a card with one button), which need a title",
        Choice(&["text", "markdown", "link", "actionCard"]),
        false,
    ),
    field("/title", "Title", "the title of a markdown message, link or action card", Text, false),
    field(
        "/content",
        "Text",
        "the message text, the markdown body, the link's summary or the card's markdown",
        Text,
        true,
    ),
    field("/messageUrl", "Link URL", "link: where the link opens", Text, false),
    field("/picUrl", "Picture", "link: its picture's URL (work notices need one: a URL or a media id)", Text, false),
    field("/singleTitle", "Button text", "action card: the text of its button", Text, false),
    field("/singleURL", "Button URL", "action card: where the button opens", Text, false),
];

const WECOM: &[FormField] = &[
    field("/msgtype", "Message type", "text or markdown", Choice(&["text", "markdown"]), false),
    field("/title", "Title", "an optional first line (a heading in markdown)", Text, false),
    field("/body", "Body", "the message", Text, true),
];

const FEISHU_MSGTYPE: FormField = field(
    "/msgtype",
    "Message type",
    "text; post (rich text, a paragraph per line) or interactive (a card), which need a title",
    Choice(&["text", "post", "interactive"]),
    false,
);
const FEISHU_TITLE: FormField = field("/title", "Title", "the post's or card's title", Text, false);

const FEISHU: &[FormField] = &[
    FEISHU_MSGTYPE,
    FEISHU_TITLE,
    field("/content", "Text", "the message text; a receiver of @all mentions everyone", Text, true),
];

/// An app bot's message goes to its one receiver: no `@all`.
const FEISHU_APP: &[FormField] =
    &[FEISHU_MSGTYPE, FEISHU_TITLE, field("/content", "Text", "the message text", Text, true)];

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
        ChannelKind::FeishuApp => FEISHU_APP,
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
        let card = json!({"msgtype": "actionCard", "title": "T", "content": "# hi", "singleTitle": "Open",
            "singleURL": "https://a/1"});
        assert!(crate::dingtalk::content::message(&card, crate::dingtalk::content::Sender::Robot).is_ok());
        assert_eq!(
            content_fields(ChannelKind::DingTalkRobot).iter().map(FormField::key).collect::<Vec<_>>(),
            ["msgtype", "title", "content", "messageUrl", "picUrl", "singleTitle", "singleURL"]
        );
        let sms = json!({"params": {"code": "1"}, "templateId": "2220", "paramOrder": ["code"]});
        assert!(crate::sms::ProviderTemplates::of(&sms).is_ok());
        let keys = |kind| content_fields(kind).iter().map(FormField::key).collect::<Vec<_>>();
        assert_eq!(keys(ChannelKind::Sms), ["params", "templateCode", "templateId", "paramOrder"]);
        assert_eq!(keys(ChannelKind::FeishuBot), ["msgtype", "title", "content"]);
        assert!(content_fields(ChannelKind::Outbox).is_empty());
        for kind in ChannelKind::ALL.into_iter().filter(|k| *k != ChannelKind::Outbox) {
            assert!(content_fields(kind).iter().any(|f| f.required), "{kind} needs something");
        }
    }
}
