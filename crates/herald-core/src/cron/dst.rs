//! Turns the wall-clock times a pattern matches into instants in a time zone, by the DST rule the
//! module documentation of [`super`] states: clock-time expressions fire once per named time
//! (a gap's times at the gap's end, a repeated time at its first occurrence), interval expressions
//! follow real elapsed time.

use super::pattern::Compiled;
use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

/// The first fire strictly after `after`, or `None` when the pattern has no more fires.
pub(super) fn next_after(compiled: &Compiled, tz: Tz, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let interval = compiled.interval;
    let local = after.with_timezone(&tz);
    let wall = local.naive_local();

    // An interval expression asked from the first half of a repeated hour still has the second
    // half ahead, at wall-clock times at or before `wall`.
    let mut from_second_half = None;
    if interval
        && let LocalResult::Ambiguous(earlier, later) = tz.from_local_datetime(&wall)
        && earlier == local
    {
        let (transition, _) = fold_bounds(tz, earlier.with_timezone(&Utc), later.with_timezone(&Utc));
        let second_half_start = transition.with_timezone(&tz).naive_local();
        if let Some(w) = compiled.next_wall(&second_half_start, true)
            && let LocalResult::Ambiguous(_, l) = tz.from_local_datetime(&w)
        {
            let l = l.with_timezone(&Utc);
            if l > after {
                from_second_half = Some(l);
            }
        }
    }

    let mut cursor = wall;
    let mut found = None;
    while let Some(w) = compiled.next_wall(&cursor, false) {
        cursor = w;
        match tz.from_local_datetime(&w) {
            LocalResult::Single(t) => {
                let t = t.with_timezone(&Utc);
                if t > after {
                    found = Some(t);
                    break;
                }
            }
            LocalResult::Ambiguous(e, l) => {
                let (e, l) = (e.with_timezone(&Utc), l.with_timezone(&Utc));
                if e > after {
                    found = Some(e);
                    break;
                }
                if interval {
                    // w > wall(after), so its second occurrence is after `after`.
                    found = Some(l).filter(|l| *l > after);
                    if found.is_some() {
                        break;
                    }
                } else {
                    // Every remaining time of this repeated hour has its first occurrence
                    // behind us: jump to the end of the repeated wall-clock range.
                    let (_, fold_end_wall) = fold_bounds(tz, e, l);
                    if fold_end_wall > cursor {
                        cursor = fold_end_wall - Duration::seconds(1);
                    }
                }
            }
            LocalResult::None => {
                if !interval && let Some(t) = gap_end(tz, w).filter(|t| *t > after) {
                    found = Some(t);
                    break;
                }
            }
        }
    }
    match (found, from_second_half) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// For a repeated wall-clock range around the instants `earlier` < `later` (the two occurrences
/// of one wall-clock time): the instant the clock goes back, and the first wall-clock time after
/// the repeated range.
fn fold_bounds(tz: Tz, earlier: DateTime<Utc>, later: DateTime<Utc>) -> (DateTime<Utc>, NaiveDateTime) {
    let early_offset = offset_secs(tz, earlier.timestamp());
    // The clock goes back in (earlier, later]: find the first second with the later offset.
    let (mut lo, mut hi) = (earlier.timestamp(), later.timestamp());
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if offset_secs(tz, mid) == early_offset { lo = mid } else { hi = mid }
    }
    let transition = DateTime::from_timestamp(hi, 0).unwrap_or(later);
    let fold_len = later - earlier;
    (transition, transition.with_timezone(&tz).naive_local() + fold_len)
}

/// The first instant after the DST gap that swallows the wall-clock time `w`.
fn gap_end(tz: Tz, w: NaiveDateTime) -> Option<DateTime<Utc>> {
    // Offsets lie within +-17 h, so the wall clock is before `w` 17 h earlier and after it 17 h
    // later; the wall clock jumps over `w` at one second in between.
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

fn offset_secs(tz: Tz, timestamp: i64) -> i32 {
    let utc = DateTime::from_timestamp(timestamp, 0).unwrap_or_default().naive_utc();
    tz.offset_from_utc_datetime(&utc).fix().local_minus_utc()
}
