//! When a schedule fires: its times (a cron's, a fixed rate's, a fixed delay's), none after its
//! end date, none on its excluded dates (holidays, read in the schedule's time zone) and none in
//! its excluded daily windows, as Quartz's holiday and daily calendars do.

use super::{CronSchedule, DailyWindow};
use chrono::{DateTime, Days, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use std::collections::BTreeSet;

/// The most dates a schedule may exclude.
pub const MAX_EXCLUDED_DATES: usize = 1_000;

/// The times a schedule's fires come at, before its end and excluded days are taken out.
#[derive(Clone)]
pub enum Times {
    /// A cron expression's times.
    Cron(CronSchedule),
    /// Every `period` on the grid through `anchor` (a fixed rate).
    Every { period: Duration, anchor: DateTime<Utc> },
    /// `wait` after the time it is asked from (a fixed delay: asked from a run's end).
    After { wait: Duration },
    /// No more times (a one-off that has fired, or a schedule fired only on demand).
    Never,
}

impl Times {
    fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Self::Cron(cron) => cron.next_after(after),
            Self::Every { period, anchor } => {
                let period_ms = period.num_milliseconds().max(1);
                let steps = (after - *anchor).num_milliseconds().div_euclid(period_ms) + 1;
                anchor.checked_add_signed(Duration::milliseconds(steps.checked_mul(period_ms)?))
            }
            Self::After { wait } => after.checked_add_signed(*wait),
            Self::Never => None,
        }
    }
}

#[derive(Clone)]
pub struct Timetable {
    pub times: Times,
    /// The zone excluded days are read in.
    pub tz: Tz,
    /// No fire after this, when set.
    pub end: Option<DateTime<Utc>>,
    /// No fire on these days of the schedule's time zone.
    pub excluded: BTreeSet<NaiveDate>,
    /// No fire in these times of day of the schedule's time zone.
    pub windows: Vec<DailyWindow>,
}

/// The most skips (an excluded day, or the rest of an excluded window) one `next_after` makes
/// beyond one per excluded date: a schedule whose every time falls in a window has no fire.
const MAX_WINDOW_SKIPS: usize = 2_000;

impl Timetable {
    /// The cron's times alone.
    pub fn of(cron: CronSchedule) -> Self {
        let tz = cron.timezone();
        Self::new(Times::Cron(cron), tz)
    }

    /// `times` alone, excluded days read in `tz`.
    pub fn new(times: Times, tz: Tz) -> Self {
        Self { times, tz, end: None, excluded: BTreeSet::new(), windows: Vec::new() }
    }

    /// The first fire strictly after `after`; None when the schedule has no more.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let tz = self.tz;
        let mut from = after;
        // Each turn skips a whole excluded day or the rest of a window, so this ends within as
        // many turns as there are excluded dates, plus the window skips allowed.
        for _ in 0..=self.excluded.len() + MAX_WINDOW_SKIPS {
            let next = self.times.next_after(from)?;
            if self.end.is_some_and(|end| next > end) {
                return None;
            }
            let local = next.with_timezone(&tz).naive_local();
            let day = local.date();
            if self.excluded.contains(&day) {
                // On to the last instant of that day in the schedule's zone.
                from = start_of(day.checked_add_days(Days::new(1))?, tz)? - chrono::Duration::milliseconds(1);
                continue;
            }
            let Some(window) = self.windows.iter().find(|w| w.contains(local.time())) else { return Some(next) };
            // On to the last instant before the window ends (or just past this time, should a
            // clock change put the end before it).
            let end = instant_of(window.end_after(local)?, tz);
            from = if end > next { end - Duration::milliseconds(1) } else { next };
        }
        None
    }
}

/// The instant of local `at` in `tz`: its earlier one when clocks go back, and an hour on when
/// it falls in the hour clocks skip.
fn instant_of(at: chrono::NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    let local =
        at.and_local_timezone(tz).earliest().or_else(|| (at + Duration::hours(1)).and_local_timezone(tz).earliest());
    local.map_or_else(|| at.and_utc(), |t| t.with_timezone(&Utc))
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
        let t = Timetable { excluded: [date("2026-10-01"), date("2026-10-02")].into(), ..Timetable::of(cron) };
        assert_eq!(t.next_after(utc("2026-09-30T02:00:00Z")), Some(utc("2026-10-03T01:00:00Z")));
        assert_eq!(t.next_after(utc("2026-09-29T02:00:00Z")), Some(utc("2026-09-30T01:00:00Z")));
    }

    #[test]
    fn a_frequent_cron_jumps_over_the_whole_day() {
        let cron = CronSchedule::parse("0 * * * * ?", "Asia/Shanghai").unwrap();
        let t = Timetable { excluded: [date("2026-10-01")].into(), ..Timetable::of(cron) };
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
        let t = Timetable { excluded: [date("2026-09-05")].into(), ..Timetable::of(cron) };
        let next = t.next_after(utc("2026-09-04T20:00:00Z")).expect("a fire after the excluded day");
        let local = next.with_timezone(&chrono_tz::America::Santiago);
        assert_eq!(local.format("%F %T").to_string(), "2026-09-06 09:00:00");
        let start = start_of(date("2026-09-06"), chrono_tz::America::Santiago).unwrap();
        assert!(start <= next && start > utc("2026-09-05T12:00:00Z"), "{start}");
    }

    #[test]
    fn fires_in_an_excluded_window_of_the_day_are_skipped() {
        let hourly = CronSchedule::parse("0 0 * * * ?", "Asia/Shanghai").unwrap();
        let night: DailyWindow = serde_json::from_value(serde_json::json!({"from": "22:00", "to": "06:00"})).unwrap();
        let t = Timetable { windows: vec![night], ..Timetable::of(hourly) };
        // 21:30 in Shanghai: 22:00 to 05:00 are in the night, 06:00 (22:00 UTC) is the next.
        assert_eq!(t.next_after(utc("2026-05-01T12:30:00Z")), Some(utc("2026-05-01T13:00:00Z")), "21:00 is outside");
        assert_eq!(t.next_after(utc("2026-05-01T13:30:00Z")), Some(utc("2026-05-01T22:00:00Z")));
        assert_eq!(t.next_after(utc("2026-05-01T18:00:00Z")), Some(utc("2026-05-01T22:00:00Z")));
        let nightly = CronSchedule::parse("0 0 23 * * ?", "Asia/Shanghai").unwrap();
        let t = Timetable { windows: vec![night], ..Timetable::of(nightly) };
        assert_eq!(t.next_after(utc("2026-05-01T00:00:00Z")), None, "every fire is in the window");
    }

    #[test]
    fn the_end_and_an_all_excluded_year_stop_it() {
        let cron = CronSchedule::parse("0 0 9 1 1 ? 2027", "UTC").unwrap();
        let t = Timetable { excluded: [date("2027-01-01")].into(), ..Timetable::of(cron.clone()) };
        assert_eq!(t.next_after(utc("2026-01-01T00:00:00Z")), None, "its only fire is excluded");
        let t = Timetable { end: Some(utc("2026-12-31T00:00:00Z")), ..Timetable::of(cron) };
        assert_eq!(t.next_after(utc("2026-01-01T00:00:00Z")), None, "after the end");
    }

    #[test]
    fn a_fixed_rate_keeps_its_grid_and_a_fixed_delay_waits_from_when_it_is_asked() {
        let anchor = utc("2026-05-01T10:00:00Z");
        let every = Timetable::new(Times::Every { period: Duration::seconds(30), anchor }, chrono_tz::UTC);
        assert_eq!(every.next_after(anchor), Some(utc("2026-05-01T10:00:30Z")));
        assert_eq!(every.next_after(utc("2026-05-01T10:07:45Z")), Some(utc("2026-05-01T10:08:00Z")));
        assert_eq!(every.next_after(utc("2026-05-01T09:59:59Z")), Some(anchor), "before the anchor too");
        let mut excluded = every.clone();
        excluded.excluded = [date("2026-05-02")].into();
        assert_eq!(excluded.next_after(utc("2026-05-01T23:59:50Z")), Some(utc("2026-05-03T00:00:00Z")));
        let after = Timetable::new(Times::After { wait: Duration::minutes(5) }, chrono_tz::UTC);
        assert_eq!(after.next_after(anchor), Some(utc("2026-05-01T10:05:00Z")));
        assert_eq!(Timetable::new(Times::Never, chrono_tz::UTC).next_after(anchor), None);
    }
}
