//! Quiet hours, austin's "night shield": a nightly window in the recipient's local time in which
//! sends are dropped or held back until a release time in the morning. Pure: the caller passes
//! the instant and the time zone; what to do with a send inside the window is the template's
//! [`QuietHoursPolicy`](crate::QuietHoursPolicy).
//!
//! # Wall-clock reading and daylight saving time
//!
//! `start`, `end` and `release` are wall-clock times in the recipient's time zone, read on the
//! day in question. The window holds every instant whose local time `t` has `start <= t < end`
//! (end exclusive), or, for a window that crosses midnight (`start > end`, e.g. 22:00-07:00),
//! `t >= start` or `t < end`. So the window's real length follows the clock:
//!
//! * on a spring-forward day a window 00:00-08:00 lasts 7 real hours (America/New_York,
//!   2026-03-08: 00:00 EST to 08:00 EDT);
//! * on a fall-back day it lasts 9 real hours, and the repeated hour is inside the window both
//!   times it occurs.
//!
//! A send inside the window is released at the next occurrence of `release` at or after the
//! window's end (for the default window that is 09:00 on the morning the window ends). If that
//! wall-clock time does not exist that day (it falls in a spring-forward gap) the release is the
//! first instant after the gap (02:30 on 2026-03-08 in New York releases at 03:00 EDT); if it
//! occurs twice, the first occurrence, unless that is already past, then the second.

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, NaiveTime, Offset, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// A nightly quiet window; times are written `"HH:MM"` (`"HH:MM:SS"` is accepted too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QuietWindow {
    /// First quiet wall-clock time (inclusive).
    #[serde(with = "hhmm")]
    pub start: NaiveTime,
    /// First wall-clock time after the window (exclusive).
    #[serde(with = "hhmm")]
    pub end: NaiveTime,
    /// When held-back sends go out; must lie outside the window.
    #[serde(with = "hhmm")]
    pub release: NaiveTime,
}

impl Default for QuietWindow {
    /// austin's night shield: quiet from 00:00 to 08:00, held-back sends released at 09:00.
    fn default() -> Self {
        Self { start: hm(0, 0), end: hm(8, 0), release: hm(9, 0) }
    }
}

/// Where an instant falls relative to a quiet window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuietDecision {
    Outside,
    Inside { release_at: DateTime<Utc> },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuietWindowError {
    #[error("quiet window starts and ends at {0}: it would be empty")]
    Empty(String),
    #[error("release time {release} is inside the quiet window {start}-{end}; choose a time at or after {end}")]
    ReleaseInside { start: String, end: String, release: String },
}

impl QuietWindow {
    pub fn new(start: NaiveTime, end: NaiveTime, release: NaiveTime) -> Result<Self, QuietWindowError> {
        let window = Self { start, end, release };
        window.validate()?;
        Ok(window)
    }

    /// A window must not be empty, and its release time must lie outside it.
    pub fn validate(&self) -> Result<(), QuietWindowError> {
        if self.start == self.end {
            return Err(QuietWindowError::Empty(format_time(self.start)));
        }
        if self.contains(self.release) {
            return Err(QuietWindowError::ReleaseInside {
                start: format_time(self.start),
                end: format_time(self.end),
                release: format_time(self.release),
            });
        }
        Ok(())
    }

    /// True when the wall-clock time `t` lies in the window. An empty window contains nothing.
    pub fn contains(&self, t: NaiveTime) -> bool {
        if self.start <= self.end { self.start <= t && t < self.end } else { t >= self.start || t < self.end }
    }

    /// Whether `now` falls in the window in `tz`, and if so when its sends are released (see the
    /// module documentation for DST). A window that fails [`validate`](Self::validate) because it
    /// is empty holds nothing back.
    pub fn check(&self, now: DateTime<Utc>, tz: Tz) -> QuietDecision {
        let local = now.with_timezone(&tz).naive_local();
        let (day, t) = (local.date(), local.time());
        if !self.contains(t) {
            return QuietDecision::Outside;
        }
        // The local date on which this window ends: tomorrow when it crosses midnight and we are
        // in its evening part.
        let end_day = if self.start > self.end && t >= self.start { day + Duration::days(1) } else { day };
        let release_day = if self.release >= self.end { end_day } else { end_day + Duration::days(1) };
        QuietDecision::Inside { release_at: instant_after(tz, release_day.and_time(self.release), now) }
    }
}

/// Reads a recipient's time-zone column (an IANA name such as `Asia/Shanghai`); `None` when it
/// is empty or unknown, so the caller falls back to the template's zone.
pub fn parse_tz(s: &str) -> Option<Tz> {
    let s = s.trim();
    if s.is_empty() { None } else { Tz::from_str(s).ok() }
}

/// The instant the wall-clock time `wall` occurs in `tz`, the first one after `now` when it
/// occurs twice, and the end of the gap when it does not occur.
fn instant_after(tz: Tz, wall: NaiveDateTime, now: DateTime<Utc>) -> DateTime<Utc> {
    match tz.from_local_datetime(&wall) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(first, second) => {
            let first = first.with_timezone(&Utc);
            if first > now { first } else { second.with_timezone(&Utc) }
        }
        LocalResult::None => gap_end(tz, wall).unwrap_or_else(|| {
            // Unreachable for real zones; keep the release near the wall-clock time.
            let offset = tz.offset_from_utc_datetime(&wall).fix().local_minus_utc();
            wall.and_utc() - Duration::seconds(offset.into())
        }),
    }
}

/// The first instant after the DST gap that swallows the wall-clock time `w`.
fn gap_end(tz: Tz, w: NaiveDateTime) -> Option<DateTime<Utc>> {
    // Offsets lie within +-17 h, so the wall clock is before `w` 17 h earlier and after it 17 h
    // later; it jumps over `w` at one second in between.
    let u = w.and_utc().timestamp();
    let after_w = |t: i64| DateTime::from_timestamp(t, 0).is_some_and(|d| d.with_timezone(&tz).naive_local() > w);
    let (mut lo, mut hi) = (u - 17 * 3600, u + 17 * 3600);
    if after_w(lo) || !after_w(hi) {
        return None;
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if after_w(mid) { hi = mid } else { lo = mid }
    }
    DateTime::from_timestamp(hi, 0)
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default()
}

/// `HH:MM`, or `HH:MM:SS` when the seconds are not zero.
fn format_time(t: NaiveTime) -> String {
    if t.second() == 0 { t.format("%H:%M").to_string() } else { t.format("%H:%M:%S").to_string() }
}

/// Parses `HH:MM` or `HH:MM:SS` (no leap seconds, no fractions).
pub fn parse_time_of_day(s: &str) -> Option<NaiveTime> {
    let s = s.trim();
    NaiveTime::parse_from_str(s, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(s, "%H:%M:%S"))
        .ok()
        .filter(|t| t.nanosecond() == 0)
}

mod hhmm {
    use chrono::NaiveTime;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(t: &NaiveTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_time(*t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveTime, D::Error> {
        let s = String::deserialize(d)?;
        super::parse_time_of_day(&s).ok_or_else(|| D::Error::custom(format!("{s:?} is not a time of day (HH:MM)")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn serde_uses_hh_mm_strings() {
        let w: QuietWindow =
            serde_json::from_value(json!({"start": "22:00", "end": "07:00", "release": "07:30:15"})).unwrap();
        assert_eq!((w.start, w.end, w.release), (hm(22, 0), hm(7, 0), NaiveTime::from_hms_opt(7, 30, 15).unwrap()));
        assert_eq!(serde_json::to_value(w).unwrap(), json!({"start": "22:00", "end": "07:00", "release": "07:30:15"}));
        assert_eq!(
            serde_json::to_value(QuietWindow::default()).unwrap(),
            json!({"start": "00:00", "end": "08:00", "release": "09:00"})
        );
    }

    #[test]
    fn bad_times_are_refused_when_read() {
        for bad in ["24:00", "7am", "", "12:00:60.5", "23:59:60"] {
            let r = serde_json::from_value::<QuietWindow>(json!({"start": bad, "end": "07:00", "release": "08:00"}));
            assert!(r.is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn parse_tz_reads_iana_names_only() {
        assert_eq!(parse_tz(" Asia/Shanghai "), Some(chrono_tz::Asia::Shanghai));
        assert_eq!(parse_tz(""), None);
        assert_eq!(parse_tz("Mars/Base"), None);
        assert_eq!(parse_tz("+08:00"), None);
    }
}
