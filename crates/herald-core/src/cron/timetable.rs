//! When a schedule fires: its cron's times, none after its end date and none on its excluded
//! dates (holidays, read in the schedule's time zone), as a calendar of excluded days does in
//! Quartz.

use super::CronSchedule;
use chrono::{DateTime, Days, NaiveDate, Utc};
use std::collections::BTreeSet;

/// The most dates a schedule may exclude.
pub const MAX_EXCLUDED_DATES: usize = 1_000;

#[derive(Clone)]
pub struct Timetable {
    pub cron: CronSchedule,
    /// No fire after this, when set.
    pub end: Option<DateTime<Utc>>,
    /// No fire on these days of the schedule's time zone.
    pub excluded: BTreeSet<NaiveDate>,
}

impl Timetable {
    /// The cron's times alone.
    pub fn of(cron: CronSchedule) -> Self {
        Self { cron, end: None, excluded: BTreeSet::new() }
    }

    /// The first fire strictly after `after`; None when the schedule has no more.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let tz = self.cron.timezone();
        let mut from = after;
        // Each turn skips a whole excluded day, so this ends within as many turns as there are
        // excluded dates (plus one).
        for _ in 0..=self.excluded.len() {
            let next = self.cron.next_after(from)?;
            if self.end.is_some_and(|end| next > end) {
                return None;
            }
            let day = next.with_timezone(&tz).date_naive();
            if !self.excluded.contains(&day) {
                return Some(next);
            }
            // On to the last instant of that day in the schedule's zone.
            from = start_of(day.checked_add_days(Days::new(1))?, tz)? - chrono::Duration::milliseconds(1);
        }
        None
    }
}

/// The first instant of `day` in `tz`: its midnight, or where a zone whose clocks jump at
/// midnight (Chile, Lebanon) starts the day instead.
fn start_of(day: NaiveDate, tz: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    (0..=3)
        .find_map(|hour| day.and_hms_opt(hour, 0, 0)?.and_local_timezone(tz).earliest())
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn excluded_days_of_the_schedules_zone_are_skipped() {
        // 09:00 in Shanghai is 01:00 UTC; 1 and 2 October are holidays there.
        let cron = CronSchedule::parse("0 0 9 * * ?", "Asia/Shanghai").unwrap();
        let t = Timetable { cron, end: None, excluded: [date("2026-10-01"), date("2026-10-02")].into() };
        assert_eq!(t.next_after(utc("2026-09-30T02:00:00Z")), Some(utc("2026-10-03T01:00:00Z")));
        assert_eq!(t.next_after(utc("2026-09-29T02:00:00Z")), Some(utc("2026-09-30T01:00:00Z")));
    }

    #[test]
    fn a_frequent_cron_jumps_over_the_whole_day() {
        let cron = CronSchedule::parse("0 * * * * ?", "Asia/Shanghai").unwrap();
        let t = Timetable { cron, end: None, excluded: [date("2026-10-01")].into() };
        // 23:59 on 30 September in Shanghai, then the next minute is 1 October: skipped whole.
        assert_eq!(t.next_after(utc("2026-09-30T15:58:30Z")), Some(utc("2026-09-30T15:59:00Z")));
        assert_eq!(t.next_after(utc("2026-09-30T15:59:00Z")), Some(utc("2026-10-01T16:00:00Z")));
    }

    #[test]
    fn a_day_that_starts_after_a_midnight_gap_is_still_reached() {
        // Santiago's clocks jump from 24:00 on 5 September 2026 to 01:00 on the 6th.
        let midnight = date("2026-09-06").and_hms_opt(0, 0, 0).unwrap();
        assert!(midnight.and_local_timezone(chrono_tz::America::Santiago).earliest().is_none(), "no such midnight");
        let cron = CronSchedule::parse("0 0 9 * * ?", "America/Santiago").unwrap();
        let t = Timetable { cron, end: None, excluded: [date("2026-09-05")].into() };
        let next = t.next_after(utc("2026-09-04T20:00:00Z")).expect("a fire after the excluded day");
        let local = next.with_timezone(&chrono_tz::America::Santiago);
        assert_eq!(local.format("%F %T").to_string(), "2026-09-06 09:00:00");
        let start = start_of(date("2026-09-06"), chrono_tz::America::Santiago).unwrap();
        assert!(start <= next && start > utc("2026-09-05T12:00:00Z"), "{start}");
    }

    #[test]
    fn the_end_and_an_all_excluded_year_stop_it() {
        let cron = CronSchedule::parse("0 0 9 1 1 ? 2027", "UTC").unwrap();
        let t = Timetable { cron: cron.clone(), end: None, excluded: [date("2027-01-01")].into() };
        assert_eq!(t.next_after(utc("2026-01-01T00:00:00Z")), None, "its only fire is excluded");
        let t = Timetable { cron, end: Some(utc("2026-12-31T00:00:00Z")), excluded: BTreeSet::new() };
        assert_eq!(t.next_after(utc("2026-01-01T00:00:00Z")), None, "after the end");
    }
}
