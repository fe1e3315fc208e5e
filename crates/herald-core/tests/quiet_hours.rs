//! Quiet-hours decisions with hand-computed expectations. Instants are written in local time
//! with their UTC offset, so each line can be checked against a calendar and the tz database
//! (Asia/Shanghai is UTC+8 all year; America/New_York goes 02:00 EST -> 03:00 EDT on 2026-03-08
//! and 02:00 EDT -> 01:00 EST on 2026-11-01). Comparison is by instant.

use chrono::{DateTime, NaiveTime, Utc};
use chrono_tz::America::New_York;
use chrono_tz::Asia::Shanghai;
use chrono_tz::Tz;
use herald_core::{QuietDecision, QuietWindow, QuietWindowError, parse_tz};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("{s}: {e}")).with_timezone(&Utc)
}

fn t(s: &str) -> NaiveTime {
    NaiveTime::parse_from_str(s, "%H:%M").unwrap()
}

fn window(start: &str, end: &str, release: &str) -> QuietWindow {
    QuietWindow::new(t(start), t(end), t(release)).unwrap()
}

fn inside(release_at: &str) -> QuietDecision {
    QuietDecision::Inside { release_at: at(release_at) }
}

#[track_caller]
fn check(w: &QuietWindow, tz: Tz, now: &str, expected: QuietDecision) {
    assert_eq!(w.check(at(now), tz), expected, "{w:?} in {tz} at {now}");
}

#[test]
fn default_window_is_austins_night_shield() {
    let w = QuietWindow::default();
    assert_eq!((w.start, w.end, w.release), (t("00:00"), t("08:00"), t("09:00")));
    assert_eq!(w.validate(), Ok(()));
}

#[test]
fn default_window_in_shanghai() {
    let w = QuietWindow::default();
    check(&w, Shanghai, "2026-05-01T23:59:30+08:00", QuietDecision::Outside);
    // 09:00 Shanghai on the same morning is 01:00 UTC.
    check(&w, Shanghai, "2026-05-02T00:00:00+08:00", inside("2026-05-02T01:00:00Z"));
    check(&w, Shanghai, "2026-05-02T03:17:00+08:00", inside("2026-05-02T01:00:00Z"));
    check(&w, Shanghai, "2026-05-02T07:59:59+08:00", inside("2026-05-02T01:00:00Z"));
    check(&w, Shanghai, "2026-05-02T08:00:00+08:00", QuietDecision::Outside);
    check(&w, Shanghai, "2026-05-02T08:30:00+08:00", QuietDecision::Outside);
    check(&w, Shanghai, "2026-05-02T12:00:00+08:00", QuietDecision::Outside);
}

#[test]
fn window_crossing_midnight() {
    let w = window("22:00", "07:00", "07:30");
    check(&w, Shanghai, "2026-05-01T21:59:59+08:00", QuietDecision::Outside);
    check(&w, Shanghai, "2026-05-01T22:00:00+08:00", inside("2026-05-02T07:30:00+08:00"));
    // Evening part: released the next morning.
    check(&w, Shanghai, "2026-05-01T23:00:00+08:00", inside("2026-05-01T23:30:00Z"));
    // Morning part: released the same morning.
    check(&w, Shanghai, "2026-05-02T03:00:00+08:00", inside("2026-05-01T23:30:00Z"));
    check(&w, Shanghai, "2026-05-02T06:59:59+08:00", inside("2026-05-02T07:30:00+08:00"));
    check(&w, Shanghai, "2026-05-02T07:00:00+08:00", QuietDecision::Outside);
    // Between the end and the release: outside, sends go straight out.
    check(&w, Shanghai, "2026-05-02T07:15:00+08:00", QuietDecision::Outside);
    // Across a month and a year end.
    check(&w, Shanghai, "2026-12-31T23:45:00+08:00", inside("2027-01-01T07:30:00+08:00"));
}

#[test]
fn release_before_the_window_start_is_the_next_morning() {
    // 01:00-05:00 releasing at 00:30: the next 00:30 after the window's end is the day after.
    let w = window("01:00", "05:00", "00:30");
    check(&w, Shanghai, "2026-05-02T02:00:00+08:00", inside("2026-05-03T00:30:00+08:00"));
    check(&w, Shanghai, "2026-05-02T00:45:00+08:00", QuietDecision::Outside);
}

#[test]
fn spring_forward_day_in_new_york() {
    let w = QuietWindow::default();
    // 06:30 UTC = 01:30 EST: inside; 09:00 EDT = 13:00 UTC.
    check(&w, New_York, "2026-03-08T06:30:00Z", inside("2026-03-08T13:00:00Z"));
    // The window runs 00:00 EST (05:00 UTC) to 08:00 EDT (12:00 UTC): 7 real hours.
    check(&w, New_York, "2026-03-08T04:59:59Z", QuietDecision::Outside);
    check(&w, New_York, "2026-03-08T05:00:00Z", inside("2026-03-08T09:00:00-04:00"));
    check(&w, New_York, "2026-03-08T07:00:00Z", inside("2026-03-08T13:00:00Z")); // 03:00 EDT
    check(&w, New_York, "2026-03-08T11:59:59Z", inside("2026-03-08T13:00:00Z"));
    check(&w, New_York, "2026-03-08T12:00:00Z", QuietDecision::Outside);
}

#[test]
fn fall_back_day_in_new_york() {
    let w = QuietWindow::default();
    // 05:30 UTC = 01:30 EDT (first occurrence): inside; 09:00 EST = 14:00 UTC.
    check(&w, New_York, "2026-11-01T05:30:00Z", inside("2026-11-01T14:00:00Z"));
    // 06:30 UTC = 01:30 EST (second occurrence): still inside, same release.
    check(&w, New_York, "2026-11-01T06:30:00Z", inside("2026-11-01T14:00:00Z"));
    // The window runs 00:00 EDT (04:00 UTC) to 08:00 EST (13:00 UTC): 9 real hours.
    check(&w, New_York, "2026-11-01T03:59:59Z", QuietDecision::Outside);
    check(&w, New_York, "2026-11-01T04:00:00Z", inside("2026-11-01T14:00:00Z"));
    check(&w, New_York, "2026-11-01T12:59:59Z", inside("2026-11-01T14:00:00Z"));
    check(&w, New_York, "2026-11-01T13:00:00Z", QuietDecision::Outside);
}

#[test]
fn release_in_a_spring_forward_gap_goes_out_when_the_gap_ends() {
    // 02:30 does not exist in New York on 2026-03-08: the first instant after the gap is
    // 03:00 EDT = 07:00 UTC.
    let w = window("00:00", "02:00", "02:30");
    check(&w, New_York, "2026-03-08T07:30:00-04:00", QuietDecision::Outside); // after the window
    check(&w, New_York, "2026-03-08T06:30:00Z", inside("2026-03-08T07:00:00Z")); // 01:30 EST
    check(&w, New_York, "2026-03-08T05:00:00Z", inside("2026-03-08T07:00:00Z")); // 00:00 EST
    // The day before, 02:30 exists: 02:30 EST = 07:30 UTC.
    check(&w, New_York, "2026-03-07T06:30:00Z", inside("2026-03-07T07:30:00Z"));
}

#[test]
fn release_in_a_repeated_hour_goes_out_at_its_first_occurrence_unless_past() {
    let w = window("00:00", "01:20", "01:30");
    // 00:30 EDT: 01:30 occurs at 05:30 UTC (EDT) and 06:30 UTC (EST); the first one.
    check(&w, New_York, "2026-11-01T04:30:00Z", inside("2026-11-01T05:30:00Z"));
    // 01:10 EST (06:10 UTC, the repeated hour's second pass, inside again by the wall clock):
    // 01:30 EDT is past, so 01:30 EST = 06:30 UTC.
    check(&w, New_York, "2026-11-01T06:10:00Z", inside("2026-11-01T06:30:00Z"));
    // 01:25 EDT is outside (after 01:20 on the wall clock).
    check(&w, New_York, "2026-11-01T05:25:00Z", QuietDecision::Outside);
}

#[test]
fn the_same_instant_differs_by_time_zone() {
    let w = QuietWindow::default();
    // 16:00 UTC: 00:00 in Shanghai (inside), 12:00 EDT in New York (outside).
    let now = "2026-05-01T16:00:00Z";
    check(&w, Shanghai, now, inside("2026-05-02T01:00:00Z"));
    check(&w, New_York, now, QuietDecision::Outside);
    // 05:00 UTC: 13:00 in Shanghai (outside), 01:00 EDT in New York (inside, 09:00 EDT = 13:00 UTC).
    let now = "2026-05-01T05:00:00Z";
    check(&w, Shanghai, now, QuietDecision::Outside);
    check(&w, New_York, now, inside("2026-05-01T13:00:00Z"));
    assert_ne!(w.check(at(now), Shanghai), w.check(at(now), parse_tz("America/New_York").unwrap()));
}

#[test]
fn validate_refuses_an_empty_window_and_a_release_inside_it() {
    let new = |s, e, r| QuietWindow::new(t(s), t(e), t(r));
    assert!(matches!(new("08:00", "08:00", "09:00"), Err(QuietWindowError::Empty(ref at)) if at == "08:00"));
    let err = new("00:00", "08:00", "07:00").unwrap_err();
    assert!(matches!(err, QuietWindowError::ReleaseInside { .. }), "{err:?}");
    assert!(err.to_string().contains("07:00") && err.to_string().contains("00:00-08:00"), "{err}");
    // The start is inside (inclusive), the end is not (exclusive).
    assert!(new("00:00", "08:00", "00:00").is_err());
    assert!(new("00:00", "08:00", "08:00").is_ok());
    // Crossing midnight: the evening and the morning parts are both inside.
    assert!(new("22:00", "07:00", "23:00").is_err());
    assert!(new("22:00", "07:00", "03:00").is_err());
    assert!(new("22:00", "07:00", "22:00").is_err());
    assert!(new("22:00", "07:00", "07:00").is_ok());
    assert!(new("22:00", "07:00", "21:59").is_ok());
    // A window built by hand skips `new`; `validate` still catches it, and `check` holds
    // nothing back in an empty window.
    let empty = QuietWindow { start: t("08:00"), end: t("08:00"), release: t("09:00") };
    assert!(empty.validate().is_err());
    assert_eq!(empty.check(at("2026-05-01T00:00:00Z"), Shanghai), QuietDecision::Outside);
}

#[test]
fn parse_tz_reads_a_recipient_column() {
    assert_eq!(parse_tz("Asia/Shanghai"), Some(Shanghai));
    assert_eq!(parse_tz("America/New_York"), Some(New_York));
    assert_eq!(parse_tz("  "), None);
    assert_eq!(parse_tz("Asia/Nowhere"), None);
}
