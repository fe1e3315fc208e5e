//! What one scheduler run measured, the same figures for herald and for the references: fires
//! recorded against fires expected, lateness percentiles, CPU seconds and peak RSS.

use std::time::Duration;

/// One fire as recorded: which schedule, when it was due and how late it was handled
/// (microseconds).
#[derive(Debug, Clone, Copy)]
pub struct FireSample {
    pub schedule: u32,
    pub due_ms: i64,
    pub late_us: i64,
}

/// Lateness percentiles of the fires recorded in the window.
#[derive(Debug, Clone, Copy, Default)]
pub struct Lateness {
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl Lateness {
    /// Nearest-rank percentiles; a fire recorded before its time (a clock step) counts as 0.
    pub fn of(mut late_us: Vec<i64>) -> Option<Self> {
        if late_us.is_empty() {
            return None;
        }
        late_us.sort_unstable();
        let at = |q: f64| {
            let rank = ((q * late_us.len() as f64).ceil() as usize).clamp(1, late_us.len());
            Duration::from_micros(late_us[rank - 1].max(0) as u64)
        };
        Some(Self { p50: at(0.50), p99: at(0.99), max: at(1.0) })
    }
}

#[derive(Debug, Clone)]
pub struct Figures {
    pub recorded: u64,
    pub expected: u64,
    pub lateness: Option<Lateness>,
    pub cpu_secs: f64,
    pub peak_rss_kib: u64,
    /// An in-process reference's RSS when it started (the bench's own, and what an earlier
    /// reference left allocated); None for a process of its own.
    pub rss_at_start_kib: Option<u64>,
}

/// One printed row: who ran the schedules, how many, what it measured and how.
#[derive(Debug, Clone)]
pub struct SchedulerRow {
    pub implementation: String,
    pub schedules: usize,
    pub figures: Figures,
    pub notes: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let late = Lateness::of((1..=100).map(|ms| ms * 1000).collect()).unwrap();
        assert_eq!(late.p50, Duration::from_millis(50));
        assert_eq!(late.p99, Duration::from_millis(99));
        assert_eq!(late.max, Duration::from_millis(100));
        assert!(Lateness::of(Vec::new()).is_none());
    }
}
