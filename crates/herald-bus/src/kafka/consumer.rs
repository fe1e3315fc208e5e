//! Consuming one topic: a `StreamConsumer` in herald's consumer group whose rebalance callbacks
//! keep the [`Ledger`] in step with the partitions this member owns, the claim loop that fills
//! a batch from due held messages and fresh ones, commits of settled offsets, and the alarm for
//! messages the broker deleted before this group read them.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rdkafka::client::DefaultClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer};
use rdkafka::error::{KafkaError, KafkaResult};
use rdkafka::message::{BorrowedMessage, Headers, Message};
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use tokio::time::Instant;

use super::offsets::{Entry, Ledger, Lost, Status, Sweep, lease_for};
use super::{HEADER_ATTEMPTS, HEADER_NOT_BEFORE};
use crate::KafkaConfig;

/// Longest a claim waits for the first message when nothing is ready.
const FIRST_WAIT: Duration = Duration::from_millis(100);

/// Locks a ledger; a panic elsewhere while holding it leaves data that is still consistent
/// (every update is a single map operation), so poisoning is ignored.
pub(crate) fn lock(ledger: &Mutex<Ledger>) -> MutexGuard<'_, Ledger> {
    ledger.lock().unwrap_or_else(|p| p.into_inner())
}

/// Rebalance hooks: revoked partitions leave the ledger (their unsettled messages belong to the
/// next owner), after a last synchronous commit of what was settled; assigned ones start afresh.
pub(crate) struct LedgerContext {
    topic: String,
    ledger: Arc<Mutex<Ledger>>,
}

impl ClientContext for LedgerContext {
    /// librdkafka's lines go to the log as before. A partition's offset reset after an error
    /// (the committed offset no longer on the broker: retention by time or size deleted
    /// messages this group had not read) also raises `herald_bus_offset_resets_total` and an
    /// error naming the loss: the batches in between are gone, their receivers get nothing and
    /// their runs never complete. librdkafka logs such a reset at warning level (a reset for
    /// want of any committed offset, a new group's, only at debug level).
    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        if is_reset_after_error(level, fac, log_message) {
            metrics::counter!("herald_bus_offset_resets_total", "topic" => self.topic.clone()).increment(1);
            tracing::error!(
                bus.topic = %self.topic,
                librdkafka = log_message,
                "bus messages were deleted by the broker before this group read them (its retention is shorter than the \
                 backlog): their receivers get nothing from them and their runs stay published; raise the topic's \
                 retention.ms / retention.bytes"
            );
        }
        DefaultClientContext.log(level, fac, log_message);
    }
}

/// librdkafka's line for a partition's offset reset after a fetch error (`rd_kafka_offset_reset`
/// in rdkafka_offset.c: "<topic> [<partition>]: offset reset (at ...) to ...").
fn is_reset_after_error(level: RDKafkaLogLevel, fac: &str, log_message: &str) -> bool {
    use RDKafkaLogLevel::{Alert, Critical, Emerg, Error, Warning};
    matches!(level, Emerg | Alert | Critical | Error | Warning)
        && fac == "OFFSET"
        && log_message.contains("]: offset reset (")
}

impl ConsumerContext for LedgerContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let Rebalance::Revoke(tpl) = rebalance else { return };
        let partitions: Vec<i32> = tpl.elements_for_topic(&self.topic).iter().map(|e| e.partition()).collect();
        let last = lock(&self.ledger).revoke(&partitions);
        tracing::info!(bus.topic = %self.topic, ?partitions, "kafka partitions revoked");
        if last.is_empty() {
            return;
        }
        // Async commits may still be queued; this one makes sure the next owner starts from
        // everything this member settled.
        let mut commit = TopicPartitionList::new();
        for (partition, pos) in last {
            if let Err(e) = commit.add_partition_offset(&self.topic, partition, Offset::Offset(pos)) {
                tracing::warn!(bus.topic = %self.topic, error = %e, "bad commit offset");
            }
        }
        if let Err(e) = consumer.commit(&commit, CommitMode::Sync) {
            tracing::warn!(bus.topic = %self.topic, error = %e, "final commit before revoke failed");
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(tpl) => {
                let partitions: Vec<i32> = tpl.elements_for_topic(&self.topic).iter().map(|e| e.partition()).collect();
                tracing::info!(bus.topic = %self.topic, ?partitions, "kafka partitions assigned");
                lock(&self.ledger).assign(&partitions);
            }
            Rebalance::Revoke(_) => {}
            Rebalance::Error(e) => tracing::warn!(bus.topic = %self.topic, error = %e, "kafka rebalance error"),
        }
    }

    fn commit_callback(&self, result: KafkaResult<()>, _offsets: &TopicPartitionList) {
        // A lost commit only means redelivery after a crash or rebalance; the next ack of the
        // partition commits a position at least as far.
        if let Err(e) = result {
            tracing::warn!(bus.topic = %self.topic, error = %e, "kafka offset commit failed");
        }
    }
}

/// What a claim asks for.
pub(crate) struct ClaimRequest<'a> {
    pub max: usize,
    pub visibility: Duration,
    pub max_attempts: u32,
    pub max_delayed: usize,
    /// The bus-wide claim sequence that leases are made from.
    pub seq: &'a AtomicI64,
}

/// One topic's consumer and its ledger.
pub(crate) struct TopicConsumer {
    topic: String,
    pub ledger: Arc<Mutex<Ledger>>,
    consumer: StreamConsumer<LedgerContext>,
    /// Claims of one topic take turns: the ledger sweep and the fetch that follows form one
    /// batch.
    turn: tokio::sync::Mutex<()>,
}

impl TopicConsumer {
    /// Joins the group on `topic`; partitions arrive with the first claims (rebalances are
    /// served while a claim polls).
    pub fn new(config: &KafkaConfig, topic: &str) -> Result<Self, KafkaError> {
        let ledger = Arc::new(Mutex::new(Ledger::default()));
        let context = LedgerContext { topic: topic.to_owned(), ledger: ledger.clone() };
        let consumer: StreamConsumer<LedgerContext> = config.consumer_config().create_with_context(context)?;
        consumer.subscribe(&[topic])?;
        Ok(Self { topic: topic.to_owned(), ledger, consumer, turn: tokio::sync::Mutex::new(()) })
    }

    /// Hands out due held messages and lapsed claims first, then fetches fresh messages,
    /// waiting up to [`FIRST_WAIT`] for the first when nothing is ready.
    pub async fn claim(&self, req: ClaimRequest<'_>) -> Result<Sweep, KafkaError> {
        let _turn = self.turn.lock().await;
        let visibility_ms = i64::try_from(req.visibility.as_millis()).unwrap_or(i64::MAX);
        let now = now_ms();
        let deadline_ms = now.saturating_add(visibility_ms);
        let mut next_seq = || lease_seq(req.seq);
        let mut sweep = lock(&self.ledger).sweep(now, req.max, deadline_ms, req.max_attempts, &mut next_seq);
        self.pace(req.max_delayed);

        let wait_until = Instant::now() + FIRST_WAIT;
        while sweep.handed.len() < req.max {
            let wait = if sweep.handed.is_empty() && sweep.exhausted.is_empty() {
                wait_until.saturating_duration_since(Instant::now())
            } else {
                Duration::ZERO
            };
            let msg = match tokio::time::timeout(wait, self.consumer.recv()).await {
                Err(_elapsed) => break,
                Ok(Ok(msg)) => msg,
                Ok(Err(e)) if sweep.handed.is_empty() && sweep.exhausted.is_empty() => return Err(e),
                Ok(Err(e)) => {
                    tracing::warn!(bus.topic = %self.topic, error = %e, "kafka consume error");
                    break;
                }
            };
            let partition = msg.partition();
            let offset = msg.offset();
            let entry = entry_of(&msg, now_ms(), deadline_ms, lease_for(partition, lease_seq(req.seq)));
            if let Some(handout) = lock(&self.ledger).receive(partition, offset, entry) {
                sweep.handed.push(handout);
            }
        }
        Ok(sweep)
    }

    /// Pauses fetching while too many messages wait out retry delays in memory, and resumes
    /// once enough fell due. Fetching stays paused rather than stopped so that rebalances and
    /// the poll-interval check are still served.
    fn pace(&self, max_delayed: usize) {
        let mut ledger = lock(&self.ledger);
        let full = ledger.delayed() >= max_delayed;
        if full == ledger.paused {
            return;
        }
        let mut tpl = TopicPartitionList::new();
        for p in ledger.assigned() {
            tpl.add_partition(&self.topic, p);
        }
        let done = if full { self.consumer.pause(&tpl) } else { self.consumer.resume(&tpl) };
        match done {
            Ok(()) => {
                ledger.paused = full;
                tracing::info!(bus.topic = %self.topic, paused = full, delayed = ledger.delayed(), "kafka fetch paced");
            }
            Err(e) => tracing::warn!(bus.topic = %self.topic, error = %e, "kafka pause/resume failed"),
        }
    }

    /// Settles a claimed message and commits the partition's new position if it moved. The
    /// commit is issued under the ledger lock, so commits of one partition go out in order.
    pub fn settle(&self, partition: i32, offset: i64, lease: i64) -> Result<(), Lost> {
        let mut ledger = lock(&self.ledger);
        if let Some(pos) = ledger.settle(partition, offset, lease)? {
            let mut tpl = TopicPartitionList::new();
            let commit = tpl
                .add_partition_offset(&self.topic, partition, Offset::Offset(pos))
                .and_then(|()| self.consumer.commit(&tpl, CommitMode::Async));
            if let Err(e) = commit {
                tracing::warn!(bus.topic = %self.topic, partition, error = %e, "kafka offset commit failed");
            }
        }
        Ok(())
    }

    pub fn extend(&self, partition: i32, offset: i64, lease: i64, deadline_ms: i64) -> Result<(), Lost> {
        lock(&self.ledger).extend(partition, offset, lease, deadline_ms)
    }

    pub fn begin_settle(&self, partition: i32, offset: i64, lease: i64) -> Result<(), Lost> {
        lock(&self.ledger).begin_settle(partition, offset, lease)
    }

    pub fn abort_settle(&self, partition: i32, offset: i64, lease: i64) {
        lock(&self.ledger).abort_settle(partition, offset, lease);
    }
}

fn lease_seq(seq: &AtomicI64) -> i64 {
    seq.fetch_add(1, Ordering::Relaxed)
}

pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A received message as a ledger entry: held if its not-before lies ahead, else in flight.
fn entry_of(msg: &BorrowedMessage<'_>, now_ms: i64, deadline_ms: i64, lease: i64) -> Entry {
    let mut attempts = 1;
    let mut not_before_ms = None;
    if let Some(headers) = msg.headers() {
        for h in headers.iter() {
            let value = h.value.and_then(|v| std::str::from_utf8(v).ok());
            match h.key {
                HEADER_ATTEMPTS => attempts = value.and_then(|v| v.parse().ok()).unwrap_or(1),
                HEADER_NOT_BEFORE => not_before_ms = value.and_then(|v| v.parse().ok()),
                _ => {}
            }
        }
    }
    let status = match not_before_ms {
        Some(at) if at > now_ms => Status::Delayed { not_before_ms: at },
        _ => Status::InFlight { lease, deadline_ms },
    };
    Entry {
        key: msg.key().map(|k| String::from_utf8_lossy(k).into_owned()).unwrap_or_default(),
        payload: msg.payload().map(<[u8]>::to_vec).unwrap_or_default(),
        attempts,
        status,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_reset_after_a_fetch_error_is_an_alarm() {
        let reset = "herald.expired [0]: offset reset (at offset 1 (leader epoch -1), broker 1) to cached BEGINNING \
                     offset 29 (leader epoch -1): fetch failed due to requested offset not available on the broker: \
                     Broker: Offset out of range";
        assert!(is_reset_after_error(RDKafkaLogLevel::Warning, "OFFSET", reset));
        // A new group's reset for want of a committed offset is logged at debug level only.
        assert!(!is_reset_after_error(RDKafkaLogLevel::Debug, "OFFSET", reset));
        assert!(!is_reset_after_error(RDKafkaLogLevel::Warning, "FETCH", reset));
        assert!(!is_reset_after_error(RDKafkaLogLevel::Warning, "OFFSET", "herald.expired [0]: offset commit failed"));
    }
}
