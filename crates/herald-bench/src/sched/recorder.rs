//! Where the in-process references write down each fire: its due time and lateness, shared
//! between the scheduler's threads and the measurement.

use super::figures::{Figures, FireSample, Lateness};
use super::observe::Observed;
use super::plan::Window;
use std::collections::HashSet;
use std::sync::Mutex;

#[derive(Default)]
pub struct Recorder {
    fires: Mutex<Vec<FireSample>>,
}

impl Recorder {
    pub fn record(&self, sample: FireSample) {
        // A poisoned lock means a recording thread panicked; its samples are still good.
        self.fires.lock().unwrap_or_else(|e| e.into_inner()).push(sample);
    }

    /// The fires due inside `window` recorded so far.
    pub fn count_in(&self, window: &Window) -> u64 {
        self.lateness_in(window).len() as u64
    }

    /// The lateness of the fires due inside `window`, in microseconds: the first record of each
    /// (schedule, due time), so a fire recorded twice counts once.
    pub fn lateness_in(&self, window: &Window) -> Vec<i64> {
        let fires = self.fires.lock().unwrap_or_else(|e| e.into_inner());
        let mut seen = HashSet::with_capacity(fires.len());
        fires
            .iter()
            .filter(|f| window.contains_ms(f.due_ms) && seen.insert((f.schedule, f.due_ms)))
            .map(|f| f.late_us)
            .collect()
    }

    /// The figures of an in-process reference over `observed`'s window.
    pub fn figures(&self, observed: &Observed, peak_rss_kib: u64, rss_at_start_kib: Option<u64>) -> Figures {
        let late = self.lateness_in(&observed.window);
        Figures {
            recorded: late.len() as u64,
            expected: observed.expected,
            lateness: Lateness::of(late),
            cpu_secs: observed.cpu_secs,
            peak_rss_kib,
            rss_at_start_kib,
        }
    }
}
