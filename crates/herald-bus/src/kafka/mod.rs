//! The cluster bus: [`Bus`] on Kafka. Publish is an idempotent, `acks=all` produce that returns
//! once the brokers acked it; claim polls a consumer-group member; ack commits offsets.
//!
//! How the `Bus` contract maps onto Kafka:
//! - **Claims.** `BusClaim.id` is the message's offset and `BusClaim.lease` carries its
//!   partition in the high bits and a per-bus claim sequence in the low 40 bits, so an ack
//!   finds (topic, partition, offset) from the claim alone, and an ack of a claim that lapsed
//!   or whose partition was revoked no longer matches and is refused with `LeaseLost`.
//! - **Commits.** Every consumer keeps a ledger of received, unsettled offsets per partition.
//!   Each ack or retry settles one and, when the partition's first unsettled offset moved,
//!   commits it (asynchronously, in order, on every such ack; synchronously on revoke). A
//!   commit never passes an unacked offset, so a crash redelivers every unhandled message and
//!   skips none; acked messages behind an unacked one are redelivered too (at least once).
//! - **Visibility.** A claim that is neither acked nor retried within `visibility` is handed out
//!   again by this member, as one more attempt; on its last attempt it is dead-lettered.
//! - **Retries.** `retry` produces a copy with `herald-attempts` + 1 and `herald-not-before`
//!   (unix ms), then settles the original. A consumer that receives a copy before its time holds
//!   it in memory, without blocking its partition or any other, and hands it out from the first
//!   claim after that time; it keeps the partition's commit behind it, so a crash loses no held
//!   message. When more than `max_delayed` are held the consumer pauses fetching until some
//!   fall due. Out of attempts, the copy goes to `<topic>.dead` with `herald-error` instead.
//! - **Groups.** Every topic's consumer joins the group `group_id` with the cooperative-sticky
//!   assignor, so a member joining or leaving moves only the partitions that change owner;
//!   claims of partitions that stay put keep their leases. Rebalances are served while a claim
//!   polls, so a member must keep claiming (herald's workers poll continuously).
//! - **Errors.** Kafka failures surface as `BusError::Database` wrapping an `io::Error` with the
//!   Kafka error as its source, since `BusError` has no backend-neutral variant for them.

mod admin;
mod clients;
mod consumer;
mod offsets;
mod producer;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::AtomicI64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rdkafka::admin::AdminClient;
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::BaseConsumer;
use rdkafka::producer::FutureProducer;

use crate::{Bus, BusClaim, BusError, MAX_CLAIM, MAX_PAYLOAD_BYTES, RetryOutcome, TopicStats};
use consumer::{ClaimRequest, TopicConsumer, lock, now_ms};
use offsets::{Handout, lease_partition};
use producer::{Outgoing, Producer, SendError};

use crate::{KafkaConfig, KafkaSetupError};

/// Deliveries so far, including the one carrying it; absent means 1.
pub const HEADER_ATTEMPTS: &str = "herald-attempts";
/// Unix milliseconds before which a retried message is not handed out.
pub const HEADER_NOT_BEFORE: &str = "herald-not-before";
/// The last error, on dead letters.
pub const HEADER_ERROR: &str = "herald-error";

/// Longest error text carried in a header; provider error bodies can be large.
const MAX_ERROR_BYTES: usize = 4096;

/// [`Bus`] on a Kafka cluster. Cheap to share behind an `Arc`; one consumer per topic is made
/// on the first claim of that topic and lives as long as the bus. Dropping the bus leaves the
/// consumer group (the drop blocks until librdkafka closed the consumers).
pub struct KafkaBus {
    config: KafkaConfig,
    producer: Producer,
    admin: AdminClient<DefaultClientContext>,
    consumers: Mutex<HashMap<String, Arc<TopicConsumer>>>,
    /// Kafka topics already created (or found) by this bus.
    ensured: tokio::sync::Mutex<HashSet<String>>,
    /// A group member that never subscribes: reads committed offsets and watermarks for stats.
    stats_consumer: Arc<BaseConsumer>,
    seq: AtomicI64,
}

impl std::fmt::Debug for KafkaBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaBus")
            .field("brokers", &self.config.brokers)
            .field("group_id", &self.config.group_id)
            .finish_non_exhaustive()
    }
}

impl KafkaBus {
    /// Builds the clients; connecting happens in the background, so this succeeds while the
    /// brokers are down. Must be called inside a Tokio runtime.
    pub fn new(config: KafkaConfig) -> Result<Self, KafkaSetupError> {
        config.validate()?;
        let producer: FutureProducer = config.producer_config().create()?;
        let admin = config.admin_config().create()?;
        let stats_consumer = config.consumer_config().create()?;
        Ok(Self {
            producer: Producer::new(producer, Duration::from_millis(u64::from(config.message_timeout_ms))),
            admin,
            consumers: Mutex::new(HashMap::new()),
            ensured: tokio::sync::Mutex::new(HashSet::new()),
            stats_consumer: Arc::new(stats_consumer),
            seq: AtomicI64::new(0),
            config,
        })
    }

    pub fn config(&self) -> &KafkaConfig {
        &self.config
    }

    /// Creates herald topic `topic` (and its `.dead` topic) if missing; publish and claim do
    /// this on first use, startup may do it early.
    pub async fn ensure_topic(&self, topic: &str) {
        self.ensure_kafka_topic(&self.config.kafka_topic(topic)).await;
    }

    /// Partitions of `topic` this member owns now (empty before its first claim).
    pub fn assigned_partitions(&self, topic: &str) -> Vec<i32> {
        self.existing_consumer(topic).map(|c| lock(&c.ledger).assigned()).unwrap_or_default()
    }

    /// Times a publish found the producer queue full and waited (back-pressure, not failure).
    pub fn queue_full_waits(&self) -> u64 {
        self.producer.queue_full_waits()
    }

    async fn ensure_kafka_topic(&self, topic: &str) {
        if !self.config.create_topics {
            return;
        }
        let mut ensured = self.ensured.lock().await;
        if ensured.contains(topic) {
            return;
        }
        admin::create_topics(&self.admin, &self.config, topic).await;
        ensured.insert(topic.to_owned());
        if !topic.ends_with(".dead") {
            ensured.insert(admin::dead_topic(topic));
        }
    }

    fn existing_consumer(&self, topic: &str) -> Option<Arc<TopicConsumer>> {
        self.consumers.lock().unwrap_or_else(|p| p.into_inner()).get(&self.config.kafka_topic(topic)).cloned()
    }

    async fn topic_consumer(&self, topic: &str) -> Result<Arc<TopicConsumer>, BusError> {
        if let Some(c) = self.existing_consumer(topic) {
            return Ok(c);
        }
        let kafka_topic = self.config.kafka_topic(topic);
        self.ensure_kafka_topic(&kafka_topic).await;
        let mut consumers = self.consumers.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = consumers.get(&kafka_topic) {
            return Ok(c.clone());
        }
        let c = Arc::new(TopicConsumer::new(&self.config, &kafka_topic).map_err(backend)?);
        consumers.insert(kafka_topic, c.clone());
        Ok(c)
    }

    /// The consumer and partition a claim was taken from; a claim this bus never
    /// handed out has lost its lease.
    fn claimed(&self, claim: &BusClaim) -> Result<(Arc<TopicConsumer>, i32), BusError> {
        let lost = || BusError::LeaseLost { id: claim.id };
        let partition = lease_partition(claim.lease).ok_or_else(lost)?;
        let consumer = self.existing_consumer(&claim.topic).ok_or_else(lost)?;
        Ok((consumer, partition))
    }

    async fn produce(&self, msg: Outgoing<'_>) -> Result<(), BusError> {
        self.producer.send(msg).await.map(|_| ()).map_err(|e| match e {
            SendError::QueueFull => BusError::QueueFull,
            SendError::Kafka(e) => backend(e),
        })
    }

    /// Produces the retry or dead-letter copy of a claimed message, then settles the original.
    /// If the partition was revoked meanwhile, the original goes to its next owner as well
    /// (at least once).
    /// `settling` says the sweep that found a lapsed claim already holds it.
    async fn replace(&self, claim: &BusClaim, copy: Outgoing<'_>, settling: bool) -> Result<(), BusError> {
        let (consumer, partition) = self.claimed(claim)?;
        if !settling {
            consumer
                .begin_settle(partition, claim.id, claim.lease)
                .map_err(|_| BusError::LeaseLost { id: claim.id })?;
        }
        if let Err(e) = self.produce(copy).await {
            consumer.abort_settle(partition, claim.id, claim.lease);
            return Err(e);
        }
        if consumer.settle(partition, claim.id, claim.lease).is_err() {
            tracing::debug!(bus.topic = %claim.topic, partition, offset = claim.id, "partition revoked while replacing; original will be redelivered");
        }
        Ok(())
    }

    async fn to_dead_letter(&self, claim: &BusClaim, error: &str, settling: bool) -> Result<(), BusError> {
        let dead = admin::dead_topic(&self.config.kafka_topic(&claim.topic));
        self.ensure_kafka_topic(&dead).await;
        let copy = Outgoing {
            topic: &dead,
            key: &claim.key,
            payload: &claim.payload,
            headers: Some(producer::headers(claim.attempts, None, Some(truncate(error, MAX_ERROR_BYTES)))),
        };
        self.replace(claim, copy, settling).await?;
        tracing::warn!(bus.topic = %claim.topic, bus.message_id = claim.id, attempts = claim.attempts, error, "bus message dead-lettered");
        Ok(())
    }

    /// Lapsed claims on their last attempt: dead-lettered like a failed retry would be.
    async fn dead_letter_lapsed(&self, topic: &str, exhausted: Vec<Handout>) {
        for h in exhausted {
            let attempts = h.attempts;
            let claim = to_claim(topic, h);
            let error = format!("claim lapsed without ack or retry on attempt {attempts}");
            if let Err(e) = self.to_dead_letter(&claim, &error, true).await {
                tracing::warn!(bus.topic = topic, bus.message_id = claim.id, error = %e, "lapsed claim not dead-lettered; will try again");
            }
        }
    }
}

#[async_trait::async_trait]
impl Bus for KafkaBus {
    async fn publish(&self, topic: &str, key: &str, payload: &[u8]) -> Result<(), BusError> {
        if payload.len() > MAX_PAYLOAD_BYTES {
            return Err(BusError::PayloadTooLarge { size: payload.len(), max: MAX_PAYLOAD_BYTES });
        }
        let kafka_topic = self.config.kafka_topic(topic);
        self.ensure_kafka_topic(&kafka_topic).await;
        let headers = Some(producer::headers(1, None, None));
        self.produce(Outgoing { topic: &kafka_topic, key, payload, headers }).await
    }

    async fn claim(&self, topic: &str, max: usize, visibility: Duration) -> Result<Vec<BusClaim>, BusError> {
        let max = max.min(MAX_CLAIM);
        if max == 0 {
            return Ok(Vec::new());
        }
        let consumer = self.topic_consumer(topic).await?;
        let request = ClaimRequest {
            max,
            visibility,
            max_attempts: self.config.max_attempts,
            max_delayed: self.config.max_delayed,
            seq: &self.seq,
        };
        let sweep = consumer.claim(request).await.map_err(backend)?;
        if !sweep.exhausted.is_empty() {
            self.dead_letter_lapsed(topic, sweep.exhausted).await;
        }
        Ok(sweep.handed.into_iter().map(|h| to_claim(topic, h)).collect())
    }

    async fn extend(&self, claim: &BusClaim, visibility: Duration) -> Result<(), BusError> {
        let (consumer, partition) = self.claimed(claim)?;
        let deadline = now_ms().saturating_add(i64::try_from(visibility.as_millis()).unwrap_or(i64::MAX));
        consumer.extend(partition, claim.id, claim.lease, deadline).map_err(|_| BusError::LeaseLost { id: claim.id })
    }

    async fn ack(&self, claim: &BusClaim) -> Result<(), BusError> {
        let (consumer, partition) = self.claimed(claim)?;
        consumer.settle(partition, claim.id, claim.lease).map_err(|_| BusError::LeaseLost { id: claim.id })
    }

    async fn retry(&self, claim: &BusClaim, error: &str, delay: Duration) -> Result<RetryOutcome, BusError> {
        if claim.attempts >= self.config.max_attempts {
            self.to_dead_letter(claim, error, false).await?;
            return Ok(RetryOutcome::DeadLettered);
        }
        let topic = self.config.kafka_topic(&claim.topic);
        let delay_ms = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
        let not_before = (delay_ms > 0).then(|| now_ms().saturating_add(delay_ms));
        let copy = Outgoing {
            topic: &topic,
            key: &claim.key,
            payload: &claim.payload,
            headers: Some(producer::headers(claim.attempts.saturating_add(1), not_before, None)),
        };
        self.replace(claim, copy, false).await?;
        Ok(RetryOutcome::Requeued)
    }

    async fn dead_letter(&self, claim: &BusClaim, error: &str) -> Result<(), BusError> {
        self.to_dead_letter(claim, error, false).await
    }

    /// Best effort: `ready` is the group's backlog (past committed offsets) less what this
    /// member holds; `in_flight` and `delayed` count this member only; `dead` is everything
    /// retained in `<topic>.dead`.
    async fn stats(&self, topic: &str) -> Result<TopicStats, BusError> {
        let (in_flight, delayed) = self
            .existing_consumer(topic)
            .map(|c| {
                let ledger = lock(&c.ledger);
                (ledger.in_flight() as u64, ledger.delayed() as u64)
            })
            .unwrap_or_default();
        let kafka_topic = self.config.kafka_topic(topic);
        let stats_consumer = self.stats_consumer.clone();
        let (backlog, dead) = tokio::task::spawn_blocking(move || {
            let backlog = admin::backlog(&stats_consumer, &kafka_topic, true)?;
            let dead = admin::backlog(&stats_consumer, &admin::dead_topic(&kafka_topic), false)?;
            Ok::<_, rdkafka::error::KafkaError>((backlog, dead))
        })
        .await
        .map_err(backend)?
        .map_err(backend)?;
        Ok(TopicStats { ready: backlog.saturating_sub(in_flight + delayed), delayed, in_flight, dead })
    }
}

fn to_claim(topic: &str, h: Handout) -> BusClaim {
    BusClaim {
        id: h.offset,
        topic: topic.to_owned(),
        key: h.key,
        payload: h.payload,
        attempts: h.attempts,
        lease: h.lease,
    }
}

/// A Kafka failure as a `BusError` (see the module docs).
fn backend(e: impl std::error::Error + Send + Sync + 'static) -> BusError {
    BusError::Database(sqlx::Error::Io(std::io::Error::other(e)))
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}
