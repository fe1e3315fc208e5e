//! The misfire rule: what a scheduler does with a fire it handles late, and which fire comes
//! next.

use super::{CronSchedule, Timetable};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::fmt;

/// The missed fires `catch_up` makes up when it names no count.
pub const DEFAULT_CATCH_UP: u32 = 10;
/// The most missed fires `catch_up` may make up.
pub const MAX_CATCH_UP: u32 = 1_000;
/// The missed fire times a catch-up walks through to find the latest ones, at most; fires
/// missed beyond this many are coalesced into the first kept.
const CATCH_UP_WALK: usize = 100_000;

/// Written `fire_once`, `skip`, or `catch_up` / `catch_up:N` (N from 1 to 1,000; 10 when left
/// out).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum MisfirePolicy {
    /// Fire once now for all the missed fires, recording the lateness.
    #[default]
    FireOnce,
    /// Skip the missed fires; record them as misfired.
    Skip,
    /// Fire each of the latest `max` missed fires, oldest first, one after another; those
    /// before them are skipped.
    CatchUp { max: u32 },
}

impl MisfirePolicy {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "fire_once" => Some(Self::FireOnce),
            "skip" => Some(Self::Skip),
            "catch_up" => Some(Self::CatchUp { max: DEFAULT_CATCH_UP }),
            _ => {
                let max: u32 = s.strip_prefix("catch_up:")?.parse().ok()?;
                (1..=MAX_CATCH_UP).contains(&max).then_some(Self::CatchUp { max })
            }
        }
    }
}

impl fmt::Display for MisfirePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::FireOnce => f.write_str("fire_once"),
            Self::Skip => f.write_str("skip"),
            Self::CatchUp { max } => write!(f, "catch_up:{max}"),
        }
    }
}

impl TryFrom<String> for MisfirePolicy {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s).ok_or_else(|| {
            format!("{s:?} is not a misfire policy: fire_once, skip, or catch_up[:N] with N from 1 to {MAX_CATCH_UP}")
        })
    }
}

impl From<MisfirePolicy> for String {
    fn from(p: MisfirePolicy) -> String {
        p.to_string()
    }
}

/// What to do with a due fire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirePlan {
    /// The scheduled time written to the fire ledger.
    pub fire_time: DateTime<Utc>,
    /// How late the fire is being handled.
    pub lateness: Duration,
    /// False when the misfire policy says to skip it.
    pub fire: bool,
    /// The schedule's next fire time, or None when the expression has no more.
    pub next_fire: Option<DateTime<Utc>>,
}

/// Decides what to do with the fire due at `due`, handled at `now`.
///
/// * Within `grace` (`now - due <= grace`): fire at `due`; the next fire is the one after `due`.
/// * Later (a misfire): [`MisfirePolicy::FireOnce`] fires once, with `fire_time = due` and the
///   lateness recorded, and every other fire missed up to `now` is coalesced into it;
///   [`MisfirePolicy::Skip`] does not fire. Either way the next fire is the first after `now`.
///   [`MisfirePolicy::CatchUp`] fires `due` with the next fire after it, so each missed fire
///   comes in turn, when `due` is among the latest `max` fires missed up to `now`; else it
///   skips `due` and goes on at the first of those.
pub fn plan_fire(
    schedule: &CronSchedule,
    due: DateTime<Utc>,
    now: DateTime<Utc>,
    grace: Duration,
    policy: MisfirePolicy,
) -> FirePlan {
    plan_fire_in(&Timetable::of(schedule.clone()), due, now, grace, policy)
}

/// [`plan_fire`] for a schedule with an end date or excluded days: its next fires are the
/// timetable's, so none comes after the end or on an excluded day, and a catch-up makes up only
/// fires the timetable had.
pub fn plan_fire_in(
    timetable: &Timetable,
    due: DateTime<Utc>,
    now: DateTime<Utc>,
    grace: Duration,
    policy: MisfirePolicy,
) -> FirePlan {
    let lateness = (now - due).max(Duration::zero());
    if lateness <= grace {
        return FirePlan { fire_time: due, lateness, fire: true, next_fire: timetable.next_after(due) };
    }
    match policy {
        MisfirePolicy::FireOnce | MisfirePolicy::Skip => FirePlan {
            fire_time: due,
            lateness,
            fire: policy == MisfirePolicy::FireOnce,
            next_fire: timetable.next_after(now),
        },
        MisfirePolicy::CatchUp { max } => match first_kept(timetable, due, now, max) {
            None => FirePlan { fire_time: due, lateness, fire: true, next_fire: timetable.next_after(due) },
            Some(first) => FirePlan { fire_time: due, lateness, fire: false, next_fire: Some(first) },
        },
    }
}

/// The first of the latest `max` fires missed after `due` up to `now`, when `due` itself is
/// not among them (None: it is, so it fires).
fn first_kept(timetable: &Timetable, due: DateTime<Utc>, now: DateTime<Utc>, max: u32) -> Option<DateTime<Utc>> {
    let max = usize::try_from(max.max(1)).unwrap_or(1);
    let mut latest: VecDeque<DateTime<Utc>> = VecDeque::with_capacity(max + 1);
    let mut at = due;
    latest.push_back(due);
    for _ in 0..CATCH_UP_WALK {
        match timetable.next_after(at) {
            Some(next) if next <= now => {
                latest.push_back(next);
                if latest.len() > max {
                    latest.pop_front();
                }
                at = next;
            }
            _ => break,
        }
    }
    latest.front().copied().filter(|first| *first != due)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn on_time_fire_runs_at_due_and_schedules_the_next_after_due() {
        let s = CronSchedule::parse("0 0/15 * * * ?", "UTC").unwrap();
        let due = utc("2026-05-01T10:15:00Z");
        let now = utc("2026-05-01T10:15:40Z");
        let plan = plan_fire(&s, due, now, Duration::seconds(60), MisfirePolicy::Skip);
        assert_eq!(
            plan,
            FirePlan {
                fire_time: due,
                lateness: Duration::seconds(40),
                fire: true,
                next_fire: Some(utc("2026-05-01T10:30:00Z"))
            }
        );
        // Exactly at the grace limit still counts as on time.
        let plan = plan_fire(&s, due, due + Duration::seconds(60), Duration::seconds(60), MisfirePolicy::Skip);
        assert!(plan.fire);
        assert_eq!(plan.next_fire, Some(utc("2026-05-01T10:30:00Z")));
        // A handler that runs early records no negative lateness.
        let plan = plan_fire(&s, due, due - Duration::seconds(5), Duration::zero(), MisfirePolicy::FireOnce);
        assert_eq!(plan.lateness, Duration::zero());
        assert!(plan.fire);
    }

    #[test]
    fn fire_once_misfire_fires_once_and_coalesces_the_missed_fires() {
        let s = CronSchedule::parse("0 0/15 * * * ?", "UTC").unwrap();
        let due = utc("2026-05-01T10:15:00Z");
        // 10:30, 10:45, 11:00 and 11:15 were missed too; they are coalesced.
        let now = utc("2026-05-01T11:20:00Z");
        let plan = plan_fire(&s, due, now, Duration::seconds(60), MisfirePolicy::FireOnce);
        assert_eq!(
            plan,
            FirePlan {
                fire_time: due,
                lateness: Duration::minutes(65),
                fire: true,
                next_fire: Some(utc("2026-05-01T11:30:00Z"))
            }
        );
    }

    #[test]
    fn skip_misfire_does_not_fire_and_moves_past_now() {
        let s = CronSchedule::parse("0 0/15 * * * ?", "UTC").unwrap();
        let due = utc("2026-05-01T10:15:00Z");
        let now = utc("2026-05-01T10:16:01Z");
        let plan = plan_fire(&s, due, now, Duration::seconds(60), MisfirePolicy::Skip);
        assert_eq!(
            plan,
            FirePlan {
                fire_time: due,
                lateness: Duration::seconds(61),
                fire: false,
                next_fire: Some(utc("2026-05-01T10:30:00Z"))
            }
        );
        // A now that sits exactly on a later fire time: that one is not "after now".
        let plan = plan_fire(&s, due, utc("2026-05-01T11:00:00Z"), Duration::zero(), MisfirePolicy::Skip);
        assert_eq!(plan.next_fire, Some(utc("2026-05-01T11:15:00Z")));
    }

    #[test]
    fn misfire_of_a_finished_schedule_has_no_next_fire() {
        let s = CronSchedule::parse("0 0 12 1 1 ? 2030", "Asia/Shanghai").unwrap();
        let due = utc("2030-01-01T04:00:00Z");
        for policy in [MisfirePolicy::FireOnce, MisfirePolicy::Skip] {
            let plan = plan_fire(&s, due, due + Duration::hours(3), Duration::minutes(1), policy);
            assert_eq!(plan.fire, policy == MisfirePolicy::FireOnce);
            assert_eq!(plan.next_fire, None);
        }
        let plan = plan_fire(&s, due, due, Duration::minutes(1), MisfirePolicy::Skip);
        assert!(plan.fire);
        assert_eq!(plan.next_fire, None);
    }

    #[test]
    fn catch_up_fires_each_of_the_latest_missed_fires_in_turn() {
        let s = CronSchedule::parse("0 0/15 * * * ?", "UTC").unwrap();
        let grace = Duration::seconds(60);
        let now = utc("2026-05-01T11:20:00Z");
        // Missed: 10:15, 10:30, 10:45, 11:00, 11:15. Three kept: 10:45, 11:00, 11:15.
        let policy = MisfirePolicy::CatchUp { max: 3 };
        let plan = plan_fire(&s, utc("2026-05-01T10:15:00Z"), now, grace, policy);
        assert_eq!((plan.fire, plan.next_fire), (false, Some(utc("2026-05-01T10:45:00Z"))), "the oldest two go");
        let mut fired = Vec::new();
        let mut due = plan.next_fire.unwrap();
        while due <= now {
            let plan = plan_fire(&s, due, now, grace, policy);
            assert!(plan.fire, "{due}");
            fired.push(due);
            due = plan.next_fire.unwrap();
        }
        assert_eq!(fired, [utc("2026-05-01T10:45:00Z"), utc("2026-05-01T11:00:00Z"), utc("2026-05-01T11:15:00Z")]);
        assert_eq!(due, utc("2026-05-01T11:30:00Z"), "then on schedule");
        // Fewer missed than the count: each fires.
        let plan = plan_fire(&s, utc("2026-05-01T11:00:00Z"), now, grace, MisfirePolicy::CatchUp { max: 10 });
        assert_eq!((plan.fire, plan.next_fire), (true, Some(utc("2026-05-01T11:15:00Z"))));
    }

    #[test]
    fn a_catch_up_over_a_long_outage_ends() {
        // Every second for ten days: the walk is bounded, and the plan still moves forward.
        let s = CronSchedule::parse("* * * * * ?", "UTC").unwrap();
        let due = utc("2026-05-01T00:00:00Z");
        let now = due + Duration::days(10);
        let plan = plan_fire(&s, due, now, Duration::seconds(1), MisfirePolicy::CatchUp { max: 5 });
        assert!(!plan.fire);
        assert!(plan.next_fire.unwrap() > due && plan.next_fire.unwrap() <= now);
    }

    #[test]
    fn nothing_fires_after_the_end() {
        let s = CronSchedule::parse("0 0/15 * * * ?", "UTC").unwrap();
        let t = Timetable { end: Some(utc("2026-05-01T10:40:00Z")), ..Timetable::of(s) };
        let grace = Duration::seconds(60);
        let (due, now) = (utc("2026-05-01T10:30:00Z"), utc("2026-05-01T10:30:01Z"));
        let on_time = plan_fire_in(&t, due, now, grace, MisfirePolicy::Skip);
        assert_eq!((on_time.fire, on_time.next_fire), (true, None), "10:45 is past the end");
        // Back at 11:20 after missing 10:15 and 10:30 (before the end) and 10:45 to 11:15 (after).
        let policy = MisfirePolicy::CatchUp { max: 5 };
        let plan = plan_fire_in(&t, utc("2026-05-01T10:15:00Z"), utc("2026-05-01T11:20:00Z"), grace, policy);
        assert_eq!((plan.fire, plan.next_fire), (true, Some(utc("2026-05-01T10:30:00Z"))));
        let plan = plan_fire_in(&t, utc("2026-05-01T10:30:00Z"), utc("2026-05-01T11:20:00Z"), grace, policy);
        assert_eq!((plan.fire, plan.next_fire), (true, None), "the last one before the end, then none");
    }

    #[test]
    fn misfire_policy_names_round_trip() {
        for (p, name) in [
            (MisfirePolicy::FireOnce, "fire_once"),
            (MisfirePolicy::Skip, "skip"),
            (MisfirePolicy::CatchUp { max: 3 }, "catch_up:3"),
        ] {
            assert_eq!(MisfirePolicy::parse(name), Some(p));
            assert_eq!(p.to_string(), name);
            assert_eq!(serde_json::to_string(&p).unwrap(), format!("\"{name}\""));
            assert_eq!(serde_json::from_str::<MisfirePolicy>(&format!("\"{name}\"")).unwrap(), p);
        }
        assert_eq!(MisfirePolicy::parse("catch_up"), Some(MisfirePolicy::CatchUp { max: DEFAULT_CATCH_UP }));
        for bad in ["FireOnce", "catch_up:0", "catch_up:1001", "catch_up:", "catch_up:x"] {
            assert_eq!(MisfirePolicy::parse(bad), None, "{bad}");
        }
        let refused = serde_json::from_str::<MisfirePolicy>("\"later\"").unwrap_err().to_string();
        assert!(refused.contains("catch_up[:N]"), "{refused}");
        assert_eq!(MisfirePolicy::default(), MisfirePolicy::FireOnce);
    }
}
