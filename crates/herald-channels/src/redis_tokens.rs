//! Provider access tokens in Redis, for cluster mode: the token one node fetched is the one
//! every node sends with, and a refresh on any node (housekeeping, or after a provider
//! refused a token) is seen by all. A claim key makes one node fetch a missing token while
//! the others wait for it, so N nodes do not all call the provider at once.
//!
//! Keys: `<prefix>:token:<cache key>` holds `{"token", "expiresAt"}` as JSON and expires with
//! the token; `<prefix>:token-fetch:<cache key>` is the fetch claim (`SET NX PX`). Tokens are
//! never logged. While Redis is unreachable each node keeps its tokens in memory.

use crate::tokens::{AccessToken, FetchClaim, MemoryTokenCache, TokenCache};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use herald_core::Clock;
use herald_store::redis_conn::Guarded;
use redis::Script;
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

/// Deletes the claim only while it is still ours (it may have lapsed and been taken).
/// KEYS: claim. ARGV: our claim id.
static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        if redis.call('GET', KEYS[1]) == ARGV[1] then
            return redis.call('DEL', KEYS[1])
        end
        return 0
        ",
    )
});

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Stored {
    token: String,
    expires_at: DateTime<Utc>,
}

/// [`TokenCache`] on Redis, with an in-memory fallback.
pub struct RedisTokenCache {
    redis: Guarded,
    prefix: String,
    clock: Arc<dyn Clock>,
    fallback: MemoryTokenCache,
}

impl RedisTokenCache {
    /// Tokens under `<prefix>:token:`; `clock` sets their time to live.
    pub fn new(conn: ConnectionManager, prefix: &str, clock: Arc<dyn Clock>) -> Self {
        Self {
            redis: Guarded::new(conn, "provider token cache", "each node's own tokens"),
            prefix: prefix.to_string(),
            clock,
            fallback: MemoryTokenCache::default(),
        }
    }

    fn token_key(&self, key: &str) -> String {
        format!("{}:token:{key}", self.prefix)
    }

    fn claim_key(&self, key: &str) -> String {
        format!("{}:token-fetch:{key}", self.prefix)
    }
}

#[async_trait]
impl TokenCache for RedisTokenCache {
    async fn get(&self, key: &str) -> Option<AccessToken> {
        let redis_key = self.token_key(key);
        let found =
            self.redis
                .run(|mut conn| async move {
                    redis::cmd("GET").arg(redis_key).query_async::<Option<String>>(&mut conn).await
                })
                .await;
        match found {
            Some(Some(json)) => match serde_json::from_str::<Stored>(&json) {
                Ok(stored) => Some(AccessToken { token: stored.token, expires_at: stored.expires_at }),
                Err(e) => {
                    tracing::warn!(token = %key, error = %e, "unreadable token in Redis; fetching a new one");
                    None
                }
            },
            Some(None) => None,
            None => self.fallback.get(key).await,
        }
    }

    async fn put(&self, key: &str, token: &AccessToken) {
        self.fallback.put(key, token).await;
        let ttl_ms = (token.expires_at - self.clock.now()).num_milliseconds();
        if ttl_ms <= 0 {
            return;
        }
        let stored = Stored { token: token.token.clone(), expires_at: token.expires_at };
        let Ok(json) = serde_json::to_string(&stored) else { return };
        let redis_key = self.token_key(key);
        self.redis
            .run(|mut conn| async move {
                redis::cmd("SET").arg(redis_key).arg(json).arg("PX").arg(ttl_ms).query_async::<()>(&mut conn).await
            })
            .await;
    }

    async fn invalidate(&self, key: &str) {
        self.fallback.invalidate(key).await;
        let redis_key = self.token_key(key);
        self.redis
            .run(|mut conn| async move { redis::cmd("DEL").arg(redis_key).query_async::<()>(&mut conn).await })
            .await;
    }

    async fn claim_fetch(&self, key: &str, hold: Duration) -> Option<FetchClaim> {
        let id = format!("{:032x}", rand::random::<u128>());
        let claim_key = self.claim_key(key);
        let hold_ms = hold.as_millis().max(1) as u64;
        let claim_id = id.clone();
        let claimed = self
            .redis
            .run(|mut conn| async move {
                redis::cmd("SET")
                    .arg(claim_key)
                    .arg(claim_id)
                    .arg("NX")
                    .arg("PX")
                    .arg(hold_ms)
                    .query_async::<Option<String>>(&mut conn)
                    .await
            })
            .await;
        match claimed {
            Some(Some(_)) => Some(FetchClaim(id)),
            Some(None) => None,
            // Without Redis there is no one to wait for.
            None => Some(FetchClaim::default()),
        }
    }

    async fn release_fetch(&self, key: &str, claim: FetchClaim) {
        if claim.0.is_empty() {
            return;
        }
        let claim_key = self.claim_key(key);
        self.redis
            .run(|mut conn| async move { RELEASE.key(claim_key).arg(claim.0).invoke_async::<i64>(&mut conn).await })
            .await;
    }
}
