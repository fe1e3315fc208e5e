//! Keeping the write-ahead log short off the writer's path. By default SQLite has the
//! connection whose commit takes the log past 1,000 pages copy it back into the database and
//! sync the file, so whichever write commits then (a page of fire claims, a `/send`) waits
//! 15-40 ms for it. The writer's own checkpoint is put off to a backstop far above that, and a
//! task checkpoints passively on a connection of its own every [`EVERY`]: the writer and the
//! readers go on while it copies, and the log restarts from its start once it is copied.

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, SqliteConnection};
use std::time::Duration;

/// How often the log is copied back into the database.
const EVERY: Duration = Duration::from_millis(500);

/// Log pages past which the writer checkpoints on its own commit anyway (about 40 MiB): only
/// reached when the task cannot copy the log back (a reader holding an old snapshot throughout).
pub(super) const WRITER_BACKSTOP_PAGES: u32 = 10_000;

/// The checkpointing task of one store, stopped when the store is closed or its last clone
/// dropped.
#[derive(Debug)]
pub(super) struct Checkpointer(tokio::task::JoinHandle<()>);

impl Checkpointer {
    /// Starts checkpointing the database `options` open, on a connection of its own (opened
    /// again after a fault).
    pub(super) fn start(options: SqliteConnectOptions) -> Self {
        Self(tokio::spawn(async move {
            let mut every = tokio::time::interval(EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let (mut connection, mut failing) = (None, false);
            loop {
                every.tick().await;
                match checkpoint(&mut connection, &options).await {
                    Ok(()) => failing = false,
                    Err(e) => {
                        // Said once per spell of faults, not twice a second.
                        if !failing {
                            tracing::warn!(error = %e, "checkpointing SQLite's write-ahead log failed; will retry");
                        }
                        (connection, failing) = (None, true);
                    }
                }
            }
        }))
    }

    pub(super) fn stop(&self) {
        self.0.abort();
    }
}

/// Copies what it can of the log back into the database, opening `connection` first if need be.
async fn checkpoint(connection: &mut Option<SqliteConnection>, options: &SqliteConnectOptions) -> sqlx::Result<()> {
    let open = match connection {
        Some(open) => open,
        None => connection.insert(SqliteConnection::connect_with(options).await?),
    };
    // Not kept prepared: it runs on this connection alone.
    sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").persistent(false).execute(&mut *open).await?;
    Ok(())
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use crate::{Durability, SqliteStore};
    use std::time::Duration;

    /// 400 rows of 4 KiB: well under the 1,000 log pages at which a writer's commit would copy
    /// them back by SQLite's default, and past what the database file held before.
    const ROWS: usize = 400;
    const ROW_BYTES: usize = 4_096;

    #[tokio::test]
    async fn the_store_copies_the_log_back_without_a_writer_commit_doing_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.sqlite");
        let store = SqliteStore::open_with(&path, Durability::Normal).await.unwrap();
        sqlx::raw_sql("CREATE TABLE filler (body BLOB NOT NULL)").execute(store.writer()).await.unwrap();
        for _ in 0..ROWS {
            sqlx::query("INSERT INTO filler (body) VALUES (randomblob($1))")
                .bind(ROW_BYTES as i64)
                .execute(store.writer())
                .await
                .unwrap();
        }
        // In WAL mode only a checkpoint writes the database file itself.
        let written = (ROWS * ROW_BYTES) as u64;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        let mut size = 0;
        while tokio::time::Instant::now() < deadline {
            size = std::fs::metadata(&path).unwrap().len();
            if size >= written {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(size >= written, "the database file holds {size} bytes after the writes, {written} written to the log");
        store.close().await;
    }
}
