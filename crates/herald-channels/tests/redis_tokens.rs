//! Provider tokens shared through a real Redis by two "nodes" (two `Tokens`, each with its
//! own connection and cache): one fetch serves both, a refresh or a replaced token on one is
//! what the other sends with, and with Redis unreachable each node keeps its own in memory.

// The store's Redis test support: the test Redis, unique prefixes, a proxy that can be cut.
#[path = "../../herald-store/tests/redis_support/mod.rs"]
mod redis_support;

use async_trait::async_trait;
use chrono::{DateTime, Duration, TimeZone, Utc};
use herald_channels::redis_tokens::RedisTokenCache;
use herald_channels::tokens::{AccessToken, TokenCache, TokenError, TokenSource, Tokens};
use herald_core::{Clock, TestClock};
use redis::aio::ConnectionManager;
use redis_support::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A provider that hands out `tok-1`, `tok-2`, ... (valid two hours), slowly, and counts.
struct CountingSource {
    fetches: AtomicUsize,
    clock: Arc<TestClock>,
}

#[async_trait]
impl TokenSource for CountingSource {
    fn cache_key(&self) -> String {
        "wecom_app:ww-corp:1000002".into()
    }

    async fn fetch(&self, _now: DateTime<Utc>) -> Result<AccessToken, TokenError> {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let n = self.fetches.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(AccessToken { token: format!("tok-{n}"), expires_at: self.clock.now() + Duration::hours(2) })
    }
}

fn clock() -> Arc<TestClock> {
    Arc::new(TestClock::new(Utc.with_ymd_and_hms(2026, 6, 1, 8, 0, 0).unwrap()))
}

fn node(conn: ConnectionManager, prefix: &str, clock: &Arc<TestClock>) -> Tokens {
    Tokens::new(Arc::new(RedisTokenCache::new(conn, prefix, clock.clone())), clock.clone())
}

fn fetches(source: &CountingSource) -> usize {
    source.fetches.load(Ordering::SeqCst)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_share_one_token_and_one_fetch() {
    let prefix = unique_prefix("tokens-shared");
    let clock = clock();
    let source = Arc::new(CountingSource { fetches: AtomicUsize::new(0), clock: clock.clone() });
    let (a, b) = (node(connect().await, &prefix, &clock), node(connect().await, &prefix, &clock));

    // Ten workers, five per node, want the token at once: one fetch in the cluster.
    let mut wanted = Vec::new();
    for n in 0..10 {
        let (tokens, source) = (if n % 2 == 0 { a.clone() } else { b.clone() }, source.clone());
        wanted.push(tokio::spawn(async move { tokens.get(source.as_ref()).await.unwrap() }));
    }
    for got in wanted {
        assert_eq!(got.await.unwrap(), "tok-1");
    }
    assert_eq!(fetches(&source), 1);

    // Stored as JSON, expiring with the token.
    let key = format!("{prefix}:token:wecom_app:ww-corp:1000002");
    let mut conn = connect().await;
    let json: String = redis::cmd("GET").arg(&key).query_async(&mut conn).await.unwrap();
    let stored: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(stored["token"], "tok-1");
    assert_eq!(
        stored["expiresAt"].as_str().unwrap().parse::<DateTime<Utc>>().unwrap(),
        clock.now() + Duration::hours(2)
    );
    let ttl: i64 = redis::cmd("PTTL").arg(&key).query_async(&mut conn).await.unwrap();
    assert!((7_190_000..=7_200_000).contains(&ttl), "expires with the token: {ttl} ms");
    assert!(keys(&prefix).await.iter().all(|k| !k.contains("token-fetch")), "the fetch claim was given back");

    // Housekeeping refreshes on node A; node B sends with the new token.
    assert_eq!(a.refresh(source.as_ref()).await.unwrap().token, "tok-2");
    assert_eq!(b.get(source.as_ref()).await.unwrap(), "tok-2");
    assert_eq!(fetches(&source), 2);

    // The provider refuses tok-2 on both nodes at once: one new token, used by both.
    let (ra, rb) = tokio::join!(a.replace(source.as_ref(), "tok-2"), b.replace(source.as_ref(), "tok-2"));
    assert_eq!((ra.unwrap(), rb.unwrap()), ("tok-3".to_string(), "tok-3".to_string()));
    assert_eq!(fetches(&source), 3);

    // Close to expiry, the token is fetched again (once).
    clock.advance(Duration::minutes(116));
    let (ga, gb) = tokio::join!(a.get(source.as_ref()), b.get(source.as_ref()));
    assert_eq!((ga.unwrap(), gb.unwrap()), ("tok-4".to_string(), "tok-4".to_string()));
    assert_eq!(fetches(&source), 4);

    // An invalidation on one node is seen by the other.
    a.invalidate(source.as_ref()).await;
    assert_eq!(b.get(source.as_ref()).await.unwrap(), "tok-5");
    delete_prefix(&prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_unreachable_a_node_keeps_its_tokens_in_memory() {
    let prefix = unique_prefix("tokens-down");
    let clock = clock();
    let source = CountingSource { fetches: AtomicUsize::new(0), clock: clock.clone() };
    let proxy = redis_proxy().await;
    let cache = Arc::new(RedisTokenCache::new(connect_via(&proxy).await, &prefix, clock.clone()));
    let tokens = Tokens::new(cache.clone(), clock.clone());
    assert_eq!(tokens.get(&source).await.unwrap(), "tok-1");
    proxy.cut();

    assert_eq!(tokens.get(&source).await.unwrap(), "tok-1", "the node's own copy");
    assert_eq!(tokens.refresh(&source).await.unwrap().token, "tok-2");
    assert_eq!(tokens.get(&source).await.unwrap(), "tok-2");
    assert_eq!(fetches(&source), 2);
    assert!(cache.claim_fetch("k", std::time::Duration::from_secs(1)).await.is_some(), "no one to wait for");
    delete_prefix(&prefix).await;
}
