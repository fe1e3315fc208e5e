//! The embedded backend: every repository on one SQLite file (WAL mode), which also holds
//! the bus queue table so a laptop needs no services. The repositories are the shared ones in
//! `src/sql/`, compiled here over `dialect.rs` and `batch.rs`; the dedup windows are SQLite's own.
//!
//! Reads go through a pool of connections; every write (the bus's too) goes through one
//! writer connection, so the node's writers queue for it in order. SQLite lets one writer in at
//! a time anyway, and a writer refused the file's lock sleeps in growing steps (1, 2, 5, 10...
//! ms) before it asks again: with several connections writing, a busy stream of `/send`
//! requests starved the channel workers of the lock (a few dozen deliveries a second while
//! they came, thousands once they stopped).

mod batch;
mod dedup;
mod dialect;
mod wal;
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
#[path = "../sql/fire_claims.rs"]
mod fire_claims;
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

use crate::error::{Result, StoreError};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, SqlitePool};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// Readers.
    pool: SqlitePool,
    /// The one connection every write goes through.
    writer: SqlitePool,
    /// Copies the write-ahead log back into the database off the writer's path (none on a
    /// shared pool, whose connections checkpoint as SQLite does by default).
    checkpointer: Option<std::sync::Arc<wal::Checkpointer>>,
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
        let writer = connect_writer(path, durability).await?;
        let pool = connect(path, durability).await?;
        let checkpointer = std::sync::Arc::new(wal::Checkpointer::start(options(path, durability)?));
        let store = Self { pool, writer, checkpointer: Some(checkpointer) };
        store.migrate().await?;
        Ok(store)
    }

    /// A store whose reads and writes share `pool` (writers then meet on SQLite's lock).
    pub fn from_pool(pool: SqlitePool) -> Self {
        Self { writer: pool.clone(), pool, checkpointer: None }
    }

    /// Runs pending migrations on a connection of their own with foreign keys off, as SQLite
    /// asks of a migration that rebuilds a table others refer to (dropping the old one would
    /// otherwise set null or delete every row referring to it), then, when one ran, checks that
    /// every reference still holds.
    pub async fn migrate(&self) -> Result<()> {
        let mut conn = self.writer.connect_options().as_ref().clone().foreign_keys(false).connect().await?;
        let before = newest_migration(&mut conn).await;
        sqlx::migrate!("../../migrations/sqlite").run(&mut conn).await?;
        let checked =
            if newest_migration(&mut conn).await == before { Ok(()) } else { references_hold(&mut conn).await };
        conn.close().await?;
        checked
    }

    /// The readers' pool.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The writer, shared with the bus so both live in one file and queue for one lock.
    pub fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    pub async fn close(&self) {
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.stop();
        }
        self.writer.close().await;
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

/// A pool of readers on `path` with the settings herald relies on: WAL, the chosen sync
/// level, a busy timeout instead of lock errors, foreign keys.
pub async fn connect(path: &Path, durability: Durability) -> Result<SqlitePool> {
    Ok(pool_options().max_connections(8).connect_with(options(path, durability)?).await?)
}

/// The one writer connection on `path`: callers wait for it in the order they asked (another
/// process on the file still meets SQLite's lock and busy timeout). Its commits leave the
/// write-ahead log to the store's checkpointer up to a backstop (`wal`).
pub async fn connect_writer(path: &Path, durability: Durability) -> Result<SqlitePool> {
    let options = options(path, durability)?
        .pragma("wal_autocheckpoint", wal::WRITER_BACKSTOP_PAGES.to_string())
        .pragma("cache_size", format!("-{WRITER_CACHE_KIB}"));
    Ok(pool_options().max_connections(1).acquire_timeout(WRITER_WAIT).connect_with(options).await?)
}

/// The writer's page cache, in KiB (SQLite's default is 2,000). Its commits keep what they
/// wrote cached, so over a long send it fills to the limit and stays there, under every peak of
/// the node's memory (a 5,000,000-row send peaked 1.2 MiB lower with 512); a page it misses is
/// a read from the system's file cache. A claim of 200 fires over 10,000 schedules took the
/// same time with 512 as with 2,000, and the send path did not slow (BENCHMARKS.md).
const WRITER_CACHE_KIB: u32 = 512;

/// How long a write waits for the writer connection before it fails (as long as SQLite's own
/// busy timeout).
const WRITER_WAIT: Duration = Duration::from_secs(10);

/// Pools that never hand out a connection still inside a transaction. A caller dropped at the
/// wrong moment (a client hanging up on a request while its transaction ends) has been seen to
/// leave one open under load: the next `BEGIN` on it failed and its lock kept every other
/// writer out. Such a connection is closed (SQLite rolls it back) and a new one opened.
///
/// The pool's own ping before every acquire is off: a SQLite connection lives in this process
/// and cannot be dropped by a peer, and the ping was a round trip to its thread on every
/// transaction and every pooled statement (sqlx's default).
fn pool_options() -> SqlitePoolOptions {
    SqlitePoolOptions::new().test_before_acquire(false).before_acquire(|conn, _| {
        Box::pin(async move {
            if !conn.is_in_transaction() {
                return Ok(true);
            }
            // A rollback queued by a dropped transaction runs before the ping answers.
            conn.ping().await?;
            if conn.is_in_transaction() {
                tracing::warn!("a pooled SQLite connection was left inside a transaction; closing it");
                return Ok(false);
            }
            Ok(true)
        })
    })
}

/// The newest migration applied (None before the first).
async fn newest_migration(conn: &mut SqliteConnection) -> Option<i64> {
    // The bookkeeping table is missing until the first migration.
    sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations").fetch_one(conn).await.ok().flatten()
}

/// Fails when a row refers to one that is missing (SQLite's own check, over every table).
async fn references_hold(conn: &mut SqliteConnection) -> Result<()> {
    let broken: Vec<(String, Option<i64>, String)> =
        sqlx::query_as("SELECT \"table\", rowid, parent FROM pragma_foreign_key_check LIMIT 5").fetch_all(conn).await?;
    match broken.first() {
        None => Ok(()),
        Some((table, rowid, parent)) => Err(StoreError::Corrupt(format!(
            "after the migrations, {table} row {rowid:?} refers to a missing {parent} row ({} such found)",
            broken.len()
        ))),
    }
}

fn options(path: &Path, durability: Durability) -> Result<SqliteConnectOptions> {
    let url = format!("sqlite://{}", path.display());
    Ok(SqliteConnectOptions::from_str(&url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(match durability {
            Durability::Full => SqliteSynchronous::Full,
            Durability::Normal => SqliteSynchronous::Normal,
        })
        .busy_timeout(WRITER_WAIT)
        .foreign_keys(true))
}
