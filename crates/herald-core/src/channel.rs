//! The channels herald delivers through, by the names templates, accounts and topics use.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The channels this build can deliver through. Unknown names are refused when a template
/// is read, so a typo never reaches the scheduler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// Records each delivery in herald's own store; the default for trying herald out.
    Outbox,
    /// POSTs each message as JSON to the URL in the content's `url` field.
    Webhook,
    /// SMTP, through a channel account.
    Email,
    /// SMS through Tencent Cloud or Aliyun, with a fallback supplier.
    Sms,
    /// DingTalk custom group robot (webhook with HMAC signature).
    #[serde(rename = "dingtalk_robot")]
    DingTalkRobot,
    /// DingTalk work notice (corp conversation), using the app access token.
    #[serde(rename = "dingtalk_work_notice")]
    DingTalkWorkNotice,
    /// WeCom group robot (webhook).
    #[serde(rename = "wecom_robot")]
    WeComRobot,
    /// WeCom app message, using the corp access token.
    #[serde(rename = "wecom_app")]
    WeComApp,
    /// Feishu custom bot (webhook with signature).
    FeishuBot,
    /// Feishu app bot message, using the app's tenant access token.
    FeishuApp,
    /// Getui push v2, by cid.
    GetuiPush,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 11] = [
        ChannelKind::Outbox,
        ChannelKind::Webhook,
        ChannelKind::Email,
        ChannelKind::Sms,
        ChannelKind::DingTalkRobot,
        ChannelKind::DingTalkWorkNotice,
        ChannelKind::WeComRobot,
        ChannelKind::WeComApp,
        ChannelKind::FeishuBot,
        ChannelKind::FeishuApp,
        ChannelKind::GetuiPush,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Outbox => "outbox",
            Self::Webhook => "webhook",
            Self::Email => "email",
            Self::Sms => "sms",
            Self::DingTalkRobot => "dingtalk_robot",
            Self::DingTalkWorkNotice => "dingtalk_work_notice",
            Self::WeComRobot => "wecom_robot",
            Self::WeComApp => "wecom_app",
            Self::FeishuBot => "feishu_bot",
            Self::FeishuApp => "feishu_app",
            Self::GetuiPush => "getui_push",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Channels that deliver through a provider account (everything but the outbox and the
    /// plain webhook).
    pub fn needs_account(self) -> bool {
        !matches!(self, Self::Outbox | Self::Webhook)
    }
}

impl fmt::Display for ChannelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
