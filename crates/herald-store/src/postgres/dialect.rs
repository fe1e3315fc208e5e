//! The PostgreSQL side of the dialect seam: the names the shared repositories in `src/sql/`
//! use for what PostgreSQL does its own way. `sqlite/dialect.rs` defines the same names.
//!
//! Many nodes write at once under READ COMMITTED, so statements that claim work lock the rows
//! they take (`FOR UPDATE SKIP LOCKED`: rows another node is claiming are passed over, not
//! waited for), and read-then-write steps lock what they read.

use crate::error::Result;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgHasArrayType;
use sqlx::{Encode, Postgres, QueryBuilder, Row, Type};

pub(crate) type Db = Postgres;
pub(crate) type DbRow = sqlx::postgres::PgRow;
pub(crate) type DbPool = sqlx::PgPool;
pub(crate) type Tx = sqlx::Transaction<'static, Db>;

/// Times are `timestamptz`.
pub(crate) type DbTime = DateTime<Utc>;

pub(crate) fn db_time(t: DateTime<Utc>) -> DbTime {
    t
}

pub(crate) fn from_db_time(t: DbTime) -> DateTime<Utc> {
    t
}

/// A plain transaction; the statements in it lock what they need.
pub(crate) async fn begin_write(pool: &DbPool) -> Result<Tx> {
    Ok(pool.begin().await?)
}

/// Locks the rows read, for the rest of the transaction.
pub(crate) const FOR_UPDATE: &str = " FOR UPDATE";
/// Locks the rows read against updates, but not against a key-share lock (a foreign key
/// check on insert), so it does not wait for a fire claim inserting a run.
pub(crate) const FOR_NO_KEY_UPDATE: &str = " FOR NO KEY UPDATE";
/// Claims: locks the rows taken and passes over rows another node holds.
pub(crate) const SKIP_LOCKED: &str = " FOR UPDATE SKIP LOCKED";
/// Send claims a statement ends or extends: `message_id IN (` these, then one of
/// [`push_in_list`]'s lists, then [`LOCKED_IN_KEY_ORDER`]. A plain `message_id = ANY(..)` DELETE
/// or UPDATE locks its rows in the order it finds them on disk (a bitmap heap scan, at a group
/// commit's 256 ids), while `claim_sends` takes claims over in key order: nodes deadlocked on
/// `send_claims` when one paused past its claims came back, and outcomes of messages already
/// sent were lost with the aborted transaction. Locked first in key order, they cannot be.
pub(crate) const CLAIMS_AMONG: &str = "message_id IN (SELECT message_id FROM send_claims WHERE message_id";
/// Closes [`CLAIMS_AMONG`]: the rows locked in the byte order `claim_sends` sorts its ids in.
pub(crate) const LOCKED_IN_KEY_ORDER: &str = " ORDER BY message_id COLLATE \"C\" FOR UPDATE)";
/// A key among those a subquery selects (closed by [`END_SELECTED`]), as an array looked up by
/// primary key: `IN (SELECT .. LIMIT n)` let the planner hash-join the few keys against a
/// sequential scan of the whole table (retention's purge of a 1,000,000-row fire ledger in
/// statements of 5,000: 25.5 s, against 13.3 s this way).
pub(crate) const AMONG_SELECTED: &str = " = ANY(ARRAY(";
pub(crate) const END_SELECTED: &str = "))";
/// A row's own address: what retention deletes send requests by (their key is three columns,
/// their message id has no index) and a run's accepted windows (their key is two). A row an
/// upsert rewrote meanwhile has moved and waits for the next purge.
pub(crate) const ROW_ID: &str = "ctid";

/// Locks `table` against every other writer (readers go on) until the transaction ends.
pub(crate) async fn lock_table(tx: &mut Tx, table: &'static str) -> Result<()> {
    // `table` is a name written in this crate, never input.
    sqlx::query(&format!("LOCK TABLE {table} IN EXCLUSIVE MODE")).execute(&mut **tx).await?;
    Ok(())
}

pub(crate) const TRUE: &str = "TRUE";
/// The smaller of two values.
pub(crate) const LEAST: &str = "LEAST";
/// Byte order, as SQLite sorts, whatever the database's collation.
pub(crate) const BYTE_ORDER: &str = " COLLATE \"C\"";
/// The start of the hour of a delivery's `at`: hours in UTC, whatever the session's time zone.
pub(crate) const HOUR_OF_AT: &str = "date_bin('1 hour', at, TIMESTAMPTZ '1970-01-01 00:00:00+00')";
/// A crowd's variable columns, a TEXT[].
pub(crate) const CROWD_COLUMNS: &str = "columns";

pub(crate) fn crowd_columns(columns: &[String]) -> &[String] {
    columns
}

pub(crate) fn crowd_columns_of(row: &DbRow) -> Result<Vec<String>> {
    Ok(row.try_get(CROWD_COLUMNS)?)
}

/// Appends ` = ANY($n)`, the values bound as one array.
pub(crate) fn push_in_list<'a, T>(query: &mut QueryBuilder<'a, Db>, values: impl IntoIterator<Item = T>)
where
    T: 'a + Encode<'a, Db> + Type<Db> + PgHasArrayType,
{
    query.push(" = ANY(");
    query.push_bind(values.into_iter().collect::<Vec<T>>());
    query.push(")");
}

/// Pages of rows are read as rows: PostgreSQL sends them in one answer already.
pub(crate) const PAGE_AS_JSON: bool = false;

/// A JSON array of its arguments, and the JSON array of one value per row of a group (NULL
/// over no rows): a page of rows read as one row, as SQLite reads it.
pub(crate) const JSON_ARRAY: &str = "json_build_array";
pub(crate) const JSON_ARRAY_AGG: &str = "json_agg";

/// Runs `inserts`, multi-row INSERTs into `table` written without RETURNING, and answers
/// (`key`, id) of each row they inserted (PostgreSQL sends RETURNING rows in one answer).
pub(crate) async fn insert_returning_ids<'a>(
    tx: &mut Tx,
    _table: &'static str,
    key: &'static str,
    inserts: impl IntoIterator<Item = QueryBuilder<'a, Db>>,
) -> Result<Vec<(i64, i64)>> {
    let mut ids = Vec::new();
    for mut insert in inserts {
        insert.push(format_args!(" RETURNING {key}, id"));
        ids.extend(insert.build_query_as::<(i64, i64)>().fetch_all(&mut **tx).await?);
    }
    Ok(ids)
}
