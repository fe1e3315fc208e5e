//! Daily windows a schedule does not fire in (Quartz's `DailyCalendar`): a time of day from and
//! to, read in the schedule's zone, wrapping past midnight when `to` comes before `from`
//! (`22:00`–`06:00` is the night).

use crate::field::FieldError;
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use serde::{Deserialize, Serialize};

/// The most windows a schedule may exclude.
pub const MAX_EXCLUDED_WINDOWS: usize = 24;

/// A time of day from and to, `HH:MM` (or `HH:MM:SS`): fires at `from` or later and before
/// `to` are left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DailyWindow {
    #[schema(value_type = String, example = "22:00")]
    #[serde(deserialize_with = "time_of_day")]
    pub from: NaiveTime,
    #[schema(value_type = String, example = "06:00")]
    #[serde(deserialize_with = "time_of_day")]
    pub to: NaiveTime,
}

/// `HH:MM` or `HH:MM:SS`, refused in words that name the field (an error inside a schedule
/// loses its path).
fn time_of_day<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<NaiveTime, D::Error> {
    let text = String::deserialize(deserializer)?;
    ["%H:%M", "%H:%M:%S"].iter().find_map(|format| NaiveTime::parse_from_str(text.trim(), format).ok()).ok_or_else(
        || {
            let shown: String = text.chars().take(20).collect();
            serde::de::Error::custom(format!("excludeWindows: {shown:?} is not a time of day (HH:MM)"))
        },
    )
}

impl DailyWindow {
    /// Whether a fire at local time `t` falls in the window.
    pub fn contains(&self, t: NaiveTime) -> bool {
        if self.from <= self.to { self.from <= t && t < self.to } else { t >= self.from || t < self.to }
    }

    /// Where the window that holds local `at` ends: its `to` that day, or the next day's for a
    /// night window entered before midnight.
    pub fn end_after(&self, at: NaiveDateTime) -> Option<NaiveDateTime> {
        let day: NaiveDate = at.date();
        let day = if self.from > self.to && at.time() >= self.from { day.succ_opt()? } else { day };
        Some(day.and_time(self.to))
    }

    /// `22:00–06:00`.
    pub fn label(&self) -> String {
        format!("{}–{}", self.from.format("%H:%M"), self.to.format("%H:%M"))
    }
}

/// Faults of a schedule's windows, named under `schedule.excludeWindows`.
pub fn problems(windows: &[DailyWindow]) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if windows.len() > MAX_EXCLUDED_WINDOWS {
        let message = format!("at most {MAX_EXCLUDED_WINDOWS} windows, not {}", windows.len());
        errors.push(FieldError::new("schedule.excludeWindows", message));
    }
    for (i, window) in windows.iter().enumerate().take(MAX_EXCLUDED_WINDOWS) {
        if window.from == window.to {
            let message = format!("from and to are both {}: a window needs a length", window.from.format("%H:%M"));
            errors.push(FieldError::new(format!("schedule.excludeWindows.{i}"), message));
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(from: &str, to: &str) -> DailyWindow {
        serde_json::from_value(serde_json::json!({"from": from, "to": to})).unwrap()
    }

    fn time(s: &str) -> NaiveTime {
        NaiveTime::parse_from_str(s, "%H:%M").unwrap()
    }

    #[test]
    fn a_day_window_and_a_night_window_hold_their_times() {
        let lunch = window("12:00", "13:30");
        assert!(lunch.contains(time("12:00")) && lunch.contains(time("13:29")) && !lunch.contains(time("13:30")));
        let night = window("22:00", "06:00:00");
        assert!(night.contains(time("23:00")) && night.contains(time("05:59")) && !night.contains(time("06:00")));
        assert!(!night.contains(time("12:00")));
        let late = NaiveDate::from_ymd_opt(2026, 5, 1).unwrap().and_time(time("23:00"));
        assert_eq!(night.end_after(late).unwrap().to_string(), "2026-05-02 06:00:00");
        let early = NaiveDate::from_ymd_opt(2026, 5, 2).unwrap().and_time(time("01:00"));
        assert_eq!(night.end_after(early).unwrap().to_string(), "2026-05-02 06:00:00");
        assert_eq!(serde_json::to_value(lunch).unwrap(), serde_json::json!({"from": "12:00:00", "to": "13:30:00"}));
        assert_eq!(night.label(), "22:00–06:00");
    }

    #[test]
    fn an_empty_window_and_too_many_are_refused() {
        assert_eq!(problems(&[window("09:00", "09:00")])[0].field, "schedule.excludeWindows.0");
        let many = vec![window("01:00", "02:00"); MAX_EXCLUDED_WINDOWS + 1];
        assert_eq!(problems(&many)[0].field, "schedule.excludeWindows");
        assert!(serde_json::from_value::<DailyWindow>(serde_json::json!({"from": "25:00", "to": "01:00"})).is_err());
    }
}
