//! Scheduled jobs beside crowd templates (what users ran xxl-job and PowerJob for): an HTTP call
//! or a command on a cadence, with a timeout, retries with backoff and a rule for a fire that comes while the
//! last run is still going. What an admin saves, the rules it must satisfy, when it first fires,
//! and how an answer is judged.

use crate::cron::{Cadence, MisfirePolicy};
use crate::field::FieldError;
use crate::listing::{QUOTED_CHARS, clip};
use crate::template::{ScheduleSpec, window_problem};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

pub mod alarm;
pub mod children;
mod command;
pub mod report;
pub mod sharding;
pub use alarm::{AlarmRule, AlarmSpec, FireEnd};
pub use children::{ChildJob, ChildWhen};
pub use command::{CommandCall, CommandPolicy};
pub use sharding::{Shard, ShardMode, Sharding};

const MAX_NAME_CHARS: usize = 200;
const MAX_DESCRIPTION_CHARS: usize = 2_000;
const MAX_URL_BYTES: usize = 4_096;
const MAX_HEADERS: usize = 50;
const MAX_HEADER_VALUE_BYTES: usize = 8_192;
const MAX_BODY_BYTES: usize = 256 * 1024;
/// A job's timeout, in milliseconds: from a tenth of a second to a day.
pub const TIMEOUT_MS: (u64, u64) = (100, 86_400_000);
/// Retries after the first attempt.
pub const MAX_RETRIES: u32 = 10;
/// The first retry's wait, in milliseconds; each later one doubles, up to an hour.
pub const BACKOFF_MS: (u64, u64) = (10, 3_600_000);
/// A job's own run-log retention, in days.
pub const KEEP_RUNS_DAYS: (u64, u64) = (1, 3_650);
/// Runs of one job going at once.
pub const MAX_CONCURRENT: (u64, u64) = (1, 64);
/// A fixed rate's or fixed delay's period, in seconds: from one to a year.
pub const PERIOD_SECS: (u64, u64) = (1, 31_536_000);
/// What a stored header value reads as in answers when its name says it is a secret.
pub const MASKED: &str = "********";

/// A job as an admin writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JobSpec {
    /// Unique among jobs.
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The HTTP call each run makes (give this or `command`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpCall>,
    /// The program each run starts (give this or `http`); off unless the node enables commands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<CommandCall>,
    pub schedule: JobSchedule,
    /// Each attempt is abandoned after this many milliseconds (100 to 86,400,000; 60,000 when
    /// left out).
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    #[serde(default)]
    pub retries: RetryPolicy,
    #[serde(default)]
    pub overlap: Overlap,
    /// Runs of this job going at once, across nodes (1 to 64; 1 when left out): a fire that
    /// finds this many still going follows `overlap`.
    #[serde(default = "default_max_concurrent")]
    pub max_concurrent: u32,
    /// Who is told when a fire fails, times out, is discarded or skipped, or too many fail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarms: Option<AlarmSpec>,
    /// Jobs triggered when a fire ends, each given this job's output as its parameter.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<ChildJob>,
    /// Its run log is kept this many days (1 to 3,650); the node's `retention.days` when left
    /// out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_runs_days: Option<u32>,
    /// Splits each fire into shards run across the nodes (`{"mode": "shards", "count": 4}`),
    /// or runs it once on every node (`{"mode": "broadcast"}`); each shard is told its index
    /// and the count, and a dead node's shard is taken over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sharding: Option<Sharding>,
}

/// An HTTP call; the node's outbound-address policy applies to its URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpCall {
    /// GET, POST, PUT, PATCH, DELETE or HEAD; GET when left out.
    #[serde(default = "default_method")]
    pub method: String,
    /// An http or https URL.
    pub url: String,
    /// Sent with each call. Values of secret-looking names (Authorization, Cookie, names with
    /// token, secret, key or password) read as `********` in answers; send `********` back to
    /// keep the stored value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// `{$param}` in it takes the fire's parameter (given to run now, or a parent job's
    /// output), escaped as the inside of a JSON string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default)]
    pub expect: Expect,
}

/// What makes a run succeed: its status, and optionally a field of its JSON answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Expect {
    /// Statuses that count as success; any 2xx when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub status: Vec<u16>,
    /// A JSON Pointer into the answer (`/code`) whose value must equal `jsonValue`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_pointer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Object)]
    pub json_value: Option<Value>,
}

/// When a job fires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum JobSchedule {
    /// A Quartz cron in a time zone, with its misfire policy, dates and excluded days.
    Cron(ScheduleSpec),
    /// Every `everySecs`, from `startAt` (or one period after it is saved).
    FixedRate(RateSpec),
    /// `delaySecs` after the previous run ends (the first that long after it is saved).
    FixedDelay(DelaySpec),
    /// Once, at `at`.
    Once(OnceSpec),
    /// Only when triggered (`POST /api/jobs/{id}/run`).
    Api,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RateSpec {
    pub every_secs: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_at: Option<DateTime<Utc>>,
    #[serde(default)]
    #[schema(value_type = String, pattern = r"^(fire_once|skip|catch_up(:[0-9]{1,4})?)$", example = "fire_once")]
    pub misfire: MisfirePolicy,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DelaySpec {
    pub delay_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OnceSpec {
    pub at: DateTime<Utc>,
}

/// Attempts after a failed one, each waiting twice as long as the last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RetryPolicy {
    /// Retries after the first attempt: 0 to 10.
    #[serde(default)]
    pub max: u32,
    /// The wait before the first retry, in milliseconds (10 to 3,600,000; 1,000 when left out).
    #[serde(default = "default_backoff_ms")]
    pub backoff_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max: 0, backoff_ms: default_backoff_ms() }
    }
}

/// What a fire does when the job's last run is still going (xxl-job's three rules).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Overlap {
    /// Waits for it to end, then runs.
    #[default]
    Serial,
    /// Is dropped, recorded as a discarded run.
    Discard,
    /// Stops it (recorded as replaced) and runs.
    Replace,
}

impl Overlap {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Serial => "serial",
            Self::Discard => "discard",
            Self::Replace => "replace",
        }
    }
}

fn default_timeout_ms() -> u64 {
    60_000
}

fn default_max_concurrent() -> u32 {
    1
}

fn default_backoff_ms() -> u64 {
    1_000
}

fn default_method() -> String {
    "GET".into()
}

const METHODS: [&str; 6] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"];

impl RetryPolicy {
    /// The wait before attempt `attempt` (the first is 1, and has none).
    pub fn wait_before(&self, attempt: u32) -> Duration {
        if attempt <= 1 {
            return Duration::zero();
        }
        let doublings = (attempt - 2).min(20);
        let ms = self.backoff_ms.saturating_mul(1 << doublings).min(BACKOFF_MS.1);
        Duration::milliseconds(ms as i64)
    }
}

impl JobSpec {
    /// Every fault, each naming its field; `now` is when it is saved.
    pub fn validate(&self, now: DateTime<Utc>) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let name = self.name.trim();
        if name.is_empty() {
            errors.push(FieldError::new("name", "must not be empty"));
        } else if name.chars().count() > MAX_NAME_CHARS {
            errors.push(FieldError::new("name", format!("longer than {MAX_NAME_CHARS} characters")));
        }
        if self.description.chars().count() > MAX_DESCRIPTION_CHARS {
            errors.push(FieldError::new("description", format!("longer than {MAX_DESCRIPTION_CHARS} characters")));
        }
        match (&self.http, &self.command) {
            (Some(http), None) => http.check(&mut errors),
            (None, Some(command)) => command.check(&mut errors),
            (None, None) => errors.push(FieldError::new("http", "give the job an http call or a command")),
            (Some(_), Some(_)) => {
                errors.push(FieldError::new("command", "a job makes an http call or runs a command, not both"))
            }
        }
        errors.extend(self.schedule.problems(now));
        check_range(&mut errors, "timeoutMs", self.timeout_ms, TIMEOUT_MS);
        if self.retries.max > MAX_RETRIES {
            errors.push(FieldError::new("retries.max", format!("{} is more than {MAX_RETRIES}", self.retries.max)));
        }
        check_range(&mut errors, "retries.backoffMs", self.retries.backoff_ms, BACKOFF_MS);
        check_range(&mut errors, "maxConcurrent", u64::from(self.max_concurrent), MAX_CONCURRENT);
        errors.extend(self.alarms.iter().flat_map(AlarmSpec::problems));
        errors.extend(children::problems(&self.name, &self.children));
        if let Some(days) = self.keep_runs_days {
            check_range(&mut errors, "keepRunsDays", u64::from(days), KEEP_RUNS_DAYS);
        }
        errors.extend(self.sharding.iter().flat_map(Sharding::problems));
        errors
    }

    /// The longest a run may take: every attempt timing out, with the waits between them.
    pub fn longest_run(&self) -> Duration {
        let attempts = self.retries.max.min(MAX_RETRIES) + 1;
        let waits = (1..=attempts).map(|a| self.retries.wait_before(a)).fold(Duration::zero(), |a, b| a + b);
        Duration::milliseconds(self.timeout_ms.min(TIMEOUT_MS.1) as i64) * attempts as i32 + waits
    }

    /// How its fires come, as the schedule row stores it.
    pub fn cadence(&self) -> Cadence {
        match &self.schedule {
            JobSchedule::Cron(_) => Cadence::Cron,
            JobSchedule::FixedRate(rate) => Cadence::FixedRate { every: secs(rate.every_secs) },
            JobSchedule::FixedDelay(delay) => {
                Cadence::FixedDelay { delay: secs(delay.delay_secs), hold: self.longest_run() }
            }
            JobSchedule::Once(_) => Cadence::Once,
            JobSchedule::Api => Cadence::Api,
        }
    }

    /// Its first fire when saved at `now`; None when it fires only when triggered, or has no
    /// fire left. Assumes it validated.
    pub fn first_fire_after(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match &self.schedule {
            JobSchedule::Cron(spec) => spec.first_fire_after(now).ok().flatten(),
            JobSchedule::FixedRate(rate) => {
                let first = rate.start_at.filter(|start| *start > now).unwrap_or(now + secs(rate.every_secs));
                Some(first).filter(|first| rate.end_at.is_none_or(|end| *first <= end))
            }
            JobSchedule::FixedDelay(delay) => Some(now + secs(delay.delay_secs)),
            JobSchedule::Once(once) => Some(once.at).filter(|at| *at > now),
            JobSchedule::Api => None,
        }
    }

    /// The copy shown in answers: secret-looking header and environment values masked.
    pub fn masked(&self) -> Self {
        let mut shown = self.clone();
        if let Some(http) = &mut shown.http {
            mask_secrets(&mut http.headers);
        }
        if let Some(command) = &mut shown.command {
            mask_secrets(&mut command.env);
        }
        shown
    }

    /// Takes the stored value of each header or variable sent back masked from `stored`.
    pub fn keep_masked_from(&mut self, stored: &JobSpec) {
        if let (Some(http), Some(kept)) = (&mut self.http, &stored.http) {
            keep_masked(&mut http.headers, &kept.headers);
        }
        if let (Some(command), Some(kept)) = (&mut self.command, &stored.command) {
            keep_masked(&mut command.env, &kept.env);
        }
    }

    /// Whether an attempt that ended with `code` (an HTTP status, or a command's exit code)
    /// and `output` succeeded; the error says why not.
    pub fn judge(&self, code: i32, output: &[u8]) -> Result<(), String> {
        match (&self.http, &self.command) {
            (Some(http), _) => http.expect.judge(u16::try_from(code).unwrap_or(0), output),
            (None, Some(command)) => command.judge(code),
            (None, None) => Err("the job has nothing to run".into()),
        }
    }
}

fn secs(n: u64) -> Duration {
    Duration::seconds(n.min(PERIOD_SECS.1) as i64)
}

fn check_range(errors: &mut Vec<FieldError>, field: &str, value: u64, (min, max): (u64, u64)) {
    if !(min..=max).contains(&value) {
        errors.push(FieldError::new(field, format!("{value} is not between {min} and {max}")));
    }
}

/// Masks each value whose name says it is a secret (a header's, a command variable's).
fn mask_secrets(values: &mut BTreeMap<String, String>) {
    for (name, value) in values.iter_mut() {
        if is_secret_name(name) {
            *value = MASKED.to_string();
        }
    }
}

/// Takes the stored value of each one sent back masked.
fn keep_masked(values: &mut BTreeMap<String, String>, stored: &BTreeMap<String, String>) {
    for (name, value) in values.iter_mut() {
        if value == MASKED
            && let Some(kept) = stored.get(name)
        {
            value.clone_from(kept);
        }
    }
}

/// Whether a header's or variable's name says its value is a secret.
pub fn is_secret_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["authorization", "cookie"].contains(&name.as_str())
        || ["token", "secret", "key", "password", "signature"].iter().any(|word| name.contains(word))
}

impl HttpCall {
    fn check(&self, errors: &mut Vec<FieldError>) {
        if !METHODS.contains(&self.method.as_str()) {
            let method = clip(&self.method, QUOTED_CHARS);
            errors.push(FieldError::new("http.method", format!("{method:?} is not one of {}", METHODS.join(", "))));
        }
        if self.url.len() > MAX_URL_BYTES {
            errors.push(FieldError::new("http.url", format!("longer than {MAX_URL_BYTES} bytes")));
        } else if !crate::template::has_http_scheme(&self.url) {
            let url = clip(&self.url, QUOTED_CHARS);
            errors.push(FieldError::new("http.url", format!("{url:?} is not an http or https URL")));
        }
        if self.headers.len() > MAX_HEADERS {
            errors.push(FieldError::new(
                "http.headers",
                format!("{} headers; at most {MAX_HEADERS}", self.headers.len()),
            ));
        }
        for (name, value) in self.headers.iter().take(MAX_HEADERS) {
            let field = format!("http.headers.{}", clip(name, QUOTED_CHARS));
            if name.is_empty() || !name.bytes().all(is_token_byte) {
                errors.push(FieldError::new(field, "is not a header name"));
            } else if value == MASKED {
                errors.push(FieldError::new(field, format!("give its value: {MASKED} keeps a stored value only")));
            } else if value.len() > MAX_HEADER_VALUE_BYTES || value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0)
            {
                errors.push(FieldError::new(
                    field,
                    format!("a value must be one line of at most {MAX_HEADER_VALUE_BYTES} bytes"),
                ));
            }
        }
        if self.body.as_ref().is_some_and(|b| b.len() > MAX_BODY_BYTES) {
            errors.push(FieldError::new("http.body", format!("longer than {MAX_BODY_BYTES} bytes")));
        }
        if let Some(status) = self.expect.status.iter().find(|s| !(100..=599).contains(*s)) {
            errors.push(FieldError::new("http.expect.status", format!("{status} is not an HTTP status")));
        }
        match (&self.expect.json_pointer, &self.expect.json_value) {
            (Some(pointer), _) if !pointer.is_empty() && !pointer.starts_with('/') => errors.push(FieldError::new(
                "http.expect.jsonPointer",
                "must be a JSON Pointer such as /code (or empty for the whole answer)",
            )),
            (Some(_), None) => errors.push(FieldError::new("http.expect.jsonValue", "is needed with jsonPointer")),
            (None, Some(_)) => errors.push(FieldError::new("http.expect.jsonPointer", "is needed with jsonValue")),
            _ => {}
        }
    }
}

/// RFC 9110 token characters.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

impl JobSchedule {
    fn problems(&self, now: DateTime<Utc>) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let period = |errors: &mut Vec<FieldError>, field: &str, value: u64| {
            check_range(errors, &format!("schedule.{field}"), value, PERIOD_SECS)
        };
        match self {
            JobSchedule::Cron(spec) => errors.extend(spec.problems()),
            JobSchedule::FixedRate(rate) => {
                period(&mut errors, "everySecs", rate.every_secs);
                errors.extend(window_problem(rate.start_at, rate.end_at));
            }
            JobSchedule::FixedDelay(delay) => period(&mut errors, "delaySecs", delay.delay_secs),
            JobSchedule::Once(once) if once.at <= now => {
                errors.push(FieldError::new("schedule.at", format!("{} is not in the future", once.at.to_rfc3339())));
            }
            JobSchedule::Once(_) | JobSchedule::Api => {}
        }
        errors
    }

    /// The cron, time zone, misfire policy and dates the schedule row keeps for the claimer
    /// (a fixed rate's and a one-off's in UTC, with the one-off's time as its start).
    pub fn row(&self) -> ScheduleRow<'_> {
        let plain = |misfire, start_at, end_at| ScheduleRow {
            cron: "",
            timezone: "UTC",
            misfire,
            start_at,
            end_at,
            exclude_dates: &[],
            exclude_windows: &[],
        };
        match self {
            JobSchedule::Cron(spec) => ScheduleRow {
                cron: &spec.cron,
                timezone: &spec.timezone,
                misfire: spec.misfire,
                start_at: spec.start_at,
                end_at: spec.end_at,
                exclude_dates: &spec.exclude_dates,
                exclude_windows: &spec.exclude_windows,
            },
            JobSchedule::FixedRate(rate) => plain(rate.misfire, rate.start_at, rate.end_at),
            JobSchedule::Once(once) => plain(MisfirePolicy::FireOnce, Some(once.at), None),
            JobSchedule::FixedDelay(_) | JobSchedule::Api => plain(MisfirePolicy::FireOnce, None, None),
        }
    }
}

/// A job schedule's columns in the schedules table.
#[derive(Debug, Clone, Copy)]
pub struct ScheduleRow<'a> {
    pub cron: &'a str,
    pub timezone: &'a str,
    pub misfire: MisfirePolicy,
    pub start_at: Option<DateTime<Utc>>,
    pub end_at: Option<DateTime<Utc>>,
    pub exclude_dates: &'a [chrono::NaiveDate],
    pub exclude_windows: &'a [crate::cron::DailyWindow],
}

impl Expect {
    /// Whether an answer with `status` and `body` is a success; the error says why not.
    pub fn judge(&self, status: u16, body: &[u8]) -> Result<(), String> {
        let status_ok =
            if self.status.is_empty() { (200..300).contains(&status) } else { self.status.contains(&status) };
        if !status_ok {
            return Err(format!("answered {status}"));
        }
        let (Some(pointer), Some(expected)) = (&self.json_pointer, &self.json_value) else {
            return Ok(());
        };
        let answer: Value = serde_json::from_slice(body).map_err(|_| "the answer is not JSON".to_string())?;
        match answer.pointer(pointer) {
            Some(found) if found == expected => Ok(()),
            Some(found) => Err(format!(
                "{} is {}, not {}",
                clip(pointer, QUOTED_CHARS),
                clip(&found.to_string(), QUOTED_CHARS),
                clip(&expected.to_string(), QUOTED_CHARS)
            )),
            None => Err(format!("the answer has no {}", clip(pointer, QUOTED_CHARS))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn job(schedule: Value) -> JobSpec {
        serde_json::from_value(json!({
            "name": "ping",
            "http": {"method": "POST", "url": "https://crm.example/ping", "headers": {"Authorization": "Bearer s3cret", "X-Trace": "1"}},
            "schedule": schedule,
            "retries": {"max": 3, "backoffMs": 1000}
        }))
        .unwrap()
    }

    #[test]
    fn each_schedule_type_reads_and_fires_first_when_it_says() {
        let now = utc("2026-05-01T10:00:00Z");
        let cron = job(json!({"type": "cron", "cron": "0 0/15 * * * ?", "timezone": "Asia/Shanghai"}));
        assert_eq!(cron.validate(now), vec![]);
        assert_eq!(cron.first_fire_after(now), Some(utc("2026-05-01T10:15:00Z")));
        let rate = job(json!({"type": "fixed_rate", "everySecs": 30}));
        assert_eq!(
            (rate.cadence().as_str(), rate.first_fire_after(now)),
            ("fixed_rate", Some(utc("2026-05-01T10:00:30Z")))
        );
        let later = job(json!({"type": "fixed_rate", "everySecs": 30, "startAt": "2026-05-02T00:00:00Z"}));
        assert_eq!(later.first_fire_after(now), Some(utc("2026-05-02T00:00:00Z")));
        let delay = job(json!({"type": "fixed_delay", "delaySecs": 5}));
        assert_eq!(delay.first_fire_after(now), Some(utc("2026-05-01T10:00:05Z")));
        // Four attempts of a minute each, with 1 s, 2 s and 4 s between them.
        assert_eq!(delay.cadence().hold_ms(), Some(4 * 60_000 + 7_000));
        let once = job(json!({"type": "once", "at": "2026-05-01T12:00:00Z"}));
        assert_eq!(once.first_fire_after(now), Some(utc("2026-05-01T12:00:00Z")));
        let api = job(json!({"type": "api"}));
        assert_eq!((api.validate(now), api.first_fire_after(now)), (vec![], None));
    }

    #[test]
    fn faults_name_their_field() {
        let now = utc("2026-05-01T10:00:00Z");
        let mut bad = job(json!({"type": "once", "at": "2026-05-01T09:00:00Z"}));
        bad.name = " ".into();
        let http = bad.http.as_mut().unwrap();
        http.method = "BREW".into();
        http.url = "ftp://x".into();
        http.headers.insert("Bad Name".into(), "v".into());
        http.headers.insert("X-Split".into(), "a\r\nb".into());
        http.headers.insert("X-Token".into(), MASKED.into());
        http.expect.json_pointer = Some("code".into());
        bad.timeout_ms = 5;
        bad.retries = RetryPolicy { max: 11, backoff_ms: 0 };
        let fields: Vec<String> = bad.validate(now).into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "name",
                "http.method",
                "http.url",
                "http.headers.Bad Name",
                "http.headers.X-Split",
                "http.headers.X-Token",
                "http.expect.jsonPointer",
                "schedule.at",
                "timeoutMs",
                "retries.max",
                "retries.backoffMs"
            ]
        );
        let rate = job(
            json!({"type": "fixed_rate", "everySecs": 0, "startAt": "2026-06-01T00:00:00Z", "endAt": "2026-05-01T00:00:00Z"}),
        );
        let fields: Vec<String> = rate.validate(now).into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["schedule.everySecs", "schedule.endAt"]);
        let cron = job(json!({"type": "cron", "cron": "0 0 25 * * ?"}));
        assert_eq!(cron.validate(now)[0].field, "schedule.cron");
        assert!(serde_json::from_value::<JobSchedule>(json!({"type": "hourly"})).is_err());
        assert!(serde_json::from_value::<JobSchedule>(json!({"type": "fixed_rate", "everySecs": 1, "x": 1})).is_err());
    }

    #[test]
    fn retries_wait_twice_as_long_each_time_up_to_an_hour() {
        let retries = RetryPolicy { max: 10, backoff_ms: 500 };
        let waits: Vec<i64> = (1..=4).map(|a| retries.wait_before(a).num_milliseconds()).collect();
        assert_eq!(waits, [0, 500, 1_000, 2_000]);
        let long = RetryPolicy { max: 10, backoff_ms: 3_000_000 };
        assert_eq!(long.wait_before(10), Duration::hours(1));
    }

    #[test]
    fn secret_headers_are_masked_in_answers_and_kept_when_sent_back_masked() {
        let stored = job(json!({"type": "api"}));
        let shown = stored.masked();
        let headers = |job: &JobSpec| job.http.as_ref().unwrap().headers.clone();
        assert_eq!(headers(&shown)["Authorization"], MASKED);
        assert_eq!(headers(&shown)["X-Trace"], "1");
        let mut edited = shown.clone();
        edited.http.as_mut().unwrap().headers.insert("X-Trace".into(), "2".into());
        edited.keep_masked_from(&stored);
        assert_eq!(headers(&edited)["Authorization"], "Bearer s3cret");
        assert_eq!(headers(&edited)["X-Trace"], "2");
        assert!(is_secret_name("X-Api-Key") && is_secret_name("x-access-token") && !is_secret_name("Accept"));
    }

    #[test]
    fn a_job_makes_a_call_or_runs_a_command_and_its_secret_variables_are_masked() {
        let now = utc("2026-05-01T10:00:00Z");
        let mut neither = job(json!({"type": "api"}));
        neither.http = None;
        assert_eq!(neither.validate(now)[0].field, "http");
        let mut both = job(json!({"type": "api"}));
        let command: CommandCall = serde_json::from_value(
            json!({"program": "/usr/local/bin/backup", "args": ["--full"], "env": {"DB_PASSWORD": "pw", "MODE": "x"}}),
        )
        .unwrap();
        both.command = Some(command.clone());
        assert_eq!(both.validate(now)[0].field, "command");
        let mut stored = neither.clone();
        stored.command = Some(command);
        assert_eq!(stored.validate(now), vec![]);
        assert_eq!((stored.judge(0, b""), stored.judge(1, b"")), (Ok(()), Err("exited with 1".into())));
        let mut edited = stored.masked();
        assert_eq!(edited.command.as_ref().unwrap().env["DB_PASSWORD"], MASKED);
        assert_eq!(edited.command.as_ref().unwrap().env["MODE"], "x");
        edited.keep_masked_from(&stored);
        assert_eq!(edited, stored);
    }

    #[test]
    fn an_answer_is_judged_by_its_status_and_json_field() {
        let any_2xx = Expect::default();
        assert_eq!(any_2xx.judge(204, b""), Ok(()));
        assert_eq!(any_2xx.judge(500, b""), Err("answered 500".into()));
        let field = Expect { status: vec![200], json_pointer: Some("/code".into()), json_value: Some(json!(0)) };
        assert_eq!(field.judge(200, br#"{"code":0}"#), Ok(()));
        assert_eq!(field.judge(200, br#"{"code":7}"#), Err("/code is 7, not 0".into()));
        assert_eq!(field.judge(200, b"<html>"), Err("the answer is not JSON".into()));
        assert_eq!(field.judge(200, br#"{}"#), Err("the answer has no /code".into()));
        assert_eq!(field.judge(201, br#"{"code":0}"#), Err("answered 201".into()));
    }
}
