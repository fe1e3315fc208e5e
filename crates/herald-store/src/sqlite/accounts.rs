//! Channel accounts (config stored sealed) and the housekeeping schedules each one owns.

use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::model::{AccountRecord, AccountWrite};
use crate::repos::AccountRepo;
use crate::time::{from_ms, to_ms};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use herald_core::{ChannelKind, CronSchedule};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, Transaction};

fn account_from_row(row: &SqliteRow) -> Result<AccountRecord> {
    let channel: String = row.try_get("channel")?;
    Ok(AccountRecord {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        channel: ChannelKind::parse(&channel).ok_or_else(|| StoreError::Corrupt(format!("channel {channel:?}")))?,
        config_sealed: row.try_get("config_sealed")?,
        rate_per_second: row.try_get("rate_per_second")?,
        created_at: from_ms(row.try_get("created_at")?),
        updated_at: from_ms(row.try_get("updated_at")?),
    })
}

fn name_taken(e: sqlx::Error, name: &str) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(format!("a channel account named {name:?} exists already"))
        }
        _ => e.into(),
    }
}

/// Replaces the account's housekeeping schedules with `account.housekeeping`, armed from `now`.
async fn write_housekeeping(
    tx: &mut Transaction<'_, Sqlite>,
    account_id: i64,
    account: &AccountWrite,
    now: DateTime<Utc>,
) -> Result<()> {
    let kinds: Vec<&str> = account.housekeeping.iter().map(|h| h.kind.as_str()).collect();
    let existing: Vec<String> = sqlx::query_scalar("SELECT kind FROM schedules WHERE account_id = ?")
        .bind(account_id)
        .fetch_all(&mut **tx)
        .await?;
    for kind in existing.iter().filter(|k| !kinds.contains(&k.as_str())) {
        sqlx::query("DELETE FROM schedules WHERE account_id = ? AND kind = ?")
            .bind(account_id)
            .bind(kind)
            .execute(&mut **tx)
            .await?;
    }
    for job in &account.housekeeping {
        let cron = CronSchedule::parse(&job.cron, "UTC").map_err(|e| StoreError::Conflict(e.to_string()))?;
        sqlx::query(
            "INSERT INTO schedules (kind, account_id, cron, timezone, misfire, enabled, next_fire_at, updated_at) \
             VALUES (?, ?, ?, 'UTC', 'fire_once', 1, ?, ?) \
             ON CONFLICT (account_id, kind) WHERE account_id IS NOT NULL DO UPDATE SET cron = excluded.cron, \
             next_fire_at = excluded.next_fire_at, updated_at = excluded.updated_at",
        )
        .bind(&job.kind)
        .bind(account_id)
        .bind(&job.cron)
        .bind(cron.next_after(now).map(to_ms))
        .bind(to_ms(now))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

#[async_trait]
impl AccountRepo for SqliteStore {
    async fn create_account(&self, account: &AccountWrite, now: DateTime<Utc>) -> Result<AccountRecord> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO channel_accounts (name, channel, config_sealed, rate_per_second, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(&account.name)
        .bind(account.channel.as_str())
        .bind(&account.config_sealed)
        .bind(account.rate_per_second)
        .bind(to_ms(now))
        .bind(to_ms(now))
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| name_taken(e, &account.name))?;
        write_housekeeping(&mut tx, id, account, now).await?;
        tx.commit().await?;
        self.get_account(id).await
    }

    async fn get_account(&self, id: i64) -> Result<AccountRecord> {
        let row = sqlx::query("SELECT * FROM channel_accounts WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found("channel account", id))?;
        account_from_row(&row)
    }

    async fn get_account_by_name(&self, name: &str) -> Result<AccountRecord> {
        let row = sqlx::query("SELECT * FROM channel_accounts WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found("channel account", name))?;
        account_from_row(&row)
    }

    async fn list_accounts(&self) -> Result<Vec<AccountRecord>> {
        let rows = sqlx::query("SELECT * FROM channel_accounts ORDER BY id").fetch_all(&self.pool).await?;
        rows.iter().map(account_from_row).collect()
    }

    async fn update_account(&self, id: i64, account: &AccountWrite, now: DateTime<Utc>) -> Result<AccountRecord> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let old: Option<String> = sqlx::query_scalar("SELECT name FROM channel_accounts WHERE id = ?")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let old = old.ok_or_else(|| StoreError::not_found("channel account", id))?;
        sqlx::query(
            "UPDATE channel_accounts SET name = ?, channel = ?, config_sealed = ?, rate_per_second = ?, updated_at = ? \
             WHERE id = ?",
        )
        .bind(&account.name)
        .bind(account.channel.as_str())
        .bind(&account.config_sealed)
        .bind(account.rate_per_second)
        .bind(to_ms(now))
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(|e| name_taken(e, &account.name))?;
        if old != account.name {
            // Templates refer to accounts by name; a rename carries them along.
            sqlx::query("UPDATE templates SET channel_account = ? WHERE channel_account = ?")
                .bind(&account.name)
                .bind(&old)
                .execute(&mut *tx)
                .await?;
        }
        write_housekeeping(&mut tx, id, account, now).await?;
        tx.commit().await?;
        self.get_account(id).await
    }

    async fn delete_account(&self, id: i64) -> Result<()> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let name: Option<String> = sqlx::query_scalar("SELECT name FROM channel_accounts WHERE id = ?")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let name = name.ok_or_else(|| StoreError::not_found("channel account", id))?;
        let users: Vec<i64> = sqlx::query_scalar("SELECT id FROM templates WHERE channel_account = ? ORDER BY id")
            .bind(&name)
            .fetch_all(&mut *tx)
            .await?;
        if !users.is_empty() {
            return Err(StoreError::Conflict(format!(
                "channel account {name:?} is used by template(s) {}",
                users.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
            )));
        }
        sqlx::query("DELETE FROM channel_accounts WHERE id = ?").bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }
}
