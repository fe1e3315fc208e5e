//! The one door onto the bus for delivery jobs. Every producer (the run streamer, the send API,
//! the quiet-hours release) encodes its jobs here and publishes them here, so the topic, the
//! key, the size limit and the publishing concurrency are decided once.
//!
//! The order every producer keeps: **encode, then record what the jobs carry, then publish.**
//! Encoding refuses a job too large for the bus before anything is written, so a request is
//! accepted or refused whole. Whatever makes the jobs known to the delivery ledger (an
//! `accepted` trace, a deferred row to forget) is durable before the jobs are on the bus, so a
//! worker never records an outcome for a message the ledger has not heard of; a crash between
//! the two republishes at most, which the ledger absorbs.

use crate::{Bus, BusError, MAX_PAYLOAD_BYTES};
use herald_core::{ChannelKind, DeliveryJob, topic_for};

/// A job that cannot go on the bus: its encoded size is over the bus's limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("job {index} is {size} bytes encoded; the bus takes at most {max}")]
pub struct JobTooLarge {
    /// The job's position among those encoded together.
    pub index: usize,
    pub size: usize,
    pub max: usize,
}

/// Delivery jobs encoded for one channel's topic, each with its key; not yet published.
#[derive(Debug, Clone)]
pub struct EncodedJobs {
    topic: String,
    messages: Vec<BusMessage>,
}

/// One message for [`Bus::publish_all`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusMessage {
    pub key: String,
    pub payload: Vec<u8>,
}

impl EncodedJobs {
    /// Encodes `jobs` for `channel`'s topic; refused whole when any job is over the bus limit.
    pub fn encode(channel: ChannelKind, jobs: &[DeliveryJob]) -> Result<Self, JobTooLarge> {
        let messages = jobs
            .iter()
            .enumerate()
            .map(|(index, job)| {
                // A DeliveryJob is plain data: serialising it cannot fail.
                let payload = serde_json::to_vec(job).expect("a delivery job serialises");
                if payload.len() > MAX_PAYLOAD_BYTES {
                    return Err(JobTooLarge { index, size: payload.len(), max: MAX_PAYLOAD_BYTES });
                }
                Ok(BusMessage { key: job.key(), payload })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { topic: topic_for(channel), messages })
    }

    /// The topic the jobs go to.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The encoded jobs, for a producer that publishes several encodings of one topic together.
    pub fn messages(&self) -> &[BusMessage] {
        &self.messages
    }

    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    pub fn len(&self) -> usize {
        self.messages.len()
    }

    /// Publishes every job; Ok once all are durable on the bus. Call it only after the jobs'
    /// ledger records are written (see the module header).
    pub async fn publish(&self, bus: &dyn Bus) -> Result<(), BusError> {
        if self.messages.is_empty() {
            return Ok(());
        }
        bus.publish_all(&self.topic, &self.messages).await
    }
}
