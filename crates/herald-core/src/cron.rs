//! Cron schedules in the Quartz dialect, read in an IANA time zone, and the misfire rule for
//! fires that come late.
//!
//! # Dialect
//!
//! herald speaks the Quartz dialect (parsed with `croner` 4 configured for it):
//!
//! ```text
//! seconds minutes hours day-of-month month day-of-week [year]
//! 0       0/15    9-17  ?            *     MON-FRI     [2030]
//! ```
//!
//! * 6 or 7 fields; the seconds field is required, so a 5-field Unix expression is refused
//!   (put a seconds field in front: `30 9 * * 1` is written `0 30 9 ? * MON`).
//! * Ranges, lists and steps (`1-5`, `1,3`, `*/5`, and the Quartz forms `0/30`, `1/1`).
//! * Day of month: `1-31`, `L` (last day), `nW` (weekday nearest to day n, never leaving the
//!   month), `LW` (last weekday).
//! * Month: `1-12` or `JAN-DEC`.
//! * Day of week: Quartz numbering, `1` = Sunday ... `7` = Saturday (so `2-6` is Monday to
//!   Friday), or `SUN-SAT`; `n#k` (k-th weekday n of the month, k = 1..5), `nL` (last weekday n
//!   of the month), and `L` alone (= `7`, Saturday, as in Quartz).
//! * Year (optional): 1970-2099.
//! * Day of month and day of week: `?` and `*` both mean "any day". At most one of the two may
//!   name days; `0 0 12 15 * MON` is refused instead of being read as "the 15th or any Monday"
//!   (Vixie cron) or "a Monday that is the 15th": Quartz does not support it either, and both
//!   readings surprise somebody. A `?` must be the whole field.
//! * A pattern that no calendar date can ever match (`0 0 0 30 2 ?`) is refused. A pattern whose
//!   year field lies wholly in the past parses, and [`CronSchedule::next_after`] returns `None`.
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
//! only to match wall-clock times and maps them to instants itself.
//!
//! # Parsed-pattern cache
//!
//! A parsed croner expression weighs about 5 KB, so parsed patterns are shared process-wide per
//! expression string (up to [`PATTERN_CACHE_CAP`] distinct patterns): 100,000 schedules with the
//! same pattern hold one parsed value.

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex, OnceLock};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CronError {
    #[error("invalid cron expression {expr:?}: {reason}")]
    InvalidExpression { expr: String, reason: String },
    #[error("unknown time zone {0:?} (use an IANA name such as Asia/Shanghai)")]
    UnknownTimeZone(String),
}

/// How many distinct parsed patterns the process-wide cache keeps.
pub const PATTERN_CACHE_CAP: usize = 4096;

const FIELD_NAMES: [&str; 7] = ["seconds", "minutes", "hours", "day-of-month", "month", "day-of-week", "year"];
const FIELD_HINTS: [&str; 7] = [
    "0-59",
    "0-59",
    "0-23",
    "1-31, L, LW, nW or ?",
    "1-12 or JAN-DEC",
    "1-7 with 1 = Sunday, SUN-SAT, n#k, nL or ?",
    "1970-2099",
];
const QUARTZ_YEARS: std::ops::RangeInclusive<u32> = 1970..=2099;

/// A parsed pattern, shared by every schedule with the same expression string.
struct Compiled {
    expr: Arc<str>,
    cron: croner::Cron,
    /// The hours field covers every hour: the expression follows real time across DST changes.
    interval: bool,
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
        let tz = Tz::from_str(timezone).map_err(|_| CronError::UnknownTimeZone(timezone.to_string()))?;
        let compiled =
            compiled(expr).map_err(|reason| CronError::InvalidExpression { expr: expr.to_string(), reason })?;
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
        self.compiled.cron.describe()
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
        let tz = self.tz;
        let interval = self.compiled.interval;
        let cron = &self.compiled.cron;
        let local = after.with_timezone(&tz);
        let wall = local.naive_local();

        // An interval expression asked from the first half of a repeated hour still has the second
        // half ahead, at wall-clock times at or before `wall`.
        let mut from_second_half = None;
        if interval
            && let LocalResult::Ambiguous(earlier, later) = tz.from_local_datetime(&wall)
            && earlier == local
        {
            let (transition, _) = fold_bounds(tz, earlier.with_timezone(&Utc), later.with_timezone(&Utc));
            let second_half_start = transition.with_timezone(&tz).naive_local();
            if let Ok(w) = cron.find_next_occurrence(&second_half_start, true)
                && let LocalResult::Ambiguous(_, l) = tz.from_local_datetime(&w)
            {
                let l = l.with_timezone(&Utc);
                if l > after {
                    from_second_half = Some(l);
                }
            }
        }

        let mut cursor = wall;
        let mut found = None;
        while let Ok(w) = cron.find_next_occurrence(&cursor, false) {
            cursor = w;
            match tz.from_local_datetime(&w) {
                LocalResult::Single(t) => {
                    let t = t.with_timezone(&Utc);
                    if t > after {
                        found = Some(t);
                        break;
                    }
                }
                LocalResult::Ambiguous(e, l) => {
                    let (e, l) = (e.with_timezone(&Utc), l.with_timezone(&Utc));
                    if e > after {
                        found = Some(e);
                        break;
                    }
                    if interval {
                        // w > wall(after), so its second occurrence is after `after`.
                        found = Some(l).filter(|l| *l > after);
                        if found.is_some() {
                            break;
                        }
                    } else {
                        // Every remaining time of this repeated hour has its first occurrence
                        // behind us: jump to the end of the repeated wall-clock range.
                        let (_, fold_end_wall) = fold_bounds(tz, e, l);
                        if fold_end_wall > cursor {
                            cursor = fold_end_wall - Duration::seconds(1);
                        }
                    }
                }
                LocalResult::None => {
                    if !interval && let Some(t) = gap_end(tz, w).filter(|t| *t > after) {
                        found = Some(t);
                        break;
                    }
                }
            }
        }
        match (found, from_second_half) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// For a repeated wall-clock range around the instants `earlier` < `later` (the two occurrences
/// of one wall-clock time): the instant the clock goes back, and the first wall-clock time after
/// the repeated range.
fn fold_bounds(tz: Tz, earlier: DateTime<Utc>, later: DateTime<Utc>) -> (DateTime<Utc>, NaiveDateTime) {
    let early_offset = offset_secs(tz, earlier.timestamp());
    // The clock goes back in (earlier, later]: find the first second with the later offset.
    let (mut lo, mut hi) = (earlier.timestamp(), later.timestamp());
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if offset_secs(tz, mid) == early_offset { lo = mid } else { hi = mid }
    }
    let transition = DateTime::from_timestamp(hi, 0).unwrap_or(later);
    let fold_len = later - earlier;
    (transition, transition.with_timezone(&tz).naive_local() + fold_len)
}

/// The first instant after the DST gap that swallows the wall-clock time `w`.
fn gap_end(tz: Tz, w: NaiveDateTime) -> Option<DateTime<Utc>> {
    // Offsets lie within +-17 h, so the wall clock is before `w` 17 h earlier and after it 17 h
    // later; the wall clock jumps over `w` at one second in between.
    let u = w.and_utc().timestamp();
    let after_w = |t: i64| DateTime::from_timestamp(t, 0).is_some_and(|d| d.with_timezone(&tz).naive_local() > w);
    let (mut lo, mut hi) = (u - 17 * 3600, u + 17 * 3600);
    if after_w(lo) || !after_w(hi) {
        return None;
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if after_w(mid) { hi = mid } else { lo = mid }
    }
    DateTime::from_timestamp(hi, 0)
}

fn offset_secs(tz: Tz, timestamp: i64) -> i32 {
    let utc = DateTime::from_timestamp(timestamp, 0).unwrap_or_default().naive_utc();
    tz.offset_from_utc_datetime(&utc).fix().local_minus_utc()
}

fn cache() -> &'static Mutex<HashMap<String, Arc<Compiled>>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Compiled>>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The shared parsed pattern for `expr`, parsing it on first use.
fn compiled(expr: &str) -> Result<Arc<Compiled>, String> {
    if let Some(hit) = cache().lock().unwrap_or_else(|e| e.into_inner()).get(expr) {
        return Ok(Arc::clone(hit));
    }
    let fresh = Arc::new(compile(expr)?);
    let mut map = cache().lock().unwrap_or_else(|e| e.into_inner());
    if let Some(hit) = map.get(expr) {
        return Ok(Arc::clone(hit));
    }
    if map.len() >= PATTERN_CACHE_CAP
        && let Some(victim) = map.keys().next().cloned()
    {
        // Schedules already holding the evicted pattern keep their Arc.
        map.remove(&victim);
    }
    map.insert(expr.to_string(), Arc::clone(&fresh));
    Ok(fresh)
}

fn quartz_parser() -> croner::parser::CronParser {
    croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Required)
        .year(croner::parser::Year::Optional)
        .dom_and_dow(false)
        .alternative_weekdays(true)
        .sloppy_ranges(true)
        .build()
}

fn is_any_day(field: &str) -> bool {
    field == "*" || field == "?"
}

/// Checks the Quartz rules croner does not enforce and returns the fields to hand to croner.
fn quartz_fields(expr: &str) -> Result<Vec<String>, String> {
    let mut fields: Vec<String> = expr.split_whitespace().map(str::to_uppercase).collect();
    match fields.len() {
        0 => return Err("the expression is empty".to_string()),
        5 => {
            return Err(
                "it has 5 fields, a Unix cron expression; herald uses the Quartz dialect with a seconds field: \
                 'seconds minutes hours day-of-month month day-of-week [year]', e.g. '0 30 9 ? * MON-FRI'"
                    .to_string(),
            );
        }
        6 | 7 => {}
        n => {
            return Err(format!(
                "it has {n} fields; the Quartz dialect needs 6 or 7: \
                 'seconds minutes hours day-of-month month day-of-week [year]'"
            ));
        }
    }
    for (i, field) in fields.iter().enumerate() {
        if field.contains('?') && !((i == 3 || i == 5) && field == "?") {
            return Err(if i == 3 || i == 5 {
                format!("{} field {field:?}: '?' must stand alone", FIELD_NAMES[i])
            } else {
                format!("{} field {field:?}: '?' is only allowed in day-of-month or day-of-week", FIELD_NAMES[i])
            });
        }
    }
    if fields[5] == "L" {
        // Quartz: "L" alone in day-of-week is the last day of the week, Saturday.
        fields[5] = "7".to_string();
    }
    Ok(fields)
}

/// The Quartz rules checked once croner has accepted every field.
fn quartz_combination(fields: &[String]) -> Result<(), String> {
    if !is_any_day(&fields[3]) && !is_any_day(&fields[5]) {
        return Err(format!(
            "both day-of-month ({:?}) and day-of-week ({:?}) name days; the Quartz dialect needs '?' in one of them",
            fields[3], fields[5]
        ));
    }
    if let Some(year) = fields.get(6) {
        for item in year.split(',') {
            let range = item.split('/').next().unwrap_or_default();
            if range == "*" {
                continue;
            }
            for bound in range.split('-') {
                match bound.parse::<u32>() {
                    Ok(y) if QUARTZ_YEARS.contains(&y) => {}
                    Ok(_) => {
                        return Err(format!("year field {year:?}: {bound} is outside 1970-2099"));
                    }
                    Err(_) => {
                        return Err(format!("year field {year:?}: {bound:?} is not a year (1970-2099)"));
                    }
                }
            }
        }
    }
    Ok(())
}

/// Names the field croner refused, by parsing each field alone in a neutral pattern.
fn locate_fault(fields: &[String], croner_error: &croner::errors::CronError) -> String {
    let parser = quartz_parser();
    for (i, field) in fields.iter().enumerate() {
        let mut probe: Vec<&str> = ["0", "0", "0", "*", "*", "?", "*"][..fields.len()].to_vec();
        probe[i] = field;
        if i == 5 {
            probe[3] = "?";
        }
        if let Err(e) = parser.parse(&probe.join(" ")) {
            return format!("{} field {field:?}: {e} (allowed: {})", FIELD_NAMES[i], FIELD_HINTS[i]);
        }
    }
    croner_error.to_string()
}

fn compile(expr: &str) -> Result<Compiled, String> {
    let fields = quartz_fields(expr)?;
    let parser = quartz_parser();
    let cron = parser.parse(&fields.join(" ")).map_err(|e| locate_fault(&fields, &e))?;
    quartz_combination(&fields)?;

    // A pattern no date can ever match (31 April) would search for years on every call.
    let any_year = if fields.len() == 7 { parser.parse(&fields[..6].join(" ")).ok() } else { None };
    let start = NaiveDate::from_ymd_opt(1970, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).unwrap_or_default();
    if any_year.as_ref().unwrap_or(&cron).find_next_occurrence(&start, true).is_err() {
        return Err(format!(
            "no date ever matches day-of-month {:?}, month {:?} and day-of-week {:?}",
            fields[3], fields[4], fields[5]
        ));
    }

    let interval = (0..24).all(|h| cron.pattern.hour_match(h).unwrap_or(false));
    Ok(Compiled { expr: Arc::from(expr), cron, interval })
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MisfirePolicy {
    /// Fire once now for all the missed fires, recording the lateness.
    #[default]
    FireOnce,
    /// Skip the missed fires; record them as misfired.
    Skip,
}

impl MisfirePolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FireOnce => "fire_once",
            Self::Skip => "skip",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::FireOnce, Self::Skip].into_iter().find(|p| p.as_str() == s)
    }
}

/// What to do with a due fire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirePlan {
    /// The scheduled time written to the fire ledger.
    pub fire_time: DateTime<Utc>,
    /// How late the fire is being handled.
    pub lateness: Duration,
    /// False when the misfire policy says to skip it.
    pub fire: bool,
    /// The schedule's next fire time, or None when the expression has no more.
    pub next_fire: Option<DateTime<Utc>>,
}

/// Decides what to do with the fire due at `due`, handled at `now`.
///
/// * Within `grace` (`now - due <= grace`): fire at `due`; the next fire is the one after `due`.
/// * Later (a misfire): [`MisfirePolicy::FireOnce`] fires once, with `fire_time = due` and the
///   lateness recorded, and every other fire missed up to `now` is coalesced into it;
///   [`MisfirePolicy::Skip`] does not fire. Either way the next fire is the first after `now`.
pub fn plan_fire(
    schedule: &CronSchedule,
    due: DateTime<Utc>,
    now: DateTime<Utc>,
    grace: Duration,
    policy: MisfirePolicy,
) -> FirePlan {
    let lateness = (now - due).max(Duration::zero());
    if lateness <= grace {
        return FirePlan { fire_time: due, lateness, fire: true, next_fire: schedule.next_after(due) };
    }
    FirePlan { fire_time: due, lateness, fire: policy == MisfirePolicy::FireOnce, next_fire: schedule.next_after(now) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn on_time_fire_runs_at_due_and_schedules_the_next_after_due() {
        let s = CronSchedule::parse("0 0/15 * * * ?", "UTC").unwrap();
        let due = utc("2026-05-01T10:15:00Z");
        let now = utc("2026-05-01T10:15:40Z");
        let plan = plan_fire(&s, due, now, Duration::seconds(60), MisfirePolicy::Skip);
        assert_eq!(
            plan,
            FirePlan {
                fire_time: due,
                lateness: Duration::seconds(40),
                fire: true,
                next_fire: Some(utc("2026-05-01T10:30:00Z"))
            }
        );
        // Exactly at the grace limit still counts as on time.
        let plan = plan_fire(&s, due, due + Duration::seconds(60), Duration::seconds(60), MisfirePolicy::Skip);
        assert!(plan.fire);
        assert_eq!(plan.next_fire, Some(utc("2026-05-01T10:30:00Z")));
        // A handler that runs early records no negative lateness.
        let plan = plan_fire(&s, due, due - Duration::seconds(5), Duration::zero(), MisfirePolicy::FireOnce);
        assert_eq!(plan.lateness, Duration::zero());
        assert!(plan.fire);
    }

    #[test]
    fn fire_once_misfire_fires_once_and_coalesces_the_missed_fires() {
        let s = CronSchedule::parse("0 0/15 * * * ?", "UTC").unwrap();
        let due = utc("2026-05-01T10:15:00Z");
        // 10:30, 10:45, 11:00 and 11:15 were missed too; they are coalesced.
        let now = utc("2026-05-01T11:20:00Z");
        let plan = plan_fire(&s, due, now, Duration::seconds(60), MisfirePolicy::FireOnce);
        assert_eq!(
            plan,
            FirePlan {
                fire_time: due,
                lateness: Duration::minutes(65),
                fire: true,
                next_fire: Some(utc("2026-05-01T11:30:00Z"))
            }
        );
    }

    #[test]
    fn skip_misfire_does_not_fire_and_moves_past_now() {
        let s = CronSchedule::parse("0 0/15 * * * ?", "UTC").unwrap();
        let due = utc("2026-05-01T10:15:00Z");
        let now = utc("2026-05-01T10:16:01Z");
        let plan = plan_fire(&s, due, now, Duration::seconds(60), MisfirePolicy::Skip);
        assert_eq!(
            plan,
            FirePlan {
                fire_time: due,
                lateness: Duration::seconds(61),
                fire: false,
                next_fire: Some(utc("2026-05-01T10:30:00Z"))
            }
        );
        // A now that sits exactly on a later fire time: that one is not "after now".
        let plan = plan_fire(&s, due, utc("2026-05-01T11:00:00Z"), Duration::zero(), MisfirePolicy::Skip);
        assert_eq!(plan.next_fire, Some(utc("2026-05-01T11:15:00Z")));
    }

    #[test]
    fn misfire_of_a_finished_schedule_has_no_next_fire() {
        let s = CronSchedule::parse("0 0 12 1 1 ? 2030", "Asia/Shanghai").unwrap();
        let due = utc("2030-01-01T04:00:00Z");
        for policy in [MisfirePolicy::FireOnce, MisfirePolicy::Skip] {
            let plan = plan_fire(&s, due, due + Duration::hours(3), Duration::minutes(1), policy);
            assert_eq!(plan.fire, policy == MisfirePolicy::FireOnce);
            assert_eq!(plan.next_fire, None);
        }
        let plan = plan_fire(&s, due, due, Duration::minutes(1), MisfirePolicy::Skip);
        assert!(plan.fire);
        assert_eq!(plan.next_fire, None);
    }

    #[test]
    fn misfire_policy_names_round_trip() {
        for p in [MisfirePolicy::FireOnce, MisfirePolicy::Skip] {
            assert_eq!(MisfirePolicy::parse(p.as_str()), Some(p));
            assert_eq!(serde_json::to_string(&p).unwrap(), format!("\"{}\"", p.as_str()));
            assert_eq!(serde_json::from_str::<MisfirePolicy>(&format!("\"{}\"", p.as_str())).unwrap(), p);
        }
        assert_eq!(MisfirePolicy::parse("FireOnce"), None);
        assert_eq!(MisfirePolicy::default(), MisfirePolicy::FireOnce);
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
        assert!(cache().lock().unwrap().len() <= PATTERN_CACHE_CAP);
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
}
