//! Table tests for herald's Quartz cron schedules. Every expected fire time was worked out by hand
//! from a calendar (2026-01-01 is a Thursday) and the tz database's DST dates (America/New_York:
//! 2026-03-08 02:00 EST -> 03:00 EDT and 2026-11-01 02:00 EDT -> 01:00 EST; Europe/London:
//! 2026-03-29 01:00 GMT -> 02:00 BST and 2026-10-25 02:00 BST -> 01:00 GMT), never copied from
//! the library's output. Times are written in local time with their UTC offset, so each line can be
//! checked against a calendar; the comparison is by instant.

use chrono::{DateTime, Utc};
use herald_core::cron::{CronError, CronSchedule};

struct Case {
    expr: &'static str,
    tz: &'static str,
    /// The search starts strictly after this instant.
    start: &'static str,
    /// The successive fires; `None` after the list means "no more fires" is checked too.
    fires: &'static [&'static str],
    ends: bool,
    why: &'static str,
}

const fn case(
    expr: &'static str,
    tz: &'static str,
    start: &'static str,
    fires: &'static [&'static str],
    why: &'static str,
) -> Case {
    Case { expr, tz, start, fires, ends: false, why }
}

const fn last(
    expr: &'static str,
    tz: &'static str,
    start: &'static str,
    fires: &'static [&'static str],
    why: &'static str,
) -> Case {
    Case { expr, tz, start, fires, ends: true, why }
}

const SH: &str = "Asia/Shanghai";
const NY: &str = "America/New_York";
const LDN: &str = "Europe/London";
const KOL: &str = "Asia/Kolkata";

const VALID: &[Case] = &[
    // --- the seed examples ---
    case(
        "0 0 0 1/1 * ?",
        SH,
        "2026-01-01T10:00:00+08:00",
        &["2026-01-02T00:00:00+08:00", "2026-01-03T00:00:00+08:00", "2026-01-04T00:00:00+08:00"],
        "every day at midnight",
    ),
    case(
        "0/30 * * * * ?",
        SH,
        "2026-01-01T10:00:10+08:00",
        &["2026-01-01T10:00:30+08:00", "2026-01-01T10:01:00+08:00", "2026-01-01T10:01:30+08:00"],
        "every 30 seconds",
    ),
    // --- weekday numbering: Quartz 1 = Sunday ... 7 = Saturday ---
    case(
        "0 0 12 ? * 2-6",
        NY,
        "2026-01-08T13:00:00-05:00",
        &["2026-01-09T12:00:00-05:00", "2026-01-12T12:00:00-05:00", "2026-01-13T12:00:00-05:00"],
        "2-6 is Monday to Friday: Fri 9th, then Mon 12th (no Saturday), Tue 13th",
    ),
    case(
        "0 0 12 ? * MON-FRI",
        NY,
        "2026-01-08T13:00:00-05:00",
        &["2026-01-09T12:00:00-05:00", "2026-01-12T12:00:00-05:00", "2026-01-13T12:00:00-05:00"],
        "MON-FRI equals 2-6",
    ),
    case(
        "0 0 9 ? * 1",
        LDN,
        "2026-01-01T00:00:00Z",
        &["2026-01-04T09:00:00Z", "2026-01-11T09:00:00Z"],
        "1 is Sunday (Jan 4th 2026)",
    ),
    case(
        "0 0 9 ? * 7",
        LDN,
        "2026-01-01T00:00:00Z",
        &["2026-01-03T09:00:00Z", "2026-01-10T09:00:00Z"],
        "7 is Saturday (Jan 3rd 2026)",
    ),
    case(
        "0 0 9 ? * SAT,SUN",
        LDN,
        "2026-01-01T00:00:00Z",
        &["2026-01-03T09:00:00Z", "2026-01-04T09:00:00Z", "2026-01-10T09:00:00Z"],
        "names SAT and SUN",
    ),
    case(
        "0 0 12 ? * 4/2",
        SH,
        "2026-01-01T00:00:00+08:00",
        &["2026-01-02T12:00:00+08:00", "2026-01-07T12:00:00+08:00", "2026-01-09T12:00:00+08:00"],
        "4/2 is 4,6 = Wednesday and Friday",
    ),
    case(
        "0 0 10 ? * L",
        LDN,
        "2026-01-01T00:00:00Z",
        &["2026-01-03T10:00:00Z", "2026-01-10T10:00:00Z"],
        "L alone in day-of-week is Saturday",
    ),
    // --- # and nL ---
    case(
        "0 0 10 ? * 6#3",
        NY,
        "2026-01-01T00:00:00-05:00",
        &["2026-01-16T10:00:00-05:00", "2026-02-20T10:00:00-05:00", "2026-03-20T10:00:00-04:00"],
        "third Friday (March is after the switch to EDT)",
    ),
    case(
        "0 0 12 ? * 2#5",
        LDN,
        "2026-01-01T00:00:00Z",
        &["2026-03-30T12:00:00+01:00", "2026-06-29T12:00:00+01:00", "2026-08-31T12:00:00+01:00"],
        "fifth Monday, only in months that have one",
    ),
    case(
        "0 0 10 ? * 6L",
        NY,
        "2026-01-01T00:00:00-05:00",
        &["2026-01-30T10:00:00-05:00", "2026-02-27T10:00:00-05:00", "2026-03-27T10:00:00-04:00"],
        "last Friday of the month",
    ),
    // --- L, W, LW in day-of-month ---
    case(
        "0 0 18 L * ?",
        SH,
        "2026-01-15T00:00:00+08:00",
        &["2026-01-31T18:00:00+08:00", "2026-02-28T18:00:00+08:00", "2026-03-31T18:00:00+08:00"],
        "last day of the month, February 2026 has 28 days",
    ),
    case(
        "0 0 18 L 2 ?",
        SH,
        "2027-01-01T00:00:00+08:00",
        &["2027-02-28T18:00:00+08:00", "2028-02-29T18:00:00+08:00", "2029-02-28T18:00:00+08:00"],
        "last day of February: non-leap, leap, non-leap",
    ),
    case(
        "0 0 18 L * ?",
        KOL,
        "2024-02-10T00:00:00+05:30",
        &["2024-02-29T18:00:00+05:30", "2024-03-31T18:00:00+05:30"],
        "last day of February in the leap year 2024",
    ),
    case(
        "0 0 9 15W * ?",
        LDN,
        "2026-02-01T00:00:00Z",
        &["2026-02-16T09:00:00Z", "2026-03-16T09:00:00Z", "2026-04-15T09:00:00+01:00"],
        "15th is a Sunday in Feb and Mar 2026 -> Monday 16th; Wed 15th April",
    ),
    case(
        "0 0 9 1W * ?",
        LDN,
        "2026-07-15T00:00:00+01:00",
        &["2026-08-03T09:00:00+01:00", "2026-09-01T09:00:00+01:00"],
        "1 Aug 2026 is a Saturday: nearest weekday in the month is Monday 3rd, not 31 July",
    ),
    case(
        "0 0 17 LW * ?",
        KOL,
        "2026-01-01T00:00:00+05:30",
        &["2026-01-30T17:00:00+05:30", "2026-02-27T17:00:00+05:30", "2026-03-31T17:00:00+05:30"],
        "last weekday: Sat 31 Jan -> Fri 30, Sat 28 Feb -> Fri 27, Tue 31 Mar",
    ),
    case("0 0 17 LW * ?", KOL, "2026-05-01T00:00:00+05:30", &["2026-05-29T17:00:00+05:30"], "Sun 31 May -> Fri 29"),
    // --- year field ---
    last(
        "0 0 12 1 1 ? 2030",
        SH,
        "2026-06-01T00:00:00+08:00",
        &["2030-01-01T12:00:00+08:00"],
        "one fire in 2030, then none",
    ),
    last("0 0 12 1 1 ? 2020-2022", SH, "2026-01-01T00:00:00+08:00", &[], "all years are past"),
    last(
        "0 0 6 ? * 1 2027",
        SH,
        "2027-12-20T00:00:00+08:00",
        &["2027-12-26T06:00:00+08:00"],
        "last Sunday of 2027, then the year runs out",
    ),
    case(
        "0 0 6 ? * 1 2027",
        SH,
        "2026-12-25T00:00:00+08:00",
        &["2027-01-03T06:00:00+08:00", "2027-01-10T06:00:00+08:00"],
        "first Sundays of 2027 (1 Jan 2027 is a Friday)",
    ),
    // --- names, lists, ranges, steps ---
    case(
        "0 30 8 ? JAN MON",
        NY,
        "2026-01-01T00:00:00-05:00",
        &["2026-01-05T08:30:00-05:00", "2026-01-12T08:30:00-05:00"],
        "Mondays in January",
    ),
    case(
        "0 30 8 ? JAN MON",
        NY,
        "2026-01-27T00:00:00-05:00",
        &["2027-01-04T08:30:00-05:00"],
        "after the last Monday of January 2026 comes 4 Jan 2027",
    ),
    case(
        "0 0 8 1 JAN-MAR,OCT ?",
        SH,
        "2026-03-02T00:00:00+08:00",
        &["2026-10-01T08:00:00+08:00", "2027-01-01T08:00:00+08:00", "2027-02-01T08:00:00+08:00"],
        "month range and list with names",
    ),
    case(
        "0 15 10 ? * MON-FRI",
        KOL,
        "2026-05-01T10:15:00+05:30",
        &["2026-05-04T10:15:00+05:30", "2026-05-05T10:15:00+05:30"],
        "strictly after a fire time (Fri 1 May) the next is Monday",
    ),
    case(
        "0 0 9-17/4 * * ?",
        KOL,
        "2026-05-01T10:00:00+05:30",
        &["2026-05-01T13:00:00+05:30", "2026-05-01T17:00:00+05:30", "2026-05-02T09:00:00+05:30"],
        "hours 9, 13, 17",
    ),
    case(
        "0 0/20 * * * ?",
        KOL,
        "2026-05-01T23:50:00+05:30",
        &["2026-05-02T00:00:00+05:30", "2026-05-02T00:20:00+05:30", "2026-05-02T00:40:00+05:30"],
        "every 20 minutes across midnight in a half-hour zone",
    ),
    case(
        "0 0 12 * * ?",
        KOL,
        "2026-05-01T06:30:00Z",
        &["2026-05-02T12:00:00+05:30"],
        "noon IST is 06:30Z: strictly after it is the next day",
    ),
    case("30 45 23 31 12 ?", SH, "2026-12-31T23:45:30+08:00", &["2027-12-31T23:45:30+08:00"], "yearly, with seconds"),
    case(
        "0 0 0 29 2 ?",
        LDN,
        "2026-01-01T00:00:00Z",
        &["2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"],
        "29 February only in leap years",
    ),
    case(
        "0 0 12 ? * * *",
        SH,
        "2026-01-01T12:00:00+08:00",
        &["2026-01-02T12:00:00+08:00"],
        "7 fields with * year, ? and * for the days",
    ),
    case(
        "0 0 12 * * *",
        SH,
        "2026-01-01T12:00:00+08:00",
        &["2026-01-02T12:00:00+08:00"],
        "* in both day fields means every day",
    ),
    case(
        "0 0 10 ? * 2-6",
        NY,
        "2026-03-06T11:00:00-05:00",
        &["2026-03-09T10:00:00-04:00"],
        "weekday fire after the weekend of the spring change",
    ),
    // --- DST, America/New_York ---
    case(
        "0 30 2 * * ?",
        NY,
        "2026-03-07T12:00:00-05:00",
        &["2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"],
        "02:30 does not exist on 8 March: fires at 03:00 EDT, once",
    ),
    case(
        "0 0 2 * * ?",
        NY,
        "2026-03-08T00:00:00-05:00",
        &["2026-03-08T03:00:00-04:00", "2026-03-09T02:00:00-04:00"],
        "02:00 (the gap's first second) fires at 03:00 EDT",
    ),
    case(
        "0 30 2,14 * * ?",
        NY,
        "2026-03-07T12:00:00-05:00",
        &[
            "2026-03-07T14:30:00-05:00",
            "2026-03-08T03:00:00-04:00",
            "2026-03-08T14:30:00-04:00",
            "2026-03-09T02:30:00-04:00",
        ],
        "a two-times-a-day pattern keeps its 02:30 fire on the spring day",
    ),
    case(
        "0 0/30 2 * * ?",
        NY,
        "2026-03-07T12:00:00-05:00",
        &["2026-03-08T03:00:00-04:00", "2026-03-09T02:00:00-04:00", "2026-03-09T02:30:00-04:00"],
        "02:00 and 02:30 both fall in the gap: one fire at 03:00 EDT",
    ),
    case(
        "0 30 1 * * ?",
        NY,
        "2026-10-31T12:00:00-04:00",
        &["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"],
        "01:30 occurs twice on 1 November: fires once, at 01:30 EDT",
    ),
    case(
        "0 30 1,13 * * ?",
        NY,
        "2026-10-31T12:00:00-04:00",
        &["2026-10-31T13:30:00-04:00", "2026-11-01T01:30:00-04:00", "2026-11-01T13:30:00-05:00"],
        "a two-times-a-day pattern does not fire at 01:30 EST too",
    ),
    case(
        "0 45 1 * * ?",
        NY,
        "2026-11-01T01:10:00-05:00",
        &["2026-11-02T01:45:00-05:00"],
        "asked from the repeated hour's second half: 01:45 already fired in EDT",
    ),
    case(
        "0 45 1 * * ?",
        NY,
        "2026-11-01T01:10:00-04:00",
        &["2026-11-01T01:45:00-04:00", "2026-11-02T01:45:00-05:00"],
        "asked from the first half",
    ),
    case(
        "0 0/15 * * * ?",
        NY,
        "2026-03-08T01:30:00-05:00",
        &["2026-03-08T01:45:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T03:15:00-04:00"],
        "every 15 real minutes across spring forward (01:45 EST -> 03:00 EDT is 15 minutes)",
    ),
    case(
        "0 0/15 * * * ?",
        NY,
        "2026-11-01T01:30:00-04:00",
        &[
            "2026-11-01T01:45:00-04:00",
            "2026-11-01T01:00:00-05:00",
            "2026-11-01T01:15:00-05:00",
            "2026-11-01T01:30:00-05:00",
            "2026-11-01T01:45:00-05:00",
            "2026-11-01T02:00:00-05:00",
        ],
        "every 15 real minutes across fall back: the repeated hour fires in EDT and in EST",
    ),
    case(
        "0 0/15 * * * ?",
        NY,
        "2026-11-01T01:50:00-04:00",
        &["2026-11-01T01:00:00-05:00"],
        "from 01:50 EDT the next slot is 01:00 EST, 10 real minutes later",
    ),
    case(
        "0 0/15 * * * ?",
        NY,
        "2026-11-01T01:50:00-05:00",
        &["2026-11-01T02:00:00-05:00"],
        "from the second half the next slot is 02:00 EST",
    ),
    // --- DST, Europe/London ---
    case(
        "0 30 1 * * ?",
        LDN,
        "2026-03-28T12:00:00Z",
        &["2026-03-29T02:00:00+01:00", "2026-03-30T01:30:00+01:00"],
        "01:30 does not exist on 29 March: fires at 02:00 BST",
    ),
    case(
        "0 0/30 1 * * ?",
        LDN,
        "2026-03-28T12:00:00Z",
        &["2026-03-29T02:00:00+01:00", "2026-03-30T01:00:00+01:00", "2026-03-30T01:30:00+01:00"],
        "the gap's 01:00 and 01:30 coalesce into one fire at 02:00 BST",
    ),
    case(
        "0 30 1 * * ?",
        LDN,
        "2026-10-24T12:00:00+01:00",
        &["2026-10-25T01:30:00+01:00", "2026-10-26T01:30:00Z"],
        "01:30 occurs twice on 25 October: fires once, at 01:30 BST",
    ),
    case(
        "0 0 * * * ?",
        LDN,
        "2026-03-29T00:30:00Z",
        &["2026-03-29T02:00:00+01:00", "2026-03-29T03:00:00+01:00"],
        "hourly: 01:00 GMT does not exist, the next hour is 02:00 BST (01:00Z)",
    ),
    case(
        "0 0 * * * ?",
        LDN,
        "2026-10-25T00:30:00+01:00",
        &["2026-10-25T01:00:00+01:00", "2026-10-25T01:00:00Z", "2026-10-25T02:00:00Z"],
        "hourly: every real hour through the repeated hour",
    ),
    // --- a whole day skipped: Samoa moved across the date line on 30 Dec 2011 ---
    case(
        "0 0 12 30 12 ?",
        "Pacific/Apia",
        "2011-12-01T00:00:00-10:00",
        &["2011-12-31T00:00:00+14:00", "2012-12-30T12:00:00+14:00"],
        "30 December 2011 never happened there: fires at the first instant after",
    ),
];

fn instant(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("bad time {s}: {e}")).with_timezone(&Utc)
}

#[test]
fn valid_expressions_fire_when_the_calendar_says() {
    assert!(VALID.len() >= 30);
    let mut failures = Vec::new();
    for c in VALID {
        let schedule = match CronSchedule::parse(c.expr, c.tz) {
            Ok(s) => s,
            Err(e) => {
                failures.push(format!("{:?} in {}: refused: {e}", c.expr, c.tz));
                continue;
            }
        };
        assert_eq!(schedule.expression(), c.expr);
        assert_eq!(schedule.timezone().name(), c.tz);
        let mut expected: Vec<Option<DateTime<Utc>>> = c.fires.iter().map(|f| Some(instant(f))).collect();
        if c.ends {
            expected.push(None);
        }
        let mut actual = Vec::new();
        let mut at = instant(c.start);
        for _ in 0..expected.len() {
            let next = schedule.next_after(at);
            actual.push(next);
            match next {
                Some(n) => at = n,
                None => break,
            }
        }
        if actual != expected {
            failures.push(format!(
                "{:?} in {} after {} ({}):\n    expected {:?}\n    actual   {:?}",
                c.expr, c.tz, c.start, c.why, expected, actual
            ));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), VALID.len(), failures.join("\n"));
}

#[test]
fn dst_changes_never_double_fire_or_drop_a_day() {
    // Walk whole days around each change and count the fires of once-a-day patterns.
    // Each window runs from just before local midnight to local midnight three days later, the
    // middle day being the change: every once-a-day pattern fires exactly once on each day.
    for (tz, day_before, day_after) in [
        (NY, "2026-03-06T23:59:59-05:00", "2026-03-10T00:00:00-04:00"),
        (NY, "2026-10-30T23:59:59-04:00", "2026-11-03T00:00:00-05:00"),
        (LDN, "2026-03-27T23:59:59Z", "2026-03-31T00:00:00+01:00"),
        (LDN, "2026-10-23T23:59:59+01:00", "2026-10-27T00:00:00Z"),
    ] {
        for hour in 0..24 {
            for minute in [0, 30] {
                let expr = format!("0 {minute} {hour} * * ?");
                let s = CronSchedule::parse(&expr, tz).unwrap();
                let (from, to) = (instant(day_before), instant(day_after));
                let mut fires = Vec::new();
                let mut at = from;
                while let Some(n) = s.next_after(at) {
                    if n >= to {
                        break;
                    }
                    assert!(n > at);
                    fires.push(n);
                    at = n;
                }
                let days: std::collections::BTreeSet<_> =
                    fires.iter().map(|f| f.with_timezone(&s.timezone()).date_naive()).collect();
                assert_eq!(days.len(), fires.len(), "{expr} in {tz}: two fires on one day: {fires:?}");
                assert_eq!(fires.len(), 3, "{expr} in {tz}: {fires:?}");
            }
        }
    }
}

#[test]
fn interval_expressions_keep_real_time_across_dst() {
    for (tz, from) in [
        (NY, "2026-03-07T20:00:00Z"),
        (NY, "2026-10-31T20:00:00Z"),
        (LDN, "2026-03-28T20:00:00Z"),
        (LDN, "2026-10-24T20:00:00Z"),
    ] {
        let s = CronSchedule::parse("0 0/15 * * * ?", tz).unwrap();
        let mut at = instant(from);
        for _ in 0..(24 * 4) {
            let next = s.next_after(at).unwrap();
            assert_eq!(next - at, chrono::Duration::minutes(15), "{tz} after {at}");
            at = next;
        }
    }
}

#[test]
fn schedules_sharing_a_pattern_share_one_parse() {
    let first = CronSchedule::parse("0 0/5 9-18 ? * MON-FRI", SH).unwrap();
    let many: Vec<CronSchedule> = (0..10_000)
        .map(|i| CronSchedule::parse("0 0/5 9-18 ? * MON-FRI", [SH, NY, LDN, KOL][i % 4]).unwrap())
        .collect();
    assert!(many.iter().all(|s| s.shares_parsed_pattern(&first)));
}

enum Expect {
    Expr(&'static str),
    Zone,
}

const INVALID: &[(&str, &str, Expect)] = &[
    ("0 12 * * *", SH, Expect::Expr("seconds field")),
    ("30 9 * * 1", SH, Expect::Expr("Quartz dialect")),
    ("", SH, Expect::Expr("empty")),
    ("0 0 12", SH, Expect::Expr("3 fields")),
    ("0 0 12 ? * * 2030 1", SH, Expect::Expr("8 fields")),
    ("@daily", SH, Expect::Expr("1 fields")),
    ("0 60 * * * ?", SH, Expect::Expr("minutes field \"60\"")),
    ("60 0 * * * ?", SH, Expect::Expr("seconds field \"60\"")),
    ("0 0 24 * * ?", SH, Expect::Expr("hours field \"24\"")),
    ("0 0 12 32 * ?", SH, Expect::Expr("day-of-month field \"32\"")),
    ("0 0 12 0 * ?", SH, Expect::Expr("day-of-month field \"0\"")),
    ("0 0 12 ? 13 *", SH, Expect::Expr("month field \"13\"")),
    ("0 0 12 ? * 0", SH, Expect::Expr("day-of-week field \"0\"")),
    ("0 0 12 ? * 8", SH, Expect::Expr("day-of-week field \"8\"")),
    ("0 0 12 ? * 6#6", SH, Expect::Expr("day-of-week field \"6#6\"")),
    ("0 0 12 ? * MONDAY", SH, Expect::Expr("day-of-week field")),
    ("0 0 12 ? JANUARY *", SH, Expect::Expr("month field")),
    ("a b c d e f", SH, Expect::Expr("seconds field \"A\"")),
    ("0 0 12 15 * MON", SH, Expect::Expr("both day-of-month (\"15\") and day-of-week (\"MON\")")),
    ("0 ? 12 * * ?", SH, Expect::Expr("'?' is only allowed in day-of-month or day-of-week")),
    ("0 0 12 1,? * *", SH, Expect::Expr("'?' must stand alone")),
    ("0 0 12 1 1 ? 1969", SH, Expect::Expr("1969 is outside 1970-2099")),
    ("0 0 12 1 1 ? 2100", SH, Expect::Expr("2100 is outside 1970-2099")),
    ("0 0 0 30 2 ?", SH, Expect::Expr("no date ever matches")),
    ("0 0 0 31 4,6,9,11 ?", SH, Expect::Expr("no date ever matches")),
    ("0 0 12 * * ?", "Mars/Olympus_Mons", Expect::Zone),
    ("0 0 12 * * ?", "", Expect::Zone),
    ("0 0 12 * * ?", "New York", Expect::Zone),
    ("0 0 12 * * ?", "UTC+8", Expect::Zone),
];

#[test]
fn invalid_expressions_and_zones_are_refused_by_name() {
    assert!(INVALID.len() >= 10);
    for (expr, tz, expect) in INVALID {
        let err = CronSchedule::parse(expr, tz).expect_err(&format!("{expr:?} in {tz:?} should be refused"));
        let msg = err.to_string();
        match (expect, &err) {
            (Expect::Expr(fragment), CronError::InvalidExpression { expr: bad, reason }) => {
                assert_eq!(bad, expr);
                assert!(msg.contains(&format!("{expr:?}")), "message does not name {expr:?}: {msg}");
                assert!(reason.contains(fragment), "{expr:?}: reason {reason:?} lacks {fragment:?}");
            }
            (Expect::Zone, CronError::UnknownTimeZone(bad)) => {
                assert_eq!(bad, tz);
                assert!(msg.contains(&format!("{tz:?}")), "message does not name {tz:?}: {msg}");
            }
            _ => panic!("{expr:?} in {tz:?}: wrong error variant: {err:?}"),
        }
    }
}
