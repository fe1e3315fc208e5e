//! What a due fire does: fire, skip as a misfire, or record that a template has no crowd to
//! send to, and when the schedule fires next. The store calls [`decide`] inside the
//! transaction that claims the fire and writes down what it says.

use crate::cron::{Cadence, CronError, MisfirePolicy, Timetable, plan_fire_in};
use chrono::NaiveDate;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// How a claimed fire ended, as written to the fire ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FireOutcome {
    Fired,
    MisfireSkipped,
    /// The template has no crowd file, so nothing was sent.
    NoCrowd,
}

impl FireOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fired => "fired",
            Self::MisfireSkipped => "misfire_skipped",
            Self::NoCrowd => "no_crowd",
        }
    }
}

/// What a schedule's fire is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FireTarget {
    /// A housekeeping job (token refresh, release, retention): its fire is the job itself.
    Housekeeping,
    /// A user's job (an HTTP call): its fire is one run of the job.
    Job,
    /// A template: its fire sends to the template's crowd file, when it has one.
    Template { has_crowd: bool },
}

/// A schedule whose next fire time has come, as the claimer read it.
#[derive(Debug, Clone, Copy)]
pub struct DueSchedule<'a> {
    /// How its fires come; `cron` is read for a cron cadence only.
    pub cadence: Cadence,
    pub cron: &'a str,
    pub timezone: &'a str,
    pub misfire: MisfirePolicy,
    /// The fire time that came due (the schedule's next fire).
    pub due_at: DateTime<Utc>,
    pub target: FireTarget,
    /// The schedule fires no later than this, when it has an end date.
    pub end_at: Option<DateTime<Utc>>,
    /// Days of the schedule's time zone it does not fire on.
    pub exclude_dates: &'a [NaiveDate],
    /// Times of day of the schedule's time zone it does not fire in.
    pub exclude_windows: &'a [crate::cron::DailyWindow],
}

/// What to write for one due fire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FireDecision {
    pub outcome: FireOutcome,
    /// The scheduled time, the fire ledger's key together with the schedule.
    pub fire_time: DateTime<Utc>,
    /// How late the fire is being handled (never negative).
    pub lateness: Duration,
    /// When the schedule fires next; None when its expression has no more fires.
    pub next_fire: Option<DateTime<Utc>>,
    /// True when the fire starts a run of the template's crowd file.
    pub creates_run: bool,
}

/// Decides the fire of `due` handled at `now`; a fire later than `grace` is a misfire and follows
/// the schedule's misfire policy (see [`plan_fire`]). An unreadable cron is an error: such a
/// schedule can never fire again.
pub fn decide(due: &DueSchedule<'_>, now: DateTime<Utc>, grace: Duration) -> Result<FireDecision, CronError> {
    let times = due.cadence.times_after(due.cron, due.timezone, due.due_at)?;
    let tz = crate::parse_tz(due.timezone).ok_or_else(|| CronError::UnknownTimeZone(due.timezone.to_string()))?;
    let timetable = Timetable {
        end: due.end_at,
        excluded: due.exclude_dates.iter().copied().collect(),
        windows: due.exclude_windows.to_vec(),
        ..Timetable::new(times, tz)
    };
    let plan = plan_fire_in(&timetable, due.due_at, now, grace, due.misfire);
    let outcome = match (plan.fire, due.target) {
        (false, _) => FireOutcome::MisfireSkipped,
        (true, FireTarget::Template { has_crowd: false }) => FireOutcome::NoCrowd,
        (true, _) => FireOutcome::Fired,
    };
    Ok(FireDecision {
        outcome,
        fire_time: plan.fire_time,
        lateness: plan.lateness,
        next_fire: plan.next_fire,
        creates_run: outcome == FireOutcome::Fired && matches!(due.target, FireTarget::Template { .. }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRACE: Duration = Duration::seconds(60);
    const WITH_CROWD: FireTarget = FireTarget::Template { has_crowd: true };

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn quarter_hourly(misfire: MisfirePolicy, target: FireTarget) -> DueSchedule<'static> {
        DueSchedule {
            cadence: Cadence::Cron,
            cron: "0 0/15 * * * ?",
            timezone: "UTC",
            misfire,
            due_at: utc("2026-05-01T10:15:00Z"),
            target,
            end_at: None,
            exclude_dates: &[],
            exclude_windows: &[],
        }
    }

    #[test]
    fn an_on_time_template_fire_creates_a_run_and_schedules_the_next_after_due() {
        let due = quarter_hourly(MisfirePolicy::Skip, WITH_CROWD);
        let decision = decide(&due, utc("2026-05-01T10:15:40Z"), GRACE).unwrap();
        assert_eq!(
            decision,
            FireDecision {
                outcome: FireOutcome::Fired,
                fire_time: due.due_at,
                lateness: Duration::seconds(40),
                next_fire: Some(utc("2026-05-01T10:30:00Z")),
                creates_run: true,
            }
        );
    }

    #[test]
    fn a_fire_exactly_at_the_grace_limit_is_on_time_and_one_past_it_is_a_misfire() {
        let due = quarter_hourly(MisfirePolicy::Skip, WITH_CROWD);
        let at_limit = decide(&due, due.due_at + GRACE, GRACE).unwrap();
        assert_eq!((at_limit.outcome, at_limit.creates_run), (FireOutcome::Fired, true));
        assert_eq!(at_limit.next_fire, Some(utc("2026-05-01T10:30:00Z")), "the next after due");
        let past = decide(&due, due.due_at + GRACE + Duration::milliseconds(1), GRACE).unwrap();
        assert_eq!((past.outcome, past.creates_run), (FireOutcome::MisfireSkipped, false));
        assert_eq!(past.lateness, GRACE + Duration::milliseconds(1));
    }

    #[test]
    fn a_fire_once_misfire_fires_late_and_resumes_after_now() {
        let due = quarter_hourly(MisfirePolicy::FireOnce, WITH_CROWD);
        let decision = decide(&due, utc("2026-05-01T11:20:00Z"), GRACE).unwrap();
        assert_eq!(
            decision,
            FireDecision {
                outcome: FireOutcome::Fired,
                fire_time: due.due_at,
                lateness: Duration::minutes(65),
                next_fire: Some(utc("2026-05-01T11:30:00Z")),
                creates_run: true,
            }
        );
    }

    #[test]
    fn a_skip_misfire_records_the_skip_creates_no_run_and_resumes_after_now() {
        let due = quarter_hourly(MisfirePolicy::Skip, WITH_CROWD);
        let decision = decide(&due, utc("2026-05-01T11:20:00Z"), GRACE).unwrap();
        assert_eq!(
            decision,
            FireDecision {
                outcome: FireOutcome::MisfireSkipped,
                fire_time: due.due_at,
                lateness: Duration::minutes(65),
                next_fire: Some(utc("2026-05-01T11:30:00Z")),
                creates_run: false,
            }
        );
    }

    #[test]
    fn a_template_without_crowd_fires_as_no_crowd_and_still_advances() {
        let due = quarter_hourly(MisfirePolicy::FireOnce, FireTarget::Template { has_crowd: false });
        let on_time = decide(&due, due.due_at, GRACE).unwrap();
        assert_eq!((on_time.outcome, on_time.creates_run), (FireOutcome::NoCrowd, false));
        assert_eq!(on_time.next_fire, Some(utc("2026-05-01T10:30:00Z")));
        // A skipped misfire is a skip whether or not there was anything to send.
        let skip = quarter_hourly(MisfirePolicy::Skip, FireTarget::Template { has_crowd: false });
        let late = decide(&skip, utc("2026-05-01T11:20:00Z"), GRACE).unwrap();
        assert_eq!(late.outcome, FireOutcome::MisfireSkipped);
    }

    #[test]
    fn a_housekeeping_fire_is_fired_without_a_run() {
        let due = quarter_hourly(MisfirePolicy::FireOnce, FireTarget::Housekeeping);
        let decision = decide(&due, due.due_at, GRACE).unwrap();
        assert_eq!((decision.outcome, decision.creates_run), (FireOutcome::Fired, false));
        let late = decide(&due, due.due_at + Duration::hours(2), GRACE).unwrap();
        assert_eq!((late.outcome, late.creates_run), (FireOutcome::Fired, false));
        let skip = quarter_hourly(MisfirePolicy::Skip, FireTarget::Housekeeping);
        assert_eq!(
            decide(&skip, skip.due_at + Duration::hours(2), GRACE).unwrap().outcome,
            FireOutcome::MisfireSkipped
        );
    }

    #[test]
    fn the_last_fire_of_a_cron_has_no_next_fire() {
        let due = DueSchedule {
            cadence: Cadence::Cron,
            cron: "0 0 12 1 1 ? 2030",
            timezone: "Asia/Shanghai",
            misfire: MisfirePolicy::FireOnce,
            due_at: utc("2030-01-01T04:00:00Z"),
            target: WITH_CROWD,
            end_at: None,
            exclude_dates: &[],
            exclude_windows: &[],
        };
        let on_time = decide(&due, due.due_at, GRACE).unwrap();
        assert_eq!((on_time.outcome, on_time.next_fire, on_time.creates_run), (FireOutcome::Fired, None, true));
        let late = decide(&due, due.due_at + Duration::hours(3), GRACE).unwrap();
        assert_eq!((late.outcome, late.next_fire), (FireOutcome::Fired, None));
    }

    #[test]
    fn a_job_fires_without_a_run_on_its_cadence() {
        let mut due = quarter_hourly(MisfirePolicy::FireOnce, FireTarget::Job);
        due.cadence = Cadence::FixedRate { every: Duration::seconds(40) };
        let on_time = decide(&due, due.due_at + Duration::seconds(2), GRACE).unwrap();
        assert_eq!((on_time.outcome, on_time.creates_run), (FireOutcome::Fired, false));
        assert_eq!(on_time.next_fire, Some(utc("2026-05-01T10:15:40Z")), "on the rate's grid");
        let late = decide(&due, utc("2026-05-01T10:20:00Z"), GRACE).unwrap();
        assert_eq!(late.next_fire, Some(utc("2026-05-01T10:20:20Z")), "the grid's next point after now");
        due.cadence = Cadence::FixedDelay { delay: Duration::seconds(10), hold: Duration::seconds(50) };
        assert_eq!(decide(&due, due.due_at, GRACE).unwrap().next_fire, Some(utc("2026-05-01T10:16:00Z")));
        for cadence in [Cadence::Once, Cadence::Api] {
            due.cadence = cadence;
            let once = decide(&due, due.due_at, GRACE).unwrap();
            assert_eq!((once.outcome, once.next_fire), (FireOutcome::Fired, None), "{cadence:?}");
        }
    }

    #[test]
    fn an_unreadable_cron_or_zone_is_an_error() {
        let mut due = quarter_hourly(MisfirePolicy::FireOnce, WITH_CROWD);
        due.cron = "every day at noon";
        assert!(decide(&due, due.due_at, GRACE).is_err());
        let mut due = quarter_hourly(MisfirePolicy::FireOnce, WITH_CROWD);
        due.timezone = "Mars/Olympus";
        assert!(decide(&due, due.due_at, GRACE).is_err());
    }

    #[test]
    fn outcome_names_are_the_ledger_values() {
        for (outcome, name) in [
            (FireOutcome::Fired, "fired"),
            (FireOutcome::MisfireSkipped, "misfire_skipped"),
            (FireOutcome::NoCrowd, "no_crowd"),
        ] {
            assert_eq!(outcome.as_str(), name);
            assert_eq!(serde_json::to_string(&outcome).unwrap(), format!("\"{name}\""));
        }
    }
}
