//! A fresh SQLite database on herald's own schema, pooled as herald's store pools its file, for
//! the limits' raw inserts.

use herald_store::Durability;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::Path;
use std::time::Duration;

/// Connections in herald's SQLite pool (`herald_store`'s `sqlite::connect`).
const POOL_CONNECTIONS: u32 = 8;

/// `herald.sqlite` in `dir`, created with herald's SQLite migrations and opened with the options
/// of herald's `sqlite::connect`: WAL, `durability`, a 10 s busy timeout, foreign keys, 8
/// connections.
pub async fn herald_schema(dir: &Path, durability: Durability) -> anyhow::Result<SqlitePool> {
    let options = SqliteConnectOptions::new()
        .filename(dir.join("herald.sqlite"))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(synchronous(durability))
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new().max_connections(POOL_CONNECTIONS).connect_with(options).await?;
    sqlx::migrate!("../../migrations/sqlite").run(&pool).await?;
    Ok(pool)
}

fn synchronous(durability: Durability) -> SqliteSynchronous {
    match durability {
        Durability::Full => SqliteSynchronous::Full,
        Durability::Normal => SqliteSynchronous::Normal,
    }
}

/// The pool's settings as the notes column names them.
pub fn describe(durability: Durability) -> String {
    let synchronous = match durability {
        Durability::Full => "FULL",
        Durability::Normal => "NORMAL",
    };
    format!("WAL, synchronous={synchronous}, {POOL_CONNECTIONS}-connection pool")
}
