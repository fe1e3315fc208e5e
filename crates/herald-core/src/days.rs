//! Calendar days in a time zone: the instant one starts, for filters and reports that take a
//! day as people name it.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// The first instant of `day` in `zone` (a day that starts in a gap of the zone's clock starts
/// at the first instant after it).
pub fn day_start(day: NaiveDate, zone: Tz) -> DateTime<Utc> {
    zone.from_local_datetime(&day.and_time(NaiveTime::MIN))
        .earliest()
        .or_else(|| zone.from_local_datetime(&day.and_hms_opt(1, 0, 0)?).earliest())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| day.and_time(NaiveTime::MIN).and_utc())
}

/// `[start, end)` of `day` in `zone`.
pub fn day_span(day: NaiveDate, zone: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    let next = day.succ_opt().unwrap_or(day);
    (day_start(day, zone), day_start(next, zone))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_starts_at_local_midnight_or_just_after_a_gap() {
        let may1 = NaiveDate::from_ymd_opt(2026, 5, 1).unwrap();
        let (start, end) = day_span(may1, chrono_tz::Asia::Shanghai);
        assert_eq!(start.to_rfc3339(), "2026-04-30T16:00:00+00:00");
        assert_eq!(end.to_rfc3339(), "2026-05-01T16:00:00+00:00");
        // Santiago skipped 00:00-01:00 on 2026-09-06: the day starts at 01:00 local.
        let gap = NaiveDate::from_ymd_opt(2026, 9, 6).unwrap();
        assert_eq!(day_start(gap, chrono_tz::America::Santiago).to_rfc3339(), "2026-09-06T04:00:00+00:00");
    }
}
