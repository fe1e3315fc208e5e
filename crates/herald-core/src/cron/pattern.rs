//! A parsed pattern, shared by every schedule written the same way: croner's matcher plus the
//! Quartz day rule croner lacks, the wall-clock search over both, and the process-wide cache that
//! keeps one parse per expression string.

use super::quartz::{self, CRONER_LAST_DAY_WORDS, LastDayOffset, Reworded, Translated};
use chrono::{Datelike, NaiveDate, NaiveDateTime};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// How many distinct parsed patterns the process-wide cache keeps.
pub const PATTERN_CACHE_CAP: usize = 4096;

/// Wall-clock times matching a pattern, with no time zone yet.
struct Matcher {
    cron: croner::Cron,
    /// `L-n` / `L-nW`: croner matches every day and this keeps the one day per month it names.
    last_day: Option<LastDayOffset>,
}

impl Matcher {
    fn new(croner_pattern: &str, last_day: Option<LastDayOffset>) -> Result<Matcher, croner::errors::CronError> {
        Ok(Matcher { cron: quartz_parser().parse(croner_pattern)?, last_day })
    }

    /// The first matching wall-clock time at (when `inclusive`) or after `from`.
    fn next(&self, from: &NaiveDateTime, inclusive: bool) -> Option<NaiveDateTime> {
        let mut found = self.cron.find_next_occurrence(from, inclusive).ok()?;
        let Some(rule) = self.last_day else {
            return Some(found);
        };
        loop {
            let (year, month, day) = (found.year(), found.month(), found.day());
            // Jump straight to the month's one day (or the next month) instead of walking days.
            let resume = match rule.day_in(year, month) {
                Some(wanted) if wanted == day => return Some(found),
                Some(wanted) if wanted > day => NaiveDate::from_ymd_opt(year, month, wanted),
                _ if month == 12 => NaiveDate::from_ymd_opt(year.checked_add(1)?, 1, 1),
                _ => NaiveDate::from_ymd_opt(year, month + 1, 1),
            }?;
            found = self.cron.find_next_occurrence(&resume.and_hms_opt(0, 0, 0)?, true).ok()?;
        }
    }
}

/// A parsed pattern, shared by every schedule with the same expression string.
pub(super) struct Compiled {
    pub(super) expr: Arc<str>,
    matcher: Matcher,
    /// Only for `LW`, `L-n` and `L-nW`, whose words croner gets wrong or lacks.
    reworded: Option<Box<Reworded>>,
    /// The hours field covers every hour: the expression follows real time across DST changes.
    pub(super) interval: bool,
}

impl Compiled {
    /// The first wall-clock time the pattern matches at (when `inclusive`) or after `from`, or
    /// `None` when it matches no later time.
    pub(super) fn next_wall(&self, from: &NaiveDateTime, inclusive: bool) -> Option<NaiveDateTime> {
        self.matcher.next(from, inclusive)
    }

    pub(super) fn describe(&self) -> String {
        if let Some(reworded) = &self.reworded
            && let Ok(cron) = quartz_parser().parse(&reworded.pattern)
        {
            return cron.describe().replace(CRONER_LAST_DAY_WORDS, &reworded.words);
        }
        self.matcher.cron.describe()
    }
}

fn cache() -> &'static Mutex<HashMap<String, Arc<Compiled>>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Compiled>>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// How many patterns the cache holds now.
#[cfg(test)]
pub(super) fn cached_patterns() -> usize {
    cache().lock().unwrap_or_else(|e| e.into_inner()).len()
}

/// The shared parsed pattern for `expr`, parsing it on first use.
pub(super) fn compiled(expr: &str) -> Result<Arc<Compiled>, String> {
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

fn compile(expr: &str) -> Result<Compiled, String> {
    let quartz = quartz::translate(expr)?;
    // translate() writes only what croner reads; a refusal here is a herald bug, reported whole.
    let matcher = Matcher::new(&quartz.croner, quartz.last_day)
        .map_err(|e| format!("herald read it as {:?}, which croner refuses: {e}", quartz.croner))?;
    // A pattern no date matches (31 April, 29 February 2098) would search for years on every call.
    let matches_some_date = if quartz.every_year() {
        // croner would search to year 5000 (13 ms); one Gregorian cycle decides it.
        Matcher::new(&quartz.croner_with_years(GREGORIAN_CYCLE), quartz.last_day)
            .is_ok_and(|cycle| cycle.next(&epoch(), true).is_some())
    } else {
        matcher.next(&epoch(), true).is_some()
    };
    if !matches_some_date {
        return Err(never_matches(&quartz));
    }
    let interval = (0..24).all(|h| matcher.cron.pattern.hour_match(h).unwrap_or(false));
    Ok(Compiled { expr: Arc::from(expr), matcher, reworded: quartz.reworded.map(Box::new), interval })
}

/// 400 years from 1970: the Gregorian calendar (leap years, weekdays, month lengths) repeats
/// every 400 years, so a pattern that matches no date in them matches none ever.
const GREGORIAN_CYCLE: &str = "1970-2369";

fn epoch() -> NaiveDateTime {
    NaiveDateTime::default()
}

fn never_matches(quartz: &Translated) -> String {
    let days = format!(
        "day-of-month {:?}, month {:?} and day-of-week {:?}",
        quartz.field_text(3),
        quartz.field_text(4),
        quartz.field_text(5)
    );
    let some_year_matches = !quartz.every_year()
        && Matcher::new(&quartz.croner_with_years(GREGORIAN_CYCLE), quartz.last_day)
            .is_ok_and(|any_year| any_year.next(&epoch(), true).is_some());
    if some_year_matches {
        format!("no date in year field {:?} matches {days}", quartz.field_text(6))
    } else {
        format!("no date ever matches {days}")
    }
}
