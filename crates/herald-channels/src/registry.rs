//! Channels built from channel accounts, on demand. An account is read from the store on each
//! resolve (one indexed row) and its channel rebuilt only when the account changed, so edits
//! (a new secret, a new rate) apply to the next batch on every worker of the node. Each
//! account's sends pass through its rate bucket (`account:<id>`) on the node's rate gate:
//! shared by the node's workers, and by every node when the gate is in Redis.

use crate::account::{BuildContext, BuildError, Built, ChannelAccount};
use crate::build::{BuildExtras, build_with};
use crate::email::UnsubscribeLinks;
use crate::sealing::Sealer;
use crate::tokens::{AccessToken, TokenError, TokenSource};
use crate::{Channel, OutgoingMessage, SendResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use herald_core::ChannelKind;
use herald_store::{AccountRecord, AccountRepo, LocalRates, RateGate, StoreError, SuppressionRepo, Throttle};
use std::collections::HashMap;
use std::sync::Arc;

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
    rates: Arc<dyn RateGate>,
    /// herald's address as providers and mail readers reach it, when configured.
    public_url: Option<String>,
    /// Marketing mail's unsubscribe links (under `public_url`) and where hard bounces go.
    extras: BuildExtras,
    built: tokio::sync::Mutex<HashMap<i64, Entry>>,
}

impl AccountChannels {
    /// Rate limits in the process; see [`AccountChannels::with_rates`].
    pub fn new(store: Arc<dyn AccountRepo>, sealer: Sealer, ctx: BuildContext) -> Self {
        let rates = Arc::new(LocalRates::default());
        let built = tokio::sync::Mutex::new(HashMap::new());
        Self { store, sealer, ctx, rates, public_url: None, extras: BuildExtras::default(), built }
    }

    /// herald's public address (`https://herald.example.com`): email accounts' marketing mail
    /// then carries one-click unsubscribe links under it.
    pub fn with_public_url(mut self, public_url: Option<&str>) -> Self {
        self.public_url = public_url.map(|url| url.trim().trim_end_matches('/').to_string());
        self.extras.unsubscribe = self.public_url.as_deref().map(|url| UnsubscribeLinks::new(url, self.sealer.clone()));
        self
    }

    /// Email accounts suppress addresses their server says do not exist (hard bounces) on
    /// `list`.
    pub fn with_bounces(mut self, list: Arc<dyn SuppressionRepo>) -> Self {
        self.extras.suppressions = Some(list);
        self
    }

    /// herald's public address without a trailing `/`, when configured.
    pub fn public_url(&self) -> Option<&str> {
        self.public_url.as_deref()
    }

    /// Accounts' rate limits on `rates` (Redis in a cluster, so they hold across nodes).
    pub fn with_rates(mut self, rates: Arc<dyn RateGate>) -> Self {
        self.rates = rates;
        self
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
        build_with(account, &self.ctx, &self.extras)
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
        let made = self
            .build(&account)
            .map_err(|e| ResolveError::Unusable { name: record.name.clone(), reason: e.to_string() })?;
        let throttle = record
            .rate_per_second
            .and_then(|rate| Throttle::new(self.rates.clone(), format!("account:{}", record.id), rate));
        let channel: Arc<dyn Channel> = match throttle {
            Some(throttle) => Arc::new(RateLimited { inner: made.channel, throttle }),
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

/// Waits for the account's rate bucket before each send.
struct RateLimited {
    inner: Arc<dyn Channel>,
    throttle: Throttle,
}

#[async_trait]
impl Channel for RateLimited {
    fn kind(&self) -> ChannelKind {
        self.inner.kind()
    }

    async fn send(&self, message: &OutgoingMessage) -> SendResult {
        self.throttle.wait(1).await;
        self.inner.send(message).await
    }

    fn prefers_batch(&self) -> bool {
        self.inner.prefers_batch()
    }

    async fn send_batch(&self, messages: &[OutgoingMessage]) -> Vec<SendResult> {
        self.throttle.wait(u32::try_from(messages.len()).unwrap_or(u32::MAX)).await;
        self.inner.send_batch(messages).await
    }
}
