//! API keys, stored as sha256 hashes only.

use super::Backend;
use super::dialect::db_time;
use crate::error::Result;
use crate::repos::ApiKeyRepo;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[async_trait]
impl ApiKeyRepo for Backend {
    async fn count_api_keys(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM api_keys").fetch_one(&self.pool).await?)
    }

    async fn insert_api_key(&self, key_hash: &str, label: &str, now: DateTime<Utc>) -> Result<()> {
        sqlx::query("INSERT INTO api_keys (key_hash, label, created_at) VALUES ($1, $2, $3)")
            .bind(key_hash)
            .bind(label)
            .bind(db_time(now))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn api_key_exists(&self, key_hash: &str) -> Result<bool> {
        let found: Option<i64> = sqlx::query_scalar("SELECT id FROM api_keys WHERE key_hash = $1")
            .bind(key_hash)
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.is_some())
    }
}
