//! The librdkafka client properties a [`KafkaConfig`] turns into: the producer's, the
//! consumers' and the admin client's.

use rdkafka::ClientConfig;
use rdkafka::config::RDKafkaLogLevel;

use crate::KafkaConfig;

impl KafkaConfig {
    /// Idempotent, acks from all in-sync replicas: an acked publish is on every replica, and a
    /// resend after a lost ack cannot duplicate or reorder.
    pub(crate) fn producer_config(&self) -> ClientConfig {
        let mut c = self.common();
        c.set("enable.idempotence", "true")
            .set("acks", "all")
            .set("message.timeout.ms", self.message_timeout_ms.to_string());
        for (k, v) in &self.producer {
            c.set(k, v);
        }
        c
    }

    /// Manual commits only, of offsets the bus has settled (never librdkafka's own store).
    /// librdkafka's warnings reach the consumer's context whatever the log filter says (rdkafka
    /// asks librdkafka only for what the `log` crate would print): an offset reset after an
    /// error, messages deleted unread, is one (`LedgerContext::log`).
    pub(crate) fn consumer_config(&self) -> ClientConfig {
        let mut c = self.common();
        c.set("group.id", &self.group_id)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("partition.assignment.strategy", "cooperative-sticky")
            .set("session.timeout.ms", self.session_timeout_ms.to_string())
            .set("heartbeat.interval.ms", (self.session_timeout_ms / 3).min(3000).to_string());
        for (k, v) in &self.consumer {
            c.set(k, v);
        }
        if (c.log_level as i32) < RDKafkaLogLevel::Warning as i32 {
            c.set_log_level(RDKafkaLogLevel::Warning);
        }
        c
    }

    pub(crate) fn admin_config(&self) -> ClientConfig {
        self.common()
    }

    fn common(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.brokers).set("client.id", &self.client_id);
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn producer_is_idempotent_with_acks_all() {
        let mut c = KafkaConfig::new("b:9092", "g");
        c.producer.insert("queue.buffering.max.messages".into(), "5".into());
        let p = c.producer_config();
        assert_eq!(p.get("enable.idempotence"), Some("true"));
        assert_eq!(p.get("acks"), Some("all"));
        assert_eq!(p.get("queue.buffering.max.messages"), Some("5"));
        let k = c.consumer_config();
        assert_eq!(k.get("enable.auto.commit"), Some("false"));
        assert_eq!(k.get("auto.offset.reset"), Some("earliest"));
        assert!(k.log_level as i32 >= RDKafkaLogLevel::Warning as i32, "warnings reach the context: {:?}", k.log_level);
    }
}
