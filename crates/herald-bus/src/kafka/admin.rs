//! Topic housekeeping: creating missing topics (each with its `.dead` topic) and reading
//! backlog counts from watermarks and the group's committed offsets for `stats`.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaResult, RDKafkaErrorCode};
use rdkafka::{Offset, TopicPartitionList};

use crate::KafkaConfig;

/// How long admin and metadata requests may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The dead-letter topic of a Kafka topic.
pub(crate) fn dead_topic(topic: &str) -> String {
    format!("{topic}.dead")
}

/// Creates `topic` and, unless it is one, its dead-letter topic. Existing topics are fine;
/// other failures are logged and left to the broker (it may auto-create, or the first
/// produce reports the missing topic), since a bus must not refuse to start over them.
pub(crate) async fn create_topics(admin: &AdminClient<DefaultClientContext>, config: &KafkaConfig, topic: &str) {
    let dead = dead_topic(topic);
    let replication = TopicReplication::Fixed(config.replication);
    let mut wanted = vec![NewTopic::new(topic, config.partitions, replication)];
    if !topic.ends_with(".dead") {
        wanted.push(NewTopic::new(&dead, config.partitions, TopicReplication::Fixed(config.replication)));
    }
    let opts = AdminOptions::new().request_timeout(Some(REQUEST_TIMEOUT)).operation_timeout(Some(REQUEST_TIMEOUT));
    match admin.create_topics(&wanted, &opts).await {
        Ok(results) => {
            for result in results {
                match result {
                    Ok(name) => {
                        tracing::info!(bus.topic = %name, partitions = config.partitions, "kafka topic created")
                    }
                    Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                    Err((name, code)) => tracing::warn!(bus.topic = %name, error = %code, "kafka topic not created"),
                }
            }
        }
        Err(e) => tracing::warn!(bus.topic = %topic, error = %e, "kafka topics not created"),
    }
}

/// Messages of `topic` past the group's committed offsets (or, with `committed` false, all
/// retained messages). Blocking: run it off the async threads. Every partition list it makes
/// is dropped before it returns, as one outliving its consumer hangs the consumer's drop.
pub(crate) fn backlog(consumer: &BaseConsumer, topic: &str, committed: bool) -> KafkaResult<u64> {
    let metadata = consumer.fetch_metadata(Some(topic), REQUEST_TIMEOUT)?;
    let partitions: Vec<i32> = metadata
        .topics()
        .iter()
        .filter(|t| t.name() == topic && t.error().is_none())
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .collect();
    if partitions.is_empty() {
        return Ok(0);
    }
    let mut starts = vec![None; partitions.len()];
    if committed {
        let mut tpl = TopicPartitionList::new();
        for p in &partitions {
            tpl.add_partition(topic, *p);
        }
        let offsets = consumer.committed_offsets(tpl, REQUEST_TIMEOUT)?;
        for (start, p) in starts.iter_mut().zip(&partitions) {
            if let Some(Offset::Offset(o)) = offsets.find_partition(topic, *p).map(|e| e.offset()) {
                *start = Some(o);
            }
        }
        drop(offsets);
    }
    let mut total = 0u64;
    for (p, start) in partitions.iter().zip(starts) {
        let (low, high) = consumer.fetch_watermarks(topic, *p, REQUEST_TIMEOUT)?;
        let from = start.map_or(low, |s| s.max(low));
        total += u64::try_from(high - from).unwrap_or(0);
    }
    Ok(total)
}
