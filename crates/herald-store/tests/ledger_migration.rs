//! The fire ledger's move to a time-first key, on a database from before it, on both backends:
//! every fire stays, each schedule's fires are chained newest first in fire-time order, nothing
//! that refers to a fire loses it (SQLite rebuilds the table), and new fires carry on the chain.

mod suite;

use chrono::{DateTime, TimeZone, Utc};
use herald_store::{FireRecord, PgStore, SqliteStore, Store};
use suite::{GRACE, with_test_db};

/// Rows of a database from before the time key: a job and a housekeeping schedule; four fires,
/// the job's out of time order by id; a shard of the job's fire 3 and a run of its fire 4 (the
/// old table dropped with foreign keys on would delete the shard and null the run's fire). Times
/// are milliseconds since the epoch on SQLite, timestamps on PostgreSQL (`{t:seconds}` marks each).
const OLD_ROWS: [&str; 6] = [
    "INSERT INTO jobs (id, name, kind, spec_json, created_at, updated_at) VALUES (1, 'j', 'http', '{}', {t:0}, {t:0})",
    "INSERT INTO schedules (id, kind, job_id, cron, timezone, misfire, enabled, next_fire_at, updated_at) \
     VALUES (1, 'job', 1, '0 * * * * ?', 'UTC', 'fire_once', TRUE, {t:240}, {t:0})",
    "INSERT INTO schedules (id, kind, cron, timezone, misfire, enabled, next_fire_at, updated_at) \
     VALUES (2, 'retention', '0 * * * * ?', 'UTC', 'fire_once', TRUE, {t:240}, {t:0})",
    "INSERT INTO fires (id, schedule_id, fire_time, claimed_at, lateness_ms, outcome) VALUES \
     (1, 1, {t:60}, {t:60}, 0, 'succeeded'), (2, 2, {t:120}, {t:120}, 0, 'succeeded'), \
     (3, 1, {t:180}, {t:180}, 0, 'fired'), (4, 1, {t:120}, {t:120}, 0, 'succeeded')",
    "INSERT INTO job_shards (fire_id, job_id, schedule_id, shard, total, planned_at) VALUES (3, 1, 1, 0, 1, {t:0})",
    "INSERT INTO job_runs (job_id, fire_id, attempt, node, outcome, started_at) VALUES (1, 4, 1, 'n', 'succeeded', {t:0})",
];

/// `sql` with each `{t:seconds}` written as `time` writes that many seconds past the epoch.
fn at_times(sql: &str, time: impl Fn(i64) -> String) -> String {
    let mut out = String::new();
    let mut rest = sql;
    while let Some(open) = rest.find("{t:") {
        let close = open + rest[open..].find('}').expect("a closed mark");
        out.push_str(&rest[..open]);
        out.push_str(&time(rest[open + 3..close].parse().expect("seconds")));
        rest = &rest[close + 1..];
    }
    out + rest
}

/// `sql` inserting the ids it names into a PostgreSQL identity column.
fn with_own_ids(sql: &str) -> String {
    if sql.contains(" (id, ") {
        sql.replacen(") VALUES", ") OVERRIDING SYSTEM VALUE VALUES", 1)
    } else {
        sql.to_owned()
    }
}

fn second(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(s, 0).unwrap()
}

fn ids(fires: Vec<FireRecord>) -> Vec<i64> {
    fires.iter().map(|f| f.id).collect()
}

/// What the migrated store must answer, and its next claim.
async fn check_migrated(store: &dyn Store) {
    assert_eq!(ids(store.list_fires(1, 10).await.unwrap()), [3, 4, 1], "newest fire time first");
    assert_eq!(ids(store.list_fires(1, 2).await.unwrap()), [3, 4]);
    assert_eq!(ids(store.list_fires(2, 10).await.unwrap()), [2]);
    let schedules = store.list_schedules(&Default::default()).await.unwrap();
    let newest: Vec<Option<i64>> = schedules.iter().map(|s| s.last_fire.as_ref().map(|f| f.id)).collect();
    assert_eq!(newest, [Some(3), Some(2)], "each schedule's newest fire");
    let fires = store.claim_due_fires("node-test", second(240), GRACE, 10).await.unwrap();
    let retention = fires.iter().find(|f| f.schedule_id == 2).expect("the housekeeping schedule fired");
    assert_eq!(ids(store.list_fires(2, 10).await.unwrap()), [retention.fire_id, 2], "the chain carries on");
}

#[tokio::test]
async fn on_sqlite_every_fire_and_what_refers_to_it_stays() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.sqlite");
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&path).create_if_missing(true).foreign_keys(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    let mut migrator = sqlx::migrate!("../../migrations/sqlite");
    migrator.migrations = migrator.migrations.iter().filter(|m| m.version < 24).cloned().collect::<Vec<_>>().into();
    migrator.run(&pool).await.unwrap();
    for sql in OLD_ROWS {
        let sql = at_times(sql, |s| (s * 1000).to_string());
        sqlx::query(&sql).execute(&pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    pool.close().await;

    let store = SqliteStore::open(&path).await.unwrap();
    let count = |sql: &'static str| sqlx::query_scalar::<_, i64>(sql).fetch_one(store.pool());
    assert_eq!(count("SELECT COUNT(*) FROM job_shards WHERE fire_id = 3").await.unwrap(), 1, "no shard deleted");
    assert_eq!(count("SELECT COUNT(*) FROM job_runs WHERE fire_id = 4").await.unwrap(), 1, "no run's fire set null");
    let key: Vec<String> = sqlx::query_scalar(
        "SELECT ii.name FROM pragma_index_list('fires') il, pragma_index_info(il.name) ii WHERE il.\"unique\" = 1 \
         ORDER BY ii.seqno",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(key, ["fire_time", "schedule_id"]);
    check_migrated(&store).await;
}

#[tokio::test]
async fn on_postgres_every_fire_is_chained_and_keyed_by_time() {
    with_test_db(|db| async move {
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        let mut migrator = sqlx::migrate!("../../migrations/postgres");
        migrator.migrations = migrator.migrations.iter().filter(|m| m.version < 22).cloned().collect::<Vec<_>>().into();
        migrator.run(&pool).await.unwrap();
        for sql in OLD_ROWS {
            let sql = at_times(&with_own_ids(sql), |s| format!("to_timestamp({s})"));
            sqlx::query(&sql).execute(&pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        sqlx::query("SELECT setval(pg_get_serial_sequence('fires', 'id'), 100)").execute(&pool).await.unwrap();
        pool.close().await;

        let store = PgStore::connect(&db.url).await.unwrap();
        let key: Vec<String> = sqlx::query_scalar(
            "SELECT a.attname::text FROM pg_constraint c, unnest(c.conkey) WITH ORDINALITY k(attnum, n) \
             JOIN pg_attribute a ON a.attrelid = 'fires'::regclass AND a.attnum = k.attnum \
             WHERE c.conrelid = 'fires'::regclass AND c.contype = 'u' ORDER BY k.n",
        )
        .fetch_all(store.pool())
        .await
        .unwrap();
        assert_eq!(key, ["fire_time", "schedule_id"]);
        check_migrated(&store).await;
    })
    .await;
}
