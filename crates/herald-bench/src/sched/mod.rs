//! Scheduler at scale (`--scheduler`): N schedules, each firing every few seconds on staggered
//! seconds, run by herald (one node on SQLite, three on PostgreSQL) and, in the same run, by two
//! in-process references: tokio-cron-scheduler at its defaults and the limit, a binary heap
//! with shared croner expressions. Each reports fires recorded against fires expected in the
//! measured window, lateness p50 / p99 / max, CPU seconds over the window and peak RSS.

mod figures;
mod heap;
mod herald;
mod ledger;
mod node_process;
mod observe;
mod plan;
mod proc_stat;
mod recorder;
mod shared_crons;
mod tcs;
mod templates;

pub use figures::{Lateness, SchedulerRow};

use crate::report::{mib, thousands};
use anyhow::Context;
use figures::Figures;
use observe::Timing;
use plan::Plan;
use std::path::PathBuf;
use std::time::Duration;

/// Where herald keeps its state in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// The embedded default: one node process on a SQLite file.
    Sqlite,
    /// Three node processes on PostgreSQL (with Redis, the Kafka mock and moto).
    Postgres,
}

#[derive(Debug, Clone)]
pub struct Options {
    /// Schedule counts, one set of rows each.
    pub counts: Vec<usize>,
    pub every_secs: u32,
    /// Length of the measured window.
    pub measure_secs: u64,
    pub backends: Vec<Backend>,
    /// The `herald` binary (default: beside the bench).
    pub herald_bin: Option<PathBuf>,
}

impl Options {
    /// Two periods before the window: the backlog of the first period (fires that came due
    /// while templates were written or jobs added) is worked off, then one steady period.
    fn timing(&self) -> Timing {
        Timing { warmup: Duration::from_secs(2 * u64::from(self.every_secs)), secs: self.measure_secs }
    }
}

/// The node's `[scheduler]` settings that bound lateness: config/herald.toml's, unless the
/// bench's environment overrides them (the nodes inherit it, e.g. HERALD_SCHEDULER__POLL_MS=20).
fn scheduler_settings() -> String {
    let setting = |key: &str, shipped: &str| {
        let name = format!("HERALD_SCHEDULER__{}", key.to_uppercase());
        match std::env::var(&name) {
            Ok(value) => format!("{key} {value} (from {name})"),
            Err(_) => format!("{key} {shipped}"),
        }
    };
    format!("{}, jittered 0.5-1.5x, {}", setting("poll_ms", "250"), setting("claim_batch", "200"))
}

fn row(implementation: &str, plan: &Plan, figures: Figures, notes: String) -> SchedulerRow {
    SchedulerRow { implementation: implementation.to_owned(), schedules: plan.schedules, figures, notes }
}

async fn herald_row(plan: &Plan, options: &Options, backend: Backend) -> anyhow::Result<SchedulerRow> {
    let timing = options.timing();
    let (name, run, setup) = match backend {
        Backend::Sqlite => {
            let herald = node_process::herald_binary(options.herald_bin.as_deref())?;
            let run = herald::sqlite(plan, timing, &herald).await.context("herald on SQLite")?;
            (
                "herald, SQLite, 1 node",
                run,
                "one `herald serve` process (roles api,scheduler), embedded SQLite (synchronous=NORMAL)",
            )
        }
        Backend::Postgres => {
            let run = herald::postgres(plan, timing).await.context("herald on PostgreSQL")?;
            ("herald, PostgreSQL, 3 nodes", run, "three `herald serve` processes (roles api,scheduler), PostgreSQL")
        }
    };
    let rss: Vec<String> = run.rss_per_node.iter().map(|kib| mib(*kib)).collect();
    let backlog = match run.caught_up {
        Some(took) => format!("the backlog of fires due while templates were written worked off in {took:.1?}"),
        None => "the backlog of fires due while templates were written NOT worked off in 180 s".to_owned(),
    };
    let notes = format!(
        "{setup}, [scheduler] {}; templates \
         without a crowd, ledger outcomes: {}; lateness = the ledger's claimed_at - fire_time; {backlog}, then the \
         warm-up; CPU summed over the nodes; peak RSS per node (VmHWM since start): {}",
        scheduler_settings(),
        run.outcomes,
        rss.join(" / ")
    );
    Ok(row(name, plan, run.figures, notes))
}

async fn rows_for(plan: &Plan, options: &Options) -> anyhow::Result<Vec<SchedulerRow>> {
    let mut rows = Vec::new();
    for backend in &options.backends {
        eprintln!("  herald on {backend:?}");
        rows.push(herald_row(plan, options, *backend).await?);
    }
    eprintln!("  tokio-cron-scheduler");
    let figures = tcs::measure(plan, options.timing()).await.context("tokio-cron-scheduler")?;
    let notes = "in process, `JobScheduler::new()` defaults, one async job per schedule on the same seconds \
                 (`o-59/every * * * * *`: its parser refuses Quartz's `o/every`); its ticker scans every job each 500 ms; runs \
                 its broadcast channels drop when they lag (its `Lagged` errors, silenced here) count as missed; lateness = run time - the tick \
                 its cron names at or before it; CPU and peak RSS are the bench process's (from its RSS at start; the recorded samples, 24 B a fire, included)";
    rows.push(row("tokio-cron-scheduler 0.15", plan, figures, notes.to_owned()));
    eprintln!("  heap + croner");
    let figures = heap::measure(plan, options.timing()).await.context("heap reference")?;
    let notes = "the limit: in process, one thread, a BinaryHeap of (next fire, schedule), croner 4 with one parsed \
                 expression per distinct cron shared by Arc; sleeps until the soonest fire, pops what is due, \
                 records, pushes the next; CPU and peak RSS are the bench process's (from its RSS at start; the recorded samples, 24 B a fire, included)";
    rows.push(row("heap + croner (limit)", plan, figures, notes.to_owned()));
    Ok(rows)
}

/// Every implementation at every schedule count.
pub async fn run(options: &Options) -> anyhow::Result<Vec<SchedulerRow>> {
    let mut rows = Vec::new();
    for &count in &options.counts {
        let plan = Plan::new(count, options.every_secs)?;
        eprintln!(
            "{} schedules every {} s, {} s measured after {} s",
            thousands(count as f64),
            options.every_secs,
            options.measure_secs,
            options.timing().warmup.as_secs()
        );
        rows.extend(rows_for(&plan, options).await?);
    }
    Ok(rows)
}
