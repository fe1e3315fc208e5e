//! herald-bus: the `Bus` that carries delivery batches from streamers to channel workers.
//!
//! The trait is kept small and backend-neutral: embedded mode implements it on a queue table in
//! the SQLite state file ([`SqliteBus`]); cluster mode implements it on Kafka consumer groups
//! (claim ~ poll, ack ~ commit after handling, [`BusError::QueueFull`] as back-pressure).
//! Delivery is at least once: a consumer that does not ack within the visibility window sees the
//! message again, so handlers must be idempotent (herald's delivery ledger makes them so).

mod jobs;
#[cfg(feature = "kafka")]
pub mod kafka;
mod kafka_config;
mod sqlite;

use std::time::Duration;

pub use jobs::{BusMessage, EncodedJobs, JobTooLarge};
#[cfg(feature = "kafka")]
pub use kafka::KafkaBus;
pub use kafka_config::{KafkaConfig, KafkaSetupError};
pub use sqlite::{DeadLetter, SqliteBus};

/// Largest payload a backend accepts; Kafka's default `message.max.bytes` is about the same.
pub const MAX_PAYLOAD_BYTES: usize = 1024 * 1024;

/// Most messages one `claim` hands out, whatever `max` asks for.
pub const MAX_CLAIM: usize = 1000;

/// Publishes in flight at once in the default [`Bus::publish_all`].
pub const PUBLISH_CONCURRENCY: usize = 32;

/// A durable, at-least-once message bus partitioned by topic.
#[async_trait::async_trait]
pub trait Bus: Send + Sync + 'static {
    /// Durably enqueue; when this returns Ok the message survives a crash.
    async fn publish(&self, topic: &str, key: &str, payload: &[u8]) -> Result<(), BusError>;

    /// Durably enqueue every message; Ok once all survive a crash. On an error some may have
    /// been enqueued (at least once: the ledger absorbs a republish). The default publishes
    /// [`PUBLISH_CONCURRENCY`] at a time; a backend with transactions may do all in one.
    async fn publish_all(&self, topic: &str, messages: &[BusMessage]) -> Result<(), BusError> {
        use futures::TryStreamExt;
        let mut in_flight = futures::stream::FuturesUnordered::new();
        for m in messages {
            if in_flight.len() == PUBLISH_CONCURRENCY {
                in_flight.try_next().await?;
            }
            in_flight.push(self.publish(topic, &m.key, &m.payload));
        }
        while in_flight.try_next().await?.is_some() {}
        Ok(())
    }

    /// Take up to `max` ready messages of `topic` for `visibility`; unacked ones become visible
    /// again after it.
    async fn claim(&self, topic: &str, max: usize, visibility: Duration) -> Result<Vec<BusClaim>, BusError>;

    /// The consumer is still working on `claim`: it stays invisible for `visibility` from now.
    /// Refused with [`BusError::LeaseLost`] when the claim already lapsed and was taken.
    async fn extend(&self, claim: &BusClaim, visibility: Duration) -> Result<(), BusError>;

    /// Handling succeeded: remove the message. Refused with [`BusError::LeaseLost`] when this
    /// claim lapsed and the message has since been claimed, retried or dead-lettered.
    async fn ack(&self, claim: &BusClaim) -> Result<(), BusError>;

    /// Acks every claim and returns the ids of those refused as [`BusError::LeaseLost`]. On
    /// another error some may have been acked (acking one again is refused as lost, harmless).
    /// The default acks them one at a time; a backend with statements may do all in one.
    async fn ack_all(&self, claims: &[&BusClaim]) -> Result<Vec<i64>, BusError> {
        let mut lost = Vec::new();
        for claim in claims {
            match self.ack(claim).await {
                Ok(()) => {}
                Err(BusError::LeaseLost { id }) => lost.push(id),
                Err(e) => return Err(e),
            }
        }
        Ok(lost)
    }

    /// Failed handling: requeue after `delay`, or dead-letter once attempts reach the bus's
    /// max_attempts.
    async fn retry(&self, claim: &BusClaim, error: &str, delay: Duration) -> Result<RetryOutcome, BusError>;

    /// Handling can never succeed (an undecodable payload): dead-letter now, whatever the
    /// attempt count. Refused with [`BusError::LeaseLost`] like `ack`.
    async fn dead_letter(&self, claim: &BusClaim, error: &str) -> Result<(), BusError>;

    /// Counts for operators: ready, in flight, dead per topic.
    async fn stats(&self, topic: &str) -> Result<TopicStats, BusError>;
}

/// One claimed message. Hand it back to `ack` or `retry` unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusClaim {
    pub id: i64,
    pub topic: String,
    pub key: String,
    pub payload: Vec<u8>,
    /// Deliveries so far, including this one.
    pub attempts: u32,
    /// Opaque token naming this claim, so that an ack or retry from a claim that lapsed (and
    /// was taken over by another consumer) is refused rather than applied to the new claim.
    pub lease: i64,
}

/// What `retry` did with a claim whose handling failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryOutcome {
    Requeued,
    DeadLettered,
}

/// Message counts of one topic at one instant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TopicStats {
    /// Claimable now, including claims whose visibility has lapsed.
    pub ready: u64,
    /// Waiting out a retry delay.
    pub delayed: u64,
    /// Claimed and still within their visibility window.
    pub in_flight: u64,
    /// Out of attempts, kept for operators.
    pub dead: u64,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BusError {
    /// This claim is no longer current; another consumer owns the message
    /// or it has already been settled. Safe to log and drop.
    #[error("lease on bus message {id} was lost")]
    LeaseLost { id: i64 },
    #[error("bus message {id} is not a dead letter")]
    NotDead { id: i64 },
    #[error("payload of {size} bytes exceeds the bus limit of {max}")]
    PayloadTooLarge { size: usize, max: usize },
    /// The backend cannot take more right now; back off and publish again.
    #[error("bus queue is full")]
    QueueFull,
    #[error("bus storage: {0}")]
    Database(#[from] sqlx::Error),
}
