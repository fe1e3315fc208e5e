//! A fresh SQLite database on herald's own schema, opened by herald's store itself, for the
//! limits' raw inserts: they go through the store's writer connection, as herald's writes do.

use herald_store::{Durability, SqliteStore};
use sqlx::SqlitePool;
use std::path::Path;

/// `herald.sqlite` in `dir`, created and migrated by [`SqliteStore::open_with`]; the pool its
/// writes go through.
pub async fn herald_schema(dir: &Path, durability: Durability) -> anyhow::Result<SqlitePool> {
    let store = SqliteStore::open_with(&dir.join("herald.sqlite"), durability).await?;
    Ok(store.writer().clone())
}

/// The pool's settings as the notes column names them.
pub fn describe(durability: Durability) -> String {
    let synchronous = match durability {
        Durability::Full => "FULL",
        Durability::Normal => "NORMAL",
    };
    format!("WAL, synchronous={synchronous}, herald's writer connection")
}
