//! The admin console's state: people who log in, their sessions and the one-time setup link
//! for the first admin (`UserRepo`), and the read-only queries its pages need (`ConsoleRepo`).
//! Passwords and tokens arrive here already hashed; the store never sees them in the clear.

use crate::error::Result;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// A console user as stored: the argon2 hash, never the password.
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub id: i64,
    pub name: String,
    pub password_hash: String,
    pub created_at: DateTime<Utc>,
    /// When another user disabled it; a disabled user cannot log in.
    pub disabled_at: Option<DateTime<Utc>>,
}

/// Who a live session belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUser {
    pub user_id: i64,
    pub name: String,
    pub expires_at: DateTime<Utc>,
    /// What the user picked for how pages read.
    pub settings: UserSettings,
}

/// How a user reads the console; each None until they pick one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserSettings {
    /// The IANA time zone times are shown in; None for UTC.
    pub time_zone: Option<String>,
    /// The console language (`en`, `zh-CN`); None to follow the browser.
    pub language: Option<String>,
}

/// Messages that reached one final state in one hour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HourlyCount {
    /// The start of the hour (UTC).
    pub hour: DateTime<Utc>,
    pub state: String,
    pub count: i64,
}

#[async_trait]
pub trait UserRepo: Send + Sync {
    /// Refused with a conflict when the name is taken.
    async fn create_user(&self, name: &str, password_hash: &str, now: DateTime<Utc>) -> Result<UserRecord>;
    async fn user_by_name(&self, name: &str) -> Result<Option<UserRecord>>;
    async fn count_users(&self) -> Result<i64>;
    /// Replaces the password hash and ends every session of the user.
    async fn set_user_password(&self, name: &str, password_hash: &str, now: DateTime<Utc>) -> Result<()>;
    /// A window of the users, by name.
    async fn list_users(&self, window: crate::listing::Window) -> Result<Vec<UserRecord>>;
    /// Disables a user (ending every session of theirs) or enables them again. Disabling the
    /// last enabled user is refused with a conflict: someone must be able to log in.
    async fn set_user_disabled(&self, name: &str, disabled: bool, now: DateTime<Utc>) -> Result<()>;
    /// Replaces the user's settings (a zone and language the caller checked).
    async fn set_user_settings(&self, user_id: i64, settings: &UserSettings, now: DateTime<Utc>) -> Result<()>;

    async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()>;
    /// The session's user, when the session exists and has not expired at `now`.
    async fn session_user(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<SessionUser>>;
    async fn delete_session(&self, token_hash: &str) -> Result<()>;
    /// Forgets sessions that expired before `now`; returns how many.
    async fn purge_sessions(&self, now: DateTime<Utc>) -> Result<u64>;

    /// Replaces any earlier setup link with this one.
    async fn create_setup_token(&self, token_hash: &str, now: DateTime<Utc>, expires_at: DateTime<Utc>) -> Result<()>;
    /// True when the link exists, has not expired and no user exists yet.
    async fn setup_token_valid(&self, token_hash: &str, now: DateTime<Utc>) -> Result<bool>;
    /// Spends the link and creates the first user, in one transaction. NotFound when the link
    /// is unknown or expired; Conflict when a user exists already.
    async fn redeem_setup_token(
        &self,
        token_hash: &str,
        name: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<UserRecord>;
}

#[async_trait]
pub trait ConsoleRepo: Send + Sync {
    /// Final message states counted per hour in `[from, to)`, aggregated by the database,
    /// ordered by hour then state.
    async fn hourly_outcomes(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<HourlyCount>>;
}
