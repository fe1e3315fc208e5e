//! herald's fire ledger read back: the template fires due inside the window, each with how late
//! it was claimed (`claimed_at - fire_time`: the time the claiming transaction started, which
//! is what herald itself records as the fire's lateness).

use super::plan::Window;
use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::{PgPool, SqlitePool};
use std::path::Path;

/// Template fires only: housekeeping schedules share the ledger.
const SQLITE_FIRES: &str = "SELECT (f.claimed_at - f.fire_time) * 1000 FROM fires f \
     JOIN schedules s ON s.id = f.schedule_id \
     WHERE s.template_id IS NOT NULL AND f.fire_time >= ?1 AND f.fire_time < ?2";
const SQLITE_COUNT: &str = "SELECT COUNT(*) FROM fires f JOIN schedules s ON s.id = f.schedule_id \
     WHERE s.template_id IS NOT NULL AND f.fire_time >= ?1 AND f.fire_time < ?2";
const SQLITE_OUTCOMES: &str = "SELECT f.outcome, COUNT(*) FROM fires f JOIN schedules s ON s.id = f.schedule_id \
     WHERE s.template_id IS NOT NULL AND f.fire_time >= ?1 AND f.fire_time < ?2 GROUP BY f.outcome";
const PG_FIRES: &str = "SELECT (EXTRACT(EPOCH FROM (f.claimed_at - f.fire_time)) * 1000000)::int8 FROM fires f \
     JOIN schedules s ON s.id = f.schedule_id \
     WHERE s.template_id IS NOT NULL AND f.fire_time >= $1 AND f.fire_time < $2";
const PG_COUNT: &str = "SELECT COUNT(*) FROM fires f JOIN schedules s ON s.id = f.schedule_id \
     WHERE s.template_id IS NOT NULL AND f.fire_time >= $1 AND f.fire_time < $2";
const PG_OUTCOMES: &str = "SELECT f.outcome, COUNT(*) FROM fires f JOIN schedules s ON s.id = f.schedule_id \
     WHERE s.template_id IS NOT NULL AND f.fire_time >= $1 AND f.fire_time < $2 GROUP BY f.outcome";

const SQLITE_OVERDUE: &str =
    "SELECT COUNT(*) FROM schedules WHERE template_id IS NOT NULL AND enabled = 1 AND next_fire_at <= ?1";
const PG_OVERDUE: &str =
    "SELECT COUNT(*) FROM schedules WHERE template_id IS NOT NULL AND enabled AND next_fire_at <= $1";

pub enum Ledger {
    /// SQLite keeps times as milliseconds since the epoch.
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Ledger {
    /// A connection to the SQLite database at `path` beside the node that writes it (WAL); it
    /// only reads.
    pub async fn sqlite(path: &Path) -> anyhow::Result<Self> {
        let options = sqlx::sqlite::SqliteConnectOptions::new().filename(path);
        let pool = sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect_with(options).await?;
        Ok(Self::Sqlite(pool))
    }

    pub async fn postgres(url: &str) -> anyhow::Result<Self> {
        let pool = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(url).await?;
        Ok(Self::Postgres(pool))
    }

    /// Template fires due inside `window` in the ledger.
    pub async fn count(&self, window: Window) -> anyhow::Result<u64> {
        let count: i64 = match self {
            Self::Sqlite(pool) => {
                sqlx::query_scalar(SQLITE_COUNT)
                    .bind(window.start.timestamp_millis())
                    .bind(window.end.timestamp_millis())
                    .fetch_one(pool)
                    .await?
            }
            Self::Postgres(pool) => {
                sqlx::query_scalar(PG_COUNT).bind(window.start).bind(window.end).fetch_one(pool).await?
            }
        };
        u64::try_from(count).context("a negative count")
    }

    /// Template schedules whose next fire was due at or before `before` and is not claimed yet.
    pub async fn overdue(&self, before: DateTime<Utc>) -> anyhow::Result<u64> {
        let count: i64 = match self {
            Self::Sqlite(pool) => {
                sqlx::query_scalar(SQLITE_OVERDUE).bind(before.timestamp_millis()).fetch_one(pool).await?
            }
            Self::Postgres(pool) => sqlx::query_scalar(PG_OVERDUE).bind(before).fetch_one(pool).await?,
        };
        u64::try_from(count).context("a negative count")
    }

    /// How late each template fire due inside `window` was claimed, in microseconds.
    pub async fn lateness(&self, window: Window) -> anyhow::Result<Vec<i64>> {
        Ok(match self {
            Self::Sqlite(pool) => {
                sqlx::query_scalar(SQLITE_FIRES)
                    .bind(window.start.timestamp_millis())
                    .bind(window.end.timestamp_millis())
                    .fetch_all(pool)
                    .await?
            }
            Self::Postgres(pool) => {
                sqlx::query_scalar(PG_FIRES).bind(window.start).bind(window.end).fetch_all(pool).await?
            }
        })
    }

    /// How the window's fires ended ("no_crowd: 60000"), to confirm that each was the trivial one.
    pub async fn outcomes(&self, window: Window) -> anyhow::Result<String> {
        let rows: Vec<(String, i64)> = match self {
            Self::Sqlite(pool) => {
                sqlx::query_as(SQLITE_OUTCOMES)
                    .bind(window.start.timestamp_millis())
                    .bind(window.end.timestamp_millis())
                    .fetch_all(pool)
                    .await?
            }
            Self::Postgres(pool) => {
                sqlx::query_as(PG_OUTCOMES).bind(window.start).bind(window.end).fetch_all(pool).await?
            }
        };
        let parts: Vec<String> = rows.iter().map(|(outcome, n)| format!("{outcome}: {n}")).collect();
        Ok(if parts.is_empty() { "none".to_owned() } else { parts.join(", ") })
    }

    pub async fn close(&self) {
        match self {
            Self::Sqlite(pool) => pool.close().await,
            Self::Postgres(pool) => pool.close().await,
        }
    }
}
