//! Shared setup for the bus integration tests: a migrated temp-file SQLite database and a
//! `SqliteBus` on a `TestClock`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use herald_bus::SqliteBus;
use herald_core::TestClock;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use tempfile::TempDir;

pub const VISIBILITY: Duration = Duration::from_secs(30);

pub struct Harness {
    /// Holds the database file; dropped last.
    pub dir: TempDir,
    pub path: PathBuf,
    pub clock: Arc<TestClock>,
    pub pool: SqlitePool,
    pub bus: SqliteBus,
}

impl Harness {
    pub async fn new(max_attempts: u32) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("herald.db");
        let clock = Arc::new(TestClock::new(Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0).unwrap()));
        let pool = open_pool(&path).await;
        let bus = SqliteBus::new(pool.clone(), clock.clone(), max_attempts);
        Self { dir, path, clock, pool, bus }
    }

    /// A second bus on its own pool over the same file, as another process would have.
    pub async fn other_bus(&self) -> SqliteBus {
        let pool = open_pool(&self.path).await;
        SqliteBus::new(pool, self.clock.clone(), self.bus.max_attempts())
    }

    pub fn advance(&self, by: Duration) {
        self.clock.advance(chrono::Duration::from_std(by).expect("duration"));
    }
}

pub async fn open_pool(path: &Path) -> SqlitePool {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await.expect("open sqlite");
    sqlx::migrate!("../../migrations/sqlite").run(&pool).await.expect("migrate");
    pool
}
