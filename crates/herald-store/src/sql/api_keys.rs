//! API keys, stored as sha256 hashes only, with a name, a scope, when each was last used and
//! whether it was revoked. The last usable admin key cannot be revoked.

use super::Backend;
use super::codec::{opt_time_of, time_of};
use super::dialect::{DbRow, FOR_UPDATE, begin_write, db_time};
use crate::error::{Result, StoreError};
use crate::model::{ApiKeyRecord, ApiKeyScope, NewApiKey, Revoked};
use crate::repos::ApiKeyRepo;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use const_format::formatcp;
use sqlx::Row;

const SELECT_KEY: &str = "SELECT id, label, prefix, scope, created_at, last_used_at, revoked_at FROM api_keys";

fn key_of(row: &DbRow) -> Result<ApiKeyRecord> {
    let scope: String = row.try_get("scope")?;
    Ok(ApiKeyRecord {
        id: row.try_get("id")?,
        name: row.try_get("label")?,
        prefix: row.try_get("prefix")?,
        scope: ApiKeyScope::parse(&scope).ok_or_else(|| StoreError::Corrupt(format!("api key scope {scope:?}")))?,
        created_at: time_of(row, "created_at")?,
        last_used_at: opt_time_of(row, "last_used_at")?,
        revoked_at: opt_time_of(row, "revoked_at")?,
    })
}

#[async_trait]
impl ApiKeyRepo for Backend {
    async fn count_api_keys(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM api_keys").fetch_one(&self.pool).await?)
    }

    async fn insert_api_key(&self, key: &NewApiKey<'_>, now: DateTime<Utc>) -> Result<i64> {
        let id = sqlx::query_scalar(
            "INSERT INTO api_keys (key_hash, label, prefix, scope, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(key.key_hash)
        .bind(key.name)
        .bind(key.prefix)
        .bind(key.scope.as_str())
        .bind(db_time(now))
        .fetch_one(self.writer())
        .await?;
        Ok(id)
    }

    async fn find_api_key(&self, key_hash: &str) -> Result<Option<ApiKeyRecord>> {
        let row =
            sqlx::query(&format!("{SELECT_KEY} WHERE key_hash = $1")).bind(key_hash).fetch_optional(&self.pool).await?;
        row.as_ref().map(key_of).transpose()
    }

    async fn touch_api_key(&self, id: i64, now: DateTime<Utc>, unless_since: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "UPDATE api_keys SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $3)",
        )
        .bind(id)
        .bind(db_time(now))
        .bind(db_time(unless_since))
        .execute(self.writer())
        .await?;
        Ok(())
    }

    async fn list_api_keys(&self, limit: i64, offset: i64) -> Result<Vec<ApiKeyRecord>> {
        let rows = sqlx::query(&format!("{SELECT_KEY} ORDER BY id LIMIT $1 OFFSET $2"))
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(key_of).collect()
    }

    async fn revoke_api_key(&self, id: i64, now: DateTime<Utc>) -> Result<Revoked> {
        let mut tx = begin_write(self.writer()).await?;
        let Some(row) = sqlx::query(&format!("{SELECT_KEY} WHERE id = $1")).bind(id).fetch_optional(&mut *tx).await?
        else {
            return Ok(Revoked::NotFound);
        };
        let key = key_of(&row)?;
        if key.revoked_at.is_some() {
            return Ok(Revoked::Already);
        }
        if key.scope == ApiKeyScope::Admin {
            // The usable admin keys, locked, so two revocations cannot each leave the other's last.
            let admins: Vec<i64> = sqlx::query_scalar(formatcp!(
                "SELECT id FROM api_keys WHERE scope = 'admin' AND revoked_at IS NULL ORDER BY id {FOR_UPDATE}"
            ))
            .fetch_all(&mut *tx)
            .await?;
            if admins.iter().all(|&admin| admin == id) {
                return Ok(Revoked::LastAdmin);
            }
        }
        sqlx::query("UPDATE api_keys SET revoked_at = $2 WHERE id = $1")
            .bind(id)
            .bind(db_time(now))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Revoked::Revoked)
    }
}
