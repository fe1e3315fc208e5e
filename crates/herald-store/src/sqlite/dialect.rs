//! The SQLite side of the dialect seam: the names the shared repositories in `src/sql/` use
//! for what SQLite does its own way. `postgres/dialect.rs` defines the same names.
//!
//! Writers are serialised by `BEGIN IMMEDIATE`, which takes the file's write lock before the
//! first read, so the row locks PostgreSQL needs are empty strings here.

use crate::error::{Result, StoreError};
use crate::time::{from_ms, to_ms};
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{QueryBuilder, Row, Sqlite};

pub(crate) type Db = Sqlite;
pub(crate) type DbRow = sqlx::sqlite::SqliteRow;
pub(crate) type DbPool = sqlx::SqlitePool;
pub(crate) type Tx = sqlx::Transaction<'static, Db>;

/// Times are INTEGER unix milliseconds (UTC).
pub(crate) type DbTime = i64;

pub(crate) fn db_time(t: DateTime<Utc>) -> DbTime {
    to_ms(t)
}

pub(crate) fn from_db_time(t: DbTime) -> DateTime<Utc> {
    from_ms(t)
}

/// A transaction that holds the write lock from its first statement, so what it reads stays
/// true until it commits, and it never fails half-way on a lock it could not upgrade.
pub(crate) async fn begin_write(pool: &DbPool) -> Result<Tx> {
    Ok(pool.begin_with("BEGIN IMMEDIATE").await?)
}

/// Row locks: none, the write transaction already holds the whole file.
pub(crate) const FOR_UPDATE: &str = "";
pub(crate) const FOR_NO_KEY_UPDATE: &str = "";
/// Claims need no SKIP LOCKED: one writer at a time never meets a row another claim holds.
pub(crate) const SKIP_LOCKED: &str = "";
/// Send claims a statement ends or extends: the ids' own rows, with no lock order to keep (one
/// writer at a time; PostgreSQL's are locked in key order first).
pub(crate) const CLAIMS_AMONG: &str = "message_id";
pub(crate) const LOCKED_IN_KEY_ORDER: &str = "";
/// A key among those a subquery selects: SQLite looks each up by primary key already.
pub(crate) const AMONG_SELECTED: &str = " IN (";
pub(crate) const END_SELECTED: &str = ")";
/// A row's own id: what retention deletes send requests by (their key is three columns, their
/// message id has no index) and a run's accepted windows (their key is two).
pub(crate) const ROW_ID: &str = "rowid";

/// Table locks: none, for the same reason.
pub(crate) async fn lock_table(_tx: &mut Tx, _table: &'static str) -> Result<()> {
    Ok(())
}

/// TRUE as the partial indexes spell it (`WHERE enabled = 1`): SQLite's planner matches a
/// partial index only against the same literal, and reads `= TRUE` as something else.
pub(crate) const TRUE: &str = "1";
/// The smaller of two values.
pub(crate) const LEAST: &str = "MIN";
/// SQLite compares text byte by byte already.
pub(crate) const BYTE_ORDER: &str = "";
/// The start of the hour (UTC) of a delivery's `at`.
pub(crate) const HOUR_OF_AT: &str = "(at / 3600000) * 3600000";
/// A crowd's variable columns, a JSON array in TEXT.
pub(crate) const CROWD_COLUMNS: &str = "columns_json";

pub(crate) fn crowd_columns(columns: &[String]) -> Json<&[String]> {
    Json(columns)
}

pub(crate) fn crowd_columns_of(row: &DbRow) -> Result<Vec<String>> {
    Ok(row.try_get::<Json<Vec<String>>, _>(CROWD_COLUMNS).map_err(StoreError::decoding)?.0)
}

/// Appends ` IN (…)` over the values bound as one JSON array (SQLite has no arrays): one
/// statement text whatever their count, so each connection prepares and keeps it once instead
/// of once per count (see `herald_core::statement_shapes`).
pub(crate) fn push_in_list<'a, T>(query: &mut QueryBuilder<'a, Db>, values: impl IntoIterator<Item = T>)
where
    T: 'a + serde::Serialize,
{
    query.push(" IN (SELECT value FROM json_each(");
    query.push_bind(Json(values.into_iter().collect::<Vec<T>>()));
    query.push("))");
}

/// Pages of rows are read as one JSON row: sqlx-sqlite hands each row from its connection
/// thread to the task on its own (a 200-row page took 2 ms so, 0.9 ms as one row).
pub(crate) const PAGE_AS_JSON: bool = true;

/// A JSON array of its arguments, and the JSON array of one value per row of a group: a page
/// of rows read as one row, so it crosses sqlx-sqlite's row channel (a thread hand-off per row)
/// once.
pub(crate) const JSON_ARRAY: &str = "json_array";
pub(crate) const JSON_ARRAY_AGG: &str = "json_group_array";

/// Runs `inserts`, multi-row INSERTs into `table` (its `id` an INTEGER PRIMARY KEY) written
/// without RETURNING, and answers (`key`, id) of each row they inserted, read back by
/// [`Inserted::read`].
pub(crate) async fn insert_returning_ids<'a>(
    tx: &mut Tx,
    table: &'static str,
    key: &'static str,
    inserts: impl IntoIterator<Item = QueryBuilder<'a, Db>>,
) -> Result<Vec<(i64, i64)>> {
    let inserted = Inserted::run(tx, inserts).await?;
    inserted.read(tx, table, &format!("{JSON_ARRAY}({key}, id)")).await
}

/// What multi-row INSERTs into one table, written without RETURNING in one write transaction,
/// added: how many rows, and the last one's rowid. SQLite numbers each new row one past the
/// table's newest and the transaction holds the write lock, so the rows added are the last
/// `count` rowids up to the last (both reported by each statement). What they are is read back
/// as one JSON row, and only where the caller needs it: a RETURNING row each crosses
/// sqlx-sqlite's row channel on its own (a thread hand-off per row).
pub(crate) struct Inserted {
    pub(crate) count: u64,
    last_rowid: i64,
}

impl Inserted {
    pub(crate) async fn run<'a>(tx: &mut Tx, inserts: impl IntoIterator<Item = QueryBuilder<'a, Db>>) -> Result<Self> {
        let mut inserted = Self { count: 0, last_rowid: 0 };
        for mut insert in inserts {
            let done = insert.build().execute(&mut **tx).await?;
            if done.rows_affected() > 0 {
                inserted.count += done.rows_affected();
                inserted.last_rowid = done.last_insert_rowid();
            }
        }
        Ok(inserted)
    }

    /// `column` (an expression over `table`'s columns) of each row added.
    pub(crate) async fn read<T>(&self, tx: &mut Tx, table: &'static str, column: &str) -> Result<Vec<T>>
    where
        T: serde::de::DeserializeOwned + Send + Unpin + 'static,
    {
        if self.count == 0 {
            return Ok(Vec::new());
        }
        // `table` and `column` are written in this crate, never input.
        let query = format!("SELECT {JSON_ARRAY_AGG}({column}) FROM {table} WHERE rowid > $1");
        let rows: Json<Vec<T>> = sqlx::query_scalar(&query).bind(self.after_rowid()).fetch_one(&mut **tx).await?;
        Ok(rows.0)
    }

    /// The rowid the added rows come after.
    pub(crate) fn after_rowid(&self) -> i64 {
        self.last_rowid - i64::try_from(self.count).unwrap_or(i64::MAX)
    }
}
