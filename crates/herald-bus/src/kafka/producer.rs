//! Publishing: an idempotent producer whose `send` returns only once the brokers acked the
//! message, treating a full local queue (`QueueFull`) as back-pressure to wait out, not as a
//! failure.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use tokio::time::Instant;

use super::{HEADER_ATTEMPTS, HEADER_ERROR, HEADER_NOT_BEFORE};

/// First and longest wait between enqueue attempts while librdkafka's queue is full.
const QUEUE_FULL_FIRST_WAIT: Duration = Duration::from_millis(5);
const QUEUE_FULL_MAX_WAIT: Duration = Duration::from_millis(100);

/// Why a send did not end in an acked message.
#[derive(Debug)]
pub(crate) enum SendError {
    /// The local queue stayed full for the whole message timeout.
    QueueFull,
    Kafka(KafkaError),
}

/// One message to produce.
pub(crate) struct Outgoing<'a> {
    pub topic: &'a str,
    pub key: &'a str,
    pub payload: &'a [u8],
    pub headers: Option<OwnedHeaders>,
}

/// Headers of a re-produced message: its attempt count so far, when it may next be handled,
/// and for dead letters the last error.
pub(crate) fn headers(attempts: u32, not_before_ms: Option<i64>, error: Option<&str>) -> OwnedHeaders {
    let attempts = attempts.to_string();
    let mut h = OwnedHeaders::new_with_capacity(3).insert(Header { key: HEADER_ATTEMPTS, value: Some(&attempts) });
    if let Some(at) = not_before_ms {
        let at = at.to_string();
        h = h.insert(Header { key: HEADER_NOT_BEFORE, value: Some(&at) });
    }
    if let Some(error) = error {
        h = h.insert(Header { key: HEADER_ERROR, value: Some(error) });
    }
    h
}

pub(crate) struct Producer {
    inner: FutureProducer,
    /// Bounds the back-pressure wait: after this long librdkafka has either delivered or failed
    /// everything that was queued, so a queue still full means something else is wrong.
    queue_full_limit: Duration,
    queue_full_waits: AtomicU64,
}

impl Producer {
    pub fn new(inner: FutureProducer, message_timeout: Duration) -> Self {
        Self { inner, queue_full_limit: message_timeout, queue_full_waits: AtomicU64::new(0) }
    }

    /// Times a send found the queue full and waited.
    pub fn queue_full_waits(&self) -> u64 {
        self.queue_full_waits.load(Ordering::Relaxed)
    }

    /// Produces and waits for the brokers' ack (`acks=all`); returns (partition, offset). A
    /// broker outage delays this, up to `message.timeout.ms`.
    pub async fn send(&self, msg: Outgoing<'_>) -> Result<(i32, i64), SendError> {
        let mut record = FutureRecord::to(msg.topic).key(msg.key).payload(msg.payload);
        if let Some(h) = msg.headers {
            record = record.headers(h);
        }
        let started = Instant::now();
        let mut wait = QUEUE_FULL_FIRST_WAIT;
        let delivery = loop {
            match self.inner.send_result(record) {
                Ok(delivery) => break delivery,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    if started.elapsed() >= self.queue_full_limit {
                        return Err(SendError::QueueFull);
                    }
                    if self.queue_full_waits.fetch_add(1, Ordering::Relaxed).is_multiple_of(1000) {
                        tracing::debug!(topic = msg.topic, "kafka producer queue full; waiting");
                    }
                    record = back;
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(QUEUE_FULL_MAX_WAIT);
                }
                Err((e, _)) => return Err(SendError::Kafka(e)),
            }
        };
        match delivery.await {
            Ok(Ok(d)) => Ok((d.partition, d.offset)),
            Ok(Err((e, _))) => Err(SendError::Kafka(e)),
            Err(_canceled) => Err(SendError::Kafka(KafkaError::Canceled)),
        }
    }
}
