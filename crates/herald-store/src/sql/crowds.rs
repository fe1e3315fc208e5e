//! Crowd file records: what an upload found (its bad rows included), kept beside the file
//! itself; renamed and deleted by operators. A deleted crowd's row stays for its runs.

use super::Backend;
use super::codec::{matches_search, time_of};
use super::dialect::{CROWD_COLUMNS, DbRow, FOR_UPDATE, begin_write, crowd_columns, crowd_columns_of, db_time};
use crate::error::{Result, StoreError};
use crate::listing::{CrowdFilter, SearchTerms};
use crate::model::Crowd;
use crate::repos::CrowdRepo;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use const_format::formatcp;
use sqlx::Row;

const CROWD_BY_ID: &str = "SELECT * FROM crowds WHERE id = $1 AND deleted_at IS NULL";

#[async_trait]
impl CrowdRepo for Backend {
    async fn insert_crowd(&self, crowd: &Crowd, bad_rows_json: &str) -> Result<()> {
        sqlx::query(formatcp!(
            "INSERT INTO crowds (id, original_name, receiver_column, {CROWD_COLUMNS}, rows, valid_rows, bad_rows, \
             size_bytes, created_at, bad_rows_json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(&crowd.id)
        .bind(&crowd.original_name)
        .bind(&crowd.receiver_column)
        .bind(crowd_columns(&crowd.columns))
        .bind(crowd.rows)
        .bind(crowd.valid_rows)
        .bind(crowd.bad_rows)
        .bind(crowd.size_bytes)
        .bind(db_time(crowd.created_at))
        .bind(bad_rows_json)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    async fn get_crowd(&self, id: &str) -> Result<Crowd> {
        let row = sqlx::query(CROWD_BY_ID)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found("crowd", id))?;
        crowd_from_row(&row)
    }

    async fn crowd_bad_rows(&self, id: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT bad_rows_json FROM crowds WHERE id = $1 AND deleted_at IS NULL")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found("crowd", id))?;
        Ok(row.try_get("bad_rows_json")?)
    }

    async fn rename_crowd(&self, id: &str, name: &str) -> Result<Crowd> {
        let row = sqlx::query("UPDATE crowds SET original_name = $1 WHERE id = $2 AND deleted_at IS NULL RETURNING *")
            .bind(name.trim())
            .bind(id)
            .fetch_optional(self.writer())
            .await?
            .ok_or_else(|| StoreError::not_found("crowd", id))?;
        crowd_from_row(&row)
    }

    async fn delete_crowd(&self, id: &str, now: DateTime<Utc>) -> Result<()> {
        let mut tx = begin_write(self.writer()).await?;
        sqlx::query_scalar::<_, String>(formatcp!(
            "SELECT id FROM crowds WHERE id = $1 AND deleted_at IS NULL{FOR_UPDATE}"
        ))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::not_found("crowd", id))?;
        let users: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, name FROM templates WHERE crowd_id = $1 AND deleted_at IS NULL ORDER BY id")
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
        if !users.is_empty() {
            let named = herald_core::listing::name_some(users.iter().map(|(id, name)| format!("{name} (#{id})")));
            return Err(StoreError::Conflict(format!(
                "the crowd is used by templates {named}: point them elsewhere first"
            )));
        }
        let reading: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM runs WHERE crowd_id = $1 AND status IN ('pending', 'streaming') ORDER BY id",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        if !reading.is_empty() {
            let named = herald_core::listing::name_some(reading.iter().map(|r| format!("#{r}")));
            return Err(StoreError::Conflict(format!(
                "runs {named} still read the crowd's file: wait for them to be published, or cancel them"
            )));
        }
        sqlx::query("UPDATE crowds SET deleted_at = $1 WHERE id = $2")
            .bind(db_time(now))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_crowds(&self, filter: &CrowdFilter) -> Result<Vec<Crowd>> {
        let search = SearchTerms::of(filter.search.as_deref());
        let sql = format!(
            "SELECT * FROM crowds WHERE deleted_at IS NULL AND {} ORDER BY created_at DESC, id LIMIT $3 OFFSET $4",
            matches_search("original_name", "id")
        );
        let rows = sqlx::query(&sql)
            .bind(search.pattern)
            .bind(search.exact)
            .bind(filter.window.limit)
            .bind(filter.window.offset)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(crowd_from_row).collect()
    }
}

/// A `crowds` row as a record.
pub(super) fn crowd_from_row(row: &DbRow) -> Result<Crowd> {
    Ok(Crowd {
        id: row.try_get("id")?,
        original_name: row.try_get("original_name")?,
        receiver_column: row.try_get("receiver_column")?,
        columns: crowd_columns_of(row)?,
        rows: row.try_get("rows")?,
        valid_rows: row.try_get("valid_rows")?,
        bad_rows: row.try_get("bad_rows")?,
        size_bytes: row.try_get("size_bytes")?,
        created_at: time_of(row, "created_at")?,
    })
}
