//! herald's own scheduler measured from outside: its node processes run the templates, and the
//! fire ledger they write says which fires came and how late. On SQLite one `herald serve`
//! process; on PostgreSQL three (scripts/local-cluster.sh, as cluster mode starts them). The
//! fires that came due while the templates were written are worked off before the warm-up.

use super::figures::{Figures, Lateness};
use super::ledger::Ledger;
use super::node_process::NodeProcess;
use super::observe::{Timing, observe};
use super::plan::Plan;
use super::templates;
use crate::mem;
use anyhow::Context;
use chrono::Utc;
use herald_store::{PgStore, SqliteStore};
use std::path::Path;
use std::time::Duration;

/// The backlog of fires that came due while the templates were written (or the node started)
/// is worked off before the warm-up begins, for this long at most; a node that cannot catch up
/// in it is measured behind.
const CATCH_UP_MAX: Duration = Duration::from_secs(180);
/// A schedule counts as behind when its fire is this overdue.
const BEHIND: chrono::Duration = chrono::Duration::seconds(2);

/// What a herald run measured, and what its fires were.
pub struct HeraldRun {
    pub figures: Figures,
    /// How long the nodes took to work off the backlog before the warm-up; None when they had
    /// not within [`CATCH_UP_MAX`].
    pub caught_up: Option<Duration>,
    /// Fires per ledger outcome ("no_crowd: 60000").
    pub outcomes: String,
    /// Peak RSS of each node.
    pub rss_per_node: Vec<u64>,
}

/// Measures the nodes `pids` while they run the templates, from `ledger`.
async fn measure_nodes(plan: &Plan, timing: Timing, pids: &[String], ledger: &Ledger) -> anyhow::Result<HeraldRun> {
    let caught_up = catch_up(ledger).await?;
    let observed = observe(plan, timing, pids, |window| ledger.count(window)).await?;
    let rss_per_node: Vec<u64> = pids.iter().map(|pid| mem::peak_kib_of(pid)).collect();
    let late = ledger.lateness(observed.window).await?;
    let figures = Figures {
        recorded: late.len() as u64,
        expected: observed.expected,
        lateness: Lateness::of(late),
        cpu_secs: observed.cpu_secs,
        peak_rss_kib: rss_per_node.iter().copied().max().unwrap_or(0),
        rss_at_start_kib: None,
    };
    Ok(HeraldRun { figures, caught_up, outcomes: ledger.outcomes(observed.window).await?, rss_per_node })
}

/// Waits until no template schedule is more than [`BEHIND`] overdue; how long that took.
async fn catch_up(ledger: &Ledger) -> anyhow::Result<Option<Duration>> {
    let started = tokio::time::Instant::now();
    while started.elapsed() < CATCH_UP_MAX {
        if ledger.overdue(Utc::now() - BEHIND).await? == 0 {
            return Ok(Some(started.elapsed()));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Ok(None)
}

/// One `herald serve` process on a fresh SQLite database holding the plan's templates (written
/// before the node starts; that time is not measured).
pub async fn sqlite(plan: &Plan, timing: Timing, herald: &Path) -> anyhow::Result<HeraldRun> {
    let dir = tempfile::tempdir()?;
    let database = dir.path().join("herald.sqlite");
    let store = SqliteStore::open_with(&database, crate::node::BenchNode::durability()).await?;
    templates::create(&store, plan).await.context("templates on SQLite")?;
    store.close().await;
    let node = NodeProcess::start(herald, dir.path()).await?;
    let ledger = Ledger::sqlite(&database).await?;
    let run = measure_nodes(plan, timing, &[node.pid()], &ledger).await;
    ledger.close().await;
    drop(node);
    run
}

/// Three node processes (api and scheduler roles) sharing a fresh PostgreSQL database; the
/// templates are written once the nodes run, and the window starts after the warm-up that
/// follows.
pub async fn postgres(plan: &Plan, timing: Timing) -> anyhow::Result<HeraldRun> {
    let nodes = 3;
    let cluster = crate::cluster::up(nodes, "api,scheduler api,scheduler api,scheduler", None)?;
    let url = cluster.var("DATABASE_URL")?;
    let store = PgStore::connect(&url).await.context("the cluster's database")?;
    templates::create(&store, plan).await.context("templates on PostgreSQL")?;
    store.close().await;
    let pids = (1..=nodes).map(|i| cluster.var(&format!("NODE_{i}_PID"))).collect::<anyhow::Result<Vec<_>>>()?;
    let ledger = Ledger::postgres(&url).await?;
    let run = measure_nodes(plan, timing, &pids, &ledger).await;
    ledger.close().await;
    drop(cluster);
    run
}
