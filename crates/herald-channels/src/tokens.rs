//! Provider access tokens (DingTalk, WeCom, Getui): fetched on demand from a `TokenSource`,
//! cached until shortly before the provider's expiry in a `TokenCache` (memory here; the store
//! or Redis when shared), refreshed ahead of time by housekeeping schedules, and refreshed once
//! when a provider says a token is invalid.

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
    /// Cache key, unique per provider account (e.g. `dingtalk:{appkey}`).
    fn cache_key(&self) -> String;
    async fn fetch(&self, now: DateTime<Utc>) -> Result<AccessToken, TokenError>;
}

#[async_trait]
pub trait TokenCache: Send + Sync {
    async fn get(&self, key: &str) -> Option<AccessToken>;
    async fn put(&self, key: &str, token: &AccessToken);
    async fn invalidate(&self, key: &str);
}

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

/// Gets tokens through the cache, fetching when missing or about to expire.
#[derive(Clone)]
pub struct Tokens {
    cache: Arc<dyn TokenCache>,
    clock: Arc<dyn Clock>,
}

impl Tokens {
    pub fn new(cache: Arc<dyn TokenCache>, clock: Arc<dyn Clock>) -> Self {
        Self { cache, clock }
    }

    pub fn in_memory(clock: Arc<dyn Clock>) -> Self {
        Self::new(Arc::new(MemoryTokenCache::default()), clock)
    }

    pub async fn get(&self, source: &dyn TokenSource) -> Result<String, TokenError> {
        let key = source.cache_key();
        let now = self.clock.now();
        if let Some(token) = self.cache.get(&key).await
            && token.expires_at - EXPIRY_MARGIN > now
        {
            return Ok(token.token);
        }
        Ok(self.refresh(source).await?.token)
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

/// What one send attempt with a token came to.
pub enum TokenAttempt {
    Done(crate::SendResult),
    /// The provider said the token is invalid or expired.
    TokenRejected(String),
}

/// Runs `attempt` with a cached token; when the provider rejects the token, refreshes it once
/// and tries once more.
pub async fn with_token<F, Fut>(tokens: &Tokens, source: &dyn TokenSource, mut attempt: F) -> crate::SendResult
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = TokenAttempt>,
{
    let token = match tokens.get(source).await {
        Ok(token) => token,
        Err(e) => return token_failure(e),
    };
    let reason = match attempt(token).await {
        TokenAttempt::Done(result) => return result,
        TokenAttempt::TokenRejected(reason) => reason,
    };
    tracing::warn!(token = %source.cache_key(), %reason, "provider rejected the access token; refreshing once");
    tokens.invalidate(source).await;
    let token = match tokens.refresh(source).await {
        Ok(token) => token.token,
        Err(e) => return token_failure(e),
    };
    match attempt(token).await {
        TokenAttempt::Done(result) => result,
        TokenAttempt::TokenRejected(reason) => {
            crate::SendResult::Permanent { reason: format!("token rejected again after a refresh: {reason}") }
        }
    }
}

fn token_failure(e: TokenError) -> crate::SendResult {
    if e.retryable {
        crate::SendResult::Retryable { reason: e.to_string(), after: None }
    } else {
        crate::SendResult::Permanent { reason: e.to_string() }
    }
}
