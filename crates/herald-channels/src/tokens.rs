//! Provider access tokens (DingTalk, WeCom, Getui): fetched on demand from a `TokenSource`,
//! cached until shortly before the provider's expiry in a `TokenCache` (memory here; Redis,
//! shared by every node, in [`crate::redis_tokens`]), refreshed ahead of time by housekeeping
//! schedules, and refreshed once when a provider says a token is invalid. A missing token is
//! fetched once however many workers want it: one fetch per node, and with a shared cache
//! one per cluster while the others wait for it.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use herald_core::Clock;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken").field("token", &"<redacted>").field("expires_at", &self.expires_at).finish()
    }
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("token fetch failed: {reason}")]
pub struct TokenError {
    pub reason: String,
    /// Whether a later attempt could succeed (network fault, provider busy).
    pub retryable: bool,
}

/// Where a token comes from: one per provider account.
#[async_trait]
pub trait TokenSource: Send + Sync {
    /// Cache key, unique per provider account and credentials: see [`cache_key`].
    fn cache_key(&self) -> String;
    async fn fetch(&self, now: DateTime<Utc>) -> Result<AccessToken, TokenError>;
}

/// A token's cache key: the provider and a fingerprint of everything that decides the token
/// (where it is fetched, the ids and the secret), so two accounts share a token only when they
/// would fetch the same one. The secret itself never appears in the key.
pub fn cache_key(provider: &str, decided_by: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for part in decided_by {
        hasher.update(part.len().to_le_bytes());
        hasher.update(part.as_bytes());
    }
    format!("{provider}:{}", &hex::encode(hasher.finalize())[..32])
}

#[async_trait]
pub trait TokenCache: Send + Sync {
    async fn get(&self, key: &str) -> Option<AccessToken>;
    async fn put(&self, key: &str, token: &AccessToken);
    async fn invalidate(&self, key: &str);

    /// Claims the fetch of `key`'s token for at most `hold`: None while another holder of the
    /// cache (another node) is fetching it. A cache only this node sees needs no claim.
    async fn claim_fetch(&self, _key: &str, _hold: std::time::Duration) -> Option<FetchClaim> {
        Some(FetchClaim::default())
    }

    /// Gives a claim back once the fetched token is in the cache (or the fetch failed).
    async fn release_fetch(&self, _key: &str, _claim: FetchClaim) {}
}

/// The right to fetch one token, from [`TokenCache::claim_fetch`]; opaque to its holder.
#[derive(Debug, Default)]
pub struct FetchClaim(pub String);

#[derive(Default)]
pub struct MemoryTokenCache {
    tokens: Mutex<HashMap<String, AccessToken>>,
}

#[async_trait]
impl TokenCache for MemoryTokenCache {
    async fn get(&self, key: &str) -> Option<AccessToken> {
        self.tokens.lock().expect("token cache lock").get(key).cloned()
    }

    async fn put(&self, key: &str, token: &AccessToken) {
        self.tokens.lock().expect("token cache lock").insert(key.to_string(), token.clone());
    }

    async fn invalidate(&self, key: &str) {
        self.tokens.lock().expect("token cache lock").remove(key);
    }
}

/// Tokens are treated as expired this long before the provider's expiry.
pub const EXPIRY_MARGIN: Duration = Duration::minutes(5);

/// How long a claim to fetch a token lasts: longer than a provider request may take.
pub const FETCH_HOLD: std::time::Duration = std::time::Duration::from_secs(15);
/// How long to wait for another node's fetch before fetching here after all.
pub const FETCH_WAIT: std::time::Duration = std::time::Duration::from_secs(5);
const FETCH_POLL: std::time::Duration = std::time::Duration::from_millis(50);

/// Gets tokens through the cache, fetching when missing or about to expire.
#[derive(Clone)]
pub struct Tokens {
    cache: Arc<dyn TokenCache>,
    clock: Arc<dyn Clock>,
    /// One fetch per token at a time on this node.
    fetches: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

impl Tokens {
    pub fn new(cache: Arc<dyn TokenCache>, clock: Arc<dyn Clock>) -> Self {
        Self { cache, clock, fetches: Arc::default() }
    }

    pub fn in_memory(clock: Arc<dyn Clock>) -> Self {
        Self::new(Arc::new(MemoryTokenCache::default()), clock)
    }

    pub async fn get(&self, source: &dyn TokenSource) -> Result<String, TokenError> {
        self.obtain(source, None).await
    }

    /// A token other than `rejected`, which the provider refused: the one another worker or
    /// node fetched since, or a new one.
    pub async fn replace(&self, source: &dyn TokenSource, rejected: &str) -> Result<String, TokenError> {
        self.obtain(source, Some(rejected)).await
    }

    async fn obtain(&self, source: &dyn TokenSource, rejected: Option<&str>) -> Result<String, TokenError> {
        let key = source.cache_key();
        if let Some(token) = self.cached(&key, rejected).await {
            return Ok(token);
        }
        let fetch = self.fetches.lock().expect("token fetches lock").entry(key.clone()).or_default().clone();
        let _one_per_node = fetch.lock().await;
        if let Some(token) = self.cached(&key, rejected).await {
            return Ok(token);
        }
        if let Some(claim) = self.cache.claim_fetch(&key, FETCH_HOLD).await {
            let fetched = self.refresh(source).await;
            self.cache.release_fetch(&key, claim).await;
            return Ok(fetched?.token);
        }
        // Another node is fetching: its token lands in the shared cache.
        let deadline = tokio::time::Instant::now() + FETCH_WAIT;
        while tokio::time::Instant::now() < deadline {
            tokio::time::sleep(FETCH_POLL).await;
            if let Some(token) = self.cached(&key, rejected).await {
                return Ok(token);
            }
        }
        tracing::warn!(token = %key, "another node's token fetch is taking long; fetching here");
        Ok(self.refresh(source).await?.token)
    }

    /// The cached token, unless it is about to expire or is the rejected one.
    async fn cached(&self, key: &str, rejected: Option<&str>) -> Option<String> {
        let token = self.cache.get(key).await?;
        let usable = token.expires_at - EXPIRY_MARGIN > self.clock.now() && Some(token.token.as_str()) != rejected;
        usable.then_some(token.token)
    }

    /// Fetches a new token and caches it, whatever the cache holds.
    pub async fn refresh(&self, source: &dyn TokenSource) -> Result<AccessToken, TokenError> {
        let token = source.fetch(self.clock.now()).await?;
        self.cache.put(&source.cache_key(), &token).await;
        tracing::info!(token = %source.cache_key(), expires_at = %token.expires_at, "access token refreshed");
        Ok(token)
    }

    pub async fn invalidate(&self, source: &dyn TokenSource) {
        self.cache.invalidate(&source.cache_key()).await;
    }
}

/// What one attempt with a token came to: a send's result, or another call's answer.
pub enum TokenAttempt<T = crate::SendResult> {
    Done(T),
    /// The provider said the token is invalid or expired.
    TokenRejected(String),
}

/// What a call made with a token comes to when no token could be had, or the provider
/// rejected a fresh one too.
pub trait TokenOutcome {
    fn token_failed(e: TokenError) -> Self;
    fn rejected_again(reason: String) -> Self;
}

impl TokenOutcome for crate::SendResult {
    fn token_failed(e: TokenError) -> Self {
        token_failure(e)
    }

    fn rejected_again(reason: String) -> Self {
        crate::SendResult::Permanent { reason: format!("token rejected again after a refresh: {reason}") }
    }
}

/// Runs `attempt` with a cached token; when the provider rejects the token, refreshes it once
/// and tries once more.
pub async fn with_token<T, F, Fut>(tokens: &Tokens, source: &dyn TokenSource, mut attempt: F) -> T
where
    T: TokenOutcome,
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = TokenAttempt<T>>,
{
    let token = match tokens.get(source).await {
        Ok(token) => token,
        Err(e) => return T::token_failed(e),
    };
    let reason = match attempt(token.clone()).await {
        TokenAttempt::Done(result) => return result,
        TokenAttempt::TokenRejected(reason) => reason,
    };
    tracing::warn!(token = %source.cache_key(), %reason, "provider rejected the access token; refreshing once");
    let token = match tokens.replace(source, &token).await {
        Ok(token) => token,
        Err(e) => return T::token_failed(e),
    };
    match attempt(token).await {
        TokenAttempt::Done(result) => result,
        TokenAttempt::TokenRejected(reason) => T::rejected_again(reason),
    }
}

fn token_failure(e: TokenError) -> crate::SendResult {
    if e.retryable {
        crate::SendResult::Retryable { reason: e.to_string(), after: None }
    } else {
        crate::SendResult::Permanent { reason: e.to_string() }
    }
}
