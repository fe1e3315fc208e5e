//! Channel accounts (config stored sealed) and the housekeeping schedules each one owns.
//!
//! Every write locks the account row first, then its schedule rows: the order a delete's
//! cascade takes them in. A fire claim locks schedule rows only and never waits for an
//! account, so the two cannot deadlock.

use super::Backend;
use super::codec::{matches_search, name_taken, time_of};
use super::dialect::{Db, DbRow, FOR_UPDATE, Tx, begin_write, db_time, push_in_list};
use crate::error::{Result, StoreError};
use crate::listing::{AccountFilter, SearchTerms};
use crate::model::{AccountRecord, AccountWrite};
use crate::repos::AccountRepo;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use const_format::formatcp;
use herald_core::{ChannelKind, CronSchedule};
use sqlx::{QueryBuilder, Row};

const SELECT_ACCOUNT: &str =
    "SELECT id, name, channel, config_sealed, rate_per_second, created_at, updated_at FROM channel_accounts";

fn account_from_row(row: &DbRow) -> Result<AccountRecord> {
    let channel: String = row.try_get("channel")?;
    Ok(AccountRecord {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        channel: ChannelKind::parse(&channel).ok_or_else(|| StoreError::Corrupt(format!("channel {channel:?}")))?,
        config_sealed: row.try_get("config_sealed")?,
        rate_per_second: row.try_get("rate_per_second")?,
        created_at: time_of(row, "created_at")?,
        updated_at: time_of(row, "updated_at")?,
    })
}

/// Replaces the account's housekeeping schedules with `account.housekeeping`, armed from `now`.
async fn write_housekeeping(tx: &mut Tx, account_id: i64, account: &AccountWrite, now: DateTime<Utc>) -> Result<()> {
    // Parse every cron before writing anything, so a bad one changes nothing.
    let mut jobs = Vec::with_capacity(account.housekeeping.len());
    for job in &account.housekeeping {
        let cron = CronSchedule::parse(&job.cron, "UTC").map_err(|e| StoreError::Conflict(e.to_string()))?;
        jobs.push((job, cron.next_after(now)));
    }
    let mut gone = QueryBuilder::<Db>::new("DELETE FROM schedules WHERE account_id = ");
    gone.push_bind(account_id).push(" AND NOT (kind");
    push_in_list(&mut gone, account.housekeeping.iter().map(|h| h.kind.as_str()));
    gone.push(")").build().execute(&mut **tx).await?;
    for (job, next_fire_at) in jobs {
        sqlx::query(
            "INSERT INTO schedules (kind, account_id, cron, timezone, misfire, enabled, next_fire_at, updated_at) \
             VALUES ($1, $2, $3, 'UTC', 'fire_once', TRUE, $4, $5) \
             ON CONFLICT (account_id, kind) WHERE account_id IS NOT NULL DO UPDATE SET cron = excluded.cron, \
             next_fire_at = excluded.next_fire_at, updated_at = excluded.updated_at",
        )
        .bind(&job.kind)
        .bind(account_id)
        .bind(&job.cron)
        .bind(next_fire_at.map(db_time))
        .bind(db_time(now))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Locks the account's row for the rest of the transaction; returns its name.
async fn lock_account(tx: &mut Tx, id: i64) -> Result<String> {
    let name: Option<String> =
        sqlx::query_scalar(formatcp!("SELECT name FROM channel_accounts WHERE id = $1{FOR_UPDATE}"))
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
    name.ok_or_else(|| StoreError::not_found("channel account", id))
}

#[async_trait]
impl AccountRepo for Backend {
    async fn create_account(&self, account: &AccountWrite, now: DateTime<Utc>) -> Result<AccountRecord> {
        let mut tx = begin_write(self.writer()).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO channel_accounts (name, channel, config_sealed, rate_per_second, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
        )
        .bind(&account.name)
        .bind(account.channel.as_str())
        .bind(&account.config_sealed)
        .bind(account.rate_per_second)
        .bind(db_time(now))
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| name_taken(e, "channel account", &account.name))?;
        write_housekeeping(&mut tx, id, account, now).await?;
        tx.commit().await?;
        self.get_account(id).await
    }

    async fn get_account(&self, id: i64) -> Result<AccountRecord> {
        let row = sqlx::query(formatcp!("{SELECT_ACCOUNT} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found("channel account", id))?;
        account_from_row(&row)
    }

    async fn get_account_by_name(&self, name: &str) -> Result<AccountRecord> {
        let row = sqlx::query(formatcp!("{SELECT_ACCOUNT} WHERE name = $1"))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found("channel account", name))?;
        account_from_row(&row)
    }

    async fn list_accounts(&self, filter: &AccountFilter) -> Result<Vec<AccountRecord>> {
        let search = SearchTerms::of(filter.search.as_deref());
        let sql = format!(
            "{SELECT_ACCOUNT} WHERE {} AND ($3 IS NULL OR channel = $3) ORDER BY id LIMIT $4 OFFSET $5",
            matches_search("name", "id")
        );
        let rows = sqlx::query(&sql)
            .bind(search.pattern)
            .bind(search.exact)
            .bind(filter.channel.map(|c| c.as_str()))
            .bind(filter.window.limit)
            .bind(filter.window.offset)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(account_from_row).collect()
    }

    async fn update_account(&self, id: i64, account: &AccountWrite, now: DateTime<Utc>) -> Result<AccountRecord> {
        let mut tx = begin_write(self.writer()).await?;
        let old = lock_account(&mut tx, id).await?;
        sqlx::query(
            "UPDATE channel_accounts SET name = $1, channel = $2, config_sealed = $3, rate_per_second = $4, \
             updated_at = $5 WHERE id = $6",
        )
        .bind(&account.name)
        .bind(account.channel.as_str())
        .bind(&account.config_sealed)
        .bind(account.rate_per_second)
        .bind(db_time(now))
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(|e| name_taken(e, "channel account", &account.name))?;
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
        let mut tx = begin_write(self.writer()).await?;
        let name = lock_account(&mut tx, id).await?;
        let users: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM templates WHERE channel_account = $1 AND deleted_at IS NULL ORDER BY id",
        )
        .bind(&name)
        .fetch_all(&mut *tx)
        .await?;
        if !users.is_empty() {
            return Err(StoreError::Conflict(format!(
                "channel account {name:?} is used by template(s) {}",
                users.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
            )));
        }
        // Its housekeeping schedules go with it (their fires stay in the ledger, unlisted).
        sqlx::query("DELETE FROM channel_accounts WHERE id = $1").bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }
}
