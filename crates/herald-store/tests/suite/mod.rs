//! The store test suite: backend-agnostic tests that take an `Arc<dyn Store>`, plus the
//! fixtures that hand them a fresh SQLite file or a fresh PostgreSQL database. Test files run
//! every suite test on both backends (see `both_backends.rs`).
//!
//! PostgreSQL comes from `HERALD_TEST_POSTGRES_URL` (default: the local trust-auth server). Each
//! test gets its own database, dropped at the end. An unreachable server fails the test: the
//! project's test script starts one, so a missing server is a broken setup, not a reason to skip.

// Each test binary uses a different part of the fixtures.
#![allow(dead_code, unused_imports)]

mod accounts;
mod console;
mod ledger;
mod policies;
mod runs;
mod schedules;
mod templates;

pub use accounts::*;
pub use console::*;
pub use ledger::*;
pub use policies::*;
pub use runs::*;
pub use schedules::*;
pub use templates::*;

use chrono::{DateTime, Duration, TimeZone, Utc};
use herald_core::{ChannelKind, MisfirePolicy, ScheduleSpec, TemplateSpec, TemplateStatus};
use herald_store::{Crowd, PgStore, SqliteStore, Store};
use sqlx::{Connection, PgConnection, PgPool, SqlitePool};
use std::future::Future;
use std::sync::Arc;

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres:postgres@127.0.0.1:5432/postgres";
pub const GRACE: Duration = Duration::seconds(60);

pub fn admin_url() -> String {
    std::env::var("HERALD_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_string())
}

/// Runs `test` on a store backed by a fresh SQLite file.
pub async fn on_sqlite<F, Fut>(test: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    on_sqlite_raw(|store, _| test(store)).await;
}

/// Runs `test` on a store backed by a fresh PostgreSQL database, dropping it afterwards even
/// when the test panics.
pub async fn on_postgres<F, Fut>(test: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    on_postgres_raw(|store, _| test(store)).await;
}

/// As [`on_sqlite`], for a test that also needs a write no store method makes.
pub async fn on_sqlite_raw<F, Fut>(test: F)
where
    F: FnOnce(Arc<dyn Store>, Raw) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("herald.sqlite")).await.unwrap();
    test(Arc::new(store.clone()), Raw::Sqlite(store.pool().clone())).await;
    store.close().await;
}

/// As [`on_postgres`], for a test that also needs a write no store method makes.
pub async fn on_postgres_raw<F, Fut>(test: F)
where
    F: FnOnce(Arc<dyn Store>, Raw) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    with_test_db(|db| async move {
        let store = db.store().await;
        test(Arc::new(store.clone()), Raw::Postgres(store.pool().clone())).await;
        store.close().await;
    })
    .await;
}

/// The backend's own connection, for the few writes a suite test makes beneath the store
/// traits (each in both dialects, with each backend's representation of time).
#[derive(Debug, Clone)]
pub enum Raw {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Raw {
    /// Holds a run back until `at`, as a run fired inside quiet hours under `defer` is.
    pub async fn set_run_not_before(&self, run_id: i64, at: DateTime<Utc>) {
        match self {
            Raw::Sqlite(pool) => {
                sqlx::query("UPDATE runs SET not_before = ? WHERE id = ?")
                    .bind(at.timestamp_millis())
                    .bind(run_id)
                    .execute(pool)
                    .await
                    .unwrap();
            }
            Raw::Postgres(pool) => {
                sqlx::query("UPDATE runs SET not_before = $1 WHERE id = $2")
                    .bind(at)
                    .bind(run_id)
                    .execute(pool)
                    .await
                    .unwrap();
            }
        }
    }
}

impl Raw {
    /// Overwrites a schedule's cron behind the store's back, as a hand edit or an older
    /// version's dialect could leave it.
    pub async fn set_schedule_cron(&self, schedule_id: i64, cron: &str) {
        let sql = "UPDATE schedules SET cron = $1 WHERE id = $2";
        let done = match self {
            Raw::Sqlite(pool) => {
                sqlx::query(sql).bind(cron).bind(schedule_id).execute(pool).await.unwrap().rows_affected()
            }
            Raw::Postgres(pool) => {
                sqlx::query(sql).bind(cron).bind(schedule_id).execute(pool).await.unwrap().rows_affected()
            }
        };
        assert_eq!(done, 1, "schedule {schedule_id}");
    }
}

/// Creates a database for one test, runs `test` with it and drops it, panic or not.
pub async fn with_test_db<F, Fut>(test: F)
where
    F: FnOnce(TestDb) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let db = TestDb::create().await;
    let result = tokio::spawn(test(db.clone())).await;
    db.drop_database().await;
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// A database of its own for one test, on the server `HERALD_TEST_POSTGRES_URL` names.
#[derive(Debug, Clone)]
pub struct TestDb {
    admin_url: String,
    pub name: String,
    pub url: String,
}

impl TestDb {
    pub async fn create() -> Self {
        let admin_url = admin_url();
        let mut admin = PgConnection::connect(&admin_url).await.unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is unreachable at {admin_url}: {e}. The Postgres store tests need a running server \
                 (the project's test script starts one; HERALD_TEST_POSTGRES_URL picks another)."
            )
        });
        let name = format!("herald_t_{:032x}", rand::random::<u128>());
        // The name is generated here, never input, so it is safe to splice into the statement.
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("cannot create test database {name} at {admin_url}: {e}"));
        admin.close().await.ok();
        let url = with_database(&admin_url, &name);
        Self { admin_url, name, url }
    }

    /// A new store (its own pool) on this database; migrations run on the first.
    pub async fn store(&self) -> PgStore {
        PgStore::connect(&self.url).await.unwrap_or_else(|e| panic!("cannot open {}: {e}", self.name))
    }

    /// Drops the database; a failure is reported, not fatal (the server may be going away).
    pub async fn drop_database(&self) {
        let dropped = async {
            let mut admin = PgConnection::connect(&self.admin_url).await?;
            sqlx::query(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name)).execute(&mut admin).await?;
            admin.close().await
        };
        if let Err(e) = dropped.await {
            eprintln!("could not drop test database {}: {e}", self.name);
        }
    }
}

/// `url` with its database path replaced by `database`, query string kept.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.find('?') {
        Some(i) => url.split_at(i),
        None => (url, ""),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[authority_start..].find('/').map_or(base.len(), |i| authority_start + i);
    format!("{}/{database}{query}", &base[..host_end])
}

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 7, 1, 0, 0, 0).unwrap()
}

pub fn crowd_record(rows: i64, now: DateTime<Utc>) -> Crowd {
    Crowd {
        id: format!("{:032x}", rand::random::<u128>()),
        original_name: "crowd.csv".into(),
        receiver_column: "userId".into(),
        columns: vec!["name".into(), "city".into()],
        rows,
        valid_rows: rows,
        bad_rows: 0,
        size_bytes: rows * 20,
        created_at: now,
    }
}

/// Inserts a crowd of `rows` rows and returns its id.
pub async fn crowd(store: &dyn Store, rows: i64, now: DateTime<Utc>) -> String {
    let crowd = crowd_record(rows, now);
    store.insert_crowd(&crowd).await.unwrap();
    crowd.id
}

pub fn spec(cron: &str, tz: &str, misfire: MisfirePolicy, crowd_id: Option<String>) -> TemplateSpec {
    TemplateSpec {
        name: "t".into(),
        channel: ChannelKind::Outbox,
        channel_account: None,
        msg_type: 10,
        receiver_id_type: "userId".into(),
        content: serde_json::json!({"text": "hi {$name}"}),
        quiet_hours: Default::default(),
        schedule: Some(ScheduleSpec { cron: cron.into(), timezone: tz.into(), misfire }),
        crowd_id,
        dedup: None,
        quiet_window: None,
    }
}

/// A template without a schedule, for run-now and delivery tests.
pub fn unscheduled(crowd_id: Option<String>) -> TemplateSpec {
    TemplateSpec { schedule: None, ..spec("0 * * * * ?", "UTC", MisfirePolicy::FireOnce, crowd_id) }
}

/// Creates a template and starts it; returns its id.
pub async fn running(store: &dyn Store, spec: &TemplateSpec, now: DateTime<Utc>) -> i64 {
    let t = store.create_template(spec, now).await.unwrap();
    store.set_template_status(t.id, TemplateStatus::Running, now).await.unwrap();
    t.id
}
