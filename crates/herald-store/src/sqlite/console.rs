//! The admin console's users, sessions and setup links, and the dashboard's hourly counts.

use super::SqliteStore;
use super::crowds::crowd_from_row;
use crate::console::{ConsoleRepo, HourlyCount, SessionUser, UserRecord, UserRepo};
use crate::error::{Result, StoreError};
use crate::model::Crowd;
use crate::time::{from_ms, to_ms};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;

const HOUR_MS: i64 = 3_600_000;

fn user_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<UserRecord> {
    Ok(UserRecord {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        password_hash: row.try_get("password_hash")?,
        created_at: from_ms(row.try_get("created_at")?),
    })
}

fn name_taken(name: &str) -> impl FnOnce(sqlx::Error) -> StoreError + '_ {
    move |e| match e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(format!("a user named {name:?} exists already"))
        }
        other => other.into(),
    }
}

#[async_trait]
impl UserRepo for SqliteStore {
    async fn create_user(&self, name: &str, password_hash: &str, now: DateTime<Utc>) -> Result<UserRecord> {
        let row = sqlx::query(
            "INSERT INTO console_users (name, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?) RETURNING *",
        )
        .bind(name)
        .bind(password_hash)
        .bind(to_ms(now))
        .bind(to_ms(now))
        .fetch_one(&self.pool)
        .await
        .map_err(name_taken(name))?;
        user_from_row(&row)
    }

    async fn user_by_name(&self, name: &str) -> Result<Option<UserRecord>> {
        let row =
            sqlx::query("SELECT * FROM console_users WHERE name = ?").bind(name).fetch_optional(&self.pool).await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn count_users(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM console_users").fetch_one(&self.pool).await?)
    }

    async fn set_user_password(&self, name: &str, password_hash: &str, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let id: Option<i64> = sqlx::query_scalar(
            "UPDATE console_users SET password_hash = ?, updated_at = ? WHERE name = ? RETURNING id",
        )
        .bind(password_hash)
        .bind(to_ms(now))
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        let id = id.ok_or_else(|| StoreError::not_found("user", name))?;
        sqlx::query("DELETE FROM console_sessions WHERE user_id = ?").bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query("INSERT INTO console_sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)")
            .bind(token_hash)
            .bind(user_id)
            .bind(to_ms(now))
            .bind(to_ms(expires_at))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn session_user(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<SessionUser>> {
        let row = sqlx::query(
            "SELECT s.user_id, u.name, s.expires_at FROM console_sessions s JOIN console_users u ON u.id = s.user_id \
             WHERE s.token_hash = ? AND s.expires_at > ?",
        )
        .bind(token_hash)
        .bind(to_ms(now))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(SessionUser {
                user_id: r.try_get("user_id")?,
                name: r.try_get("name")?,
                expires_at: from_ms(r.try_get("expires_at")?),
            })
        })
        .transpose()
    }

    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM console_sessions WHERE token_hash = ?").bind(token_hash).execute(&self.pool).await?;
        Ok(())
    }

    async fn purge_sessions(&self, now: DateTime<Utc>) -> Result<u64> {
        let done = sqlx::query("DELETE FROM console_sessions WHERE expires_at <= ?")
            .bind(to_ms(now))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn create_setup_token(&self, token_hash: &str, now: DateTime<Utc>, expires_at: DateTime<Utc>) -> Result<()> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query("DELETE FROM console_setup_tokens").execute(&mut *tx).await?;
        sqlx::query("INSERT INTO console_setup_tokens (token_hash, created_at, expires_at) VALUES (?, ?, ?)")
            .bind(token_hash)
            .bind(to_ms(now))
            .bind(to_ms(expires_at))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn setup_token_valid(&self, token_hash: &str, now: DateTime<Utc>) -> Result<bool> {
        let valid: i64 = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM console_setup_tokens WHERE token_hash = ? AND expires_at > ?) \
             AND NOT EXISTS (SELECT 1 FROM console_users)",
        )
        .bind(token_hash)
        .bind(to_ms(now))
        .fetch_one(&self.pool)
        .await?;
        Ok(valid == 1)
    }

    async fn redeem_setup_token(
        &self,
        token_hash: &str,
        name: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<UserRecord> {
        // IMMEDIATE takes the write lock first, so two redemptions cannot both see no user.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let spent = sqlx::query("DELETE FROM console_setup_tokens WHERE token_hash = ? AND expires_at > ?")
            .bind(token_hash)
            .bind(to_ms(now))
            .execute(&mut *tx)
            .await?;
        if spent.rows_affected() == 0 {
            return Err(StoreError::not_found("setup link", "given"));
        }
        let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM console_users").fetch_one(&mut *tx).await?;
        if users > 0 {
            return Err(StoreError::Conflict("a user exists already; log in instead".into()));
        }
        let row = sqlx::query(
            "INSERT INTO console_users (name, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?) RETURNING *",
        )
        .bind(name)
        .bind(password_hash)
        .bind(to_ms(now))
        .bind(to_ms(now))
        .fetch_one(&mut *tx)
        .await
        .map_err(name_taken(name))?;
        sqlx::query("DELETE FROM console_setup_tokens").execute(&mut *tx).await?;
        tx.commit().await?;
        user_from_row(&row)
    }
}

#[async_trait]
impl ConsoleRepo for SqliteStore {
    async fn hourly_outcomes(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<HourlyCount>> {
        let rows: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT (at / ?1) * ?1 AS hour, state, COUNT(*) FROM deliveries WHERE at >= ?2 AND at < ?3 \
             GROUP BY hour, state ORDER BY hour, state",
        )
        .bind(HOUR_MS)
        .bind(to_ms(from))
        .bind(to_ms(to))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(hour, state, count)| HourlyCount { hour: from_ms(hour), state, count }).collect())
    }

    async fn recent_crowds(&self, limit: i64) -> Result<Vec<Crowd>> {
        let rows = sqlx::query("SELECT * FROM crowds ORDER BY created_at DESC, id LIMIT ?")
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(crowd_from_row).collect()
    }
}
