//! The embedded backend: every repository on one SQLite file (WAL mode), which also holds
//! the bus queue table so a laptop needs no services. The repositories are the shared ones in
//! `src/sql/`, compiled here over `dialect.rs` and `batch.rs`; the dedup windows are SQLite's own.

mod batch;
mod dedup;
mod dialect;
// The repositories, written once in `src/sql/` and compiled here over this dialect.
#[path = "../sql/accounts.rs"]
mod accounts;
#[path = "../sql/alarms.rs"]
mod alarms;
#[path = "../sql/api_keys.rs"]
mod api_keys;
#[path = "../sql/claims.rs"]
mod claims;
#[path = "../sql/codec.rs"]
mod codec;
#[path = "../sql/console.rs"]
mod console;
#[path = "../sql/crowds.rs"]
mod crowds;
#[path = "../sql/deferred.rs"]
mod deferred;
#[path = "../sql/installation.rs"]
mod installation;
#[path = "../sql/job_runs.rs"]
mod job_runs;
#[path = "../sql/job_shards.rs"]
mod job_shards;
#[path = "../sql/jobs.rs"]
mod jobs;
#[path = "../sql/ledger.rs"]
mod ledger;
#[path = "../sql/policies.rs"]
mod policies;
#[path = "../sql/recall.rs"]
mod recall;
#[path = "../sql/receipts.rs"]
mod receipts;
#[path = "../sql/reports.rs"]
mod reports;
#[path = "../sql/resend.rs"]
mod resend;
#[path = "../sql/retention.rs"]
mod retention;
#[path = "../sql/run_control.rs"]
mod run_control;
#[path = "../sql/run_counts.rs"]
mod run_counts;
#[path = "../sql/run_pause.rs"]
mod run_pause;
#[path = "../sql/runs.rs"]
mod runs;
#[path = "../sql/schedules.rs"]
mod schedules;
#[path = "../sql/send_requests.rs"]
mod send_requests;
#[path = "../sql/shards.rs"]
mod shards;
#[path = "../sql/status_events.rs"]
mod status_events;
#[path = "../sql/suppressions.rs"]
mod suppressions;
#[path = "../sql/templates.rs"]
mod templates;

use crate::error::Result;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

/// The type the shared repositories implement the traits for.
type Backend = SqliteStore;

impl SqliteStore {
    /// Opens (creating if missing) the database at `path` and runs pending migrations.
    pub async fn open(path: &Path) -> Result<Self> {
        Self::open_with(path, Durability::Full).await
    }

    /// Opens with a chosen durability; see [`Durability`].
    pub async fn open_with(path: &Path, durability: Durability) -> Result<Self> {
        let pool = connect(path, durability).await?;
        let store = Self { pool };
        store.migrate().await?;
        Ok(store)
    }

    pub fn from_pool(pool: SqlitePool) -> Self {
        Self { pool }
    }

    pub async fn migrate(&self) -> Result<()> {
        sqlx::migrate!("../../migrations/sqlite").run(&self.pool).await?;
        Ok(())
    }

    /// The pool, shared with the bus so both live in one file.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// How hard a commit waits for the disk. Both survive a process crash (WAL); they differ on
/// power loss.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Durability {
    /// fsync at every commit: nothing committed is lost even on power loss. Slower.
    #[default]
    Full,
    /// fsync at checkpoints: a power loss may drop the newest commits, together and in order;
    /// the checkpoints and the delivery ledger replay them without doubling.
    Normal,
}

/// A pool on `path` with the settings herald relies on: WAL, the chosen sync level, a busy
/// timeout instead of lock errors, foreign keys.
pub async fn connect(path: &Path, durability: Durability) -> Result<SqlitePool> {
    let url = format!("sqlite://{}", path.display());
    let options = SqliteConnectOptions::from_str(&url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(match durability {
            Durability::Full => SqliteSynchronous::Full,
            Durability::Normal => SqliteSynchronous::Normal,
        })
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
    Ok(pool)
}
