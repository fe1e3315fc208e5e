//! The misfire rule: what a scheduler does with a fire it handles late, and which fire comes
//! next.

use super::CronSchedule;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MisfirePolicy {
    /// Fire once now for all the missed fires, recording the lateness.
    #[default]
    FireOnce,
    /// Skip the missed fires; record them as misfired.
    Skip,
}

impl MisfirePolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FireOnce => "fire_once",
            Self::Skip => "skip",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::FireOnce, Self::Skip].into_iter().find(|p| p.as_str() == s)
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
pub fn plan_fire(
    schedule: &CronSchedule,
    due: DateTime<Utc>,
    now: DateTime<Utc>,
    grace: Duration,
    policy: MisfirePolicy,
) -> FirePlan {
    let lateness = (now - due).max(Duration::zero());
    if lateness <= grace {
        return FirePlan { fire_time: due, lateness, fire: true, next_fire: schedule.next_after(due) };
    }
    FirePlan { fire_time: due, lateness, fire: policy == MisfirePolicy::FireOnce, next_fire: schedule.next_after(now) }
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
    fn misfire_policy_names_round_trip() {
        for p in [MisfirePolicy::FireOnce, MisfirePolicy::Skip] {
            assert_eq!(MisfirePolicy::parse(p.as_str()), Some(p));
            assert_eq!(serde_json::to_string(&p).unwrap(), format!("\"{}\"", p.as_str()));
            assert_eq!(serde_json::from_str::<MisfirePolicy>(&format!("\"{}\"", p.as_str())).unwrap(), p);
        }
        assert_eq!(MisfirePolicy::parse("FireOnce"), None);
        assert_eq!(MisfirePolicy::default(), MisfirePolicy::FireOnce);
    }
}
