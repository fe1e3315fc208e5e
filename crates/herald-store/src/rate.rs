//! Rate limits: a [`RateGate`] spaces events under a key (a channel account, a channel kind)
//! to a rate per second, with a burst of one second's worth. Everyone holding the same gate
//! shares its buckets: [`LocalRates`] keeps them in the process (embedded mode),
//! [`crate::redis_rate::RedisRates`] in Redis, so a rate holds across every node of a cluster.

use async_trait::async_trait;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use herald_core::rate::effective_rate;
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

#[async_trait]
pub trait RateGate: Send + Sync {
    /// Waits until `permits` more events under `key` fit `rate` per second. A rate that is not
    /// a positive number does not limit. Never fails: a gate that loses its shared state
    /// falls back to limiting in the process.
    async fn acquire(&self, key: &str, rate: f64, permits: u32);
}

/// Whether `rate` limits at all.
pub fn is_limiting(rate: f64) -> bool {
    effective_rate(rate).is_some()
}

/// A burst of one second's worth, at least one.
pub fn burst_of(rate: f64) -> u32 {
    rate.floor().clamp(1.0, u32::MAX as f64) as u32
}

/// A token bucket allowing `rate` events per second with a burst of one second's worth; None
/// for a rate that does not limit. Any f64 is safe here: a stored rate outside the accepted
/// range is brought into it, so the period always fits a `Duration` and governor's limits.
pub fn token_bucket(rate: f64) -> Option<DefaultDirectRateLimiter> {
    let rate = effective_rate(rate)?;
    let burst = NonZeroU32::new(burst_of(rate)).unwrap_or(NonZeroU32::MIN);
    let period = Duration::try_from_secs_f64(1.0 / rate).ok()?;
    Quota::with_period(period).map(|q| RateLimiter::direct(q.allow_burst(burst)))
}

/// Buckets in the process, one per key; a key's bucket starts afresh when its rate changes.
#[derive(Default)]
pub struct LocalRates {
    buckets: Mutex<HashMap<String, (f64, Arc<DefaultDirectRateLimiter>)>>,
}

impl LocalRates {
    fn bucket(&self, key: &str, rate: f64) -> Option<Arc<DefaultDirectRateLimiter>> {
        if let Some((r, bucket)) = self.lock().get(key)
            && *r == rate
        {
            return Some(bucket.clone());
        }
        // Built outside the lock, so nothing that runs while it is held can panic.
        let bucket = Arc::new(token_bucket(rate)?);
        self.lock().insert(key.to_string(), (rate, bucket.clone()));
        Some(bucket)
    }

    /// The map stays usable even if a holder panicked: each entry is written whole by one
    /// `insert`, so a poisoned lock guards nothing half-made.
    fn lock(&self) -> MutexGuard<'_, HashMap<String, (f64, Arc<DefaultDirectRateLimiter>)>> {
        self.buckets.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl RateGate for LocalRates {
    async fn acquire(&self, key: &str, rate: f64, permits: u32) {
        let Some(bucket) = self.bucket(key, rate) else { return };
        // One at a time: governor refuses more permits at once than the burst.
        for _ in 0..permits {
            bucket.until_ready().await;
        }
    }
}

/// One rate on one key of a gate: what a sender waits on before each send.
#[derive(Clone)]
pub struct Throttle {
    gate: Arc<dyn RateGate>,
    key: String,
    rate: f64,
}

impl Throttle {
    /// None for a rate that does not limit.
    pub fn new(gate: Arc<dyn RateGate>, key: String, rate: f64) -> Option<Self> {
        is_limiting(rate).then_some(Self { gate, key, rate })
    }

    pub fn rate(&self) -> f64 {
        self.rate
    }

    pub async fn wait(&self, permits: u32) {
        self.gate.acquire(&self.key, self.rate, permits).await;
    }
}

impl std::fmt::Debug for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throttle").field("key", &self.key).field("rate", &self.rate).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_follow_the_rate() {
        assert!(token_bucket(0.0).is_none());
        assert!(token_bucket(f64::NAN).is_none());
        assert!(token_bucket(-1.0).is_none());
        let five = token_bucket(5.0).unwrap();
        let allowed = (0..20).filter(|_| five.check().is_ok()).count();
        assert_eq!(allowed, 5, "a burst of one second's worth");
        let half = token_bucket(0.5).unwrap();
        assert!(half.check().is_ok());
        assert!(half.check().is_err());
    }

    #[tokio::test]
    async fn keys_have_their_own_buckets_and_a_new_rate_starts_afresh() {
        let gate = LocalRates::default();
        let started = std::time::Instant::now();
        gate.acquire("a", 2.0, 2).await;
        gate.acquire("b", 2.0, 2).await;
        gate.acquire("a", 3.0, 3).await;
        gate.acquire("c", 0.0, 100).await;
        assert!(started.elapsed() < Duration::from_millis(200), "every burst was free");
        assert!(Throttle::new(Arc::new(gate), "x".into(), f64::INFINITY).is_none());
    }

    #[tokio::test]
    async fn tiny_and_huge_rates_neither_panic_nor_spoil_other_keys() {
        let gate = LocalRates::default();
        for rate in [1e-300, 5e-11, f64::MIN_POSITIVE, 1e300, f64::MAX] {
            let bucket = token_bucket(rate).expect("a positive rate limits");
            assert!(bucket.check().is_ok(), "the first send of a burst is free at {rate}");
            gate.acquire(&format!("k{rate}"), rate, 1).await;
        }
        let started = std::time::Instant::now();
        gate.acquire("ordinary", 5.0, 5).await;
        assert!(started.elapsed() < Duration::from_millis(200));
    }
}
