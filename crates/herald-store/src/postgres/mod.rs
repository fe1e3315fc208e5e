//! The cluster backend: every repository on one PostgreSQL database shared by all nodes.
//! Claiming work (due fires, run leases) locks rows with `FOR UPDATE SKIP LOCKED`, so any number
//! of nodes can claim at once without a global lock and without taking the same row twice.
//! The repositories are the shared ones in `src/sql/`, compiled here over `dialect.rs` and
//! `batch.rs`.

mod batch;
mod dialect;
// The repositories, written once in `src/sql/` and compiled here over this dialect.
#[path = "../sql/accounts.rs"]
mod accounts;
#[path = "../sql/alarms.rs"]
mod alarms;
#[path = "../sql/api_keys.rs"]
mod api_keys;
#[path = "../sql/claims.rs"]
mod claims;
#[path = "../sql/codec.rs"]
mod codec;
#[path = "../sql/console.rs"]
mod console;
#[path = "../sql/crowds.rs"]
mod crowds;
#[path = "../sql/deferred.rs"]
mod deferred;
#[path = "../sql/fire_claims.rs"]
mod fire_claims;
#[path = "../sql/installation.rs"]
mod installation;
#[path = "../sql/job_runs.rs"]
mod job_runs;
#[path = "../sql/job_shards.rs"]
mod job_shards;
#[path = "../sql/jobs.rs"]
mod jobs;
#[path = "../sql/ledger.rs"]
mod ledger;
#[path = "../sql/policies.rs"]
mod policies;
#[path = "../sql/recall.rs"]
mod recall;
#[path = "../sql/receipts.rs"]
mod receipts;
#[path = "../sql/reports.rs"]
mod reports;
#[path = "../sql/resend.rs"]
mod resend;
#[path = "../sql/retention.rs"]
mod retention;
#[path = "../sql/run_control.rs"]
mod run_control;
#[path = "../sql/run_counts.rs"]
mod run_counts;
#[path = "../sql/run_pause.rs"]
mod run_pause;
#[path = "../sql/runs.rs"]
mod runs;
#[path = "../sql/schedules.rs"]
mod schedules;
#[path = "../sql/send_requests.rs"]
mod send_requests;
#[path = "../sql/shards.rs"]
mod shards;
#[path = "../sql/status_events.rs"]
mod status_events;
#[path = "../sql/suppressions.rs"]
mod suppressions;
#[path = "../sql/templates.rs"]
mod templates;

use crate::error::Result;
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

/// The type the shared repositories implement the traits for.
type Backend = PgStore;

impl PgStore {
    /// Connects to `url` and runs pending migrations (sqlx holds an advisory lock while it
    /// migrates, so nodes starting together do not race).
    pub async fn connect(url: &str) -> Result<Self> {
        let pool =
            PgPoolOptions::new().max_connections(10).acquire_timeout(Duration::from_secs(10)).connect(url).await?;
        let store = Self { pool };
        store.migrate().await?;
        Ok(store)
    }

    pub fn from_pool(pool: PgPool) -> Self {
        Self { pool }
    }

    pub async fn migrate(&self) -> Result<()> {
        sqlx::migrate!("../../migrations/postgres").run(&self.pool).await?;
        Ok(())
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Writes go through the same pool: PostgreSQL takes concurrent writers.
    pub(crate) fn writer(&self) -> &PgPool {
        &self.pool
    }

    /// The database's clock. Cluster nodes read time from here so that every node agrees on
    /// what is due, whatever their own clocks say.
    pub async fn database_now(&self) -> Result<DateTime<Utc>> {
        Ok(sqlx::query_scalar("SELECT now()").fetch_one(&self.pool).await?)
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}
