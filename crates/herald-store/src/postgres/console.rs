//! The admin console's users, sessions and setup links, and the dashboard's hourly counts.

use super::PgStore;
use super::crowds::crowd_from_row;
use crate::console::{ConsoleRepo, HourlyCount, SessionUser, UserRecord, UserRepo};
use crate::error::{Result, StoreError};
use crate::model::Crowd;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;

const USER_COLUMNS: &str = "id, name, password_hash, created_at";

fn user_from_row(row: &sqlx::postgres::PgRow) -> Result<UserRecord> {
    Ok(UserRecord {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        password_hash: row.try_get("password_hash")?,
        created_at: row.try_get("created_at")?,
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
impl UserRepo for PgStore {
    async fn create_user(&self, name: &str, password_hash: &str, now: DateTime<Utc>) -> Result<UserRecord> {
        let row = sqlx::query(&format!(
            "INSERT INTO console_users (name, password_hash, created_at, updated_at) VALUES ($1, $2, $3, $3) \
             RETURNING {USER_COLUMNS}"
        ))
        .bind(name)
        .bind(password_hash)
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .map_err(name_taken(name))?;
        user_from_row(&row)
    }

    async fn user_by_name(&self, name: &str) -> Result<Option<UserRecord>> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM console_users WHERE name = $1"))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn count_users(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM console_users").fetch_one(&self.pool).await?)
    }

    async fn set_user_password(&self, name: &str, password_hash: &str, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let id: Option<i64> = sqlx::query_scalar(
            "UPDATE console_users SET password_hash = $1, updated_at = $2 WHERE name = $3 RETURNING id",
        )
        .bind(password_hash)
        .bind(now)
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        let id = id.ok_or_else(|| StoreError::not_found("user", name))?;
        sqlx::query("DELETE FROM console_sessions WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
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
        sqlx::query(
            "INSERT INTO console_sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(now)
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn session_user(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<SessionUser>> {
        let row = sqlx::query(
            "SELECT s.user_id, u.name, s.expires_at FROM console_sessions s JOIN console_users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(SessionUser {
                user_id: r.try_get("user_id")?,
                name: r.try_get("name")?,
                expires_at: r.try_get("expires_at")?,
            })
        })
        .transpose()
    }

    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM console_sessions WHERE token_hash = $1").bind(token_hash).execute(&self.pool).await?;
        Ok(())
    }

    async fn purge_sessions(&self, now: DateTime<Utc>) -> Result<u64> {
        let done =
            sqlx::query("DELETE FROM console_sessions WHERE expires_at <= $1").bind(now).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }

    async fn create_setup_token(&self, token_hash: &str, now: DateTime<Utc>, expires_at: DateTime<Utc>) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM console_setup_tokens").execute(&mut *tx).await?;
        sqlx::query("INSERT INTO console_setup_tokens (token_hash, created_at, expires_at) VALUES ($1, $2, $3)")
            .bind(token_hash)
            .bind(now)
            .bind(expires_at)
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
        .bind(now)
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
        let mut tx = self.pool.begin().await?;
        // The table lock makes concurrent redemptions (and the user check below) take turns.
        sqlx::query("LOCK TABLE console_users IN EXCLUSIVE MODE").execute(&mut *tx).await?;
        let spent = sqlx::query("DELETE FROM console_setup_tokens WHERE token_hash = $1 AND expires_at > $2")
            .bind(token_hash)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        if spent.rows_affected() == 0 {
            return Err(StoreError::not_found("setup link", "given"));
        }
        let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM console_users").fetch_one(&mut *tx).await?;
        if users > 0 {
            return Err(StoreError::Conflict("a user exists already; log in instead".into()));
        }
        let row = sqlx::query(&format!(
            "INSERT INTO console_users (name, password_hash, created_at, updated_at) VALUES ($1, $2, $3, $3) \
             RETURNING {USER_COLUMNS}"
        ))
        .bind(name)
        .bind(password_hash)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(name_taken(name))?;
        sqlx::query("DELETE FROM console_setup_tokens").execute(&mut *tx).await?;
        tx.commit().await?;
        user_from_row(&row)
    }
}

#[async_trait]
impl ConsoleRepo for PgStore {
    async fn hourly_outcomes(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<HourlyCount>> {
        // date_bin against the epoch: hours in UTC, whatever the session's time zone.
        let rows: Vec<(DateTime<Utc>, String, i64)> = sqlx::query_as(
            "SELECT date_bin('1 hour', at, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS hour, state, COUNT(*) \
             FROM deliveries WHERE at >= $1 AND at < $2 GROUP BY hour, state ORDER BY hour, state COLLATE \"C\"",
        )
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(hour, state, count)| HourlyCount { hour, state, count }).collect())
    }

    async fn recent_crowds(&self, limit: i64) -> Result<Vec<Crowd>> {
        let rows = sqlx::query("SELECT * FROM crowds ORDER BY created_at DESC, id LIMIT $1")
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(crowd_from_row).collect()
    }
}
