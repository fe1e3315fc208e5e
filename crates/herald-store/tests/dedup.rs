//! Dedup windows against both backends: SQLite on a temp file and a real Redis
//! (HERALD_TEST_REDIS_URL, default redis://127.0.0.1:6379; the Redis tests fail, never skip,
//! when it is unreachable). Time is an argument, so the windows are crossed without sleeping;
//! the races run many tasks on separate connections against one key.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use herald_store::redis_dedup::RedisDedup;
use herald_store::{DedupStore, SqliteStore};
use std::sync::Arc;
use tokio::sync::Barrier;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 1, 10, 0, 0).unwrap()
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 5, d).unwrap()
}

// --- backends ---

async fn sqlite(dir: &tempfile::TempDir) -> SqliteStore {
    SqliteStore::open(&dir.path().join("h.sqlite")).await.unwrap()
}

async fn sqlite_rows(store: &SqliteStore) -> (i64, i64) {
    let events = sqlx::query_scalar("SELECT COUNT(*) FROM dedup_events").fetch_one(store.pool()).await.unwrap();
    let counters = sqlx::query_scalar("SELECT COUNT(*) FROM dedup_counters").fetch_one(store.pool()).await.unwrap();
    (events, counters)
}

use herald_testkit::redis::{client as redis_client, redis_url, unique_prefix};

async fn redis_dedup(prefix: &str) -> RedisDedup {
    RedisDedup::connect(redis_client(), prefix).await.unwrap_or_else(|e| {
        panic!(
            "Redis at {} is unreachable ({e}); these tests need a real Redis: start one or set HERALD_TEST_REDIS_URL",
            redis_url()
        )
    })
}

async fn redis_conn() -> redis::aio::MultiplexedConnection {
    redis_client()
        .get_multiplexed_async_connection()
        .await
        .unwrap_or_else(|e| panic!("Redis at {} is unreachable: {e}", redis_url()))
}

/// The keys under `prefix`, the expiry index left out.
async fn redis_records(prefix: &str) -> Vec<String> {
    let mut keys: Vec<String> =
        redis::cmd("KEYS").arg(format!("{prefix}:*")).query_async(&mut redis_conn().await).await.unwrap();
    keys.retain(|k| k != &format!("{prefix}:expiry"));
    keys.sort();
    keys
}

async fn redis_cleanup(prefix: &str) {
    let mut conn = redis_conn().await;
    let keys: Vec<String> = redis::cmd("KEYS").arg(format!("{prefix}:*")).query_async(&mut conn).await.unwrap();
    if !keys.is_empty() {
        let _: i64 = redis::cmd("DEL").arg(keys).query_async(&mut conn).await.unwrap();
    }
}

// --- cases shared by both backends ---

async fn sliding_window(store: &dyn DedupStore) {
    let (limit, window) = (3, Duration::seconds(300));
    let key = "u1|hash-of-content";
    // Four identical sends within the window: three pass.
    let mut passed = Vec::new();
    for s in 0..4 {
        passed.push(store.admit_sliding(key, limit, window, t0() + Duration::seconds(s)).await.unwrap());
    }
    assert_eq!(passed, [true, true, true, false]);
    assert!(!store.admit_sliding(key, limit, window, t0() + Duration::milliseconds(299_999)).await.unwrap());
    // At exactly first + T the first event is out of (now - T, now].
    assert!(store.admit_sliding(key, limit, window, t0() + window).await.unwrap());
    // Now t0+1s, t0+2s and t0+300s fill the window again.
    assert!(!store.admit_sliding(key, limit, window, t0() + window).await.unwrap());
    assert!(store.admit_sliding(key, limit, window, t0() + Duration::seconds(301)).await.unwrap());
    // Other keys have their own windows.
    assert!(store.admit_sliding("u2|hash-of-content", limit, window, t0()).await.unwrap());
    // A limit of zero admits nothing.
    assert!(!store.admit_sliding("u3|zero", 0, window, t0()).await.unwrap());
}

async fn refusals_are_not_recorded(store: &dyn DedupStore) {
    // austin's content rule: once per 300 s.
    let (limit, window) = (1, Duration::seconds(300));
    let key = "u1|same-content";
    assert!(store.admit_sliding(key, limit, window, t0()).await.unwrap());
    assert!(!store.admit_sliding(key, limit, window, t0() + Duration::seconds(200)).await.unwrap());
    // Had the refusal at +200 s been recorded, +300 s would still be refused.
    assert!(store.admit_sliding(key, limit, window, t0() + Duration::seconds(300)).await.unwrap());
}

async fn fixed_window(store: &dyn DedupStore) {
    // austin's frequency rule: five a day per receiver and channel; a day is a bucket.
    let admit = |key: &'static str, day: chrono::NaiveDate, now: chrono::DateTime<chrono::Utc>| async move {
        store.admit_fixed(key, &day.format("%Y-%m-%d").to_string(), 5, now + Duration::days(2), now).await.unwrap()
    };
    let key = "u1|sms";
    let mut passed = Vec::new();
    for h in 0..6 {
        passed.push(admit(key, day(1), t0() + Duration::hours(h)).await);
    }
    assert_eq!(passed, [true, true, true, true, true, false]);
    assert!(!admit(key, day(1), t0() + Duration::hours(13)).await);
    // The next day is a new bucket, and another channel its own key.
    assert!(admit(key, day(2), t0() + Duration::hours(14)).await);
    assert!(admit("u1|email", day(1), t0() + Duration::hours(1)).await);

    // A bucket past its expiry starts again from zero.
    let expires = t0() + Duration::hours(1);
    assert!(store.admit_fixed("u2|sms", "b", 1, expires, t0()).await.unwrap());
    assert!(!store.admit_fixed("u2|sms", "b", 1, expires, t0() + Duration::minutes(59)).await.unwrap());
    let later = t0() + Duration::hours(2);
    assert!(store.admit_fixed("u2|sms", "b", 1, later, expires).await.unwrap());
    assert!(!store.admit_fixed("u2|sms", "b", 1, later, expires + Duration::minutes(1)).await.unwrap());
    assert!(!store.admit_fixed("u3|sms", "b", 0, later, t0()).await.unwrap());
}

/// Leaves exactly one live record ("p2").
async fn purge(store: &dyn DedupStore) {
    assert!(store.admit_sliding("p1", 5, Duration::seconds(60), t0()).await.unwrap()); // expires t0+60s
    assert!(store.admit_sliding("p2", 1, Duration::seconds(600), t0()).await.unwrap()); // expires t0+600s
    assert!(store.admit_fixed("p3", "2026-05-01", 5, t0() + Duration::seconds(120), t0()).await.unwrap());
    assert_eq!(store.purge_expired(t0() + Duration::seconds(59), 100).await.unwrap(), 0);
    let at = t0() + Duration::seconds(120);
    assert_eq!(store.purge_expired(at, 1).await.unwrap(), 1, "bounded by max");
    assert_eq!(store.purge_expired(at, 100).await.unwrap(), 1);
    assert_eq!(store.purge_expired(at, 100).await.unwrap(), 0);
    assert_eq!(store.purge_expired(at, 0).await.unwrap(), 0);
    // p2 is still in its window and still counts.
    assert!(!store.admit_sliding("p2", 1, Duration::seconds(600), at).await.unwrap());
    assert_eq!(store.purge_expired(t0() + Duration::seconds(599), 100).await.unwrap(), 0);
}

/// The peeks: what an admit at `now` would count, for many keys at once (in the order asked,
/// repeats and unknown keys included), and nothing recorded.
async fn peeks(store: &dyn DedupStore) {
    let w = Duration::seconds(300);
    for s in [0, 10, 20] {
        assert!(store.admit_sliding("pa", 5, w, t0() + Duration::seconds(s)).await.unwrap());
    }
    assert!(store.admit_sliding("pb", 5, w, t0()).await.unwrap());
    let keys: Vec<String> = ["pa", "missing", "pb", "pa"].map(String::from).to_vec();
    let peek = |keys: Vec<String>, now| async move { store.peek_sliding(&keys, w, now).await.unwrap() };
    assert_eq!(peek(keys.clone(), t0() + Duration::seconds(20)).await, [3, 0, 1, 3]);
    assert_eq!(peek(keys.clone(), t0() + Duration::seconds(305)).await, [2, 0, 0, 2], "t0 and pb are out");
    assert_eq!(peek(vec!["pa".into()], t0() + w).await, [2], "at exactly t0 + T, t0 is out of (now - T, now]");
    assert_eq!(peek(vec!["pa".into()], t0() - Duration::seconds(100)).await, [3], "later events count too");
    // A long list (the SQLite store reads it in parts) answers in its order.
    let mut long: Vec<String> = (0..12_000).map(|n| format!("none-{n}")).collect();
    long.push("pa".into());
    let counts = peek(long, t0() + Duration::seconds(20)).await;
    assert_eq!((counts.len(), counts[11_999], counts[12_000]), (12_001, 0, 3));
    // Peeking counted nothing: with a limit of 4 there is exactly one place left.
    assert!(store.admit_sliding("pa", 4, w, t0() + Duration::seconds(20)).await.unwrap());
    assert!(!store.admit_sliding("pa", 4, w, t0() + Duration::seconds(20)).await.unwrap());

    let expires = t0() + Duration::hours(1);
    for bucket in ["2026-05-01", "2026-05-01", "2026-05-02"] {
        assert!(store.admit_fixed("fa", bucket, 5, expires, t0()).await.unwrap());
    }
    assert!(store.admit_fixed("a:b", "c", 5, expires, t0()).await.unwrap());
    let pairs: Vec<(String, String)> = [
        ("fa", "2026-05-01"),
        ("fa", "2026-05-02"),
        ("fa", "2026-05-03"),
        ("nobody", "2026-05-01"),
        ("a", "b:c"),
        ("a:b", "c"),
    ]
    .map(|(k, b)| (k.to_string(), b.to_string()))
    .to_vec();
    assert_eq!(store.peek_fixed(&pairs, t0()).await.unwrap(), [2, 1, 0, 0, 0, 1]);
    assert_eq!(store.peek_fixed(&pairs, expires).await.unwrap(), [0; 6], "expired buckets start again from zero");
    let mut long: Vec<(String, String)> = (0..12_000).map(|n| (format!("none-{n}"), "b".to_string())).collect();
    long.push(pairs[0].clone());
    let counts = store.peek_fixed(&long, t0()).await.unwrap();
    assert_eq!((counts.len(), counts[12_000]), (12_001, 2));
    // Peeking counted nothing: with a limit of 3 there is exactly one place left.
    assert!(store.admit_fixed("fa", "2026-05-01", 3, expires, t0()).await.unwrap());
    assert!(!store.admit_fixed("fa", "2026-05-01", 3, expires, t0()).await.unwrap());
    assert!(store.peek_sliding(&[], w, t0()).await.unwrap().is_empty());
    assert!(store.peek_fixed(&[], t0()).await.unwrap().is_empty());
}

const ODD_KEYS: [&str; 5] = [
    "张三|【验证码】您的验证码是{$code}，五分钟内有效",
    "用户🙂:a*b?[c]\\ 'x\" %_",
    "",
    " leading and trailing ",
    "line\nbreak\ttab\u{0}nul",
];

async fn odd_keys(store: &dyn DedupStore) {
    let w = Duration::seconds(300);
    for key in ODD_KEYS {
        assert!(store.admit_sliding(key, 1, w, t0()).await.unwrap(), "{key:?}");
    }
    for key in ODD_KEYS {
        assert!(!store.admit_sliding(key, 1, w, t0() + Duration::seconds(1)).await.unwrap(), "{key:?}");
        assert!(store.admit_fixed(key, "二〇二六年五月一日", 1, t0() + w, t0()).await.unwrap(), "{key:?}");
        assert!(!store.admit_fixed(key, "二〇二六年五月一日", 1, t0() + w, t0()).await.unwrap(), "{key:?}");
    }
    // Key and bucket are kept apart, whatever characters they hold.
    assert!(store.admit_fixed("a:b", "c", 1, t0() + w, t0()).await.unwrap());
    assert!(store.admit_fixed("a", "b:c", 1, t0() + w, t0()).await.unwrap());
    // A key that differs only in case or width is another key.
    assert!(store.admit_sliding("张三|ABC", 1, w, t0()).await.unwrap());
    assert!(store.admit_sliding("张三|abc", 1, w, t0()).await.unwrap());
    assert!(store.admit_sliding("张三|ＡＢＣ", 1, w, t0()).await.unwrap());
}

#[derive(Clone, Copy, Debug)]
enum Rule {
    Sliding,
    Fixed,
}

/// Every task tries to admit the same key 50 times; with limit 7 exactly 7 pass in total.
async fn race(stores: Vec<Arc<dyn DedupStore>>, tasks_per_store: usize, rule: Rule) {
    const LIMIT: u32 = 7;
    const TRIES: i64 = 50;
    let barrier = Arc::new(Barrier::new(stores.len() * tasks_per_store));
    let mut tasks = Vec::new();
    for store in &stores {
        for _ in 0..tasks_per_store {
            let (store, barrier) = (store.clone(), barrier.clone());
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                let mut admitted = 0u32;
                for i in 0..TRIES {
                    let now = t0() + Duration::milliseconds(i);
                    let ok = match rule {
                        Rule::Sliding => {
                            store.admit_sliding("racer|同一内容", LIMIT, Duration::seconds(300), now).await
                        }
                        Rule::Fixed => {
                            store.admit_fixed("racer|sms", "2026-05-01", LIMIT, t0() + Duration::days(2), now).await
                        }
                    };
                    admitted += u32::from(ok.unwrap());
                }
                admitted
            }));
        }
    }
    let mut total = 0;
    for task in tasks {
        total += task.await.unwrap();
    }
    assert_eq!(total, LIMIT, "{rule:?}: {} tasks x {TRIES} tries", stores.len() * tasks_per_store);
}

// --- SQLite ---

#[tokio::test]
async fn sqlite_sliding_window_admits_n_per_window() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite(&dir).await;
    sliding_window(&store).await;
    refusals_are_not_recorded(&store).await;
}

#[tokio::test]
async fn sqlite_fixed_window_admits_n_per_bucket() {
    let dir = tempfile::tempdir().unwrap();
    fixed_window(&sqlite(&dir).await).await;
}

#[tokio::test]
async fn sqlite_purge_removes_expired_rows_only() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite(&dir).await;
    purge(&store).await;
    assert_eq!(sqlite_rows(&store).await, (1, 0), "p2's event is left");
}

#[tokio::test]
async fn sqlite_keys_with_cjk_and_odd_characters() {
    let dir = tempfile::tempdir().unwrap();
    odd_keys(&sqlite(&dir).await).await;
}

#[tokio::test]
async fn sqlite_peeks_count_what_an_admit_would_and_record_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite(&dir).await;
    peeks(&store).await;
    assert_eq!(sqlite_rows(&store).await, (5, 3), "the admits' events and counters only");
}

async fn two_sqlite_stores(dir: &tempfile::TempDir) -> Vec<Arc<dyn DedupStore>> {
    let a = sqlite(dir).await;
    let b = sqlite(dir).await;
    vec![Arc::new(a), Arc::new(b)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_race_on_one_sliding_key_admits_exactly_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    race(two_sqlite_stores(&dir).await, 4, Rule::Sliding).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_race_on_one_fixed_key_admits_exactly_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    race(two_sqlite_stores(&dir).await, 4, Rule::Fixed).await;
}

// --- Redis ---

#[tokio::test]
async fn redis_sliding_window_admits_n_per_window() {
    let prefix = unique_prefix("sliding");
    let store = redis_dedup(&prefix).await;
    sliding_window(&store).await;
    refusals_are_not_recorded(&store).await;
    redis_cleanup(&prefix).await;
}

#[tokio::test]
async fn redis_fixed_window_admits_n_per_bucket() {
    let prefix = unique_prefix("fixed");
    fixed_window(&redis_dedup(&prefix).await).await;
    redis_cleanup(&prefix).await;
}

#[tokio::test]
async fn redis_purge_removes_expired_keys_only() {
    let prefix = unique_prefix("purge");
    let store = redis_dedup(&prefix).await;
    purge(&store).await;
    assert_eq!(redis_records(&prefix).await, [format!("{prefix}:s:p2")], "p2's window is left");
    redis_cleanup(&prefix).await;
    assert!(redis_records(&prefix).await.is_empty());
}

#[tokio::test]
async fn redis_keys_expire_on_their_own() {
    let prefix = unique_prefix("ttl");
    let store = redis_dedup(&prefix).await;
    let now = Utc::now();
    assert!(store.admit_sliding("k", 1, Duration::seconds(300), now).await.unwrap());
    assert!(store.admit_fixed("k", "2026-05-01", 1, now + Duration::days(2), now).await.unwrap());
    let mut conn = redis_conn().await;
    for key in [format!("{prefix}:s:k"), format!("{prefix}:f:1:k:2026-05-01"), format!("{prefix}:expiry")] {
        let ttl: i64 = redis::cmd("PTTL").arg(&key).query_async(&mut conn).await.unwrap();
        assert!(ttl > 0, "{key} has no TTL ({ttl})");
    }
    let ttl: i64 = redis::cmd("PTTL").arg(format!("{prefix}:s:k")).query_async(&mut conn).await.unwrap();
    assert!(ttl <= 300_000, "{ttl}");
    redis_cleanup(&prefix).await;
}

#[tokio::test]
async fn redis_keys_with_cjk_and_odd_characters() {
    let prefix = unique_prefix("odd");
    odd_keys(&redis_dedup(&prefix).await).await;
    redis_cleanup(&prefix).await;
}

#[tokio::test]
async fn redis_peeks_count_what_an_admit_would_and_record_nothing() {
    let prefix = unique_prefix("peeks");
    peeks(&redis_dedup(&prefix).await).await;
    let expected: Vec<String> = ["f:2:fa:2026-05-01", "f:2:fa:2026-05-02", "f:3:a:b:c", "s:pa", "s:pb"]
        .map(|key| format!("{prefix}:{key}"))
        .to_vec();
    assert_eq!(redis_records(&prefix).await, expected, "the admits' keys only");
    redis_cleanup(&prefix).await;
}

async fn eight_redis_connections(prefix: &str) -> Vec<Arc<dyn DedupStore>> {
    let mut stores: Vec<Arc<dyn DedupStore>> = Vec::new();
    for _ in 0..8 {
        stores.push(Arc::new(redis_dedup(prefix).await));
    }
    stores
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_race_on_one_sliding_key_admits_exactly_the_limit() {
    let prefix = unique_prefix("race-sliding");
    race(eight_redis_connections(&prefix).await, 1, Rule::Sliding).await;
    redis_cleanup(&prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_race_on_one_fixed_key_admits_exactly_the_limit() {
    let prefix = unique_prefix("race-fixed");
    race(eight_redis_connections(&prefix).await, 1, Rule::Fixed).await;
    redis_cleanup(&prefix).await;
}
