//! Reading columns whose type differs between the backends, written once over the dialect:
//! times (INTEGER milliseconds or `timestamptz`) and JSON (TEXT or `jsonb`); and the stored
//! names of a run's status and of what a held message passed.

use super::dialect::{DbRow, DbTime, from_db_time};
use crate::error::{Result, StoreError};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use sqlx::Row;
use sqlx::types::Json;

/// A run's status column; a value herald never writes is corrupt data.
pub(super) fn run_status(stored: &str) -> Result<herald_core::RunStatus> {
    herald_core::RunStatus::parse(stored).ok_or_else(|| StoreError::Corrupt(format!("run status {stored:?}")))
}

/// What a held message passed; a value herald never writes is corrupt data.
pub(super) fn screened(stored: &str) -> Result<herald_core::Screened> {
    herald_core::Screened::parse(stored).ok_or_else(|| StoreError::Corrupt(format!("screened {stored:?}")))
}

/// A list's search condition over a name and an id column: binds the search's `LIKE` pattern
/// as `$1` and its exact text as `$2` (`listing::SearchTerms`).
pub(super) fn matches_search(name: &str, id: &str) -> String {
    format!("($1 IS NULL OR LOWER({name}) LIKE $1 ESCAPE '\\' OR CAST({id} AS TEXT) = $2)")
}

/// A write refused by a unique name: a Conflict saying a `what` of that name exists.
pub(super) fn name_taken(e: sqlx::Error, what: &str, name: &str) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(format!("a {what} named {name:?} exists already"))
        }
        _ => e.into(),
    }
}

pub(super) fn time_of(row: &DbRow, column: &str) -> Result<DateTime<Utc>> {
    Ok(from_db_time(row.try_get::<DbTime, _>(column)?))
}

pub(super) fn opt_time_of(row: &DbRow, column: &str) -> Result<Option<DateTime<Utc>>> {
    Ok(row.try_get::<Option<DbTime>, _>(column)?.map(from_db_time))
}

/// A JSON column read into `T`; a value that does not read is corrupt data.
pub(super) fn json_of<T: DeserializeOwned>(row: &DbRow, column: &str) -> Result<T> {
    Ok(row.try_get::<Json<T>, _>(column).map_err(StoreError::decoding)?.0)
}
