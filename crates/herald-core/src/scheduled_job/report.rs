//! The daily report alarms can send: how each job's and each housekeeping schedule's fires of
//! the last day went, failures first, and which alarm rules are raised now, as the `{$detail}` of
//! a message through the alarm template (its other variables say it is the report).

use std::collections::BTreeMap;
use std::fmt::Write;

/// The longest report text: a WeCom robot takes 2,048 bytes of text, the template's own words
/// included.
pub const MAX_DETAIL_CHARS: usize = 1_500;
/// The name `{$job}` and the rule `{$rule}` read as in a report.
pub const REPORT_SUBJECT: &str = "all jobs";
pub const REPORT_RULE: &str = "daily_report";

/// How one schedule's fires of the day went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayOf {
    /// The job's name, or the housekeeping's (`token_refresh of account 3`).
    pub name: String,
    pub fires: u64,
    pub failed: u64,
    /// Its alarm rules raised now.
    pub raised: Vec<String>,
}

/// The report's text: a headline with the totals, then each schedule that failed or has a rule
/// raised (most failures first), then a count of the rest that all succeeded; cut to fit an
/// alarm's detail.
pub fn text(days: &[DayOf]) -> String {
    let fires: u64 = days.iter().map(|d| d.fires).sum();
    let failed: u64 = days.iter().map(|d| d.failed).sum();
    let mut troubled: Vec<&DayOf> = days.iter().filter(|d| d.failed > 0 || !d.raised.is_empty()).collect();
    troubled.sort_by(|a, b| b.failed.cmp(&a.failed).then_with(|| a.name.cmp(&b.name)));
    let mut out = format!("last 24 h: {} schedules, {fires} fires, {failed} failed", days.len());
    for day in &troubled {
        let _ = write!(out, "; {}: {} of {} failed", day.name, day.failed, day.fires);
        if !day.raised.is_empty() {
            let _ = write!(out, " (raised: {})", day.raised.join(", "));
        }
    }
    let quiet = days.len() - troubled.len();
    if quiet > 0 {
        let _ = write!(out, "; {quiet} others all succeeded or did not fire");
    }
    cut(out)
}

fn cut(mut out: String) -> String {
    if out.chars().count() > MAX_DETAIL_CHARS {
        out = out.chars().take(MAX_DETAIL_CHARS - 1).collect();
        out.push('…');
    }
    out
}

/// The template's variables for a report with `detail`, sent at `at` by `node`.
pub fn variables(detail: &str, at: &str, node: &str) -> BTreeMap<String, String> {
    [
        ("job", REPORT_SUBJECT),
        ("rule", REPORT_RULE),
        ("state", "report"),
        ("detail", detail),
        ("at", at),
        ("node", node),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(name: &str, fires: u64, failed: u64, raised: &[&str]) -> DayOf {
        DayOf { name: name.into(), fires, failed, raised: raised.iter().map(|r| r.to_string()).collect() }
    }

    #[test]
    fn failures_come_first_and_quiet_schedules_are_counted() {
        let days =
            [day("ok", 24, 0, &[]), day("flaky", 24, 2, &[]), day("down", 3, 3, &["failure"]), day("idle", 0, 0, &[])];
        assert_eq!(
            text(&days),
            "last 24 h: 4 schedules, 51 fires, 5 failed; down: 3 of 3 failed (raised: failure); \
             flaky: 2 of 24 failed; 2 others all succeeded or did not fire"
        );
    }

    #[test]
    fn a_long_report_is_cut_to_an_alarm_s_detail() {
        let days: Vec<DayOf> = (0..2_000).map(|i| day(&format!("job-{i}"), 1, 1, &[])).collect();
        let report = text(&days);
        assert_eq!(report.chars().count(), MAX_DETAIL_CHARS);
        assert!(report.ends_with('…'));
        assert_eq!(variables(&report, "t", "n")["rule"], "daily_report");
    }
}
