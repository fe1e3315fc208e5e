//! What every implementation schedules: N schedules firing every `every` seconds, staggered so
//! that schedule i fires at second offsets i % every; the measured window, and how many fires
//! the crons put inside it.

use anyhow::{Context, ensure};
use chrono::{DateTime, Duration, DurationRound, Utc};
use herald_core::CronSchedule;

#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub schedules: usize,
    pub every_secs: u32,
}

impl Plan {
    pub fn new(schedules: usize, every_secs: u32) -> anyhow::Result<Self> {
        ensure!(schedules > 0, "--schedules: at least one schedule");
        // The step lives in the seconds field, so one minute bounds it.
        ensure!((1..=59).contains(&every_secs), "--schedule-every-secs must be from 1 to 59, not {every_secs}");
        Ok(Self { schedules, every_secs })
    }

    /// The second offset schedule `i` fires at.
    pub fn offset_of(&self, i: usize) -> u32 {
        (i % self.every_secs as usize) as u32
    }

    /// The distinct offsets in use (fewer than `every` when there are fewer schedules).
    pub fn offsets(&self) -> impl Iterator<Item = u32> {
        0..self.every_secs.min(self.schedules as u32)
    }

    /// How many schedules fire at `offset`.
    pub fn schedules_at(&self, offset: u32) -> usize {
        let every = self.every_secs as usize;
        (self.schedules + every - 1 - offset as usize) / every
    }

    /// herald's dialect (Quartz, with seconds): `"3/10 * * * * ?"`.
    pub fn quartz_cron(&self, offset: u32) -> String {
        format!("{offset}/{} * * * * ?", self.every_secs)
    }

    /// The same times in the plain six-field dialect tokio-cron-scheduler's parser takes (it
    /// refuses Quartz's `3/10`): `"3-59/10 * * * * *"`.
    pub fn plain_cron(&self, offset: u32) -> String {
        format!("{offset}-59/{} * * * * *", self.every_secs)
    }

    /// Fires the crons put in `window`, counted by walking each distinct expression with
    /// herald's own cron reader.
    pub fn expected_fires(&self, window: &Window) -> anyhow::Result<u64> {
        let mut total = 0u64;
        for offset in self.offsets() {
            let expr = self.quartz_cron(offset);
            let cron = CronSchedule::parse(&expr, "UTC").with_context(|| format!("reading {expr}"))?;
            let mut at = window.start - Duration::milliseconds(1);
            let mut fires = 0u64;
            while let Some(next) = cron.next_after(at).filter(|next| *next < window.end) {
                fires += 1;
                at = next;
            }
            total += fires * self.schedules_at(offset) as u64;
        }
        Ok(total)
    }
}

/// The fire times measured: `start` inclusive, `end` exclusive, both on whole seconds.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Window {
    /// `secs` long, starting at the first whole second `after` from now.
    pub fn after(after: std::time::Duration, secs: u64) -> anyhow::Result<Self> {
        let from = Utc::now() + Duration::from_std(after)?;
        let start = from.duration_trunc(Duration::seconds(1))? + Duration::seconds(1);
        Ok(Self { start, end: start + Duration::seconds(i64::try_from(secs)?) })
    }

    pub fn contains_ms(&self, at_ms: i64) -> bool {
        (self.start.timestamp_millis()..self.end.timestamp_millis()).contains(&at_ms)
    }

    /// How long from now until `at`, zero when it has passed.
    pub fn until(at: DateTime<Utc>) -> std::time::Duration {
        (at - Utc::now()).to_std().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn schedules_spread_over_the_offsets_and_every_one_is_counted() {
        let plan = Plan::new(25, 10).unwrap();
        assert_eq!(plan.offsets().map(|o| plan.schedules_at(o)).sum::<usize>(), 25);
        assert_eq!((plan.schedules_at(0), plan.schedules_at(4), plan.schedules_at(5)), (3, 3, 2));
        assert_eq!(Plan::new(3, 10).unwrap().offsets().count(), 3);
    }

    #[test]
    fn a_minute_holds_six_fires_of_each_schedule_firing_every_ten_seconds() {
        let plan = Plan::new(25, 10).unwrap();
        let window = Window { start: utc("2026-05-01T10:00:00Z"), end: utc("2026-05-01T10:01:00Z") };
        assert_eq!(plan.expected_fires(&window).unwrap(), 25 * 6);
        let two_secs = Window { start: utc("2026-05-01T10:00:00Z"), end: utc("2026-05-01T10:00:02Z") };
        assert_eq!(plan.expected_fires(&two_secs).unwrap(), 3 + 3, "offsets 0 and 1 only");
    }
}
