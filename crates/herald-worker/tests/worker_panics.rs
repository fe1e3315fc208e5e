//! A batch that panics inside the pipeline does not end its worker: the batch goes back to the
//! bus and is delivered on the next attempt, once, counted at the receiving channel.

use async_trait::async_trait;
use chrono::{TimeZone, Utc};
use herald_bus::{Bus, SqliteBus};
use herald_channels::{Channel, Channels, OutgoingMessage, SendResult};
use herald_core::{
    Batch, BatchItem, ChannelKind, Clock, DeliveryJob, JobOrigin, Recipient, TemplateSpec, TestClock, topic_for,
};
use herald_store::{LocalRates, SqliteStore, TemplateRepo};
use herald_worker::{Pipeline, PipelineParts, PolicyDefaults, Worker, WorkerConfig};
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Panics on its first send, then receives normally; keeps what it received.
#[derive(Default)]
struct PanicsOnce {
    panicked: AtomicBool,
    received: Mutex<Vec<String>>,
}

#[async_trait]
impl Channel for PanicsOnce {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Webhook
    }
    async fn send(&self, message: &OutgoingMessage) -> SendResult {
        if !self.panicked.swap(true, Ordering::SeqCst) {
            panic!("a bug in a channel");
        }
        self.received.lock().unwrap().push(message.receiver.clone());
        SendResult::Sent { detail: None }
    }
}

#[tokio::test]
async fn a_panicking_batch_is_retried_and_the_worker_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("h.sqlite")).await.unwrap());
    let clock = Arc::new(TestClock::new(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()));
    let spec: TemplateSpec = serde_json::from_value(json!({"name": "t", "channel": "webhook",
        "content": {"url": "http://127.0.0.1:9/x", "text": "hi"}}))
    .unwrap();
    let template = store.create_template(&spec, clock.now()).await.unwrap();
    let channel = Arc::new(PanicsOnce::default());
    let pipeline = Arc::new(Pipeline::new(PipelineParts {
        store: store.clone(),
        ledger: store.clone(),
        dedup: store.clone(),
        rates: Arc::new(LocalRates::default()),
        channels: Channels::new().with(channel.clone()),
        clock: clock.clone(),
        concurrency: 1,
        defaults: PolicyDefaults::default(),
        holder: "test".into(),
        // The panicked handling's claim lapses before the retry below comes.
        claim_ttl: chrono::Duration::seconds(3),
    }));
    let bus: Arc<dyn Bus> = Arc::new(SqliteBus::new(store.writer().clone(), clock.clone(), 5));
    let job = DeliveryJob {
        template_id: template.id,
        origin: JobOrigin::Api { request_id: "req".into() },
        batch: Batch {
            items: vec![BatchItem {
                variables: Default::default(),
                recipients: vec![Recipient {
                    receiver: "r1".into(),
                    message_id: herald_core::Installation::new("t").request("req", 0, "r1"),
                }],
            }],
        },
        released: false,
        admitted: false,
    };
    let topic = topic_for(ChannelKind::Webhook);
    bus.publish(&topic, "k", &serde_json::to_vec(&job).unwrap()).await.unwrap();
    let config = WorkerConfig { retry_backoff_ms: 10, ..WorkerConfig::default() };
    let worker = Worker::new(bus.clone(), pipeline, topic.clone(), config);

    assert!(worker.work_one().await.expect("the panic is caught"), "a batch was claimed");
    assert!(channel.received.lock().unwrap().is_empty());
    clock.advance(chrono::Duration::seconds(5));
    assert!(worker.work_one().await.unwrap(), "the batch came back");
    assert_eq!(*channel.received.lock().unwrap(), ["r1"], "delivered once, on the retry");
    assert!(!worker.work_one().await.unwrap(), "nothing left on the topic");
}
