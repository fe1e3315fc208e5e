//! Property tests over the cron parser: no input makes it panic, every refusal names the field
//! and quotes the value at fault, and every accepted expression yields fires that move forward.
//! The case count is proptest's: 256 by default, `PROPTEST_CASES=1000000` for a long run.

use chrono::{DateTime, Duration, Utc};
use herald_core::cron::{CronError, CronSchedule, MAX_EXPRESSION_BYTES};
use proptest::prelude::*;

const FIELD_NAMES: [&str; 7] = ["seconds", "minutes", "hours", "day-of-month", "month", "day-of-week", "year"];

/// Refusals quote the expression and fields; none may grow with the input beyond the length cap.
const MAX_MESSAGE_BYTES: usize = 2 * MAX_EXPRESSION_BYTES + 600;

/// Parses `expr` and checks what any outcome must satisfy.
fn check(expr: &str, timezone: &str) -> Result<(), TestCaseError> {
    match CronSchedule::parse(expr, timezone) {
        Ok(schedule) => fires_move_forward(&schedule),
        Err(err) => {
            let message = err.to_string();
            prop_assert!(message.len() <= MAX_MESSAGE_BYTES, "a {} byte message for {expr:?}", message.len());
            refusal_names_its_cause(expr, &err)
        }
    }
}

fn refusal_names_its_cause(expr: &str, err: &CronError) -> Result<(), TestCaseError> {
    match err {
        CronError::TooLong { len, max } => {
            prop_assert_eq!(*len, expr.len());
            prop_assert!(expr.len() > *max);
        }
        CronError::InvalidExpression { expr: quoted, reason } => {
            prop_assert_eq!(quoted, expr);
            prop_assert!(expr.len() <= MAX_EXPRESSION_BYTES);
            let fields: Vec<String> = expr.split_whitespace().map(str::to_uppercase).collect();
            if fields.len() == 6 || fields.len() == 7 {
                // The field's name and its value, quoted as written (upper case).
                let named = fields
                    .iter()
                    .zip(FIELD_NAMES)
                    .any(|(text, name)| reason.contains(name) && reason.contains(&format!("{text:?}")));
                prop_assert!(named, "{expr:?}: the refusal names no field with its value: {reason}");
            } else {
                prop_assert!(reason.contains("fields") || reason.contains("empty"), "{expr:?}: {reason}");
            }
        }
        other => prop_assert!(false, "{expr:?}: unexpected refusal {other:?}"),
    }
    Ok(())
}

fn fires_move_forward(schedule: &CronSchedule) -> Result<(), TestCaseError> {
    let _ = schedule.describe();
    let start = DateTime::parse_from_rfc3339("2026-03-07T23:59:58-05:00").unwrap().with_timezone(&Utc);
    let mut at = start;
    for _ in 0..3 {
        match schedule.next_after(at) {
            Some(next) => {
                prop_assert!(next > at, "{schedule:?}: {next} is not after {at}");
                at = next;
            }
            None => break,
        }
    }
    // A schedule that never fires again was refused at parse time unless its years are past.
    if schedule.next_after(start - Duration::days(366 * 60)).is_none() {
        prop_assert!(schedule.expression().split_whitespace().count() == 7, "{schedule:?} never fires");
    }
    Ok(())
}

/// A value as people write them, right or wrong: numbers in and out of range, names, junk.
fn atom() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (0u32..=61).prop_map(|n| n.to_string()),
        1 => (1960u32..=2110).prop_map(|n| n.to_string()),
        1 => any::<u32>().prop_map(|n| n.to_string()),
        2 => prop::sample::select(vec![
            "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC", "SUN", "MON", "TUE",
            "WED", "THU", "FRI", "SAT", "MONDAY", "jan", "fri", "X", "", "00", "007",
        ])
        .prop_map(str::to_string),
    ]
}

/// One list item: every Quartz form, with steps, wraps, `L`, `W`, `#` and `?` in and out of place.
fn item() -> impl Strategy<Value = String> {
    let step = prop_oneof![0u32..=13, 0u32..=70, Just(2100)];
    prop_oneof![
        2 => atom(),
        1 => prop::sample::select(vec!["*", "?", "L", "LW", "W", "#", "/", "-", "L-", "*/", "?/2", "1-", "-1"])
            .prop_map(str::to_string),
        2 => (atom(), atom()).prop_map(|(a, b)| format!("{a}-{b}")),
        2 => (prop_oneof![atom(), Just("*".to_string()), Just(String::new())], step.clone())
            .prop_map(|(a, s)| format!("{a}/{s}")),
        2 => (atom(), atom(), step).prop_map(|(a, b, s)| format!("{a}-{b}/{s}")),
        1 => (0u32..=32, any::<bool>()).prop_map(|(n, w)| format!("L-{n}{}", if w { "W" } else { "" })),
        1 => atom().prop_map(|a| format!("{a}W")),
        1 => atom().prop_map(|a| format!("{a}L")),
        1 => (atom(), 0u32..=6).prop_map(|(a, k)| format!("{a}#{k}")),
    ]
}

fn field() -> impl Strategy<Value = String> {
    prop_oneof![4 => item(), 1 => prop::collection::vec(item(), 2..=3).prop_map(|items| items.join(","))]
}

fn expression() -> impl Strategy<Value = String> {
    let count = prop_oneof![1 => 0usize..=5, 8 => 6usize..=7, 1 => 8usize..=9];
    count.prop_flat_map(|n| prop::collection::vec(field(), n)).prop_map(|fields| fields.join(" "))
}

/// A list item within `min..=max`: every plain Quartz form, wrapping ranges included.
fn valid_item(min: u32, max: u32) -> impl Strategy<Value = String> {
    let value = min..=max;
    let step = 1..=max.clamp(1, 60);
    prop_oneof![
        1 => Just("*".to_string()),
        3 => value.clone().prop_map(|v| v.to_string()),
        3 => (value.clone(), value.clone()).prop_map(|(a, b)| format!("{a}-{b}")),
        1 => step.clone().prop_map(|s| format!("*/{s}")),
        2 => (value.clone(), step.clone()).prop_map(|(a, s)| format!("{a}/{s}")),
        2 => (value.clone(), value, step).prop_map(|(a, b, s)| format!("{a}-{b}/{s}")),
    ]
}

fn valid_list(min: u32, max: u32) -> impl Strategy<Value = String> {
    prop::collection::vec(valid_item(min, max), 1..=3).prop_map(|items| items.join(","))
}

/// The two day fields: one names days (with `L`, `W`, `#` forms), the other is `?` or `*`.
fn valid_days() -> impl Strategy<Value = (String, String)> {
    let day_of_month = prop_oneof![
        3 => valid_list(1, 31),
        1 => prop::sample::select(vec!["L", "LW", "*"]).prop_map(str::to_string),
        2 => (0u32..=30, any::<bool>()).prop_map(|(n, w)| format!("L-{n}{}", if w { "W" } else { "" })),
        1 => (1u32..=31).prop_map(|n| format!("{n}W")),
    ];
    let day_of_week = prop_oneof![
        3 => valid_list(1, 7),
        1 => prop::sample::select(vec!["L", "MON-FRI", "SAT,SUN", "FRI-MON", "*"]).prop_map(str::to_string),
        1 => (1u32..=7).prop_map(|n| format!("{n}L")),
        1 => (1u32..=7, 1u32..=5).prop_map(|(n, k)| format!("{n}#{k}")),
    ];
    prop_oneof![day_of_month.prop_map(|d| (d, "?".to_string())), day_of_week.prop_map(|d| ("?".to_string(), d)),]
}

fn valid_year() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        3 => Just(None),
        1 => Just(Some("*".to_string())),
        1 => (2026u32..=2099, 2026u32..=2099, prop::option::of(1u32..=20)).prop_map(|(a, b, step)| {
            let step = step.map(|s| format!("/{s}")).unwrap_or_default();
            Some(format!("{}-{}{step}", a.min(b), a.max(b)))
        }),
        1 => (0u32..=2099, 1u32..=30).prop_map(|(a, s)| Some(format!("{a}/{s}"))),
    ]
}

/// Expressions Quartz accepts, so most of them parse and their fires can be checked.
fn quartz_expression() -> impl Strategy<Value = String> {
    (valid_list(0, 59), valid_list(0, 59), valid_list(0, 23), valid_days(), valid_list(1, 12), valid_year()).prop_map(
        |(seconds, minutes, hours, (day_of_month, day_of_week), month, year)| {
            let mut fields = vec![seconds, minutes, hours, day_of_month, month, day_of_week];
            fields.extend(year);
            fields.join(" ")
        },
    )
}

fn zone() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["UTC", "America/New_York", "Europe/London", "Asia/Kolkata", "Australia/Lord_Howe"])
}

proptest! {
    // A failing case is printed, shrunk; integration tests have no source file to store it beside.
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings_never_panic_and_refusals_name_their_cause(expr in any::<String>()) {
        check(&expr, "UTC")?;
    }

    #[test]
    fn strings_of_cron_characters_never_panic(expr in "[0-9A-Za-z*?/,#\\- \t]{0,60}") {
        check(&expr, "UTC")?;
    }

    #[test]
    fn structured_expressions_never_panic_and_fire_forward(expr in expression(), tz in zone()) {
        check(&expr, tz)?;
    }

    #[test]
    fn quartz_expressions_parse_unless_no_date_matches_and_fire_forward(expr in quartz_expression(), tz in zone()) {
        if let Err(CronError::InvalidExpression { reason, .. }) = CronSchedule::parse(&expr, tz) {
            // 31 in April only, L-30 in February only, 29 February in years that are not leap.
            prop_assert!(reason.contains("matches day-of-month"), "{expr:?} refused: {reason}");
        }
        check(&expr, tz)?;
    }

    #[test]
    fn overlong_input_is_refused_without_being_quoted(len in MAX_EXPRESSION_BYTES + 1..=20_000usize) {
        let expr: String = "0 0 12 * * ? ".chars().cycle().take(len).collect();
        check(&expr, "UTC")?;
        let long_zone = "Asia/".repeat(len / 5);
        let err = CronSchedule::parse("0 0 12 * * ?", &long_zone).unwrap_err();
        prop_assert!(err.to_string().len() < 200, "{} byte message", err.to_string().len());
    }
}
