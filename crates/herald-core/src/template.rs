//! Message templates: what an admin saves, and the rules a template must satisfy before it is
//! stored (known channel, valid cron and time zone, placeholders the crowd file can fill).

pub use crate::channel::ChannelKind;
use crate::cron::{CronSchedule, MAX_EXCLUDED_DATES, MisfirePolicy, Timetable};
pub use crate::field::FieldError;
use crate::listing::{QUOTED_CHARS, clip, name_some};
use crate::placeholders::placeholder_names;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashSet;

/// What happens to a send that falls in the template's nightly quiet hours.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TemplateStatus {
    #[default]
    Stopped,
    Running,
}

impl TemplateStatus {
    pub const ALL: [TemplateStatus; 2] = [Self::Stopped, Self::Running];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stopped => "stopped",
            Self::Running => "running",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScheduleSpec {
    /// Quartz dialect: 6 or 7 fields with seconds.
    pub cron: String,
    /// IANA time zone the cron is read in.
    #[serde(default = "default_timezone")]
    pub timezone: String,
    /// What a fire handled later than the grace does: `fire_once` (the default), `skip`, or
    /// `catch_up` / `catch_up:N` (each of the latest N missed fires in turn; N from 1 to 1,000,
    /// 10 when left out).
    #[serde(default)]
    #[schema(value_type = String, pattern = r"^(fire_once|skip|catch_up(:[0-9]{1,4})?)$", example = "fire_once")]
    pub misfire: MisfirePolicy,
    /// The schedule's first fire is at or after this (RFC 3339); none before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_at: Option<DateTime<Utc>>,
    /// The schedule's last fire is at or before this (RFC 3339); then it ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_at: Option<DateTime<Utc>>,
    /// Days (`YYYY-MM-DD`, in the schedule's time zone) it does not fire on, such as holidays;
    /// at most 1,000.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<String>, example = json!(["2026-10-01"]))]
    pub exclude_dates: Vec<NaiveDate>,
    /// Times of day (in the schedule's time zone) it does not fire in, each `{"from": "22:00",
    /// "to": "06:00"}` (wrapping past midnight when `to` is earlier); at most 24.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_windows: Vec<crate::cron::DailyWindow>,
}

impl ScheduleSpec {
    /// The schedule's first fire after `now`, within its start and end dates; None when it has
    /// no more.
    pub fn first_fire_after(&self, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, crate::cron::CronError> {
        let from = match self.start_at {
            // next_after is strictly after: a fire exactly at the start counts.
            Some(start) if start > now => start - chrono::Duration::milliseconds(1),
            _ => now,
        };
        Ok(self.timetable()?.next_after(from))
    }

    /// What is wrong with the schedule, each fault naming its field under `schedule.`.
    pub fn problems(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if let Err(e) = CronSchedule::parse(&self.cron, &self.timezone) {
            let field = match e {
                crate::cron::CronError::UnknownTimeZone(_) => "schedule.timezone",
                _ => "schedule.cron",
            };
            errors.push(FieldError::new(field, e.to_string()));
        }
        if self.exclude_dates.len() > MAX_EXCLUDED_DATES {
            let message = format!("at most {MAX_EXCLUDED_DATES} dates, not {}", self.exclude_dates.len());
            errors.push(FieldError::new("schedule.excludeDates", message));
        }
        errors.extend(window_problem(self.start_at, self.end_at));
        errors.extend(crate::cron::daily_window_problems(&self.exclude_windows));
        errors
    }

    /// When the schedule fires: its cron within its end date and without its excluded days.
    pub fn timetable(&self) -> Result<Timetable, crate::cron::CronError> {
        let cron = CronSchedule::parse(&self.cron, &self.timezone)?;
        Ok(Timetable {
            end: self.end_at,
            excluded: self.exclude_dates.iter().copied().collect(),
            windows: self.exclude_windows.clone(),
            ..Timetable::of(cron)
        })
    }
}

/// An end date not after the start date, named as `schedule.endAt`.
pub fn window_problem(start: Option<DateTime<Utc>>, end: Option<DateTime<Utc>>) -> Option<FieldError> {
    match (start, end) {
        (Some(start), Some(end)) if end <= start => {
            Some(FieldError::new("schedule.endAt", "must be after schedule.startAt"))
        }
        _ => None,
    }
}

pub(crate) fn default_timezone() -> String {
    "UTC".into()
}

/// A template as an admin writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
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
    /// When set, only the receivers it lists get real sends; absent = every receiver.
    #[serde(default)]
    pub test_mode: Option<crate::test_mode::TestMode>,
}

fn default_msg_type() -> i32 {
    10
}

fn default_receiver_id_type() -> String {
    "userId".into()
}

const MAX_NAME_LEN: usize = 200;
/// The most distinct `{$name}` placeholders one template may use; austin's templates use a
/// handful, and each one costs a check per crowd column and per send.
pub const MAX_PLACEHOLDERS: usize = 100;
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
        if let Some(test) = &self.test_mode {
            errors.extend(test.problems());
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
            errors.extend(schedule.problems());
            if self.crowd_id.is_none() {
                errors.push(FieldError::new("crowdId", "a scheduled template needs a crowd file"));
            }
        }
        if let Some(columns) = crowd_columns {
            check_placeholders_against(&self.content, columns, &mut errors);
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
        let placeholders = placeholder_names(&self.content).len();
        if placeholders > MAX_PLACEHOLDERS {
            errors.push(FieldError::new(
                "content",
                format!("uses {placeholders} distinct placeholders; at most {MAX_PLACEHOLDERS}"),
            ));
        }
        if self.channel == ChannelKind::Webhook {
            match fields.get("url").and_then(Value::as_str) {
                Some(url) if has_http_scheme(url) => {}
                Some(url) => errors.push(FieldError::new(
                    "content.url",
                    format!("{:?} is not an http or https URL", clip(url, QUOTED_CHARS)),
                )),
                None => errors.push(FieldError::new("content.url", "a webhook template needs a url")),
            }
        }
    }
}

/// Whether `url` starts with `http://` or `https://`, in any case (schemes are
/// case-insensitive, RFC 3986 §3.1).
pub(crate) fn has_http_scheme(url: &str) -> bool {
    let lower = |n: usize| url.get(..n).map(str::to_ascii_lowercase);
    lower(7).as_deref() == Some("http://") || lower(8).as_deref() == Some("https://")
}

/// One error naming the placeholders the crowd's columns lack, a few of each then a count, so
/// the message stays small however many of either there are. Linear in both.
fn check_placeholders_against(content: &Value, columns: &[String], errors: &mut Vec<FieldError>) {
    let known: HashSet<&str> = columns.iter().map(String::as_str).collect();
    let names = placeholder_names(content);
    let missing: Vec<String> =
        names.into_iter().filter(|n| !known.contains(n.as_str())).map(|n| format!("{{${n}}}")).collect();
    if missing.is_empty() {
        return;
    }
    let (what, verb) =
        if missing.len() == 1 { ("placeholder", "is not a column") } else { ("placeholders", "are not columns") };
    errors.push(FieldError::new(
        "content",
        format!(
            "{what} {} {verb} of the crowd file (its {} columns: {})",
            name_some(&missing),
            columns.len(),
            name_some(columns)
        ),
    ));
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

    #[test]
    fn missing_placeholders_against_a_wide_crowd_make_one_small_error() {
        let columns: Vec<String> = (0..5000).map(|n| format!("column_{n:05}")).collect();
        let content: String = (0..100).map(|n| format!("{{$missing{n}}}")).collect();
        let mut s = spec();
        s.content = json!({ "t": content });
        let errs = s.validate(Some(&columns));
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].message.len() < 600, "{}", errs[0].message);
        assert!(errs[0].message.contains("and 95 more"), "{}", errs[0].message);
        assert!(errs[0].message.contains("5000 columns"), "{}", errs[0].message);
    }

    #[test]
    fn placeholders_per_template_are_capped() {
        let mut s = spec();
        s.content = json!({ "t": (0..=MAX_PLACEHOLDERS).map(|n| format!("{{$p{n}}}")).collect::<String>() });
        s.schedule = None;
        let errs = s.validate(None);
        assert!(errs.iter().any(|e| e.field == "content" && e.message.contains("at most")), "{errs:?}");
    }

    #[test]
    fn webhook_schemes_are_case_insensitive() {
        let mut s = spec();
        s.channel = ChannelKind::Webhook;
        for url in ["HTTP://example.com/x", "Https://example.com/x", "http://example.com"] {
            s.content = json!({ "url": url });
            assert!(s.validate(None).iter().all(|e| e.field != "content.url"), "{url}");
        }
        for url in ["ftp://example.com", "http:/x", "HTTP", ""] {
            s.content = json!({ "url": url });
            assert!(s.validate(None).iter().any(|e| e.field == "content.url"), "{url}");
        }
    }

    #[test]
    fn the_first_fire_keeps_within_the_start_and_end_dates() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let mut spec = ScheduleSpec {
            cron: "0 0 9 * * ?".into(),
            timezone: "UTC".into(),
            misfire: MisfirePolicy::FireOnce,
            start_at: None,
            end_at: None,
            exclude_dates: Vec::new(),
            exclude_windows: Vec::new(),
        };
        let now = at("2026-05-01T10:00:00Z");
        assert_eq!(spec.first_fire_after(now).unwrap(), Some(at("2026-05-02T09:00:00Z")));
        spec.start_at = Some(at("2026-05-10T09:00:00Z"));
        assert_eq!(spec.first_fire_after(now).unwrap(), Some(at("2026-05-10T09:00:00Z")), "a fire at the start counts");
        spec.end_at = Some(at("2026-05-09T00:00:00Z"));
        assert_eq!(spec.first_fire_after(now).unwrap(), None, "ends before it starts");
        let mut template: TemplateSpec = serde_json::from_value(serde_json::json!({
            "name": "n", "channel": "outbox", "content": {"title": "hi"}, "crowdId": "c",
            "schedule": {"cron": "0 0 9 * * ?", "startAt": "2026-05-10T00:00:00Z", "endAt": "2026-05-01T00:00:00Z"}
        }))
        .unwrap();
        let fields: Vec<String> = template.validate(None).into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["schedule.endAt"]);
        template.schedule.as_mut().unwrap().end_at = None;
        assert!(template.validate(None).is_empty());
    }
}
