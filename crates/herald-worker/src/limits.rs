//! Flow control per channel: a rate bucket per channel kind (`channel:<kind>`) on the node's
//! rate gate, shared by the node's workers and, when the gate is in Redis, by every node, with
//! rates an operator changes at runtime through the API. Rates are re-read from the store at
//! most once a second.

use herald_core::ChannelKind;
use herald_store::{PolicyRepo, RateGate, StoreError, Throttle};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

const RELOAD_EVERY: Duration = Duration::from_secs(1);

struct Rates {
    loaded_at: Option<Instant>,
    by_channel: HashMap<ChannelKind, f64>,
}

pub struct ChannelLimits {
    store: Arc<dyn PolicyRepo>,
    gate: Arc<dyn RateGate>,
    rates: Mutex<Rates>,
}

impl ChannelLimits {
    pub fn new(store: Arc<dyn PolicyRepo>, gate: Arc<dyn RateGate>) -> Self {
        Self { store, gate, rates: Mutex::new(Rates { loaded_at: None, by_channel: HashMap::new() }) }
    }

    /// The channel's throttle, or None when it is unlimited.
    pub async fn throttle(&self, channel: ChannelKind) -> Result<Option<Throttle>, StoreError> {
        let mut rates = self.rates.lock().await;
        if rates.loaded_at.is_none_or(|at| at.elapsed() >= RELOAD_EVERY) {
            let stored = self.store.channel_rates().await?;
            rates.by_channel = stored.into_iter().map(|r| (r.channel, r.rate_per_second)).collect();
            rates.loaded_at = Some(Instant::now());
        }
        Ok(rates
            .by_channel
            .get(&channel)
            .and_then(|rate| Throttle::new(self.gate.clone(), format!("channel:{channel}"), *rate)))
    }
}
