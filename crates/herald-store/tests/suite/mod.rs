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
mod fire_retention;
mod job_shards;
mod jobs;
mod ledger;
mod lists;
mod policies;
mod receipts;
mod runs;
mod schedules;
mod status_events;
mod suppressions;
mod templates;

pub use accounts::*;
pub use console::*;
pub use fire_retention::*;
pub use job_shards::*;
pub use jobs::*;
pub use ledger::*;
pub use lists::*;
pub use policies::*;
pub use receipts::*;
pub use runs::*;
pub use schedules::*;
pub use status_events::*;
pub use suppressions::*;
pub use templates::*;

use chrono::{DateTime, Duration, TimeZone, Utc};
use herald_core::{ChannelKind, MisfirePolicy, ScheduleSpec, TemplateSpec, TemplateStatus};
use herald_store::{Crowd, PgStore, SqliteStore, Store};
use sqlx::{Connection, PgConnection, PgPool, SqlitePool};
use std::future::Future;
use std::sync::Arc;

pub use herald_testkit::postgres::{TestDb, admin_url, with_database, with_test_db};

pub const GRACE: Duration = Duration::seconds(60);

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
        let store = pg_store(&db).await;
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
        self.set_schedule_text("cron", schedule_id, cron).await;
    }

    /// Overwrites a schedule's cadence, as a newer version could write one.
    pub async fn set_schedule_cadence(&self, schedule_id: i64, cadence: &str) {
        self.set_schedule_text("cadence", schedule_id, cadence).await;
    }

    /// Writes a fire of a schedule to the ledger, as another claimer that committed it first
    /// would have (the schedule's newest fire from then on); answers its id.
    pub async fn record_fire(&self, schedule_id: i64, fire_time: DateTime<Utc>) -> i64 {
        let sql = "INSERT INTO fires (schedule_id, fire_time, claimed_at, lateness_ms, outcome, claimed_by, prev_fire_id) \
                   SELECT $1, $2, $2, 0, 'no_crowd', 'another-node', last_fire_id FROM schedules WHERE id = $1 RETURNING id";
        let newest = "UPDATE schedules SET last_fire_id = $1 WHERE id = $2";
        match self {
            Raw::Sqlite(pool) => {
                let id: i64 = sqlx::query_scalar(sql)
                    .bind(schedule_id)
                    .bind(fire_time.timestamp_millis())
                    .fetch_one(pool)
                    .await
                    .unwrap();
                sqlx::query(newest).bind(id).bind(schedule_id).execute(pool).await.unwrap();
                id
            }
            Raw::Postgres(pool) => {
                let id: i64 = sqlx::query_scalar(sql).bind(schedule_id).bind(fire_time).fetch_one(pool).await.unwrap();
                sqlx::query(newest).bind(id).bind(schedule_id).execute(pool).await.unwrap();
                id
            }
        }
    }

    async fn set_schedule_text(&self, column: &str, schedule_id: i64, value: &str) {
        let sql = format!("UPDATE schedules SET {column} = $1 WHERE id = $2");
        let sql = sql.as_str();
        let done = match self {
            Raw::Sqlite(pool) => {
                sqlx::query(sql).bind(value).bind(schedule_id).execute(pool).await.unwrap().rows_affected()
            }
            Raw::Postgres(pool) => {
                sqlx::query(sql).bind(value).bind(schedule_id).execute(pool).await.unwrap().rows_affected()
            }
        };
        assert_eq!(done, 1, "schedule {schedule_id}");
    }
}

/// A new store (its own pool) on `db`; migrations run on the first.
pub async fn pg_store(db: &TestDb) -> PgStore {
    PgStore::connect(&db.url).await.unwrap_or_else(|e| panic!("cannot open {}: {e}", db.name))
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
    store.insert_crowd(&crowd, "[]").await.unwrap();
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
        schedule: Some(ScheduleSpec {
            cron: cron.into(),
            timezone: tz.into(),
            misfire,
            start_at: None,
            end_at: None,
            exclude_dates: Vec::new(),
            exclude_windows: Vec::new(),
        }),
        crowd_id,
        dedup: None,
        test_mode: None,
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
