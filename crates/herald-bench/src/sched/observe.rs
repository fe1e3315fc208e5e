//! The measurement every implementation goes through: a warm-up, then a window of fire times
//! over which the scheduler's CPU is counted, then a drain that waits for late fires of the
//! window to be recorded (fires still missing after it count as missed).

use super::plan::{Plan, Window};
use super::proc_stat;
use std::future::Future;
use std::time::Duration;

/// When the window starts and how long it lasts.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub warmup: Duration,
    pub secs: u64,
}

/// The drain ends when every expected fire is recorded, when none has come for this long...
const DRAIN_QUIET: Duration = Duration::from_secs(3);
/// ...or at the latest after this: past herald's default misfire grace (60 s), a fire is no
/// longer late but coalesced.
const DRAIN_MAX: Duration = Duration::from_secs(65);

pub struct Observed {
    pub window: Window,
    pub expected: u64,
    /// CPU seconds the scheduler's processes spent during the window.
    pub cpu_secs: f64,
}

/// Waits out `timing` while the scheduler runs; `cpu_of` lists the processes whose CPU counts
/// ("self" for an in-process reference), `count` answers how many fires of the window are
/// recorded so far.
pub async fn observe<C, F>(plan: &Plan, timing: Timing, cpu_of: &[String], mut count: C) -> anyhow::Result<Observed>
where
    C: FnMut(Window) -> F,
    F: Future<Output = anyhow::Result<u64>>,
{
    let ticks = proc_stat::clock_ticks_per_sec();
    let cpu = || cpu_of.iter().map(|pid| proc_stat::cpu_secs(pid, ticks)).sum::<anyhow::Result<f64>>();
    let window = Window::after(timing.warmup, timing.secs)?;
    let expected = plan.expected_fires(&window)?;
    tokio::time::sleep(Window::until(window.start)).await;
    let cpu_before = cpu()?;
    tokio::time::sleep(Window::until(window.end)).await;
    let cpu_secs = cpu()? - cpu_before;

    let drain_started = tokio::time::Instant::now();
    let (mut recorded, mut last_growth) = (count(window).await?, drain_started);
    while recorded < expected && last_growth.elapsed() < DRAIN_QUIET && drain_started.elapsed() < DRAIN_MAX {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now_recorded = count(window).await?;
        if now_recorded > recorded {
            last_growth = tokio::time::Instant::now();
        }
        recorded = now_recorded;
    }
    Ok(Observed { window, expected, cpu_secs })
}
