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
            let following = day.checked_add_days(Days::new(1))?;
            let midnight = following.and_hms_opt(0, 0, 0)?.and_local_timezone(tz).earliest()?;
            from = midnight.with_timezone(&Utc) - chrono::Duration::milliseconds(1);
        }
        None
    }
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
    fn the_end_and_an_all_excluded_year_stop_it() {
        let cron = CronSchedule::parse("0 0 9 1 1 ? 2027", "UTC").unwrap();
        let t = Timetable { cron: cron.clone(), end: None, excluded: [date("2027-01-01")].into() };
        assert_eq!(t.next_after(utc("2026-01-01T00:00:00Z")), None, "its only fire is excluded");
        let t = Timetable { cron, end: Some(utc("2026-12-31T00:00:00Z")), excluded: BTreeSet::new() };
        assert_eq!(t.next_after(utc("2026-01-01T00:00:00Z")), None, "after the end");
    }
}
