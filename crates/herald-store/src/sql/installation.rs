//! This installation's id, made once by the first migration: the prefix of every message id.

use super::Backend;
use crate::error::{Result, StoreError};
use crate::repos::InstallationRepo;
use async_trait::async_trait;
use herald_core::Installation;

#[async_trait]
impl InstallationRepo for Backend {
    async fn installation(&self) -> Result<Installation> {
        let id: Option<String> = sqlx::query_scalar("SELECT id FROM installation ORDER BY created_at LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        let id = id.ok_or_else(|| StoreError::Corrupt("the installation table is empty".into()))?;
        Ok(Installation::new(&id))
    }
}
