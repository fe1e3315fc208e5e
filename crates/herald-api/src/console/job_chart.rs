//! A job's success over time, for its page: its last fires (at most [`FIRES`]) in up to
//! [`BUCKETS`] equal spans of time, each span's succeeded and failed fires as a stacked bar in
//! the console's chart (the same `canvas[data-series]` the dashboard draws).

use super::language::text;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use herald_store::FireRecord;
use serde_json::{Value, json};

/// The most fires the chart reads.
pub(crate) const FIRES: i64 = 500;
/// The most bars it draws.
const BUCKETS: usize = 20;

/// The chart's series, or None when no fire has ended yet. `fires` come newest first.
pub(crate) fn series(fires: &[FireRecord], zone: Tz) -> Option<Value> {
    let ended: Vec<(DateTime<Utc>, bool)> = fires
        .iter()
        .filter(|f| f.outcome == "succeeded" || f.outcome == "failed")
        .map(|f| (f.fire_time, f.outcome == "succeeded"))
        .collect();
    let oldest = ended.iter().map(|(at, _)| *at).min()?;
    let newest = ended.iter().map(|(at, _)| *at).max()?;
    let span_ms = (newest - oldest).num_milliseconds();
    let buckets = if span_ms == 0 { 1 } else { BUCKETS };
    let width_ms = (span_ms / buckets as i64).max(1);
    let mut counts = vec![(0i64, 0i64); buckets];
    for (at, succeeded) in &ended {
        let i = (((*at - oldest).num_milliseconds() / width_ms) as usize).min(buckets - 1);
        if *succeeded { counts[i].0 += 1 } else { counts[i].1 += 1 }
    }
    let starts = (0..buckets).map(|i| oldest + chrono::Duration::milliseconds(width_ms * i as i64));
    let labels: Vec<String> = starts.map(|at| at.with_timezone(&zone).format("%m-%d %H:%M").to_string()).collect();
    let column = |pick: fn(&(i64, i64)) -> i64| counts.iter().map(pick).collect::<Vec<_>>();
    Some(json!({
        "hours": [],
        "labels": labels,
        "states": [
            {"state": "succeeded", "label": text("job-outcome-succeeded"), "counts": column(|c| c.0)},
            {"state": "failed", "label": text("job-outcome-failed"), "counts": column(|c| c.1)},
        ]
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn fire(minute: i64, outcome: &str) -> FireRecord {
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap() + chrono::Duration::minutes(minute);
        FireRecord {
            id: minute,
            schedule_id: 1,
            fire_time: at,
            claimed_at: at,
            lateness_ms: 0,
            outcome: outcome.into(),
            run_id: None,
            error: None,
            claimed_by: None,
        }
    }

    #[test]
    fn fires_fall_into_equal_spans_with_their_outcomes_counted() {
        assert_eq!(series(&[fire(0, "fired")], Tz::UTC), None, "none ended");
        let fires = [fire(200, "succeeded"), fire(199, "failed"), fire(100, "succeeded"), fire(0, "succeeded")];
        let chart = series(&fires, Tz::UTC).unwrap();
        let counts = |i: usize| {
            chart["states"][i]["counts"].as_array().unwrap().iter().map(|c| c.as_i64().unwrap()).sum::<i64>()
        };
        assert_eq!((counts(0), counts(1)), (3, 1));
        assert_eq!(chart["labels"].as_array().unwrap().len(), 20);
        assert_eq!(chart["labels"][0], "03-01 00:00");
        assert_eq!(chart["states"][0]["counts"][19], 1, "the newest span holds the last success");
        assert_eq!(chart["states"][1]["counts"][19], 1, "and the failure just before it");
        let one = series(&[fire(5, "failed")], chrono_tz::Asia::Shanghai).unwrap();
        assert_eq!((one["labels"][0].as_str(), one["states"][1]["counts"][0].as_i64()), (Some("03-01 08:05"), Some(1)));
    }
}
