//! Crowd file records: what an upload found, kept beside the file itself.

use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::model::Crowd;
use crate::repos::CrowdRepo;
use crate::time::{from_ms, to_ms};
use async_trait::async_trait;
use sqlx::Row;

#[async_trait]
impl CrowdRepo for SqliteStore {
    async fn insert_crowd(&self, crowd: &Crowd) -> Result<()> {
        let columns = serde_json::to_string(&crowd.columns).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query(
            "INSERT INTO crowds (id, original_name, receiver_column, columns_json, rows, valid_rows, \
             bad_rows, size_bytes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&crowd.id)
        .bind(&crowd.original_name)
        .bind(&crowd.receiver_column)
        .bind(columns)
        .bind(crowd.rows)
        .bind(crowd.valid_rows)
        .bind(crowd.bad_rows)
        .bind(crowd.size_bytes)
        .bind(to_ms(crowd.created_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn get_crowd(&self, id: &str) -> Result<Crowd> {
        let row = sqlx::query("SELECT * FROM crowds WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found("crowd", id))?;
        crowd_from_row(&row)
    }
}

/// A `crowds` row as a record.
pub(super) fn crowd_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<Crowd> {
    let columns: String = row.try_get("columns_json")?;
    Ok(Crowd {
        id: row.try_get("id")?,
        original_name: row.try_get("original_name")?,
        receiver_column: row.try_get("receiver_column")?,
        columns: serde_json::from_str(&columns).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        rows: row.try_get("rows")?,
        valid_rows: row.try_get("valid_rows")?,
        bad_rows: row.try_get("bad_rows")?,
        size_bytes: row.try_get("size_bytes")?,
        created_at: from_ms(row.try_get("created_at")?),
    })
}
