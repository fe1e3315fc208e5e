//! How a schedule's fires come, the kinds PowerJob and xxl-job offer: a cron's times, a fixed
//! rate, a fixed delay after each run's end, once at a set time, or only when triggered. Stored
//! as a name and a period beside the schedule's cron.

use super::{CronError, CronSchedule, Times};
use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Cadence {
    /// The schedule's cron expression.
    #[default]
    Cron,
    /// Every `every`, on the grid of its first fire.
    FixedRate { every: Duration },
    /// `delay` after the previous run ends. Until it ends the schedule waits `hold` more (the
    /// longest a run may take), so a node that dies mid-run does not stop it for good.
    FixedDelay { delay: Duration, hold: Duration },
    /// Once, at its first fire time.
    Once,
    /// Only when triggered (through the API).
    Api,
}

impl Cadence {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Cron => "cron",
            Self::FixedRate { .. } => "fixed_rate",
            Self::FixedDelay { .. } => "fixed_delay",
            Self::Once => "once",
            Self::Api => "api",
        }
    }

    /// The cadence stored as `name` with its period and hold in milliseconds; None for a name or
    /// period this version cannot read.
    pub fn from_parts(name: &str, period_ms: Option<i64>, hold_ms: Option<i64>) -> Option<Self> {
        let period = period_ms.filter(|ms| *ms > 0).map(Duration::milliseconds);
        Some(match name {
            "cron" => Self::Cron,
            "fixed_rate" => Self::FixedRate { every: period? },
            "fixed_delay" => {
                Self::FixedDelay { delay: period?, hold: Duration::milliseconds(hold_ms.unwrap_or(0).max(0)) }
            }
            "once" => Self::Once,
            "api" => Self::Api,
            _ => return None,
        })
    }

    /// The period stored beside the name (a fixed rate's or a fixed delay's).
    pub fn period_ms(&self) -> Option<i64> {
        match self {
            Self::FixedRate { every } => Some(every.num_milliseconds()),
            Self::FixedDelay { delay, .. } => Some(delay.num_milliseconds()),
            _ => None,
        }
    }

    /// The hold stored beside a fixed delay.
    pub fn hold_ms(&self) -> Option<i64> {
        match self {
            Self::FixedDelay { hold, .. } => Some(hold.num_milliseconds()),
            _ => None,
        }
    }

    /// The times that follow a fire due at `due`; `cron` is read only for a cron cadence.
    pub fn times_after(&self, cron: &str, timezone: &str, due: DateTime<Utc>) -> Result<Times, CronError> {
        Ok(match *self {
            Self::Cron => Times::Cron(CronSchedule::parse(cron, timezone)?),
            Self::FixedRate { every } => Times::Every { period: every, anchor: due },
            Self::FixedDelay { delay, hold } => Times::After { wait: delay + hold },
            Self::Once | Self::Api => Times::Never,
        })
    }

    /// When a run that ended at `ended` brings the next fire: a fixed delay's, None otherwise.
    pub fn next_after_run(&self, ended: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Self::FixedDelay { delay, .. } => ended.checked_add_signed(*delay),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cadences_read_back_from_their_stored_parts() {
        let all = [
            Cadence::Cron,
            Cadence::FixedRate { every: Duration::seconds(30) },
            Cadence::FixedDelay { delay: Duration::seconds(5), hold: Duration::minutes(2) },
            Cadence::Once,
            Cadence::Api,
        ];
        for cadence in all {
            assert_eq!(Cadence::from_parts(cadence.as_str(), cadence.period_ms(), cadence.hold_ms()), Some(cadence));
        }
        assert_eq!(Cadence::from_parts("fixed_rate", None, None), None, "a rate needs its period");
        assert_eq!(Cadence::from_parts("fixed_rate", Some(0), None), None);
        assert_eq!(Cadence::from_parts("hourly", None, None), None);
    }

    #[test]
    fn only_a_fixed_delay_waits_for_the_run_to_end() {
        let ended = DateTime::parse_from_rfc3339("2026-05-01T10:00:07Z").unwrap().with_timezone(&Utc);
        let delay = Cadence::FixedDelay { delay: Duration::seconds(5), hold: Duration::minutes(2) };
        assert_eq!(delay.next_after_run(ended), Some(ended + Duration::seconds(5)));
        assert_eq!(Cadence::FixedRate { every: Duration::seconds(5) }.next_after_run(ended), None);
        let Times::After { wait } = delay.times_after("", "UTC", ended).unwrap() else { panic!("a wait") };
        assert_eq!(wait, Duration::seconds(125), "held for the longest run, then the delay");
    }
}
