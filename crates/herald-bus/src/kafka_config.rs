//! `KafkaConfig`: what the cluster bus is built from (`[bus.kafka]`), its defaults and
//! validation. Always compiled, so a configuration naming Kafka parses, and is refused with a
//! clear message, in a build without the `kafka` feature; the librdkafka properties it turns
//! into are in `kafka/clients.rs`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Settings of the Kafka bus (`[bus.kafka]` in cluster.toml).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaConfig {
    /// `bootstrap.servers`, e.g. `"kafka-1:9092,kafka-2:9092"`.
    pub brokers: String,
    /// Consumer group shared by every worker node: each message is handled by one member.
    pub group_id: String,
    /// Replaces herald's own `herald.` prefix of topic names (`herald.email` becomes
    /// `<prefix>email`), so several deployments can share one cluster.
    #[serde(default = "default_topic_prefix")]
    pub topic_prefix: String,
    /// Partitions of topics the bus creates; at most this many workers share a topic.
    #[serde(default = "default_partitions")]
    pub partitions: i32,
    /// Replication factor of topics the bus creates; 3 in production, 1 on a laptop.
    #[serde(default = "default_replication")]
    pub replication: i32,
    /// Whether to create missing topics (and their `.dead` topics) with the admin API.
    #[serde(default = "default_true")]
    pub create_topics: bool,
    /// Consumer group session timeout; must exceed 3000 ms (the group never forms otherwise).
    #[serde(default = "default_session_timeout_ms")]
    pub session_timeout_ms: u32,
    /// Deliveries before a failing message goes to `<topic>.dead`.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    #[serde(default = "default_client_id")]
    pub client_id: String,
    /// How long a publish may wait for the brokers (an outage delays it up to this long, then
    /// it fails); librdkafka's `message.timeout.ms`.
    #[serde(default = "default_message_timeout_ms")]
    pub message_timeout_ms: u32,
    /// Messages a consumer holds in memory waiting out retry delays; above it the consumer
    /// pauses fetching until some fall due.
    #[serde(default = "default_max_delayed")]
    pub max_delayed: usize,
    /// Extra librdkafka producer properties (e.g. `queue.buffering.max.messages`, TLS, SASL).
    #[serde(default)]
    pub producer: BTreeMap<String, String>,
    /// Extra librdkafka consumer properties.
    #[serde(default)]
    pub consumer: BTreeMap<String, String>,
}

fn default_topic_prefix() -> String {
    "herald.".to_owned()
}
fn default_partitions() -> i32 {
    6
}
fn default_replication() -> i32 {
    1
}
fn default_true() -> bool {
    true
}
fn default_session_timeout_ms() -> u32 {
    10_000
}
fn default_max_attempts() -> u32 {
    5
}
fn default_client_id() -> String {
    "herald".to_owned()
}
fn default_message_timeout_ms() -> u32 {
    300_000
}
fn default_max_delayed() -> usize {
    10_000
}

/// A `KafkaConfig` that cannot work.
#[derive(Debug, thiserror::Error)]
pub enum KafkaSetupError {
    #[error("kafka config: {0}")]
    Invalid(&'static str),
    #[cfg(feature = "kafka")]
    #[error("kafka client: {0}")]
    Client(#[from] rdkafka::error::KafkaError),
}

impl KafkaConfig {
    /// A config with every default, for `brokers` and `group_id`.
    pub fn new(brokers: impl Into<String>, group_id: impl Into<String>) -> Self {
        Self {
            brokers: brokers.into(),
            group_id: group_id.into(),
            topic_prefix: default_topic_prefix(),
            partitions: default_partitions(),
            replication: default_replication(),
            create_topics: true,
            session_timeout_ms: default_session_timeout_ms(),
            max_attempts: default_max_attempts(),
            client_id: default_client_id(),
            message_timeout_ms: default_message_timeout_ms(),
            max_delayed: default_max_delayed(),
            producer: BTreeMap::new(),
            consumer: BTreeMap::new(),
        }
    }

    pub fn validate(&self) -> Result<(), KafkaSetupError> {
        let invalid = |why| Err(KafkaSetupError::Invalid(why));
        if self.brokers.trim().is_empty() {
            return invalid("brokers is empty");
        }
        if self.group_id.trim().is_empty() {
            return invalid("group_id is empty");
        }
        if self.partitions < 1 {
            return invalid("partitions must be at least 1");
        }
        if self.replication < 1 {
            return invalid("replication must be at least 1");
        }
        if self.session_timeout_ms <= 3000 {
            return invalid("session_timeout_ms must be above 3000");
        }
        if self.max_attempts < 1 {
            return invalid("max_attempts must be at least 1");
        }
        if self.message_timeout_ms < 1000 {
            return invalid("message_timeout_ms must be at least 1000");
        }
        Ok(())
    }

    /// The Kafka topic for one of herald's topic names.
    pub fn kafka_topic(&self, topic: &str) -> String {
        let rest = topic.strip_prefix("herald.").unwrap_or(topic);
        format!("{}{rest}", self.topic_prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_map_topics() {
        let c = KafkaConfig::new("127.0.0.1:9092", "herald-workers");
        c.validate().unwrap();
        assert_eq!(c.kafka_topic("herald.email"), "herald.email");
        let c = KafkaConfig { topic_prefix: "prod.h.".into(), ..c };
        assert_eq!(c.kafka_topic("herald.email"), "prod.h.email");
        assert_eq!(c.kafka_topic("other"), "prod.h.other");
    }

    #[test]
    fn short_session_timeout_is_refused() {
        let c = KafkaConfig { session_timeout_ms: 3000, ..KafkaConfig::new("b:9092", "g") };
        assert!(matches!(c.validate(), Err(KafkaSetupError::Invalid(_))));
    }

    #[test]
    fn deserializes_with_defaults_and_rejects_unknown_fields() {
        let c: KafkaConfig = serde_json::from_str(r#"{"brokers":"b:9092","group_id":"g","partitions":12}"#).unwrap();
        assert_eq!(c, KafkaConfig { partitions: 12, ..KafkaConfig::new("b:9092", "g") });
        let e = serde_json::from_str::<KafkaConfig>(r#"{"brokers":"b","group_id":"g","partitons":12}"#);
        assert!(e.unwrap_err().to_string().contains("unknown field"));
    }
}
