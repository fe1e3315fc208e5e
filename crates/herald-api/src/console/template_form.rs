//! The template form: a template as form fields and back into the REST API's JSON body (so the
//! API's parser and rules judge it), where the API's field errors go on the form, and the live
//! previews: the cron expression's wording and next fires, and the content rendered from the
//! crowd file's first row.

use super::accounts_page::content_field_text;
use super::form::Form;
use super::language::{text, text_with};
use super::render::time_in;
use crate::AppState;
use crate::error::ApiError;
use chrono::{DateTime, Utc};
use herald_channels::account_form::{FieldKind, FormField};
use herald_channels::content_form::content_fields;
use herald_core::cron::CronSchedule;
use herald_core::{ChannelKind, TemplateSpec};
use serde_json::{Map, Value, json};

/// One `name = value` pair of a template's content.
#[derive(Debug, Clone, Default)]
pub(crate) struct ContentField {
    pub key: String,
    pub value: String,
}

/// One content row of the form: a field the channel reads (labelled, its name fixed) or any
/// other (its name typed).
pub(crate) struct ContentRow {
    pub key: String,
    pub value: String,
    /// The channel's label for it, in the reader's language; None for a field of the user's own
    /// naming.
    pub label: Option<String>,
    pub help: String,
    pub choices: &'static [&'static str],
    pub required: bool,
}

/// A template as its form holds it: text, exactly as typed.
#[derive(Debug, Clone, Default)]
pub(crate) struct TemplateForm {
    pub name: String,
    pub channel: String,
    pub channel_account: String,
    pub msg_type: String,
    pub receiver_id_type: String,
    pub content: Vec<ContentField>,
    pub quiet_hours: String,
    pub cron: String,
    pub timezone: String,
    pub misfire: String,
    /// The schedule's start and end dates, RFC 3339, or empty.
    pub start_at: String,
    pub end_at: String,
    /// The schedule's excluded days, one `YYYY-MM-DD` a line.
    pub exclude_dates: String,
    /// The schedule's excluded times of day, one `HH:MM-HH:MM` a line.
    pub exclude_windows: String,
    pub crowd_id: String,
    /// JSON, or empty for the node's defaults.
    pub quiet_window: String,
    pub dedup: String,
    /// Test mode's receivers, one a line; empty when the template sends to everyone.
    pub test_receivers: String,
}

fn field(key: &str, value: &str) -> ContentField {
    ContentField { key: key.into(), value: value.into() }
}

/// A schedule's date as the form shows it: RFC 3339 in the template's time zone.
fn in_zone(at: chrono::DateTime<chrono::Utc>, spec: &TemplateSpec) -> String {
    at.with_timezone(&spec.timezone()).to_rfc3339()
}

fn json_text(value: &Option<impl serde::Serialize>) -> String {
    value.as_ref().and_then(|v| serde_json::to_string(v).ok()).unwrap_or_default()
}

impl TemplateForm {
    pub fn blank(crowd_id: Option<String>) -> Self {
        Self {
            channel: "outbox".into(),
            msg_type: "10".into(),
            receiver_id_type: "userId".into(),
            content: vec![field("title", ""), field("body", "")],
            quiet_hours: "none".into(),
            timezone: "UTC".into(),
            misfire: "fire_once".into(),
            crowd_id: crowd_id.unwrap_or_default(),
            ..Default::default()
        }
    }

    pub fn from_spec(spec: &TemplateSpec) -> Self {
        let content = match spec.content.as_object() {
            Some(fields) => fields
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => field(k, s),
                    other => field(k, &other.to_string()),
                })
                .collect(),
            None => vec![field("", &spec.content.to_string())],
        };
        let schedule = spec.schedule.as_ref();
        Self {
            name: spec.name.clone(),
            channel: spec.channel.as_str().into(),
            channel_account: spec.channel_account.clone().unwrap_or_default(),
            msg_type: spec.msg_type.to_string(),
            receiver_id_type: spec.receiver_id_type.clone(),
            content,
            quiet_hours: spec.quiet_hours.as_str().into(),
            cron: schedule.map(|s| s.cron.clone()).unwrap_or_default(),
            timezone: schedule.map(|s| s.timezone.clone()).unwrap_or_else(|| "UTC".into()),
            misfire: schedule.map(|s| s.misfire.to_string()).unwrap_or_else(|| "fire_once".into()),
            start_at: schedule.and_then(|s| s.start_at).map(|t| in_zone(t, spec)).unwrap_or_default(),
            end_at: schedule.and_then(|s| s.end_at).map(|t| in_zone(t, spec)).unwrap_or_default(),
            exclude_dates: schedule
                .map(|s| s.exclude_dates.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))
                .unwrap_or_default(),
            exclude_windows: schedule.map(|s| windows_text(&s.exclude_windows)).unwrap_or_default(),
            crowd_id: spec.crowd_id.clone().unwrap_or_default(),
            quiet_window: json_text(&spec.quiet_window),
            dedup: json_text(&spec.dedup),
            test_receivers: spec.test_mode.as_ref().map(|t| t.receivers.join("\n")).unwrap_or_default(),
        }
    }

    pub fn from_form(form: &Form) -> Self {
        let keys = form.all("content_key");
        let values = form.all("content_value");
        let content =
            keys.iter().zip(values.iter().chain(std::iter::repeat(&""))).map(|(k, v)| field(k.trim(), v)).collect();
        Self {
            name: form.get("name").unwrap_or_default().to_string(),
            channel: form.text("channel"),
            channel_account: form.text("channelAccount"),
            msg_type: form.text("msgType"),
            receiver_id_type: form.text("receiverIdType"),
            content,
            quiet_hours: form.text("quietHours"),
            cron: form.text("cron"),
            timezone: form.text("timezone"),
            misfire: form.text("misfire"),
            start_at: form.text("startAt"),
            end_at: form.text("endAt"),
            exclude_dates: form.text("excludeDates"),
            exclude_windows: form.text("excludeWindows"),
            crowd_id: form.text("crowdId"),
            quiet_window: form.text("quietWindow"),
            dedup: form.text("dedup"),
            test_receivers: form.text("testReceivers"),
        }
    }

    /// The fields the template's channel reads, by key.
    fn channel_fields(&self) -> &'static [FormField] {
        ChannelKind::parse(&self.channel).map(content_fields).unwrap_or(&[])
    }

    /// The content rows: the fields the channel reads first (with what was typed for them),
    /// then the others, ending with a row of the user's own naming (empty when none was typed),
    /// which "Add a field" copies.
    pub fn content_rows(&self) -> Vec<ContentRow> {
        let known = self.channel_fields();
        let typed = |key: &str| self.content.iter().find(|f| f.key == key).map(|f| f.value.clone()).unwrap_or_default();
        let channel_row = |kind: ChannelKind, f: &FormField| {
            let shown = content_field_text(kind, f);
            ContentRow {
                key: f.key().to_string(),
                value: typed(f.key()),
                label: Some(shown.label),
                help: shown.help,
                choices: match f.kind {
                    FieldKind::Choice(choices) => choices,
                    _ => &[],
                },
                required: f.required,
            }
        };
        let mut rows: Vec<ContentRow> = match ChannelKind::parse(&self.channel) {
            Some(kind) => known.iter().map(|f| channel_row(kind, f)).collect(),
            None => Vec::new(),
        };
        let own = |key: &str, value: &str| ContentRow {
            key: key.into(),
            value: value.into(),
            label: None,
            help: String::new(),
            choices: &[],
            required: false,
        };
        rows.extend(
            self.content.iter().filter(|f| !known.iter().any(|k| k.key() == f.key)).map(|f| own(&f.key, &f.value)),
        );
        if rows.last().is_none_or(|r| r.label.is_some()) {
            rows.push(own("", ""));
        }
        rows
    }

    /// The content object: a value that reads as a JSON object or array is taken as one (SMS
    /// `params`), anything else as text. Rows without a name are skipped, and so are the
    /// channel's own fields left empty.
    pub fn content_value(&self) -> Value {
        let known = self.channel_fields();
        let mut fields = Map::new();
        for f in self.content.iter().filter(|f| !f.key.is_empty()) {
            if f.value.trim().is_empty() && known.iter().any(|k| k.key() == f.key) {
                continue;
            }
            let trimmed = f.value.trim_start();
            let structured = (trimmed.starts_with('{') || trimmed.starts_with('['))
                .then(|| serde_json::from_str::<Value>(&f.value).ok())
                .flatten();
            fields.insert(f.key.clone(), structured.unwrap_or_else(|| Value::String(f.value.clone())));
        }
        Value::Object(fields)
    }

    /// The JSON body the REST API would get for this form.
    pub fn to_body(&self) -> Result<Value, ApiError> {
        let text_or_null = |s: &str| if s.is_empty() { Value::Null } else { Value::String(s.to_string()) };
        let msg_type = self.msg_type.parse::<i64>().map(Value::from).unwrap_or_else(|_| json!(self.msg_type));
        let mut body = json!({
            "name": self.name,
            "channel": self.channel,
            "channelAccount": text_or_null(&self.channel_account),
            "msgType": msg_type,
            "receiverIdType": self.receiver_id_type,
            "content": self.content_value(),
            "quietHours": self.quiet_hours,
            "crowdId": text_or_null(&self.crowd_id),
        });
        if !self.cron.is_empty() {
            let mut schedule = json!({ "cron": self.cron, "misfire": self.misfire });
            if !self.timezone.is_empty() {
                schedule["timezone"] = json!(self.timezone);
            }
            for (key, text) in [("startAt", &self.start_at), ("endAt", &self.end_at)] {
                if !text.is_empty() {
                    schedule[key] = json!(text);
                }
            }
            let excluded: Vec<&str> = self.exclude_dates.lines().map(str::trim).filter(|d| !d.is_empty()).collect();
            if !excluded.is_empty() {
                schedule["excludeDates"] = json!(excluded);
            }
            let windows = windows_json(&self.exclude_windows)?;
            if !windows.is_empty() {
                schedule["excludeWindows"] = json!(windows);
            }
            body["schedule"] = schedule;
        }
        for (key, text) in [("quietWindow", &self.quiet_window), ("dedup", &self.dedup)] {
            if !text.is_empty() {
                let value: Value = serde_json::from_str(text)
                    .map_err(|e| ApiError::field(key, text_with("tpl-invalid-json", &[("error", &e)])))?;
                body[key] = value;
            }
        }
        let receivers: Vec<&str> = self.test_receivers.lines().map(str::trim).filter(|r| !r.is_empty()).collect();
        if !receivers.is_empty() {
            body["testMode"] = json!({ "receivers": receivers });
        }
        Ok(body)
    }

    /// The spec, read by the same parser as the REST API's body.
    pub fn to_spec(&self) -> Result<TemplateSpec, ApiError> {
        let body = serde_json::to_vec(&self.to_body()?).map_err(|e| ApiError::Internal(e.to_string()))?;
        crate::json::parse(&body)
    }
}

/// Excluded windows as the form shows them: `22:00-06:00`, one a line.
fn windows_text(windows: &[herald_core::cron::DailyWindow]) -> String {
    let time = |t: chrono::NaiveTime| t.format(if t.format("%S").to_string() == "00" { "%H:%M" } else { "%H:%M:%S" });
    windows.iter().map(|w| format!("{}-{}", time(w.from), time(w.to))).collect::<Vec<_>>().join("\n")
}

/// The form's `HH:MM-HH:MM` lines as the API's windows; a line without its dash is refused,
/// named by its number (the API checks the times).
fn windows_json(text: &str) -> Result<Vec<Value>, ApiError> {
    let lines = text.lines().map(str::trim).enumerate().filter(|(_, l)| !l.is_empty());
    lines
        .map(|(n, line)| match line.split_once('-') {
            Some((from, to)) => Ok(json!({"from": from.trim(), "to": to.trim()})),
            None => Err(ApiError::field(
                "schedule.excludeWindows",
                text_with("tpl-exclude-windows-line", &[("line", &(n + 1).to_string())]),
            )),
        })
        .collect()
}

/// The form field that shows an API field's message; None for messages shown above the form.
pub(crate) fn field_of(api_field: &str) -> Option<&'static str> {
    let head = api_field.split(['.', '[']).next().unwrap_or(api_field);
    Some(match (head, api_field) {
        (_, "schedule.timezone") => "timezone",
        (_, "schedule.misfire") => "misfire",
        (_, "schedule.startAt") => "startAt",
        (_, "schedule.endAt") => "endAt",
        ("schedule", f) if f.starts_with("schedule.excludeDates") => "excludeDates",
        ("schedule", f) if f.starts_with("schedule.excludeWindows") => "excludeWindows",
        ("schedule", _) => "cron",
        ("name", _) => "name",
        ("channel", _) => "channel",
        ("channelAccount", _) => "channelAccount",
        ("msgType", _) => "msgType",
        ("receiverIdType", _) => "receiverIdType",
        ("content", _) => "content",
        ("quietHours", _) => "quietHours",
        ("quietWindow", _) => "quietWindow",
        ("dedup", _) => "dedup",
        ("testMode", _) => "testReceivers",
        ("crowdId", _) => "crowdId",
        _ => return None,
    })
}

/// What the cron field says as it is typed.
#[derive(Debug, Clone, Default)]
pub(crate) struct CronPreview {
    pub description: Option<String>,
    /// The next five fires, in the template's time zone.
    pub fires: Vec<String>,
    /// The message the API gives for this expression (or time zone).
    pub error: Option<String>,
}

pub(crate) fn cron_preview(cron: &str, timezone: &str, now: DateTime<Utc>) -> CronPreview {
    if cron.is_empty() {
        return CronPreview::default();
    }
    let timezone = if timezone.is_empty() { "UTC" } else { timezone };
    match CronSchedule::parse(cron, timezone) {
        Ok(schedule) => {
            let fires = schedule.next_fires(now, 5).into_iter().map(|t| time_in(t, schedule.timezone())).collect();
            // Years all past: the API refuses to save it, with these words.
            let error = schedule.first_fire_after(now).err().map(|e| e.to_string());
            CronPreview { description: Some(schedule.describe()), fires, error }
        }
        // The same words TemplateSpec::validate puts under schedule.cron or schedule.timezone.
        Err(e) => CronPreview { error: Some(e.to_string()), ..Default::default() },
    }
}

/// The content as one receiver would get it.
#[derive(Debug, Clone, Default)]
pub(crate) struct ContentPreview {
    pub receiver: Option<String>,
    pub fields: Vec<(String, String)>,
    /// The API's messages about the content (placeholders the crowd has no column for).
    pub errors: Vec<String>,
    pub note: Option<String>,
}

pub(crate) async fn content_preview(state: &AppState, form: &TemplateForm) -> Result<ContentPreview, ApiError> {
    let content = form.content_value();
    let show = |v: &Value| v.as_object().map(|m| m.iter().map(|(k, v)| (k.clone(), shown_value(v))).collect());
    if form.crowd_id.is_empty() {
        return Ok(ContentPreview {
            fields: show(&content).unwrap_or_default(),
            note: Some(text("tpl-preview-pick-crowd")),
            ..Default::default()
        });
    }
    let crowd = match state.store.get_crowd(&form.crowd_id).await {
        Ok(c) => c,
        Err(herald_store::StoreError::NotFound { .. }) => {
            return Ok(ContentPreview {
                errors: vec![text_with("tpl-preview-no-crowd", &[("crowd", &format!("{:?}", form.crowd_id))])],
                ..Default::default()
            });
        }
        Err(e) => return Err(e.into()),
    };
    // The rules the API applies to content, judged against this crowd's columns.
    let probe = TemplateSpec {
        name: "preview".into(),
        channel: ChannelKind::Outbox,
        channel_account: None,
        msg_type: 10,
        receiver_id_type: "userId".into(),
        content: content.clone(),
        quiet_hours: Default::default(),
        quiet_window: None,
        schedule: None,
        crowd_id: None,
        dedup: None,
        test_mode: None,
    };
    let errors: Vec<String> = probe
        .validate(Some(&crowd.columns))
        .into_iter()
        .filter(|e| e.field.starts_with("content"))
        .map(|e| e.message)
        .collect();
    if !errors.is_empty() {
        return Ok(ContentPreview { errors, ..Default::default() });
    }
    let Some(row) = crate::crowds::first_valid_row(state, &crowd).await? else {
        return Ok(ContentPreview { note: Some(text("tpl-preview-no-valid-row")), ..Default::default() });
    };
    let rendered = herald_core::placeholders::render(&content, &row.variables)
        .map_err(|e| ApiError::field("content", e.to_string()))?;
    Ok(ContentPreview {
        receiver: Some(row.receiver),
        fields: show(&rendered).unwrap_or_default(),
        ..Default::default()
    })
}

fn shown_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Form {
        Form(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn a_form_becomes_the_rest_body() {
        let f = TemplateForm::from_form(&form(&[
            ("name", "Nightly"),
            ("channel", "sms"),
            ("channelAccount", "tencent"),
            ("msgType", "20"),
            ("receiverIdType", "phone"),
            ("content_key", "params"),
            ("content_value", "{\"code\": \"{$code}\"}"),
            ("content_key", "note"),
            ("content_value", "{$name}, hi"),
            ("content_key", ""),
            ("content_value", "ignored"),
            ("quietHours", "defer"),
            ("cron", "0 0 21 ? * 2-6"),
            ("timezone", "Asia/Shanghai"),
            ("misfire", "skip"),
            ("crowdId", "c1"),
        ]));
        let spec = f.to_spec().unwrap();
        assert_eq!(spec.content, json!({"params": {"code": "{$code}"}, "note": "{$name}, hi"}));
        assert_eq!(spec.msg_type, 20);
        assert_eq!(spec.channel_account.as_deref(), Some("tencent"));
        assert_eq!(spec.schedule.as_ref().unwrap().timezone, "Asia/Shanghai");
        // And back: what the form shows for a stored template.
        let again = TemplateForm::from_spec(&spec);
        assert_eq!(again.to_spec().unwrap(), spec);
    }

    #[test]
    fn the_rest_parser_names_the_field_at_fault() {
        let mut f = TemplateForm::blank(None);
        f.msg_type = "ten".into();
        let e = f.to_spec().unwrap_err();
        assert!(e.to_string().starts_with("msgType:"), "{e}");
        let mut f = TemplateForm::blank(None);
        f.dedup = "{oops".into();
        assert!(f.to_spec().unwrap_err().to_string().starts_with("dedup: is not valid JSON"));
        assert_eq!(field_of("schedule.cron"), Some("cron"));
        assert_eq!(field_of("content.url"), Some("content"));
        assert_eq!(field_of("dedup.content.limit"), Some("dedup"));
        assert_eq!(field_of("other"), None);
    }

    #[test]
    fn the_cron_preview_words_the_expression_or_gives_the_api_message() {
        let now = DateTime::parse_from_rfc3339("2026-05-01T12:00:00Z").unwrap().with_timezone(&Utc);
        let p = cron_preview("0 30 9 ? * 2-6", "Asia/Shanghai", now);
        assert_eq!(p.fires.len(), 5);
        assert_eq!(p.fires[0], "2026-05-04 09:30:00 CST");
        assert!(p.description.unwrap().contains("09:30"));
        let bad = cron_preview("0 0 9 * *", "UTC", now);
        let expected = CronSchedule::parse("0 0 9 * *", "UTC").unwrap_err().to_string();
        assert_eq!(bad.error.as_deref(), Some(expected.as_str()));
        assert!(cron_preview("0 0 9 * * ?", "Mars/Base", now).error.unwrap().contains("Mars/Base"));
        let past = cron_preview("0 0 9 * * ? 2025", "UTC", now);
        assert!(past.fires.is_empty());
        assert!(past.error.unwrap().contains("has no fire after 2026-05-01 12:00:00 UTC"));
    }

    #[test]
    fn the_channels_own_content_fields_come_first_and_empty_ones_are_not_sent() {
        let mut form = TemplateForm::blank(None);
        form.channel = "email".into();
        form.content = vec![field("subject", "Hi {$name}"), field("extra", "x")];
        let rows = form.content_rows();
        let keys: Vec<(&str, bool)> = rows.iter().map(|r| (r.key.as_str(), r.label.is_some())).collect();
        assert_eq!(keys, [("subject", true), ("html", true), ("text", true), ("extra", false)]);
        assert_eq!(rows[0].value, "Hi {$name}");
        form.content.extend([field("html", " "), field("text", "body")]);
        assert_eq!(form.content_value(), json!({"subject": "Hi {$name}", "extra": "x", "text": "body"}));
        form.channel = "outbox".into();
        form.content.clear();
        assert_eq!(form.content_rows().len(), 1, "one row to type into");
    }
}
