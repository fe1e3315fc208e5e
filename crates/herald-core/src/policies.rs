//! The send-time policies' rules, written once for the worker that applies them and the dry run
//! that predicts them: the node's defaults, the quiet-hours verdict for one recipient, and the
//! dedup checks one rendered message is counted under (keys, limits, windows). Pure: the store
//! does the counting, atomically, in the worker; the dry run only reads it.

use crate::dedup::{DedupRules, content_key, frequency_key};
use crate::quiet_hours::{QuietDecision, QuietWindow, parse_tz};
use crate::{ChannelKind, QuietHoursPolicy, TemplateSpec, TraceEvent};
use chrono::{DateTime, Duration, NaiveTime, Utc};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// The node's defaults for templates that do not set their own.
#[derive(Debug, Clone, Default)]
pub struct PolicyDefaults {
    pub quiet_window: QuietWindow,
    /// The crowd column that holds a recipient's IANA time zone.
    pub timezone_column: String,
    /// Dedup rules per channel for templates without their own.
    pub dedup: HashMap<ChannelKind, DedupRules>,
}

impl PolicyDefaults {
    /// A template's dedup rules: its own, else the node's for its channel, else none.
    pub fn dedup_rules(&self, spec: &TemplateSpec) -> DedupRules {
        spec.dedup.or_else(|| self.dedup.get(&spec.channel).copied()).unwrap_or_default()
    }

    /// What dedup counts `message` under when it is sent at `now`.
    pub fn dedup_checks(&self, message: &Rendered<'_>, now: DateTime<Utc>) -> DedupChecks {
        let rules = self.dedup_rules(message.spec);
        let content = rules.content.map(|rule| SlidingCheck {
            key: content_key(message.template_id, message.receiver, message.content),
            limit: rule.limit,
            window_secs: rule.window_secs,
        });
        let frequency = rules.frequency.map(|rule| {
            let tz = message.spec.timezone();
            let local = now.with_timezone(&tz);
            let next_midnight = (local.date_naive() + Duration::days(1)).and_time(NaiveTime::MIN);
            let expires_at = next_midnight
                .and_local_timezone(tz)
                .earliest()
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or(now + Duration::days(1));
            FixedCheck {
                key: frequency_key(message.spec.channel, message.receiver),
                bucket: local.date_naive().to_string(),
                limit: rule.limit_per_day,
                expires_at,
                channel: message.spec.channel,
            }
        });
        DedupChecks { content, frequency }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Send,
    Drop { event: TraceEvent, reason: String },
    Defer { release_at: DateTime<Utc> },
}

/// Quiet hours for one recipient of a template with `spec`, whose crowd row has `variables`.
pub fn quiet_verdict(
    spec: &TemplateSpec,
    variables: &BTreeMap<String, String>,
    now: DateTime<Utc>,
    defaults: &PolicyDefaults,
) -> Verdict {
    let policy = spec.quiet_hours;
    if policy == QuietHoursPolicy::None {
        return Verdict::Send;
    }
    let tz = variables.get(&defaults.timezone_column).and_then(|v| parse_tz(v)).unwrap_or_else(|| spec.timezone());
    let window = spec.quiet_window.unwrap_or(defaults.quiet_window);
    match (window.check(now, tz), policy) {
        (QuietDecision::Outside, _) | (_, QuietHoursPolicy::None) => Verdict::Send,
        (QuietDecision::Inside { .. }, QuietHoursPolicy::Drop) => Verdict::Drop {
            event: TraceEvent::DroppedQuietHours,
            reason: format!("quiet hours {}-{} in {tz}", hm(window.start), hm(window.end)),
        },
        (QuietDecision::Inside { release_at }, QuietHoursPolicy::Defer) => Verdict::Defer { release_at },
    }
}

fn hm(t: NaiveTime) -> String {
    t.format("%H:%M").to_string()
}

/// One rendered message, as dedup judges it.
#[derive(Debug, Clone, Copy)]
pub struct Rendered<'a> {
    pub template_id: i64,
    pub spec: &'a TemplateSpec,
    pub receiver: &'a str,
    pub content: &'a Value,
}

/// The dedup checks of one message, applied in this order: content, then frequency. A message
/// either refuses is dropped; one the content check admitted and the frequency check refused
/// stays counted under its content key (the admits are separate atomic steps).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DedupChecks {
    pub content: Option<SlidingCheck>,
    pub frequency: Option<FixedCheck>,
}

/// Content dedup: at most `limit` events under `key` in the last `window_secs` (a sliding window).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlidingCheck {
    pub key: String,
    pub limit: u32,
    pub window_secs: i64,
}

impl SlidingCheck {
    pub fn window(&self) -> Duration {
        Duration::seconds(self.window_secs)
    }

    /// The verdict when the window is full.
    pub fn refusal(&self) -> Verdict {
        Verdict::Drop {
            event: TraceEvent::DroppedDedup,
            reason: format!("same content already sent {} time(s) in {} s", self.limit, self.window_secs),
        }
    }
}

/// Frequency dedup: at most `limit` events under `key` in `bucket` (the receiver's calendar day
/// in the template's time zone), which expires at `expires_at` (that day's end).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixedCheck {
    pub key: String,
    pub bucket: String,
    pub limit: u32,
    pub expires_at: DateTime<Utc>,
    /// Named in the refusal.
    pub channel: ChannelKind,
}

impl FixedCheck {
    /// The verdict when the day's count is reached.
    pub fn refusal(&self) -> Verdict {
        Verdict::Drop {
            event: TraceEvent::DroppedDedup,
            reason: format!("{} messages a day to this receiver on {} already", self.limit, self.channel),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::{ContentDedup, FrequencyDedup};
    use chrono::TimeZone;
    use serde_json::json;

    fn spec(dedup: Option<DedupRules>) -> TemplateSpec {
        serde_json::from_value(json!({
            "name": "t", "channel": "sms", "content": {"text": "hi {$name}"},
            "schedule": {"cron": "0 0 9 * * ?", "timezone": "Asia/Shanghai"},
            "dedup": dedup,
        }))
        .unwrap()
    }

    fn message<'a>(spec: &'a TemplateSpec, content: &'a Value) -> Rendered<'a> {
        Rendered { template_id: 7, spec, receiver: "13800000001", content }
    }

    #[test]
    fn a_templates_own_rules_win_over_the_nodes_for_its_channel() {
        let own = DedupRules { content: Some(ContentDedup { limit: 2, window_secs: 60 }), frequency: None };
        let defaults =
            PolicyDefaults { dedup: HashMap::from([(ChannelKind::Sms, DedupRules::austin())]), ..Default::default() };
        assert_eq!(defaults.dedup_rules(&spec(Some(own))), own);
        assert_eq!(defaults.dedup_rules(&spec(None)), DedupRules::austin());
        assert!(PolicyDefaults::default().dedup_rules(&spec(None)).is_empty());
    }

    #[test]
    fn frequency_counts_in_the_templates_calendar_day() {
        let rules = DedupRules { content: None, frequency: Some(FrequencyDedup { limit_per_day: 3 }) };
        let spec = spec(Some(rules));
        let content = json!({"text": "hi"});
        // 2026-06-01 17:30 UTC is 01:30 on June 2 in Shanghai: that day's bucket, ending at its
        // midnight (16:00 UTC on June 2).
        let now = Utc.with_ymd_and_hms(2026, 6, 1, 17, 30, 0).unwrap();
        let checks = PolicyDefaults::default().dedup_checks(&message(&spec, &content), now);
        let fixed = checks.frequency.unwrap();
        assert_eq!(
            (fixed.key.as_str(), fixed.bucket.as_str(), fixed.limit),
            ("frequency:sms:13800000001", "2026-06-02", 3)
        );
        assert_eq!(fixed.expires_at, Utc.with_ymd_and_hms(2026, 6, 2, 16, 0, 0).unwrap());
        assert_eq!(checks.content, None);
        let Verdict::Drop { reason, .. } = fixed.refusal() else { panic!() };
        assert_eq!(reason, "3 messages a day to this receiver on sms already");
    }

    #[test]
    fn content_counts_under_the_rendered_content() {
        let rules = DedupRules { content: Some(ContentDedup { limit: 1, window_secs: 300 }), frequency: None };
        let spec = spec(Some(rules));
        let now = Utc.with_ymd_and_hms(2026, 6, 1, 4, 0, 0).unwrap();
        let (a, b) = (json!({"text": "hi A"}), json!({"text": "hi B"}));
        let defaults = PolicyDefaults::default();
        let check = defaults.dedup_checks(&message(&spec, &a), now).content.unwrap();
        assert_eq!(check.key, content_key(7, "13800000001", &a));
        assert_ne!(check.key, defaults.dedup_checks(&message(&spec, &b), now).content.unwrap().key);
        assert_eq!(check.window(), Duration::seconds(300));
        assert_eq!(defaults.dedup_checks(&message(&spec, &a), now).frequency, None);
    }

    #[test]
    fn quiet_hours_read_the_recipients_zone_else_the_templates() {
        let mut spec = spec(None);
        spec.quiet_hours = QuietHoursPolicy::Drop;
        let defaults = PolicyDefaults { timezone_column: "tz".into(), ..Default::default() };
        // 18:00 UTC: 02:00 in Shanghai (quiet), 14:00 in New York (not).
        let now = Utc.with_ymd_and_hms(2026, 6, 1, 18, 0, 0).unwrap();
        let none = BTreeMap::new();
        let new_york = BTreeMap::from([("tz".to_string(), "America/New_York".to_string())]);
        assert!(matches!(
            quiet_verdict(&spec, &none, now, &defaults),
            Verdict::Drop { event: TraceEvent::DroppedQuietHours, .. }
        ));
        assert_eq!(quiet_verdict(&spec, &new_york, now, &defaults), Verdict::Send);
        spec.quiet_hours = QuietHoursPolicy::Defer;
        let release = Utc.with_ymd_and_hms(2026, 6, 2, 1, 0, 0).unwrap();
        assert_eq!(quiet_verdict(&spec, &none, now, &defaults), Verdict::Defer { release_at: release });
        spec.quiet_hours = QuietHoursPolicy::None;
        assert_eq!(quiet_verdict(&spec, &none, now, &defaults), Verdict::Send);
    }
}
