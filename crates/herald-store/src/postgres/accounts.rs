//! Channel accounts (config stored sealed) and the housekeeping schedules each one owns.
//!
//! Every write locks the account row first, then its schedule rows: the order a delete's
//! cascade takes them in. A fire claim locks schedule rows only and never waits for an
//! account, so the two cannot deadlock.

use super::PgStore;
use crate::error::{Result, StoreError};
use crate::model::{AccountRecord, AccountWrite};
use crate::repos::AccountRepo;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use herald_core::{ChannelKind, CronSchedule};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, Row, Transaction};

const SELECT_ACCOUNT: &str =
    "SELECT id, name, channel, config_sealed, rate_per_second, created_at, updated_at FROM channel_accounts";

fn account_from_row(row: &PgRow) -> Result<AccountRecord> {
    let channel: String = row.try_get("channel")?;
    Ok(AccountRecord {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        channel: ChannelKind::parse(&channel).ok_or_else(|| StoreError::Corrupt(format!("channel {channel:?}")))?,
        config_sealed: row.try_get("config_sealed")?,
        rate_per_second: row.try_get("rate_per_second")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
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
    tx: &mut Transaction<'_, Postgres>,
    account_id: i64,
    account: &AccountWrite,
    now: DateTime<Utc>,
) -> Result<()> {
    // Parse every cron before writing anything, so a bad one changes nothing.
    let mut jobs = Vec::with_capacity(account.housekeeping.len());
    for job in &account.housekeeping {
        let cron = CronSchedule::parse(&job.cron, "UTC").map_err(|e| StoreError::Conflict(e.to_string()))?;
        jobs.push((job, cron.next_after(now)));
    }
    let kinds: Vec<&str> = account.housekeeping.iter().map(|h| h.kind.as_str()).collect();
    sqlx::query("DELETE FROM schedules WHERE account_id = $1 AND NOT (kind = ANY($2))")
        .bind(account_id)
        .bind(&kinds)
        .execute(&mut **tx)
        .await?;
    for (job, next_fire_at) in jobs {
        sqlx::query(
            "INSERT INTO schedules (kind, account_id, cron, timezone, misfire, enabled, next_fire_at, updated_at) \
             VALUES ($1, $2, $3, 'UTC', 'fire_once', true, $4, $5) \
             ON CONFLICT (account_id, kind) WHERE account_id IS NOT NULL DO UPDATE SET cron = excluded.cron, \
             next_fire_at = excluded.next_fire_at, updated_at = excluded.updated_at",
        )
        .bind(&job.kind)
        .bind(account_id)
        .bind(&job.cron)
        .bind(next_fire_at)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Locks the account's row for the rest of the transaction; returns its name.
async fn lock_account(tx: &mut Transaction<'_, Postgres>, id: i64) -> Result<String> {
    let name: Option<String> = sqlx::query_scalar("SELECT name FROM channel_accounts WHERE id = $1 FOR UPDATE")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    name.ok_or_else(|| StoreError::not_found("channel account", id))
}

#[async_trait]
impl AccountRepo for PgStore {
    async fn create_account(&self, account: &AccountWrite, now: DateTime<Utc>) -> Result<AccountRecord> {
        let mut tx = self.pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO channel_accounts (name, channel, config_sealed, rate_per_second, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
        )
        .bind(&account.name)
        .bind(account.channel.as_str())
        .bind(&account.config_sealed)
        .bind(account.rate_per_second)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| name_taken(e, &account.name))?;
        write_housekeeping(&mut tx, id, account, now).await?;
        tx.commit().await?;
        self.get_account(id).await
    }

    async fn get_account(&self, id: i64) -> Result<AccountRecord> {
        let row = sqlx::query(&format!("{SELECT_ACCOUNT} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found("channel account", id))?;
        account_from_row(&row)
    }

    async fn get_account_by_name(&self, name: &str) -> Result<AccountRecord> {
        let row = sqlx::query(&format!("{SELECT_ACCOUNT} WHERE name = $1"))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found("channel account", name))?;
        account_from_row(&row)
    }

    async fn list_accounts(&self) -> Result<Vec<AccountRecord>> {
        let rows = sqlx::query(&format!("{SELECT_ACCOUNT} ORDER BY id")).fetch_all(&self.pool).await?;
        rows.iter().map(account_from_row).collect()
    }

    async fn update_account(&self, id: i64, account: &AccountWrite, now: DateTime<Utc>) -> Result<AccountRecord> {
        let mut tx = self.pool.begin().await?;
        let old = lock_account(&mut tx, id).await?;
        sqlx::query(
            "UPDATE channel_accounts SET name = $1, channel = $2, config_sealed = $3, rate_per_second = $4, \
             updated_at = $5 WHERE id = $6",
        )
        .bind(&account.name)
        .bind(account.channel.as_str())
        .bind(&account.config_sealed)
        .bind(account.rate_per_second)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(|e| name_taken(e, &account.name))?;
        if old != account.name {
            // Templates refer to accounts by name; a rename carries them along.
            sqlx::query("UPDATE templates SET channel_account = $1 WHERE channel_account = $2")
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
        let mut tx = self.pool.begin().await?;
        let name = lock_account(&mut tx, id).await?;
        let users: Vec<i64> = sqlx::query_scalar("SELECT id FROM templates WHERE channel_account = $1 ORDER BY id")
            .bind(&name)
            .fetch_all(&mut *tx)
            .await?;
        if !users.is_empty() {
            return Err(StoreError::Conflict(format!(
                "channel account {name:?} is used by template(s) {}",
                users.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
            )));
        }
        // Its housekeeping schedules (and their fires) go with it.
        sqlx::query("DELETE FROM channel_accounts WHERE id = $1").bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }
}
