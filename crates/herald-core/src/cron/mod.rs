//! Cron schedules in the Quartz dialect, read in an IANA time zone, and the misfire rule for
//! fires that come late.
//!
//! # Dialect
//!
//! herald speaks the Quartz dialect, read as Quartz 2.3.2's `CronExpression` reads it (checked in
//! [`quartz`], matched with `croner` 4):
//!
//! ```text
//! seconds minutes hours day-of-month month day-of-week [year]
//! 0       0/15    9-17  ?            *     MON-FRI     [2030]
//! ```
//!
//! * 6 or 7 fields, at most [`MAX_EXPRESSION_BYTES`] bytes; the seconds field is required, so a
//!   5-field Unix expression is refused (put a seconds field in front: `30 9 * * 1` is written
//!   `0 30 9 ? * MON`).
//! * Ranges, lists and steps (`1-5`, `1,3`, `*/5`, and the Quartz forms `0/30`, `1/1`). A range
//!   whose end is below its start wraps past the field's maximum, in every field but the year:
//!   hours `22-2` are 22, 23, 0, 1, 2; `FRI-MON` is Friday to Monday; `NOV-FEB`, day-of-month
//!   `28-3` (28-31, then 1-3) and minutes `50-10` likewise. With a step the count goes on through
//!   the wrap: hours `22-2/2` are 22, 0, 2. A step is 1 or more and at most the field's maximum
//!   (59, 59, 23, 31, 12, 7), as in Quartz.
//! * Day of month: `1-31`, `L` (last day), `L-n` (n = 0-30 days before the last day; a month too
//!   short for it has no fire), `nW` (weekday nearest to day n, never leaving the month), `LW`
//!   (last weekday), `L-nW` (weekday nearest to `L-n`). `L`, `W` and their forms stand alone:
//!   `15W,20`, `L,15` and `1-5W` are refused, as Quartz's documentation says.
//! * Month: `1-12` or `JAN-DEC`.
//! * Day of week: Quartz numbering, `1` = Sunday ... `7` = Saturday (so `2-6` is Monday to
//!   Friday), or `SUN-SAT`; `n#k` (k-th weekday n of the month, k = 1..5), `nL` (last weekday n
//!   of the month), and `L` alone (= `7`, Saturday, as in Quartz). `n#k` and `nL` stand alone.
//! * Year (optional): 1970-2099. Steps count as Quartz counts them: `*/10` from 1970 (2030,
//!   2040, ...), `a/s` from `a`, even a start before 1970 (`1/5`: 2026, 2031, ...).
//! * Day of month and day of week: `?` and `*` both mean "any day", but not `?` in both. At most
//!   one of the two may name days; `0 0 12 15 * MON` is refused instead of being read as "the
//!   15th or any Monday" (Vixie cron) or "a Monday that is the 15th": Quartz does not support it
//!   either, and both readings surprise somebody. A `?` must be the whole field.
//! * A pattern that no calendar date in its years can ever match (`0 0 0 30 2 ?`,
//!   `0 0 0 29 2 ? 2098`) is refused. A pattern whose years all lie in the past parses (a stored
//!   schedule stays readable) and [`CronSchedule::next_after`] returns `None`;
//!   [`CronSchedule::first_fire_after`] refuses it for a schedule being saved.
//!
//! Every refusal names the field and quotes its value.
//!
//! Where herald parts from Quartz 2.3.2 (whose fires were compared over 20,000 generated
//! expressions):
//!
//! * It accepts `*` in both day fields (every day, as Unix users expect) and ranges that mix a
//!   name and a number (`MON-5`), which Quartz fails to parse.
//! * It refuses what Quartz reads silently in a way nobody means: `W`, `L` or `#` in a list or
//!   range, a step after a name (Quartz reads `MON-FRI/2` as `MON-FRI`), `MONDAY` (read as `MON`),
//!   empty list items, step 0, steps above the field's maximum in ranges too, 0 in the day fields,
//!   and years outside 1970-2099.
//! * `L-n` and `L-nW` in a month too short for them, and `nW` in a month without day n, do not
//!   fire that month; Quartz 2.3.2 loops forever on some of these and fires others on a
//!   neighbouring day.
//!
//! # Time zones and daylight saving time
//!
//! The fields are wall-clock times in the schedule's IANA time zone. Where the wall clock jumps,
//! herald sorts expressions in two kinds:
//!
//! * **Clock-time expressions** (the hours field does not cover all 24 hours, e.g.
//!   `0 30 2 * * ?`, `0 30 1,13 * * ?`, `0 0/30 2 * * ?`): each named wall-clock time fires once
//!   per day it names.
//!   - A time in a gap (spring forward; 02:30 on 2026-03-08 in America/New_York does not exist)
//!     fires at the first instant after the gap (03:00 EDT). All the times of one gap fire
//!     together, once; a time the pattern names at that same instant does not fire a second
//!     time.
//!   - A time that occurs twice (fall back; 01:30 on 2026-11-01 in America/New_York) fires once,
//!     at its first occurrence (01:30 EDT = 05:30 UTC, not 01:30 EST = 06:30 UTC).
//! * **Interval expressions** (the hours field covers every hour, e.g. `0 0/15 * * * ?`,
//!   `0/30 * * * * ?`, `0 5 * * * ?`): they follow real elapsed time. Wall-clock times inside a
//!   gap do not exist and are not fired; times in a repeated hour fire at both occurrences. So
//!   `0 0/15 * * * ?` keeps firing every 15 real minutes through both changes: 01:45 EST is
//!   followed by 03:00 EDT in spring, and 01:00-01:45 fire in EDT and again in EST in autumn.
//!
//! `croner` alone decides between the two kinds by "single second, minute and hour"; that makes
//! `0 30 1,13 * * ?` fire twice on a fall-back night and `0 30 2,14 * * ?` (or
//! `0 0/30 2 * * ?`) skip the spring-forward day's 02:xx fires. herald therefore uses croner
//! only to match wall-clock times and maps them to instants itself ([`dst`]).
//!
//! # Parsed-pattern cache
//!
//! A parsed croner expression weighs about 5 KB, so parsed patterns are shared process-wide per
//! expression string (up to [`PATTERN_CACHE_CAP`] distinct patterns): 100,000 schedules with the
//! same pattern hold one parsed value.

mod cadence;
mod daily_window;
mod dst;
mod misfire;
mod pattern;
mod quartz;
mod timetable;

pub use cadence::Cadence;
pub use daily_window::{DailyWindow, MAX_EXCLUDED_WINDOWS, problems as daily_window_problems};
pub use misfire::{FirePlan, MisfirePolicy, plan_fire, plan_fire_in};
pub use pattern::PATTERN_CACHE_CAP;
pub use quartz::MAX_EXPRESSION_BYTES;
pub use timetable::{MAX_EXCLUDED_DATES, Times, Timetable};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use pattern::Compiled;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// The longest time zone name an error quotes whole; IANA names are under 40 bytes.
const QUOTED_ZONE_BYTES: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CronError {
    #[error("invalid cron expression {expr:?}: {reason}")]
    InvalidExpression { expr: String, reason: String },
    #[error("the cron expression is {len} bytes long; at most {max} are allowed")]
    TooLong { len: usize, max: usize },
    #[error("cron expression {expr:?} has no fire after {after}: every year its year field names is past")]
    NoFireAfter { expr: String, after: DateTime<Utc> },
    #[error("unknown time zone {0:?} (use an IANA name such as Asia/Shanghai)")]
    UnknownTimeZone(String),
}

/// A cron expression read in a time zone. Cloning is cheap (an `Arc` and a `Tz`).
#[derive(Clone)]
pub struct CronSchedule {
    compiled: Arc<Compiled>,
    tz: Tz,
}

impl fmt::Debug for CronSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CronSchedule").field("expr", &self.expression()).field("tz", &self.tz).finish()
    }
}

impl PartialEq for CronSchedule {
    fn eq(&self, other: &Self) -> bool {
        self.expression() == other.expression() && self.tz == other.tz
    }
}

impl Eq for CronSchedule {}

impl CronSchedule {
    pub fn parse(expr: &str, timezone: &str) -> Result<Self, CronError> {
        if expr.len() > MAX_EXPRESSION_BYTES {
            return Err(CronError::TooLong { len: expr.len(), max: MAX_EXPRESSION_BYTES });
        }
        let tz = Tz::from_str(timezone).map_err(|_| CronError::UnknownTimeZone(quoted_zone(timezone)))?;
        let compiled = pattern::compiled(expr)
            .map_err(|reason| CronError::InvalidExpression { expr: expr.to_string(), reason })?;
        Ok(Self { compiled, tz })
    }

    pub fn expression(&self) -> &str {
        &self.compiled.expr
    }

    pub fn timezone(&self) -> Tz {
        self.tz
    }

    /// The expression in plain English ("At 09:00:00, on Monday through Friday."), for people
    /// reading a schedule; croner words it from the parsed pattern, Quartz weekdays included.
    pub fn describe(&self) -> String {
        self.compiled.describe()
    }

    /// The next `n` fires strictly after `after`, fewer when the expression runs out.
    pub fn next_fires(&self, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        let mut fires = Vec::with_capacity(n);
        let mut cursor = after;
        while fires.len() < n
            && let Some(next) = self.next_after(cursor)
        {
            fires.push(next);
            cursor = next;
        }
        fires
    }

    /// True when the expression's hours field covers every hour, so it follows real elapsed time
    /// across DST changes (see the module documentation).
    pub fn is_interval(&self) -> bool {
        self.compiled.interval
    }

    /// True when both schedules hold the same parsed pattern (the cache shared it).
    pub fn shares_parsed_pattern(&self, other: &CronSchedule) -> bool {
        Arc::ptr_eq(&self.compiled, &other.compiled)
    }

    /// The first fire strictly after `after`, or `None` when the expression has no more fires.
    /// DST gaps and repeated hours follow the rule in the module documentation.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        dst::next_after(&self.compiled, self.tz, after)
    }

    /// The first fire strictly after `now`, refusing an expression whose years are all past: a
    /// schedule being saved or started with it would never fire.
    pub fn first_fire_after(&self, now: DateTime<Utc>) -> Result<DateTime<Utc>, CronError> {
        self.next_after(now).ok_or_else(|| CronError::NoFireAfter { expr: self.expression().to_string(), after: now })
    }
}

/// The time zone as an error quotes it, cut short so a huge input cannot make a huge message.
fn quoted_zone(timezone: &str) -> String {
    if timezone.len() <= QUOTED_ZONE_BYTES {
        return timezone.to_string();
    }
    let cut = (0..=QUOTED_ZONE_BYTES).rev().find(|i| timezone.is_char_boundary(*i)).unwrap_or(0);
    format!("{}...", &timezone[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_cache_shares_one_parse_per_pattern() {
        let a = CronSchedule::parse("0 0 7 ? * 2-6 *", "Asia/Shanghai").unwrap();
        let b = CronSchedule::parse("0 0 7 ? * 2-6 *", "Europe/London").unwrap();
        let c = a.clone();
        assert!(a.shares_parsed_pattern(&b));
        assert!(a.shares_parsed_pattern(&c));
        let other = CronSchedule::parse("0 0 8 ? * 2-6 *", "Asia/Shanghai").unwrap();
        assert!(!a.shares_parsed_pattern(&other));
        assert!(pattern::cached_patterns() <= PATTERN_CACHE_CAP);
    }

    #[test]
    fn interval_kind_follows_the_hours_field() {
        for (expr, interval) in [
            ("0 0/15 * * * ?", true),
            ("0/30 * * * * ?", true),
            ("0 5 0-23 * * ?", true),
            ("0 30 2 * * ?", false),
            ("0 30 1,13 * * ?", false),
            ("0 0/15 2 * * ?", false),
            ("0 0 0/2 * * ?", false),
        ] {
            assert_eq!(CronSchedule::parse(expr, "UTC").unwrap().is_interval(), interval, "{expr}");
        }
    }

    #[test]
    fn describe_words_the_pattern_and_next_fires_lists_them_in_order() {
        let s = CronSchedule::parse("0 30 9 ? * 2-6", "Asia/Shanghai").unwrap();
        let words = s.describe();
        assert!(words.contains("09:30") && words.contains("Monday") && words.contains("Friday"), "{words}");
        // Friday 2026-05-01 12:00 UTC is 20:00 in Shanghai: next Monday to Thursday, 01:30 UTC.
        let fires = s.next_fires(utc("2026-05-01T12:00:00Z"), 5);
        let expected: Vec<_> = ["2026-05-04", "2026-05-05", "2026-05-06", "2026-05-07", "2026-05-08"]
            .map(|d| utc(&format!("{d}T01:30:00Z")))
            .into();
        assert_eq!(fires, expected);
        let past = CronSchedule::parse("0 0 0 1 1 ? 2020", "UTC").unwrap();
        assert!(past.next_fires(utc("2026-05-01T00:00:00Z"), 5).is_empty());
    }

    #[test]
    fn describe_words_the_last_day_forms_croner_lacks() {
        for (expr, words) in [
            ("0 0 12 L * ?", "At 12:00, on the last day of the month."),
            ("0 0 12 LW * ?", "At 12:00, on the last weekday of the month."),
            ("0 0 12 L-3 * ?", "At 12:00, on the day 3 days before the last day of the month."),
            ("0 0 12 L-1W * ?", "At 12:00, on the weekday nearest the day 1 day before the last day of the month."),
            (
                "0 30 9 L-3 JAN,JUL ? 2030",
                "At 09:30, on the day 3 days before the last day of the month, in January and July, in year 2030.",
            ),
        ] {
            assert_eq!(CronSchedule::parse(expr, "UTC").unwrap().describe(), words, "{expr}");
        }
    }
}
