//! Send-time policies applied to each message before its channel sees it: quiet hours
//! (drop, or defer to the window's end, read in the recipient's own time zone when the crowd
//! has a time-zone column, else the template's) and dedup (content and frequency, counted
//! atomically by the store). Each returns a verdict; the pipeline records it.

use chrono::{DateTime, Duration, NaiveTime, Utc};
use herald_core::dedup::{DedupRules, content_key, frequency_key};
use herald_core::quiet_hours::{QuietDecision, QuietWindow, parse_tz};
use herald_core::{ChannelKind, QuietHoursPolicy, TraceEvent};
use herald_store::{DedupStore, StoreError, Template};
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

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Send,
    Drop { event: TraceEvent, reason: String },
    Defer { release_at: DateTime<Utc> },
}

/// Quiet hours for one recipient.
pub fn quiet_verdict(
    template: &Template,
    variables: &BTreeMap<String, String>,
    now: DateTime<Utc>,
    defaults: &PolicyDefaults,
) -> Verdict {
    let policy = template.spec.quiet_hours;
    if policy == QuietHoursPolicy::None {
        return Verdict::Send;
    }
    let tz =
        variables.get(&defaults.timezone_column).and_then(|v| parse_tz(v)).unwrap_or_else(|| template.spec.timezone());
    let window = template.spec.quiet_window.unwrap_or(defaults.quiet_window);
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

/// Dedup for one rendered message; counts it when admitted.
pub async fn dedup_verdict(
    store: &dyn DedupStore,
    template: &Template,
    receiver: &str,
    content: &Value,
    now: DateTime<Utc>,
    defaults: &PolicyDefaults,
) -> Result<Verdict, StoreError> {
    let rules = template.spec.dedup.or_else(|| defaults.dedup.get(&template.spec.channel).copied()).unwrap_or_default();
    if let Some(rule) = rules.content {
        let key = content_key(template.id, receiver, content);
        if !store.admit_sliding(&key, rule.limit, Duration::seconds(rule.window_secs), now).await? {
            return Ok(Verdict::Drop {
                event: TraceEvent::DroppedDedup,
                reason: format!("same content already sent {} time(s) in {} s", rule.limit, rule.window_secs),
            });
        }
    }
    if let Some(rule) = rules.frequency {
        let tz = template.spec.timezone();
        let local = now.with_timezone(&tz);
        let next_midnight = (local.date_naive() + Duration::days(1)).and_time(NaiveTime::MIN);
        let expires_at = next_midnight
            .and_local_timezone(tz)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(now + Duration::days(1));
        let key = frequency_key(template.spec.channel, receiver);
        let bucket = local.date_naive().to_string();
        if !store.admit_fixed(&key, &bucket, rule.limit_per_day, expires_at, now).await? {
            return Ok(Verdict::Drop {
                event: TraceEvent::DroppedDedup,
                reason: format!(
                    "{} messages a day to this receiver on {} already",
                    rule.limit_per_day, template.spec.channel
                ),
            });
        }
    }
    Ok(Verdict::Send)
}
