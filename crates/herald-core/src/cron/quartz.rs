//! Reads a Quartz cron expression field by field: every rule of the dialect is checked here, a
//! refusal names the field and the value at fault, and the result is the pattern croner matches.
//! Quartz forms that croner reads differently, or not at all, are rewritten on the way: ranges that
//! wrap past a field's maximum (`22-2`, `FRI-MON`), year steps (Quartz counts them from 1970), and
//! `L-n` / `L-nW`, which croner cannot express and [`LastDayOffset`] matches instead.

use chrono::{Datelike, NaiveDate, Weekday};

/// The longest expression herald reads. The Quartz expressions people write fit in 60 bytes; the
/// cap keeps stored schedules and the messages that quote them small.
pub const MAX_EXPRESSION_BYTES: usize = 256;

/// croner's words for `L` in day-of-month, which herald rewords for `LW`, `L-n` and `L-nW`.
pub(super) const CRONER_LAST_DAY_WORDS: &str = "the last day of the month";

const MONTH_NAMES: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAY_NAMES: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Seconds,
    Minutes,
    Hours,
    DayOfMonth,
    Month,
    DayOfWeek,
    Year,
}

const FIELDS: [Field; 7] =
    [Field::Seconds, Field::Minutes, Field::Hours, Field::DayOfMonth, Field::Month, Field::DayOfWeek, Field::Year];

impl Field {
    fn name(self) -> &'static str {
        match self {
            Field::Seconds => "seconds",
            Field::Minutes => "minutes",
            Field::Hours => "hours",
            Field::DayOfMonth => "day-of-month",
            Field::Month => "month",
            Field::DayOfWeek => "day-of-week",
            Field::Year => "year",
        }
    }

    /// The smallest and largest value; years are capped at Quartz's documented 1970-2099.
    fn bounds(self) -> (u32, u32) {
        match self {
            Field::Seconds | Field::Minutes => (0, 59),
            Field::Hours => (0, 23),
            Field::DayOfMonth => (1, 31),
            Field::Month => (1, 12),
            Field::DayOfWeek => (1, 7),
            Field::Year => (1970, 2099),
        }
    }

    /// The largest step; Quartz refuses larger ones ("Increment > 60") and has no limit for years.
    fn max_step(self) -> u32 {
        if self == Field::Year { 2099 } else { self.bounds().1 }
    }

    fn names(self) -> &'static [&'static str] {
        match self {
            Field::Month => &MONTH_NAMES,
            Field::DayOfWeek => &DAY_NAMES,
            _ => &[],
        }
    }

    /// What the field accepts, quoted at the end of a refusal.
    fn allowed(self) -> &'static str {
        match self {
            Field::Seconds | Field::Minutes => "0-59, with , - * /",
            Field::Hours => "0-23, with , - * /",
            Field::DayOfMonth => "1-31 with , - * /, or alone: ?, L, LW, L-n, L-nW, nW",
            Field::Month => "1-12 or JAN-DEC, with , - * /",
            Field::DayOfWeek => "1-7 with 1 = Sunday, or SUN-SAT, with , - * /; or alone: ?, L, nL, n#k",
            Field::Year => "1970-2099, with , - * /",
        }
    }
}

/// Quartz's `L-n` (n days before the last day of the month) and `L-nW` (the weekday nearest that
/// day, never leaving the month).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct LastDayOffset {
    days_before: u32,
    nearest_weekday: bool,
}

impl LastDayOffset {
    /// The day of the month this names, or `None` in a month too short for it (`L-30` in
    /// February). Quartz 2.3.2 skips such a month for `L-n` and loops for `L-nW`; herald skips it.
    pub(super) fn day_in(self, year: i32, month: u32) -> Option<u32> {
        let last = last_day_of_month(year, month)?;
        let day = last.checked_sub(self.days_before).filter(|d| *d >= 1)?;
        if !self.nearest_weekday {
            return Some(day);
        }
        // Quartz's nearest-weekday rule: Saturday moves back a day unless that leaves the month,
        // Sunday moves forward a day unless that leaves the month.
        Some(match NaiveDate::from_ymd_opt(year, month, day)?.weekday() {
            Weekday::Sat if day == 1 => 3,
            Weekday::Sat => day - 1,
            Weekday::Sun if day == last => day - 2,
            Weekday::Sun => day + 1,
            _ => day,
        })
    }

    /// The words that replace croner's for `L` when the pattern is described.
    fn words(self) -> String {
        let days = if self.days_before == 1 { "1 day".to_string() } else { format!("{} days", self.days_before) };
        let day = format!("the day {days} before the last day of the month");
        if self.nearest_weekday { format!("the weekday nearest {day}") } else { day }
    }
}

fn last_day_of_month(year: i32, month: u32) -> Option<u32> {
    let first_of_next = if month == 12 {
        NaiveDate::from_ymd_opt(year.checked_add(1)?, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    }?;
    first_of_next.pred_opt().map(|d| d.day())
}

/// A pattern croner describes with `L` in day-of-month, and the words to put in place of
/// croner's for it (croner words `LW` as plain `L` and has no `L-n`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Reworded {
    pub(super) pattern: String,
    pub(super) words: String,
}

/// A Quartz expression, checked and rewritten for croner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Translated {
    /// The pattern croner matches (6 or 7 fields, numbers only, no wrapping ranges).
    pub(super) croner: String,
    /// `L-n` or `L-nW`; croner then matches every day and herald keeps the day this names.
    pub(super) last_day: Option<LastDayOffset>,
    pub(super) reworded: Option<Reworded>,
    /// The fields as written, in upper case, for messages.
    pub(super) fields: Vec<String>,
}

impl Translated {
    pub(super) fn field_text(&self, index: usize) -> &str {
        self.fields.get(index).map_or("", String::as_str)
    }

    /// The croner pattern with its year field (if any) replaced by `years`.
    pub(super) fn croner_with_years(&self, years: &str) -> String {
        let fields: Vec<&str> = self.croner.split(' ').take(6).collect();
        format!("{} {years}", fields.join(" "))
    }

    /// True when the year field is absent or `*`.
    pub(super) fn every_year(&self) -> bool {
        self.croner.split(' ').nth(6).is_none_or(|year| year == "*")
    }
}

/// Checks `expr` against the Quartz dialect and writes the croner pattern for it. The refusal
/// names the field and quotes its value.
pub(super) fn translate(expr: &str) -> Result<Translated, String> {
    let fields: Vec<String> = expr.split_whitespace().map(str::to_uppercase).collect();
    check_field_count(fields.len())?;
    let mut croner = Vec::with_capacity(fields.len());
    let mut last_day = None;
    let mut last_day_words = None;
    for (field, text) in FIELDS.into_iter().zip(&fields) {
        let refused =
            |reason: String| format!("{} field {text:?}: {reason} (allowed: {})", field.name(), field.allowed());
        if (text.contains('?') && text != "?")
            || (text == "?" && !matches!(field, Field::DayOfMonth | Field::DayOfWeek))
        {
            return Err(question_mark_misuse(field, text));
        }
        let written = match field {
            Field::DayOfMonth => {
                let day = day_of_month(text).map_err(refused)?;
                last_day = day.last_day;
                last_day_words = day.words;
                day.croner
            }
            Field::DayOfWeek => day_of_week(text).map_err(refused)?,
            _ => plain_field(field, text).map_err(refused)?,
        };
        croner.push(written);
    }
    check_day_fields(&fields[3], &fields[5])?;
    let croner_text = croner.join(" ");
    let reworded = last_day_words.map(|words| {
        croner[3] = "L".to_string();
        Reworded { pattern: croner.join(" "), words }
    });
    Ok(Translated { croner: croner_text, last_day, reworded, fields })
}

fn check_field_count(count: usize) -> Result<(), String> {
    match count {
        0 => Err("the expression is empty".to_string()),
        5 => Err("it has 5 fields, a Unix cron expression; herald uses the Quartz dialect with a seconds field: \
                  'seconds minutes hours day-of-month month day-of-week [year]', e.g. '0 30 9 ? * MON-FRI'"
            .to_string()),
        6 | 7 => Ok(()),
        n => Err(format!(
            "it has {n} fields; the Quartz dialect needs 6 or 7: \
             'seconds minutes hours day-of-month month day-of-week [year]'"
        )),
    }
}

fn question_mark_misuse(field: Field, text: &str) -> String {
    if matches!(field, Field::DayOfMonth | Field::DayOfWeek) {
        format!("{} field {text:?}: '?' must stand alone", field.name())
    } else {
        format!("{} field {text:?}: '?' is only allowed in day-of-month or day-of-week", field.name())
    }
}

/// Quartz needs `?` in exactly one day field. herald also reads `*` as "any day" there, so
/// `0 0 12 * * *` works as Unix users expect, but refuses two fields that both name days.
fn check_day_fields(day_of_month: &str, day_of_week: &str) -> Result<(), String> {
    let any_day = |f: &str| f == "*" || f == "?";
    if day_of_month == "?" && day_of_week == "?" {
        return Err("day-of-month (\"?\") and day-of-week (\"?\") are both '?'; name days in one of them, \
                    or write '*' in day-of-month for every day"
            .to_string());
    }
    if !any_day(day_of_month) && !any_day(day_of_week) {
        return Err(format!(
            "both day-of-month ({day_of_month:?}) and day-of-week ({day_of_week:?}) name days; \
             the Quartz dialect needs '?' in one of them"
        ));
    }
    Ok(())
}

struct DayOfMonth {
    croner: String,
    last_day: Option<LastDayOffset>,
    /// Words for describe() where croner's wording of the pattern's `L` would be wrong.
    words: Option<String>,
}

fn day_of_month(text: &str) -> Result<DayOfMonth, String> {
    let plain = |croner: String| DayOfMonth { croner, last_day: None, words: None };
    match text {
        "?" | "L" => return Ok(plain(text.to_string())),
        "LW" => {
            return Ok(DayOfMonth {
                croner: "LW".to_string(),
                last_day: None,
                words: Some("the last weekday of the month".to_string()),
            });
        }
        _ => {}
    }
    if text.contains('L') && text.contains(',') {
        return Err("'L' cannot be combined with other days in a list (Quartz does not support it)".to_string());
    }
    if let Some(rest) = text.strip_prefix("L-") {
        let (digits, nearest_weekday) = match rest.strip_suffix('W') {
            Some(digits) => (digits, true),
            None => (rest, false),
        };
        let days_before = small_number(digits)
            .filter(|n| *n <= 30)
            .ok_or_else(|| format!("L-n takes 0 to 30 days before the last day of the month, not {digits:?}"))?;
        if days_before == 0 {
            return day_of_month(if nearest_weekday { "LW" } else { "L" });
        }
        let offset = LastDayOffset { days_before, nearest_weekday };
        return Ok(DayOfMonth { croner: "*".to_string(), last_day: Some(offset), words: Some(offset.words()) });
    }
    if text.contains('L') {
        return Err("'L' stands alone in day-of-month, or as LW, L-n or L-nW".to_string());
    }
    if text.contains('W') {
        let day = text
            .strip_suffix('W')
            .filter(|day| !day.contains([',', '-', '/', '*', 'W']))
            .ok_or("'W' (nearest weekday) takes a single day, as in 15W; not a list, range or step")?;
        return Ok(plain(format!("{}W", value(Field::DayOfMonth, day)?)));
    }
    plain_field(Field::DayOfMonth, text).map(plain)
}

fn day_of_week(text: &str) -> Result<String, String> {
    match text {
        "?" => return Ok("?".to_string()),
        // Quartz: "L" alone in day-of-week is the last day of the week, Saturday.
        "L" => return Ok("7".to_string()),
        _ => {}
    }
    let single_day = |day: &str, form: &str, example: &str| {
        if day.contains(['-', '/', '*', ',']) {
            Err(format!("{form} takes a single day, as in {example}"))
        } else {
            value(Field::DayOfWeek, day)
        }
    };
    if text.contains(',') && text.contains(['L', '#']) {
        return Err("'L' and '#' take a single day and cannot be combined with other days in a list".to_string());
    }
    if let Some(day) = text.strip_suffix('L') {
        return Ok(format!("{}L", single_day(day, "nL", "6L (the last Friday)")?));
    }
    if let Some((day, nth)) = text.split_once('#') {
        let day = single_day(day, "n#k", "6#3 (the third Friday)")?;
        let nth = small_number(nth)
            .filter(|k| (1..=5).contains(k))
            .ok_or_else(|| format!("the k in n#k (the k-th such day of the month) must be 1-5, not {nth:?}"))?;
        return Ok(format!("{day}#{nth}"));
    }
    plain_field(Field::DayOfWeek, text)
}

/// A comma-separated list of `*`, `v`, `a-b` and their `/step` forms, written for croner.
fn plain_field(field: Field, text: &str) -> Result<String, String> {
    let mut written = Vec::new();
    let mut every = false;
    for text in text.split(',') {
        let item = Item::parse(field, text)?;
        every |= item.from.is_none() && item.step.is_none();
        written.push(item.croner_text(field, text)?);
    }
    // croner reads `*` only as a whole field, and a list holding `*` is every value anyway.
    Ok(if every { "*".to_string() } else { written.join(",") })
}

/// One item of a list. `from: None` is `*` (or an empty start before `/`, which Quartz reads as
/// `*`); `to` ends a range; a range whose end is below its start wraps past the field's maximum.
#[derive(Debug, Clone, Copy)]
struct Item {
    from: Option<u32>,
    to: Option<u32>,
    step: Option<u32>,
}

impl Item {
    fn parse(field: Field, text: &str) -> Result<Item, String> {
        if text.is_empty() {
            return Err("an empty item in the list".to_string());
        }
        let (range, step) = match text.split_once('/') {
            Some((range, _)) if field.names().iter().any(|name| range.contains(name)) => {
                return Err(format!(
                    "Quartz ignores a step after a name and reads {text} as {range}; write the step with \
                     numbers (2-6/2 is Monday, Wednesday and Friday; 1/3 is January, April, July and October)"
                ));
            }
            Some((range, step)) => (range, Some(step_value(field, step)?)),
            None => (text, None),
        };
        let (from, to) = match range.split_once('-') {
            _ if range == "*" || (range.is_empty() && step.is_some()) => (None, None),
            Some((start, end)) => (Some(value(field, start)?), Some(value(field, end)?)),
            // Quartz counts a year step from its start, even one before 1970 (`1/5`: 2026, 2031).
            None if field == Field::Year && step.is_some() => (Some(year_step_start(range)?), None),
            None => (Some(value(field, range)?), None),
        };
        if let (Field::Year, Some(start), Some(end)) = (field, from, to)
            && end < start
        {
            return Err(format!("a year range must run forwards, but {start} is after {end}"));
        }
        Ok(Item { from, to, step })
    }

    fn croner_text(self, field: Field, text: &str) -> Result<String, String> {
        let (min, max) = field.bounds();
        if field == Field::Year {
            return year_text(self, text);
        }
        Ok(match (self.from, self.to, self.step) {
            (None, _, None) => "*".to_string(),
            (None, _, Some(step)) => format!("*/{step}"),
            (Some(start), None, None) => start.to_string(),
            (Some(start), None, Some(step)) => format!("{start}/{step}"),
            (Some(start), Some(end), None) if start <= end => format!("{start}-{end}"),
            (Some(start), Some(end), None) => format!("{},{}", span_text(start, max), span_text(min, end)),
            (Some(start), Some(end), Some(step)) if start <= end => format!("{start}-{end}/{step}"),
            (Some(start), Some(end), Some(step)) => {
                wrapped_values(field, start, end, step).iter().map(u32::to_string).collect::<Vec<_>>().join(",")
            }
        })
    }
}

fn span_text(start: u32, end: u32) -> String {
    if start == end { start.to_string() } else { format!("{start}-{end}") }
}

/// The values of `start-end/step` with `end < start`, as Quartz counts them: on past the field's
/// maximum and round to its minimum (hours `22-2/2` is 22, 0, 2).
fn wrapped_values(field: Field, start: u32, end: u32, step: u32) -> Vec<u32> {
    let (min, max) = field.bounds();
    let span = max - min + 1;
    let mut values: Vec<u32> =
        (start..=end + span).step_by(step as usize).map(|v| if v > max { v - span } else { v }).collect();
    values.sort_unstable();
    values.dedup();
    values
}

/// A year item for croner, whose own year steps count from year 1: Quartz counts `*/10` from
/// 1970 (2030, 2040) and `a/s` from `a`.
fn year_text(item: Item, text: &str) -> Result<String, String> {
    let (min, max) = Field::Year.bounds();
    let Some(step) = item.step else {
        return Ok(match (item.from, item.to) {
            (Some(start), Some(end)) => span_text(start, end),
            (Some(year), None) => year.to_string(),
            (None, _) => "*".to_string(),
        });
    };
    let start = item.from.unwrap_or(min);
    let end = item.to.unwrap_or(max);
    let first = if start >= min { start } else { start + (min - start).div_ceil(step) * step };
    if first > end {
        return Err(format!("{text:?} names no year in {min}-{max}"));
    }
    Ok(if first == end { first.to_string() } else { format!("{first}-{end}/{step}") })
}

fn year_step_start(text: &str) -> Result<u32, String> {
    let max = Field::Year.bounds().1;
    match small_number(text) {
        Some(year) if year <= max => Ok(year),
        Some(_) => Err(format!("{text} is outside 1970-{max}")),
        None => Err(format!("{text:?} is not a year")),
    }
}

/// A number or (for months and days of the week) a name, within the field's bounds.
fn value(field: Field, text: &str) -> Result<u32, String> {
    let (min, max) = field.bounds();
    let number = if text.bytes().all(|b| b.is_ascii_digit()) && !text.is_empty() {
        // Too many digits for a u32 is out of range too.
        text.parse::<u32>().unwrap_or(u32::MAX)
    } else if let Some(index) = field.names().iter().position(|name| *name == text) {
        index as u32 + 1
    } else {
        let what = match field {
            Field::Month => "a month",
            Field::DayOfWeek => "a day of the week",
            Field::Year => "a year",
            _ => "a number",
        };
        return Err(format!("{text:?} is not {what}"));
    };
    if (min..=max).contains(&number) { Ok(number) } else { Err(format!("{text} is outside {min}-{max}")) }
}

fn step_value(field: Field, text: &str) -> Result<u32, String> {
    match small_number(text) {
        Some(0) => Err("step 0 never moves on; use 1 or more".to_string()),
        Some(step) if step <= field.max_step() => Ok(step),
        Some(_) => Err(format!("step {text} is larger than {}", field.max_step())),
        None if text.is_empty() => Err("'/' must be followed by a step".to_string()),
        None => Err(format!("step {text:?} is not a number")),
    }
}

/// A run of at most 9 digits (anything longer is out of every field's range).
fn small_number(text: &str) -> Option<u32> {
    if text.is_empty() || text.len() > 9 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn croner(expr: &str) -> String {
        translate(expr).unwrap().croner
    }

    #[test]
    fn wrapping_ranges_become_two_ranges_or_the_values_quartz_counts() {
        assert_eq!(croner("50-10 0 22-2 28-3 NOV-FEB ?"), "50-59,0-10 0 22-23,0-2 28-31,1-3 11-12,1-2 ?");
        assert_eq!(croner("0 0 22-2/2 ? * FRI-MON"), "0 0 0,2,22 ? * 6-7,1-2");
        assert_eq!(croner("0 0 23-0 ? * SAT-SUN"), "0 0 23,0 ? * 7,1");
        assert_eq!(croner("50-10/20 0 0 28-3/2 * ?"), "10,50 0 0 1,3,28,30 * ?");
    }

    #[test]
    fn year_steps_count_from_1970_or_their_start() {
        assert_eq!(croner("0 0 12 1 1 ? */10"), "0 0 12 1 1 ? 1970-2099/10");
        assert_eq!(croner("0 0 12 1 1 ? 1/5"), "0 0 12 1 1 ? 1971-2099/5");
        assert_eq!(croner("0 0 12 1 1 ? 2030/10"), "0 0 12 1 1 ? 2030-2099/10");
        assert_eq!(croner("0 0 12 1 1 ? 2030-2050/7"), "0 0 12 1 1 ? 2030-2050/7");
        assert_eq!(croner("0 0 12 1 1 ? 2099/5"), "0 0 12 1 1 ? 2099");
    }

    #[test]
    fn last_day_offsets_name_their_day() {
        let l3 = LastDayOffset { days_before: 3, nearest_weekday: false };
        assert_eq!(l3.day_in(2026, 1), Some(28));
        assert_eq!(l3.day_in(2026, 2), Some(25));
        assert_eq!(l3.day_in(2028, 2), Some(26));
        let l30 = LastDayOffset { days_before: 30, nearest_weekday: false };
        assert_eq!(l30.day_in(2026, 1), Some(1));
        assert_eq!(l30.day_in(2026, 4), None);
        // 2026-02-28 is a Saturday: L-0W would be Friday 27th; L-27W is the 1st, a Sunday -> 2nd.
        let w27 = LastDayOffset { days_before: 27, nearest_weekday: true };
        assert_eq!(w27.day_in(2026, 2), Some(2));
        // 2026-08-01 is a Saturday: L-30W in August is Monday 3rd, not 31 July.
        let w30 = LastDayOffset { days_before: 30, nearest_weekday: true };
        assert_eq!(w30.day_in(2026, 8), Some(3));
        assert_eq!(translate("0 0 12 L-3 * ?").unwrap().croner, "0 0 12 * * ?");
        assert_eq!(translate("0 0 12 L-0W * ?").unwrap().croner, "0 0 12 LW * ?");
    }
}
