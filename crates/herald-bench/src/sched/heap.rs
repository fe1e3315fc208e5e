//! The limit: an in-memory scheduler as small as one can be. One thread, a binary heap of
//! (next fire, schedule) and croner expressions shared per distinct cron; it sleeps until the
//! soonest fire, pops every due one, records its lateness and pushes its next time.

use super::figures::{Figures, FireSample};
use super::observe::{Timing, observe};
use super::plan::Plan;
use super::recorder::Recorder;
use super::shared_crons::SharedCrons;
use crate::mem;
use anyhow::Context;
use chrono::{DateTime, Utc};
use croner::Cron;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The longest the loop sleeps at once, so it notices the stop flag.
const MAX_SLEEP: Duration = Duration::from_millis(100);

struct HeapScheduler {
    /// Each schedule's expression, shared with every schedule at the same offset.
    crons: Vec<Arc<Cron>>,
    /// (next fire in microseconds since the epoch, schedule index), soonest on top.
    due: BinaryHeap<Reverse<(i64, u32)>>,
}

impl HeapScheduler {
    fn new(plan: &Plan, shared: &SharedCrons) -> anyhow::Result<Self> {
        let now = Utc::now();
        let crons: Vec<Arc<Cron>> = (0..plan.schedules).map(|i| shared.at(plan.offset_of(i))).collect();
        let mut due = BinaryHeap::with_capacity(crons.len());
        for (i, cron) in crons.iter().enumerate() {
            let first = cron.find_next_occurrence(&now, false).context("a first fire")?;
            due.push(Reverse((first.timestamp_micros(), u32::try_from(i)?)));
        }
        Ok(Self { crons, due })
    }

    /// Fires every due schedule until `stop` is set.
    fn run(mut self, recorder: &Recorder, stop: &AtomicBool) {
        while !stop.load(Ordering::Relaxed) {
            let Some(&Reverse((next_us, _))) = self.due.peek() else { return };
            let now_us = Utc::now().timestamp_micros();
            if next_us > now_us {
                std::thread::sleep(Duration::from_micros((next_us - now_us) as u64).min(MAX_SLEEP));
                continue;
            }
            while let Some(&Reverse((due_us, schedule))) = self.due.peek() {
                let now_us = Utc::now().timestamp_micros();
                if due_us > now_us {
                    break;
                }
                self.due.pop();
                recorder.record(FireSample { schedule, due_ms: due_us / 1000, late_us: now_us - due_us });
                let due_at = DateTime::<Utc>::from_timestamp_micros(due_us).unwrap_or_default();
                if let Ok(next) = self.crons[schedule as usize].find_next_occurrence(&due_at, false) {
                    self.due.push(Reverse((next.timestamp_micros(), schedule)));
                }
            }
        }
    }
}

/// Runs the heap reference over `timing` and measures it.
pub async fn measure(plan: &Plan, timing: Timing) -> anyhow::Result<Figures> {
    mem::reset_peak();
    let rss_at_start_kib = Some(mem::rss_kib());
    let shared = SharedCrons::of(plan)?;
    let scheduler = HeapScheduler::new(plan, &shared)?;
    let (recorder, stop) = (Arc::new(Recorder::default()), Arc::new(AtomicBool::new(false)));
    let thread = {
        let (recorder, stop) = (recorder.clone(), stop.clone());
        std::thread::Builder::new().name("heap-scheduler".into()).spawn(move || scheduler.run(&recorder, &stop))?
    };
    let observed = observe(plan, timing, &["self".to_owned()], |window| {
        let recorded = recorder.count_in(&window);
        async move { Ok(recorded) }
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    let peak_rss_kib = mem::peak_kib();
    if thread.join().is_err() {
        anyhow::bail!("the heap scheduler's thread panicked");
    }
    Ok(recorder.figures(&observed?, peak_rss_kib, rss_at_start_kib))
}
