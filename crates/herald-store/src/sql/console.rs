//! The admin console's users, sessions and setup links, and the dashboard's hourly counts.

use super::Backend;
use super::codec::{name_taken, opt_time_of, time_of};
use super::dialect::{BYTE_ORDER, DbRow, HOUR_OF_AT, begin_write, db_time, lock_table};
use crate::console::{ConsoleRepo, HourlyCount, SessionUser, UserRecord, UserRepo, UserSettings};
use crate::error::{Result, StoreError};
use crate::listing::Window;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use const_format::formatcp;
use sqlx::Row;

const USER_COLUMNS: &str = "id, name, password_hash, created_at, disabled_at";

const INSERT_USER: &str = formatcp!(
    "INSERT INTO console_users (name, password_hash, created_at, updated_at) VALUES ($1, $2, $3, $3) \
     RETURNING {USER_COLUMNS}"
);

fn user_from_row(row: &DbRow) -> Result<UserRecord> {
    Ok(UserRecord {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        password_hash: row.try_get("password_hash")?,
        created_at: time_of(row, "created_at")?,
        disabled_at: opt_time_of(row, "disabled_at")?,
    })
}

#[async_trait]
impl UserRepo for Backend {
    async fn create_user(&self, name: &str, password_hash: &str, now: DateTime<Utc>) -> Result<UserRecord> {
        let row = sqlx::query(INSERT_USER)
            .bind(name)
            .bind(password_hash)
            .bind(db_time(now))
            .fetch_one(self.writer())
            .await
            .map_err(|e| name_taken(e, "user", name))?;
        user_from_row(&row)
    }

    async fn user_by_name(&self, name: &str) -> Result<Option<UserRecord>> {
        let row = sqlx::query(formatcp!("SELECT {USER_COLUMNS} FROM console_users WHERE name = $1"))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn count_users(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM console_users").fetch_one(&self.pool).await?)
    }

    async fn set_user_password(&self, name: &str, password_hash: &str, now: DateTime<Utc>) -> Result<()> {
        let mut tx = begin_write(self.writer()).await?;
        let id: Option<i64> = sqlx::query_scalar(
            "UPDATE console_users SET password_hash = $1, updated_at = $2 WHERE name = $3 RETURNING id",
        )
        .bind(password_hash)
        .bind(db_time(now))
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        let id = id.ok_or_else(|| StoreError::not_found("user", name))?;
        sqlx::query("DELETE FROM console_sessions WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_users(&self, window: Window) -> Result<Vec<UserRecord>> {
        let rows = sqlx::query(formatcp!("SELECT {USER_COLUMNS} FROM console_users ORDER BY name LIMIT $1 OFFSET $2"))
            .bind(window.limit)
            .bind(window.offset)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(user_from_row).collect()
    }

    async fn set_user_disabled(&self, name: &str, disabled: bool, now: DateTime<Utc>) -> Result<()> {
        let mut tx = begin_write(self.writer()).await?;
        // Two users disabling each other at once must not both succeed.
        lock_table(&mut tx, "console_users").await?;
        let id: i64 = sqlx::query_scalar("SELECT id FROM console_users WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::not_found("user", name))?;
        if disabled {
            let others: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM console_users WHERE disabled_at IS NULL AND id <> $1")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
            if others == 0 {
                return Err(StoreError::Conflict(format!(
                    "{name:?} is the last enabled user: someone must be able to log in"
                )));
            }
            sqlx::query("DELETE FROM console_sessions WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
        }
        sqlx::query(
            "UPDATE console_users SET disabled_at = CASE WHEN $1 THEN COALESCE(disabled_at, $2) END, updated_at = $2 \
             WHERE id = $3",
        )
        .bind(disabled)
        .bind(db_time(now))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn set_user_settings(&self, user_id: i64, settings: &UserSettings, now: DateTime<Utc>) -> Result<()> {
        let done = sqlx::query("UPDATE console_users SET time_zone = $1, language = $2, updated_at = $3 WHERE id = $4")
            .bind(settings.time_zone.as_deref())
            .bind(settings.language.as_deref())
            .bind(db_time(now))
            .bind(user_id)
            .execute(self.writer())
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found("user", user_id));
        }
        Ok(())
    }

    async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO console_sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(db_time(now))
        .bind(db_time(expires_at))
        .execute(self.writer())
        .await?;
        Ok(())
    }

    async fn session_user(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<SessionUser>> {
        let row = sqlx::query(
            "SELECT s.user_id, u.name, s.expires_at, u.time_zone, u.language FROM console_sessions s \
             JOIN console_users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL",
        )
        .bind(token_hash)
        .bind(db_time(now))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(SessionUser {
                user_id: r.try_get("user_id")?,
                name: r.try_get("name")?,
                expires_at: time_of(&r, "expires_at")?,
                settings: UserSettings { time_zone: r.try_get("time_zone")?, language: r.try_get("language")? },
            })
        })
        .transpose()
    }

    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM console_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    async fn purge_sessions(&self, now: DateTime<Utc>) -> Result<u64> {
        let done = sqlx::query("DELETE FROM console_sessions WHERE expires_at <= $1")
            .bind(db_time(now))
            .execute(self.writer())
            .await?;
        Ok(done.rows_affected())
    }

    async fn create_setup_token(&self, token_hash: &str, now: DateTime<Utc>, expires_at: DateTime<Utc>) -> Result<()> {
        let mut tx = begin_write(self.writer()).await?;
        sqlx::query("DELETE FROM console_setup_tokens").execute(&mut *tx).await?;
        sqlx::query("INSERT INTO console_setup_tokens (token_hash, created_at, expires_at) VALUES ($1, $2, $3)")
            .bind(token_hash)
            .bind(db_time(now))
            .bind(db_time(expires_at))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn setup_token_valid(&self, token_hash: &str, now: DateTime<Utc>) -> Result<bool> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM console_setup_tokens WHERE token_hash = $1 AND expires_at > $2) \
             AND NOT EXISTS (SELECT 1 FROM console_users)",
        )
        .bind(token_hash)
        .bind(db_time(now))
        .fetch_one(&self.pool)
        .await?)
    }

    async fn redeem_setup_token(
        &self,
        token_hash: &str,
        name: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<UserRecord> {
        let mut tx = begin_write(self.writer()).await?;
        // Concurrent redemptions (and the user check below) take turns.
        lock_table(&mut tx, "console_users").await?;
        let spent = sqlx::query("DELETE FROM console_setup_tokens WHERE token_hash = $1 AND expires_at > $2")
            .bind(token_hash)
            .bind(db_time(now))
            .execute(&mut *tx)
            .await?;
        if spent.rows_affected() == 0 {
            return Err(StoreError::not_found("setup link", "given"));
        }
        let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM console_users").fetch_one(&mut *tx).await?;
        if users > 0 {
            return Err(StoreError::Conflict("a user exists already; log in instead".into()));
        }
        let row = sqlx::query(INSERT_USER)
            .bind(name)
            .bind(password_hash)
            .bind(db_time(now))
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| name_taken(e, "user", name))?;
        sqlx::query("DELETE FROM console_setup_tokens").execute(&mut *tx).await?;
        tx.commit().await?;
        user_from_row(&row)
    }
}

#[async_trait]
impl ConsoleRepo for Backend {
    async fn hourly_outcomes(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<HourlyCount>> {
        let rows = sqlx::query(formatcp!(
            "SELECT {HOUR_OF_AT} AS hour, state, COUNT(*) AS count FROM deliveries WHERE at >= $1 AND at < $2 \
             GROUP BY hour, state ORDER BY hour, state{BYTE_ORDER}"
        ))
        .bind(db_time(from))
        .bind(db_time(to))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(HourlyCount { hour: time_of(r, "hour")?, state: r.try_get("state")?, count: r.try_get("count")? })
            })
            .collect()
    }
}
