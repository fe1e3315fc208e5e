//! Channels built from channel accounts, on demand. An account is read from the store on each
//! resolve (one indexed row) and its channel rebuilt only when the account changed, so edits
//! (a new secret, a new rate) apply to the next batch on every worker of the node. Each
//! account's sends pass through a token bucket shared by all of the node's workers.

use crate::account::{BuildContext, BuildError, Built, ChannelAccount, build};
use crate::sealing::Sealer;
use crate::tokens::{AccessToken, TokenError, TokenSource};
use crate::{Channel, OutgoingMessage, SendResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use herald_core::ChannelKind;
use herald_store::{AccountRecord, AccountRepo, StoreError};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("channel account {0:?} not found")]
    NotFound(String),
    #[error("channel account {name:?} is a {actual} account, not {expected}")]
    WrongChannel { name: String, actual: ChannelKind, expected: ChannelKind },
    #[error("channel account {name:?} cannot be used: {reason}")]
    Unusable { name: String, reason: String },
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

struct Entry {
    updated_at: DateTime<Utc>,
    channel: Arc<dyn Channel>,
    token_source: Option<Arc<dyn TokenSource>>,
}

pub struct AccountChannels {
    store: Arc<dyn AccountRepo>,
    sealer: Sealer,
    ctx: BuildContext,
    built: tokio::sync::Mutex<HashMap<i64, Entry>>,
}

impl AccountChannels {
    pub fn new(store: Arc<dyn AccountRepo>, sealer: Sealer, ctx: BuildContext) -> Self {
        Self { store, sealer, ctx, built: tokio::sync::Mutex::new(HashMap::new()) }
    }

    pub fn context(&self) -> &BuildContext {
        &self.ctx
    }

    pub fn sealer(&self) -> &Sealer {
        &self.sealer
    }

    /// The plain account behind a stored record.
    pub fn unseal(&self, record: &AccountRecord) -> Result<ChannelAccount, ResolveError> {
        let config = self
            .sealer
            .unseal_json(&record.config_sealed)
            .map_err(|e| ResolveError::Unusable { name: record.name.clone(), reason: e.to_string() })?;
        Ok(ChannelAccount { id: record.id, name: record.name.clone(), channel: record.channel, config })
    }

    /// Builds an account without caching it (to validate a config, or for a test send).
    pub fn build(&self, account: &ChannelAccount) -> Result<Built, BuildError> {
        build(account, &self.ctx)
    }

    /// The channel for the account named `name`, which must be of kind `expected`.
    pub async fn resolve(&self, name: &str, expected: ChannelKind) -> Result<Arc<dyn Channel>, ResolveError> {
        let record = match self.store.get_account_by_name(name).await {
            Ok(r) => r,
            Err(StoreError::NotFound { .. }) => return Err(ResolveError::NotFound(name.to_string())),
            Err(e) => return Err(e.into()),
        };
        if record.channel != expected {
            return Err(ResolveError::WrongChannel { name: name.to_string(), actual: record.channel, expected });
        }
        Ok(self.entry(&record).await?.0)
    }

    /// The account's token source, for token-based providers.
    pub async fn token_source(&self, account_id: i64) -> Result<Option<Arc<dyn TokenSource>>, ResolveError> {
        let record = match self.store.get_account(account_id).await {
            Ok(r) => r,
            Err(StoreError::NotFound { .. }) => return Err(ResolveError::NotFound(account_id.to_string())),
            Err(e) => return Err(e.into()),
        };
        Ok(self.entry(&record).await?.1)
    }

    /// Fetches a fresh token for the account now; None for accounts without tokens.
    pub async fn refresh_token(&self, account_id: i64) -> Result<Option<AccessToken>, RefreshError> {
        let Some(source) = self.token_source(account_id).await? else { return Ok(None) };
        Ok(Some(self.ctx.tokens.refresh(source.as_ref()).await?))
    }

    async fn entry(
        &self,
        record: &AccountRecord,
    ) -> Result<(Arc<dyn Channel>, Option<Arc<dyn TokenSource>>), ResolveError> {
        let mut built = self.built.lock().await;
        if let Some(entry) = built.get(&record.id)
            && entry.updated_at == record.updated_at
        {
            return Ok((entry.channel.clone(), entry.token_source.clone()));
        }
        let account = self.unseal(record)?;
        let made = build(&account, &self.ctx)
            .map_err(|e| ResolveError::Unusable { name: record.name.clone(), reason: e.to_string() })?;
        let channel: Arc<dyn Channel> = match record.rate_per_second.and_then(token_bucket) {
            Some(limiter) => Arc::new(RateLimited { inner: made.channel, limiter: Arc::new(limiter) }),
            None => made.channel,
        };
        let entry =
            Entry { updated_at: record.updated_at, channel: channel.clone(), token_source: made.token_source.clone() };
        built.insert(record.id, entry);
        tracing::info!(account = %record.name, channel = %record.channel, "channel account built");
        Ok((channel, made.token_source))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    #[error(transparent)]
    Token(#[from] TokenError),
}

/// A token bucket allowing `rate` sends per second, with a burst of one second's worth; None
/// for a rate that is not a positive number. Accounts and channels both throttle with it.
pub fn token_bucket(rate: f64) -> Option<DefaultDirectRateLimiter> {
    if !(rate.is_finite() && rate > 0.0) {
        return None;
    }
    let period = Duration::from_secs_f64(1.0 / rate);
    let burst = NonZeroU32::new(rate.floor().max(1.0) as u32).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(period).map(|q| RateLimiter::direct(q.allow_burst(burst)))
}

/// Waits for the account's token bucket before each send.
struct RateLimited {
    inner: Arc<dyn Channel>,
    limiter: Arc<DefaultDirectRateLimiter>,
}

#[async_trait]
impl Channel for RateLimited {
    fn kind(&self) -> ChannelKind {
        self.inner.kind()
    }

    async fn send(&self, message: &OutgoingMessage) -> SendResult {
        self.limiter.until_ready().await;
        self.inner.send(message).await
    }

    fn prefers_batch(&self) -> bool {
        self.inner.prefers_batch()
    }

    async fn send_batch(&self, messages: &[OutgoingMessage]) -> Vec<SendResult> {
        for _ in messages {
            self.limiter.until_ready().await;
        }
        self.inner.send_batch(messages).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiters_follow_the_rate() {
        assert!(token_bucket(0.0).is_none());
        assert!(token_bucket(f64::NAN).is_none());
        let five = token_bucket(5.0).unwrap();
        let allowed = (0..20).filter(|_| five.check().is_ok()).count();
        assert_eq!(allowed, 5, "a burst of one second's worth");
        let half = token_bucket(0.5).unwrap();
        assert!(half.check().is_ok());
        assert!(half.check().is_err());
    }
}
