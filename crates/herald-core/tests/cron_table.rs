//! Table tests for herald's Quartz cron schedules. Every expected fire time was worked out by hand
//! from a calendar (2026-01-01 is a Thursday) and the tz database's DST dates (America/New_York:
//! 2026-03-08 02:00 EST -> 03:00 EDT and 2026-11-01 02:00 EDT -> 01:00 EST; Europe/London:
//! 2026-03-29 01:00 GMT -> 02:00 BST and 2026-10-25 02:00 BST -> 01:00 GMT), never copied from
//! the library's output. Times are written in local time with their UTC offset, so each line can be
//! checked against a calendar; the comparison is by instant. The Quartz dialect cases outside DST
//! (wrap-around ranges, L-n, L-nW, year steps) were also run through Quartz 2.3.2's own
//! `CronExpression`, compiled from its source, and agree with it, except where a case says herald
//! parts from Quartz.

use chrono::{DateTime, Utc};
use herald_core::cron::{CronError, CronSchedule, MAX_EXPRESSION_BYTES};

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
    // --- wrap-around ranges: an end below the start wraps past the field's maximum (Quartz) ---
    case(
        "0 0 22-2 * * ?",
        SH,
        "2026-01-15T21:00:00+08:00",
        &[
            "2026-01-15T22:00:00+08:00",
            "2026-01-15T23:00:00+08:00",
            "2026-01-16T00:00:00+08:00",
            "2026-01-16T01:00:00+08:00",
            "2026-01-16T02:00:00+08:00",
            "2026-01-16T22:00:00+08:00",
        ],
        "hours 22-2 are 22, 23, 0, 1, 2",
    ),
    case(
        "0 0 22-2/2 * * ?",
        SH,
        "2026-01-15T21:00:00+08:00",
        &[
            "2026-01-15T22:00:00+08:00",
            "2026-01-16T00:00:00+08:00",
            "2026-01-16T02:00:00+08:00",
            "2026-01-16T22:00:00+08:00",
        ],
        "the step goes on through the wrap: 22, 0, 2",
    ),
    case(
        "0 0 12 ? * FRI-MON",
        SH,
        "2026-01-15T00:00:00+08:00",
        &[
            "2026-01-16T12:00:00+08:00",
            "2026-01-17T12:00:00+08:00",
            "2026-01-18T12:00:00+08:00",
            "2026-01-19T12:00:00+08:00",
            "2026-01-23T12:00:00+08:00",
        ],
        "Friday to Monday over the weekend (Thu 15 Jan 2026 is skipped)",
    ),
    case(
        "0 0 12 ? * 6-3/2",
        SH,
        "2026-01-15T00:00:00+08:00",
        &[
            "2026-01-16T12:00:00+08:00",
            "2026-01-18T12:00:00+08:00",
            "2026-01-20T12:00:00+08:00",
            "2026-01-23T12:00:00+08:00",
        ],
        "6-3/2 is 6, 8 -> 1, 10 -> 3: Friday, Sunday, Tuesday",
    ),
    case(
        "0 0 12 ? * SAT-SUN",
        LDN,
        "2026-01-15T00:00:00Z",
        &["2026-01-17T12:00:00Z", "2026-01-18T12:00:00Z", "2026-01-24T12:00:00Z"],
        "SAT-SUN wraps from 7 to 1: the weekend, not the whole week backwards",
    ),
    case(
        "0 50-10/10 9 * * ?",
        LDN,
        "2026-01-15T09:05:00Z",
        &["2026-01-15T09:10:00Z", "2026-01-15T09:50:00Z", "2026-01-16T09:00:00Z", "2026-01-16T09:10:00Z"],
        "minutes 50-10/10 are 50, 0, 10",
    ),
    case(
        "0 55-5 9 * * ?",
        LDN,
        "2026-01-15T09:03:00Z",
        &["2026-01-15T09:04:00Z", "2026-01-15T09:05:00Z", "2026-01-15T09:55:00Z", "2026-01-15T09:56:00Z"],
        "minutes 55-5 are 55-59 and 0-5",
    ),
    case(
        "57-2 0 12 * * ?",
        LDN,
        "2026-01-15T12:00:00Z",
        &[
            "2026-01-15T12:00:01Z",
            "2026-01-15T12:00:02Z",
            "2026-01-15T12:00:57Z",
            "2026-01-15T12:00:58Z",
            "2026-01-15T12:00:59Z",
            "2026-01-16T12:00:00Z",
        ],
        "seconds 57-2 are 57, 58, 59, 0, 1, 2",
    ),
    case(
        "0 0 12 1 NOV-FEB ?",
        SH,
        "2026-02-15T00:00:00+08:00",
        &[
            "2026-11-01T12:00:00+08:00",
            "2026-12-01T12:00:00+08:00",
            "2027-01-01T12:00:00+08:00",
            "2027-02-01T12:00:00+08:00",
            "2027-11-01T12:00:00+08:00",
        ],
        "November to February over the new year",
    ),
    case(
        "0 0 12 1 10-3/2 ?",
        SH,
        "2026-02-15T00:00:00+08:00",
        &[
            "2026-10-01T12:00:00+08:00",
            "2026-12-01T12:00:00+08:00",
            "2027-02-01T12:00:00+08:00",
            "2027-10-01T12:00:00+08:00",
        ],
        "months 10-3/2 are 10, 12, 14 -> 2",
    ),
    case(
        "0 0 12 28-3 * ?",
        SH,
        "2026-02-20T00:00:00+08:00",
        &[
            "2026-02-28T12:00:00+08:00",
            "2026-03-01T12:00:00+08:00",
            "2026-03-02T12:00:00+08:00",
            "2026-03-03T12:00:00+08:00",
            "2026-03-28T12:00:00+08:00",
            "2026-03-29T12:00:00+08:00",
            "2026-03-30T12:00:00+08:00",
            "2026-03-31T12:00:00+08:00",
            "2026-04-01T12:00:00+08:00",
        ],
        "days 28-3 are 28-31 and 1-3; February 2026 stops at 28",
    ),
    case(
        "0 0 12 28-3/2 * ?",
        SH,
        "2026-02-20T00:00:00+08:00",
        &[
            "2026-02-28T12:00:00+08:00",
            "2026-03-01T12:00:00+08:00",
            "2026-03-03T12:00:00+08:00",
            "2026-03-28T12:00:00+08:00",
            "2026-03-30T12:00:00+08:00",
        ],
        "days 28-3/2 count on past 31 as Quartz does: 28, 30, 32 -> 1, 34 -> 3",
    ),
    // --- L-n (n days before the last day) and L-nW (the weekday nearest it) ---
    case(
        "0 0 12 L-3 * ?",
        SH,
        "2026-01-01T00:00:00+08:00",
        &[
            "2026-01-28T12:00:00+08:00",
            "2026-02-25T12:00:00+08:00",
            "2026-03-28T12:00:00+08:00",
            "2026-04-27T12:00:00+08:00",
        ],
        "3 days before the 31st, 28th, 31st, 30th",
    ),
    case(
        "0 0 12 L-3 2 ?",
        SH,
        "2027-01-01T00:00:00+08:00",
        &["2027-02-25T12:00:00+08:00", "2028-02-26T12:00:00+08:00"],
        "February 2028 has 29 days",
    ),
    case(
        "0 0 12 L-30 * ?",
        SH,
        "2026-01-15T00:00:00+08:00",
        &[
            "2026-03-01T12:00:00+08:00",
            "2026-05-01T12:00:00+08:00",
            "2026-07-01T12:00:00+08:00",
            "2026-08-01T12:00:00+08:00",
            "2026-10-01T12:00:00+08:00",
        ],
        "L-30 is the 1st of 31-day months; shorter months have no fire",
    ),
    case(
        "0 0 12 L-0 * ?",
        SH,
        "2026-01-15T00:00:00+08:00",
        &["2026-01-31T12:00:00+08:00", "2026-02-28T12:00:00+08:00"],
        "L-0 is L",
    ),
    case(
        "0 0 12 L-3W * ?",
        SH,
        "2026-01-01T00:00:00+08:00",
        &[
            "2026-01-28T12:00:00+08:00",
            "2026-02-25T12:00:00+08:00",
            "2026-03-27T12:00:00+08:00",
            "2026-04-27T12:00:00+08:00",
            "2026-05-28T12:00:00+08:00",
            "2026-06-26T12:00:00+08:00",
        ],
        "Sat 28 Mar -> Fri 27; Sat 27 Jun -> Fri 26; the others are weekdays",
    ),
    case(
        "0 0 12 L-2W * ?",
        SH,
        "2026-01-01T00:00:00+08:00",
        &[
            "2026-01-29T12:00:00+08:00",
            "2026-02-26T12:00:00+08:00",
            "2026-03-30T12:00:00+08:00",
            "2026-04-28T12:00:00+08:00",
            "2026-05-29T12:00:00+08:00",
            "2026-06-29T12:00:00+08:00",
        ],
        "Sun 29 Mar -> Mon 30; Sun 28 Jun -> Mon 29",
    ),
    case(
        "0 0 12 L-30W * ?",
        SH,
        "2026-07-15T00:00:00+08:00",
        &["2026-08-03T12:00:00+08:00", "2026-10-01T12:00:00+08:00"],
        "Sat 1 Aug -> Mon 3 (never back into July); September has no L-30",
    ),
    // --- year steps count from 1970 (Quartz), or from their own start ---
    case(
        "0 0 12 1 1 ? */10",
        SH,
        "2026-01-15T00:00:00+08:00",
        &["2030-01-01T12:00:00+08:00", "2040-01-01T12:00:00+08:00", "2050-01-01T12:00:00+08:00"],
        "*/10 is 1970, 1980, ... so 2030, 2040, not 2031, 2041",
    ),
    case(
        "0 0 12 1 1 ? 1/5",
        SH,
        "2026-01-15T00:00:00+08:00",
        &["2031-01-01T12:00:00+08:00", "2036-01-01T12:00:00+08:00", "2041-01-01T12:00:00+08:00"],
        "1/5 counts from year 1: 2026 (already past on 15 Jan), 2031, 2036",
    ),
    case(
        "0 0 12 1 1 ? 2030/10",
        SH,
        "2026-01-15T00:00:00+08:00",
        &["2030-01-01T12:00:00+08:00", "2040-01-01T12:00:00+08:00"],
        "2030/10 counts from 2030",
    ),
    last(
        "0 0 12 1 1 ? 2026-2034/4",
        SH,
        "2026-06-01T00:00:00+08:00",
        &["2030-01-01T12:00:00+08:00", "2034-01-01T12:00:00+08:00"],
        "a stepped year range runs out",
    ),
    case(
        "0 0 12 29 2 ? 0/4",
        LDN,
        "2026-01-15T00:00:00Z",
        &["2028-02-29T12:00:00Z", "2032-02-29T12:00:00Z"],
        "0/4 is the years divisible by 4, so every one has a 29 February here",
    ),
    last(
        "0 0 12 1 1 ? */50",
        LDN,
        "2026-01-15T00:00:00Z",
        &["2070-01-01T12:00:00Z"],
        "1970, 2020, 2070; 2120 is past herald's 2099 (Quartz goes on to 2120)",
    ),
    // --- the new forms keep the DST rule ---
    case(
        "0 30 23-2 * * ?",
        NY,
        "2026-03-07T23:00:00-05:00",
        &[
            "2026-03-07T23:30:00-05:00",
            "2026-03-08T00:30:00-05:00",
            "2026-03-08T01:30:00-05:00",
            "2026-03-08T03:00:00-04:00",
            "2026-03-08T23:30:00-04:00",
        ],
        "a wrapping clock-time range: 02:30 falls in the gap and fires at 03:00 EDT",
    ),
    case(
        "0 30 2 L-23 3 ?",
        NY,
        "2026-03-01T00:00:00-05:00",
        &["2026-03-08T03:00:00-04:00", "2027-03-08T02:30:00-05:00"],
        "L-23 of March is the 8th: in the 2026 gap; 2027 changes on the 14th",
    ),
    case(
        "0 30 1 L-29 * ?",
        NY,
        "2026-10-31T12:00:00-04:00",
        &["2026-11-01T01:30:00-04:00", "2026-12-02T01:30:00-05:00"],
        "L-29 of November is the 1st: the repeated 01:30 fires once, in EDT",
    ),
    case(
        "0 0/30 * L-29 11 ?",
        NY,
        "2026-11-01T00:50:00-04:00",
        &[
            "2026-11-01T01:00:00-04:00",
            "2026-11-01T01:30:00-04:00",
            "2026-11-01T01:00:00-05:00",
            "2026-11-01T01:30:00-05:00",
            "2026-11-01T02:00:00-05:00",
        ],
        "an interval pattern on an L-n day fires in both halves of the repeated hour",
    ),
    case(
        "0 0/30 * L-29 11 ?",
        NY,
        "2026-11-01T23:40:00-05:00",
        &["2027-11-01T00:00:00-04:00"],
        "the next L-29 of November is in 2027 (its change is on the 7th)",
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
    // Quartz's documentation: W, L and # take one day, never a list (or a range).
    ("0 0 12 15W,20 * ?", SH, Expect::Expr("day-of-month field \"15W,20\": 'W' (nearest weekday) takes a single day")),
    ("0 0 12 1-5W * ?", SH, Expect::Expr("day-of-month field \"1-5W\": 'W' (nearest weekday) takes a single day")),
    ("0 0 12 32W * ?", SH, Expect::Expr("day-of-month field \"32W\": 32 is outside 1-31")),
    ("0 0 12 L,15 * ?", SH, Expect::Expr("day-of-month field \"L,15\": 'L' cannot be combined with other days")),
    ("0 0 12 L-3,15 * ?", SH, Expect::Expr("day-of-month field \"L-3,15\": 'L' cannot be combined")),
    ("0 0 12 5L * ?", SH, Expect::Expr("day-of-month field \"5L\": 'L' stands alone in day-of-month")),
    ("0 0 12 L-31 * ?", SH, Expect::Expr("day-of-month field \"L-31\": L-n takes 0 to 30 days")),
    ("0 0 12 L-3X * ?", SH, Expect::Expr("day-of-month field \"L-3X\": L-n takes 0 to 30 days")),
    ("0 0 12 ? * 6#3,2", SH, Expect::Expr("day-of-week field \"6#3,2\": 'L' and '#' take a single day")),
    ("0 0 12 ? * 6L,2", SH, Expect::Expr("day-of-week field \"6L,2\": 'L' and '#' take a single day")),
    ("0 0 12 ? * 2-6L", SH, Expect::Expr("day-of-week field \"2-6L\": nL takes a single day")),
    ("0 0 12 ? * 6#0", SH, Expect::Expr("day-of-week field \"6#0\": the k in n#k")),
    ("0 0 12 ? * ?", SH, Expect::Expr("day-of-month (\"?\") and day-of-week (\"?\") are both '?'")),
    ("0 0 12 L * 6L", SH, Expect::Expr("both day-of-month (\"L\") and day-of-week (\"6L\") name days")),
    ("0 0 12 L-3 * MON", SH, Expect::Expr("both day-of-month (\"L-3\") and day-of-week (\"MON\") name days")),
    // Quartz reads MON-FRI/2 as MON-FRI and JAN/3 as JAN: refused rather than read another way.
    ("0 0 12 ? * MON-FRI/2", SH, Expect::Expr("day-of-week field \"MON-FRI/2\": Quartz ignores a step after a name")),
    ("0 0 12 1 JAN/3 ?", SH, Expect::Expr("month field \"JAN/3\": Quartz ignores a step after a name")),
    ("0 */60 * * * ?", SH, Expect::Expr("minutes field \"*/60\": step 60 is larger than 59")),
    ("0 0 */24 * * ?", SH, Expect::Expr("hours field \"*/24\": step 24 is larger than 23")),
    ("0 0 12 */0 * ?", SH, Expect::Expr("day-of-month field \"*/0\": step 0")),
    ("0 0 12 1,,2 * ?", SH, Expect::Expr("day-of-month field \"1,,2\": an empty item")),
    ("0 0 12 ? * 5-0", SH, Expect::Expr("day-of-week field \"5-0\": 0 is outside 1-7")),
    ("0 0 12 1 1 ? 2030-2025", SH, Expect::Expr("year field \"2030-2025\": a year range must run forwards")),
    ("0 0 12 1 1 ? 2100/5", SH, Expect::Expr("year field \"2100/5\": 2100 is outside 1970-2099")),
    (
        "0 0 12 1 1 ? 2030,1969/200",
        SH,
        Expect::Expr("year field \"2030,1969/200\": \"1969/200\" names no year in 1970-2099"),
    ),
    // Never-fires checks see the year field.
    ("0 0 0 29 2 ? 2098", SH, Expect::Expr("no date in year field \"2098\" matches day-of-month \"29\"")),
    ("0 0 12 29 2 ? */4", SH, Expect::Expr("no date in year field \"*/4\" matches")),
    ("0 0 12 L-30 2 ?", SH, Expect::Expr("no date ever matches day-of-month \"L-30\", month \"2\"")),
    ("0 0 12 L-30W 4,6,9,11 ?", SH, Expect::Expr("no date ever matches day-of-month \"L-30W\"")),
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

#[test]
fn expressions_over_the_length_cap_are_refused_without_being_quoted() {
    let at_cap = format!("{:<width$}", "0 0 12 * * ?", width = MAX_EXPRESSION_BYTES);
    assert_eq!(at_cap.len(), MAX_EXPRESSION_BYTES);
    assert!(CronSchedule::parse(&at_cap, SH).is_ok());
    for len in [MAX_EXPRESSION_BYTES + 1, 100_000] {
        let expr: String = "0 0 12 * * ? ".chars().cycle().take(len).collect();
        let err = CronSchedule::parse(&expr, SH).unwrap_err();
        assert_eq!(err, CronError::TooLong { len, max: MAX_EXPRESSION_BYTES });
        let msg = err.to_string();
        assert!(msg.contains(&len.to_string()) && msg.contains("256") && msg.len() < 100, "{msg}");
    }
    // An unknown time zone is quoted, but cut short.
    let zone = "Asia/".repeat(20_000);
    let msg = CronSchedule::parse("0 0 12 * * ?", &zone).unwrap_err().to_string();
    assert!(msg.starts_with("unknown time zone \"Asia/Asia/") && msg.len() < 200, "{msg}");
}

#[test]
fn years_wholly_past_parse_but_have_no_first_fire() {
    let now = instant("2026-06-01T00:00:00+08:00");
    for expr in ["* * * * * ? 2020", "0 0 12 1 1 ? 2020-2025", "0 0 12 ? * MON 1971-2021/5,2025"] {
        // A stored schedule stays readable; saving or starting one is refused.
        let schedule = CronSchedule::parse(expr, SH).unwrap();
        assert_eq!(schedule.next_after(now), None, "{expr}");
        let err = schedule.first_fire_after(now).unwrap_err();
        assert_eq!(err, CronError::NoFireAfter { expr: expr.to_string(), after: now });
        assert!(err.to_string().contains(&format!("{expr:?} has no fire after 2026-05-31 16:00:00 UTC")), "{err}");
    }
    let once = CronSchedule::parse("0 0 12 1 1 ? 2030", SH).unwrap();
    assert_eq!(once.first_fire_after(now), Ok(instant("2030-01-01T12:00:00+08:00")));
    assert!(once.first_fire_after(instant("2030-01-01T12:00:00+08:00")).is_err());
}
