//! Flow control per channel: a token bucket per channel kind, shared by the node's workers,
//! with rates an operator changes at runtime through the API. Rates are re-read from the
//! store at most once a second.

use governor::DefaultDirectRateLimiter;
use herald_channels::registry::token_bucket;
use herald_core::ChannelKind;
use herald_store::{PolicyRepo, StoreError};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

const RELOAD_EVERY: Duration = Duration::from_secs(1);

struct Limits {
    loaded_at: Option<Instant>,
    by_channel: HashMap<ChannelKind, (f64, Arc<DefaultDirectRateLimiter>)>,
}

pub struct ChannelLimits {
    store: Arc<dyn PolicyRepo>,
    limits: Mutex<Limits>,
}

impl ChannelLimits {
    pub fn new(store: Arc<dyn PolicyRepo>) -> Self {
        Self { store, limits: Mutex::new(Limits { loaded_at: None, by_channel: HashMap::new() }) }
    }

    /// The channel's bucket, or None when it is unlimited.
    pub async fn limiter(&self, channel: ChannelKind) -> Result<Option<Arc<DefaultDirectRateLimiter>>, StoreError> {
        let mut limits = self.limits.lock().await;
        if limits.loaded_at.is_none_or(|at| at.elapsed() >= RELOAD_EVERY) {
            let rates = self.store.channel_rates().await?;
            let mut fresh = HashMap::new();
            for rate in rates {
                // Keep a bucket whose rate did not change, so its state carries over.
                let kept = limits.by_channel.get(&rate.channel).filter(|(r, _)| *r == rate.rate_per_second).cloned();
                if let Some(entry) =
                    kept.or_else(|| token_bucket(rate.rate_per_second).map(|b| (rate.rate_per_second, Arc::new(b))))
                {
                    fresh.insert(rate.channel, entry);
                }
            }
            limits.by_channel = fresh;
            limits.loaded_at = Some(Instant::now());
        }
        Ok(limits.by_channel.get(&channel).map(|(_, b)| b.clone()))
    }
}
