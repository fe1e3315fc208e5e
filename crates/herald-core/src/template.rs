//! Message templates: what an admin saves, and the rules a template must satisfy before it is
//! stored (known channel, valid cron and time zone, placeholders the crowd file can fill).

use crate::cron::{CronSchedule, MisfirePolicy};
use crate::placeholders::placeholder_names;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// The channels this build can deliver through. Unknown names are refused when a template
/// is read, so a typo never reaches the scheduler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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
    /// Getui push v2, by cid.
    GetuiPush,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 10] = [
        ChannelKind::Outbox,
        ChannelKind::Webhook,
        ChannelKind::Email,
        ChannelKind::Sms,
        ChannelKind::DingTalkRobot,
        ChannelKind::DingTalkWorkNotice,
        ChannelKind::WeComRobot,
        ChannelKind::WeComApp,
        ChannelKind::FeishuBot,
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

/// What happens to a send that falls in the template's nightly quiet hours.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuietHoursPolicy {
    #[default]
    None,
    Drop,
    Defer,
}

impl QuietHoursPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Drop => "drop",
            Self::Defer => "defer",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::None, Self::Drop, Self::Defer].into_iter().find(|p| p.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateStatus {
    #[default]
    Stopped,
    Running,
}

impl TemplateStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stopped => "stopped",
            Self::Running => "running",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Stopped, Self::Running].into_iter().find(|p| p.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScheduleSpec {
    /// Quartz dialect: 6 or 7 fields with seconds.
    pub cron: String,
    /// IANA time zone the cron is read in.
    #[serde(default = "default_timezone")]
    pub timezone: String,
    #[serde(default)]
    pub misfire: MisfirePolicy,
}

fn default_timezone() -> String {
    "UTC".into()
}

/// A template as an admin writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TemplateSpec {
    pub name: String,
    pub channel: ChannelKind,
    #[serde(default)]
    pub channel_account: Option<String>,
    /// austin's message type: 10 notice, 20 marketing, 30 verification code.
    #[serde(default = "default_msg_type")]
    pub msg_type: i32,
    /// What the receiver column holds: userId, phone, email, url, ...
    #[serde(default = "default_receiver_id_type")]
    pub receiver_id_type: String,
    /// A JSON object whose string values may hold `{$var}` placeholders.
    pub content: Value,
    #[serde(default)]
    pub quiet_hours: QuietHoursPolicy,
    /// The nightly window the policy applies to; absent = 00:00 to 08:00, released at 09:00.
    #[serde(default)]
    pub quiet_window: Option<crate::quiet_hours::QuietWindow>,
    #[serde(default)]
    pub schedule: Option<ScheduleSpec>,
    /// An uploaded crowd file.
    #[serde(default)]
    pub crowd_id: Option<String>,
    /// Dedup rules; absent = the node's defaults for the channel.
    #[serde(default)]
    pub dedup: Option<crate::dedup::DedupRules>,
}

fn default_msg_type() -> i32 {
    10
}

fn default_receiver_id_type() -> String {
    "userId".into()
}

/// A rule broken by a template, naming the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

const MAX_NAME_LEN: usize = 200;
const MSG_TYPES: [i32; 3] = [10, 20, 30];

impl TemplateSpec {
    /// Checks the template on its own and against its crowd file's columns (`crowd_columns`
    /// holds the variable columns, the receiver column excluded), returning every fault.
    pub fn validate(&self, crowd_columns: Option<&[String]>) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let name = self.name.trim();
        if name.is_empty() {
            errors.push(FieldError::new("name", "must not be empty"));
        } else if name.chars().count() > MAX_NAME_LEN {
            errors.push(FieldError::new("name", format!("longer than {MAX_NAME_LEN} characters")));
        }
        if !MSG_TYPES.contains(&self.msg_type) {
            errors.push(FieldError::new("msgType", format!("{} is not one of 10, 20, 30", self.msg_type)));
        }
        if self.receiver_id_type.trim().is_empty() {
            errors.push(FieldError::new("receiverIdType", "must not be empty"));
        }
        self.validate_content(&mut errors);
        if let Some(rules) = &self.dedup {
            rules.validate(&mut errors);
        }
        if let Some(window) = &self.quiet_window
            && let Err(e) = window.validate()
        {
            errors.push(FieldError::new("quietWindow", e.to_string()));
        }
        if self.channel.needs_account() && self.channel_account.as_deref().is_none_or(|a| a.trim().is_empty()) {
            errors.push(FieldError::new(
                "channelAccount",
                format!("channel {} sends through a channel account; name one", self.channel),
            ));
        }
        if let Some(schedule) = &self.schedule {
            if let Err(e) = CronSchedule::parse(&schedule.cron, &schedule.timezone) {
                let field = match e {
                    crate::cron::CronError::UnknownTimeZone(_) => "schedule.timezone",
                    _ => "schedule.cron",
                };
                errors.push(FieldError::new(field, e.to_string()));
            }
            if self.crowd_id.is_none() {
                errors.push(FieldError::new("crowdId", "a scheduled template needs a crowd file"));
            }
        }
        if let Some(columns) = crowd_columns {
            for name in placeholder_names(&self.content) {
                if !columns.iter().any(|c| c == &name) {
                    errors.push(FieldError::new(
                        "content",
                        format!(
                            "placeholder {{${name}}} is not a column of the crowd file (columns: {})",
                            columns.join(", ")
                        ),
                    ));
                }
            }
        }
        errors
    }

    fn validate_content(&self, errors: &mut Vec<FieldError>) {
        let Some(fields) = self.content.as_object() else {
            errors.push(FieldError::new("content", "must be a JSON object of fields"));
            return;
        };
        if fields.is_empty() {
            errors.push(FieldError::new("content", "must have at least one field"));
        }
        if self.channel == ChannelKind::Webhook {
            match fields.get("url").and_then(Value::as_str) {
                Some(url) if url.starts_with("http://") || url.starts_with("https://") => {}
                Some(url) => {
                    errors.push(FieldError::new("content.url", format!("{url:?} is not an http or https URL")))
                }
                None => errors.push(FieldError::new("content.url", "a webhook template needs a url")),
            }
        }
    }
}

impl TemplateSpec {
    /// The time zone the template is read in: its schedule's, else UTC.
    pub fn timezone(&self) -> chrono_tz::Tz {
        self.schedule.as_ref().and_then(|s| s.timezone.parse().ok()).unwrap_or(chrono_tz::Tz::UTC)
    }

    /// When a crowd run created at `now` may start streaming: at once, or, for a `defer`
    /// template inside its quiet hours, when they end (rather than parking every row).
    pub fn run_not_before(&self, now: chrono::DateTime<chrono::Utc>) -> Option<chrono::DateTime<chrono::Utc>> {
        if self.quiet_hours != QuietHoursPolicy::Defer {
            return None;
        }
        match self.quiet_window.unwrap_or_default().check(now, self.timezone()) {
            crate::quiet_hours::QuietDecision::Inside { release_at } => Some(release_at),
            crate::quiet_hours::QuietDecision::Outside => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec() -> TemplateSpec {
        serde_json::from_value(json!({
            "name": "nightly",
            "channel": "outbox",
            "content": {"title": "Hi {$name}", "body": "{$code}"},
            "schedule": {"cron": "0/30 * * * * ?", "timezone": "Asia/Shanghai"},
            "crowdId": "c1"
        }))
        .unwrap()
    }

    #[test]
    fn a_good_template_passes() {
        let cols = vec!["name".to_string(), "code".to_string()];
        assert_eq!(spec().validate(Some(&cols)), vec![]);
    }

    #[test]
    fn faults_name_their_field() {
        let mut s = spec();
        s.schedule.as_mut().unwrap().timezone = "Mars/Base".into();
        s.name = " ".into();
        let errs = s.validate(Some(&["name".to_string()]));
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "schedule.timezone", "content"]);
        assert!(errs[2].message.contains("{$code}"), "{}", errs[2].message);
    }

    #[test]
    fn unknown_channel_is_refused_when_read() {
        let err = serde_json::from_value::<TemplateSpec>(json!({
            "name": "x", "channel": "pigeon", "content": {"a": "b"}
        }))
        .unwrap_err();
        assert!(err.to_string().contains("pigeon"), "{err}");
    }
}
