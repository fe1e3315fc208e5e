//! A job's alarms: which ends of a fire raise which rule, when a raised rule recovers, and the
//! variables the alarm's template is sent with. Alarms go out through herald's own channels: the
//! rule names a template (a DingTalk, WeCom or Feishu robot, email, a webhook) and its receivers.
//! One alarm per rule per quiet window, across nodes, is the store's part.

use crate::field::FieldError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Receivers of one job's alarms.
pub const MAX_RECEIVERS: usize = 20;
/// The quiet window after an alarm, in minutes: a minute to a day.
pub const QUIET_MINS: (u32, u32) = (1, 1_440);
/// A failure rate's window, in minutes: a minute to a week.
pub const RATE_WINDOW_MINS: (u32, u32) = (1, 10_080);
/// The placeholders an alarm template may use.
pub const VARIABLES: [&str; 6] = ["job", "rule", "state", "detail", "at", "node"];

/// Who is told, through which template, of what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AlarmSpec {
    /// The template sent, through its channel and account; its content may use `{$job}`,
    /// `{$rule}`, `{$state}` (raised or recovered), `{$detail}`, `{$at}` and `{$node}`.
    pub template_id: i64,
    /// As the template's channel names them (a robot's `@all` or a mobile, an address...).
    pub receivers: Vec<String>,
    /// The rules that raise an alarm; `failure` when left out.
    #[serde(default = "default_rules")]
    pub on: Vec<AlarmRule>,
    /// Raised when this share of the fires in the window failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_rate: Option<FailureRate>,
    /// Raises `stuck` when an attempt is still going this many seconds after it started
    /// (1 to 86,400), before its timeout ends it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stuck_after_secs: Option<u32>,
    /// After an alarm, the same rule stays quiet this many minutes (1 to 1,440; 60 when left
    /// out), however often it is raised meanwhile.
    #[serde(default = "default_quiet_mins")]
    pub quiet_mins: u32,
    /// A message when a raised `failure`, `timeout`, `failure_rate` or `stuck` rule is over
    /// (the job succeeds again); on when left out.
    #[serde(default = "default_true")]
    pub recovery: bool,
}

/// What raises an alarm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlarmRule {
    /// A fire that did not succeed (its last attempt failed or timed out).
    Failure,
    /// A fire whose last attempt brought no answer within the job's timeout.
    Timeout,
    /// A fire dropped because the job's limit of runs was still going (overlap `discard`).
    Discarded,
    /// A fire skipped because it came too late (misfire policy `skip`).
    Misfire,
    /// Set by `failureRate`, not listed in `on`.
    FailureRate,
    /// Set by `stuckAfterSecs`, not listed in `on`.
    Stuck,
}

/// A failure rate over the fires of a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FailureRate {
    /// 1 to 100.
    pub percent: u32,
    /// 1 to 10,080.
    pub window_mins: u32,
    /// Fewer fires in the window raise nothing (1 to 1,000; 5 when left out).
    #[serde(default = "default_min_fires")]
    pub min_fires: u32,
}

/// How a fire of the job ended, as alarms see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FireEnd {
    Succeeded,
    Failed,
    TimedOut,
    Discarded,
    Skipped,
}

/// What one fire's end does to the alarms.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct AlarmChanges {
    pub raise: Vec<AlarmRule>,
    pub recover: Vec<AlarmRule>,
}

fn default_rules() -> Vec<AlarmRule> {
    vec![AlarmRule::Failure]
}

fn default_quiet_mins() -> u32 {
    60
}

fn default_true() -> bool {
    true
}

fn default_min_fires() -> u32 {
    5
}

impl AlarmRule {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Failure => "failure",
            Self::Timeout => "timeout",
            Self::Discarded => "discarded",
            Self::Misfire => "misfire",
            Self::FailureRate => "failure_rate",
            Self::Stuck => "stuck",
        }
    }

    /// Whether a raised rule stays raised until the job succeeds (and then recovers).
    pub fn recovers(self) -> bool {
        matches!(self, Self::Failure | Self::Timeout | Self::FailureRate | Self::Stuck)
    }
}

impl AlarmSpec {
    /// Every fault, each naming its field under `alarms`.
    pub fn problems(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.receivers.is_empty() || self.receivers.len() > MAX_RECEIVERS {
            errors.push(FieldError::new("alarms.receivers", format!("give 1 to {MAX_RECEIVERS} receivers")));
        } else if let Some(i) = self.receivers.iter().position(|r| r.trim().is_empty() || r.len() > 256) {
            errors.push(FieldError::new(format!("alarms.receivers.{i}"), "must be 1 to 256 bytes"));
        }
        if self.on.contains(&AlarmRule::FailureRate) || self.on.contains(&AlarmRule::Stuck) {
            errors.push(FieldError::new(
                "alarms.on",
                "failure_rate and stuck are set by alarms.failureRate and alarms.stuckAfterSecs",
            ));
        }
        if self.stuck_after_secs.is_some_and(|secs| !(1..=86_400).contains(&secs)) {
            errors.push(FieldError::new("alarms.stuckAfterSecs", "must be between 1 and 86400"));
        }
        if !(QUIET_MINS.0..=QUIET_MINS.1).contains(&self.quiet_mins) {
            let (min, max) = QUIET_MINS;
            errors.push(FieldError::new(
                "alarms.quietMins",
                format!("{} is not between {min} and {max}", self.quiet_mins),
            ));
        }
        if let Some(rate) = &self.failure_rate {
            let checks = [
                ("percent", rate.percent, (1, 100)),
                ("windowMins", rate.window_mins, RATE_WINDOW_MINS),
                ("minFires", rate.min_fires, (1, 1_000)),
            ];
            for (field, value, (min, max)) in checks {
                if !(min..=max).contains(&value) {
                    let field = format!("alarms.failureRate.{field}");
                    errors.push(FieldError::new(field, format!("{value} is not between {min} and {max}")));
                }
            }
        }
        errors
    }

    /// The template's placeholders an alarm cannot fill, as a fault; None when it can fill them.
    pub fn template_problem<'a>(placeholders: impl IntoIterator<Item = &'a str>) -> Option<FieldError> {
        let unknown: Vec<String> =
            placeholders.into_iter().filter(|p| !VARIABLES.contains(p)).map(|p| format!("{{${p}}}")).collect();
        (!unknown.is_empty()).then(|| {
            let known: Vec<String> = VARIABLES.iter().map(|v| format!("{{${v}}}")).collect();
            FieldError::new(
                "alarms.templateId",
                format!("the template uses {}; an alarm fills only {}", unknown.join(", "), known.join(", ")),
            )
        })
    }

    /// What a fire that ended so does; `rate` is (fires, failed fires) in the failure rate's
    /// window, this one included, when a rate is set.
    pub fn changes(&self, end: FireEnd, rate: Option<(u64, u64)>) -> AlarmChanges {
        let mut changes = AlarmChanges::default();
        let raised = match end {
            FireEnd::Succeeded => None,
            FireEnd::Failed => Some(AlarmRule::Failure),
            FireEnd::TimedOut => Some(AlarmRule::Timeout),
            FireEnd::Discarded => Some(AlarmRule::Discarded),
            FireEnd::Skipped => Some(AlarmRule::Misfire),
        };
        // A timeout is a failure too, for whoever asked only for failures.
        let mut raised: Vec<AlarmRule> = raised.into_iter().collect();
        if end == FireEnd::TimedOut && !self.on.contains(&AlarmRule::Timeout) {
            raised = vec![AlarmRule::Failure];
        }
        changes.raise.extend(raised.into_iter().filter(|r| self.on.contains(r)));
        if let (Some(limit), Some((fires, failed))) = (self.failure_rate, rate) {
            let over = fires >= u64::from(limit.min_fires) && failed * 100 >= fires * u64::from(limit.percent);
            if over {
                changes.raise.push(AlarmRule::FailureRate);
            } else if end == FireEnd::Succeeded {
                changes.recover.push(AlarmRule::FailureRate);
            }
        }
        if end == FireEnd::Succeeded {
            changes
                .recover
                .extend([AlarmRule::Failure, AlarmRule::Timeout].into_iter().filter(|r| self.on.contains(r)));
            if self.stuck_after_secs.is_some() {
                changes.recover.push(AlarmRule::Stuck);
            }
        }
        changes
    }
}

/// The variables an alarm's template is sent with.
pub fn variables(
    job: &str,
    rule: AlarmRule,
    recovered: bool,
    detail: &str,
    at: &str,
    node: &str,
) -> BTreeMap<String, String> {
    let state = if recovered { "recovered" } else { "raised" };
    [("job", job), ("rule", rule.as_str()), ("state", state), ("detail", detail), ("at", at), ("node", node)]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn alarms(extra: serde_json::Value) -> AlarmSpec {
        let mut spec = json!({"templateId": 1, "receivers": ["@all"]});
        spec.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        serde_json::from_value(spec).unwrap()
    }

    #[test]
    fn a_failed_fire_raises_failure_and_a_success_recovers_it() {
        let spec = alarms(json!({}));
        assert_eq!((spec.quiet_mins, spec.recovery, spec.problems()), (60, true, vec![]));
        assert_eq!(spec.changes(FireEnd::Failed, None).raise, [AlarmRule::Failure]);
        assert_eq!(spec.changes(FireEnd::TimedOut, None).raise, [AlarmRule::Failure], "a timeout is a failure");
        assert_eq!(spec.changes(FireEnd::Discarded, None), AlarmChanges::default(), "not asked for");
        assert_eq!(spec.changes(FireEnd::Succeeded, None).recover, [AlarmRule::Failure]);
        let all = alarms(json!({"on": ["timeout", "discarded", "misfire"]}));
        assert_eq!(all.changes(FireEnd::TimedOut, None).raise, [AlarmRule::Timeout]);
        assert_eq!(all.changes(FireEnd::Failed, None).raise, Vec::<AlarmRule>::new());
        assert_eq!(all.changes(FireEnd::Skipped, None).raise, [AlarmRule::Misfire]);
        assert_eq!(all.changes(FireEnd::Discarded, None).raise, [AlarmRule::Discarded]);
    }

    #[test]
    fn a_failure_rate_is_raised_past_its_share_once_enough_fires_count() {
        let spec = alarms(json!({"on": [], "failureRate": {"percent": 50, "windowMins": 60, "minFires": 4}}));
        assert_eq!(spec.changes(FireEnd::Failed, Some((3, 3))).raise, Vec::<AlarmRule>::new(), "too few fires");
        assert_eq!(spec.changes(FireEnd::Failed, Some((4, 2))).raise, [AlarmRule::FailureRate]);
        assert_eq!(spec.changes(FireEnd::Succeeded, Some((5, 2))).recover, [AlarmRule::FailureRate]);
        assert_eq!(spec.changes(FireEnd::Succeeded, Some((4, 2))).raise, [AlarmRule::FailureRate], "still over");
        let stuck = alarms(json!({"stuckAfterSecs": 600}));
        assert_eq!(stuck.changes(FireEnd::Succeeded, None).recover, [AlarmRule::Failure, AlarmRule::Stuck]);
    }

    #[test]
    fn faults_name_their_field_and_a_template_may_use_only_the_alarm_variables() {
        let bad = alarms(json!({"receivers": [], "on": ["failure_rate"], "quietMins": 0,
            "failureRate": {"percent": 101, "windowMins": 60}}));
        let fields: Vec<String> = bad.problems().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["alarms.receivers", "alarms.on", "alarms.quietMins", "alarms.failureRate.percent"]);
        assert_eq!(AlarmSpec::template_problem(["job", "detail"]), None);
        let fault = AlarmSpec::template_problem(["job", "name"]).unwrap();
        assert!(fault.message.starts_with("the template uses {$name}"), "{}", fault.message);
        assert_eq!(variables("backup", AlarmRule::Failure, true, "answered 500", "t", "n")["state"], "recovered");
    }
}
