//! Crowd file records: what an upload found, kept beside the file itself.

use super::Backend;
use super::codec::{matches_search, time_of};
use super::dialect::{CROWD_COLUMNS, DbRow, crowd_columns, crowd_columns_of, db_time};
use crate::error::{Result, StoreError};
use crate::listing::{CrowdFilter, SearchTerms};
use crate::model::Crowd;
use crate::repos::CrowdRepo;
use async_trait::async_trait;
use const_format::formatcp;
use sqlx::Row;

#[async_trait]
impl CrowdRepo for Backend {
    async fn insert_crowd(&self, crowd: &Crowd) -> Result<()> {
        sqlx::query(formatcp!(
            "INSERT INTO crowds (id, original_name, receiver_column, {CROWD_COLUMNS}, rows, valid_rows, bad_rows, \
             size_bytes, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
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
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn get_crowd(&self, id: &str) -> Result<Crowd> {
        let row = sqlx::query("SELECT * FROM crowds WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found("crowd", id))?;
        crowd_from_row(&row)
    }

    async fn list_crowds(&self, filter: &CrowdFilter) -> Result<Vec<Crowd>> {
        let search = SearchTerms::of(filter.search.as_deref());
        let sql = format!(
            "SELECT * FROM crowds WHERE {} ORDER BY created_at DESC, id LIMIT $3 OFFSET $4",
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
