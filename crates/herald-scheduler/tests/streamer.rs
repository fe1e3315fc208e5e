//! The planner and the streamer on their own, over an embedded store, bus and crowd directory:
//! a run is split into shards whose rows add up to the file, every row goes on the bus once
//! with its row's message id, a streamer stopped mid-shard hands it to another that goes on from
//! the checkpoint without repeating a batch, and a run whose crowd file is gone fails.

use chrono::{TimeZone, Utc};
use herald_bus::{Bus, SqliteBus};
use herald_core::{ChannelKind, Clock, DeliveryJob, MessageId, RunStatus, TemplateSpec, TestClock, topic_for};
use herald_crowd::{CrowdFormat, CrowdStore, LocalCrowdStore, body_stream};
use herald_scheduler::{RunStreamer, StreamerConfig, StreamerParts};
use herald_store::{Crowd, CrowdRepo, InstallationRepo, RunRepo, SqliteStore, Store, TemplateRepo};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

struct Embedded {
    store: Arc<SqliteStore>,
    bus: Arc<SqliteBus>,
    crowds: Arc<LocalCrowdStore>,
    clock: Arc<TestClock>,
    _dir: tempfile::TempDir,
}

impl Embedded {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(&dir.path().join("h.sqlite")).await.unwrap());
        let clock = Arc::new(TestClock::new(Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap()));
        let bus = Arc::new(SqliteBus::new(store.writer().clone(), clock.clone(), 5));
        let crowds = Arc::new(LocalCrowdStore::new(dir.path().join("crowds")));
        Self { store, bus, crowds, clock, _dir: dir }
    }

    fn streamer(&self, name: &str, config: StreamerConfig) -> RunStreamer {
        let store: Arc<dyn Store> = self.store.clone();
        let parts =
            StreamerParts { store, bus: self.bus.clone(), crowds: self.crowds.clone(), clock: self.clock.clone() };
        RunStreamer::new(parts, name.to_string(), config)
    }

    /// A run of a `rows`-row crowd (each row its own receiver and variables), and the crowd.
    async fn run_of(&self, rows: usize) -> (i64, String) {
        let mut csv = String::from("userId,name\n");
        for n in 1..=rows {
            csv.push_str(&format!("u{n},name-{n}\n"));
        }
        let body = body_stream(futures::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from(csv))]));
        let saved = self.crowds.save(body, u64::MAX, &CrowdFormat::default()).await.unwrap();
        let now = self.clock.now();
        let crowd = Crowd {
            id: saved.crowd_id.clone(),
            original_name: "c.csv".into(),
            receiver_column: "userId".into(),
            columns: vec!["name".into()],
            rows: rows as i64,
            valid_rows: rows as i64,
            bad_rows: 0,
            size_bytes: saved.size_bytes as i64,
            created_at: now,
        };
        self.store.insert_crowd(&crowd, "[]").await.unwrap();
        let spec = TemplateSpec {
            name: "t".into(),
            channel: ChannelKind::Outbox,
            channel_account: None,
            msg_type: 10,
            receiver_id_type: "userId".into(),
            content: serde_json::json!({"text": "hi {$name}"}),
            quiet_hours: Default::default(),
            schedule: None,
            crowd_id: Some(saved.crowd_id.clone()),
            dedup: None,
            test_mode: None,
            quiet_window: None,
        };
        let template = self.store.create_template(&spec, now).await.unwrap();
        (self.store.create_run(template.id, now).await.unwrap(), saved.crowd_id)
    }

    /// Every message id on the outbox topic, with how often it was published.
    async fn published(&self) -> BTreeMap<MessageId, usize> {
        let mut counts = BTreeMap::new();
        loop {
            let claims = self
                .bus
                .claim(&topic_for(ChannelKind::Outbox), 1000, std::time::Duration::from_secs(600))
                .await
                .unwrap();
            if claims.is_empty() {
                return counts;
            }
            for claim in claims {
                let job: DeliveryJob = serde_json::from_slice(&claim.payload).unwrap();
                for r in job.batch.recipients() {
                    *counts.entry(r.message_id.clone()).or_insert(0) += 1;
                }
            }
        }
    }
}

fn small_shards() -> StreamerConfig {
    StreamerConfig { shard_bytes: 256, max_shards: 8, batch_size: 7, publish_window: 2, ..Default::default() }
}

async fn drain(streamer: &RunStreamer) {
    let shutdown = CancellationToken::new();
    while streamer.stream_one(&shutdown).await.unwrap() {}
}

#[tokio::test]
async fn every_row_goes_on_the_bus_once_with_its_row_id_across_shards() {
    let node = Embedded::start().await;
    let (run_id, _) = node.run_of(200).await;
    drain(&node.streamer("s1", small_shards())).await;

    let shards = node.store.list_shards(run_id).await.unwrap();
    assert_eq!(shards.len(), 8, "a file of ~2.4 KB in 256-byte shards, capped at max_shards");
    assert_eq!(shards.iter().map(|s| s.rows_read).sum::<i64>(), 200);
    let published = node.published().await;
    let installation = node.store.installation().await.unwrap();
    let expected: Vec<MessageId> = (1..=200).map(|row| installation.run_row(run_id, row)).collect();
    assert_eq!(published.keys().cloned().collect::<Vec<_>>(), {
        let mut e = expected;
        e.sort();
        e
    });
    assert!(published.values().all(|&n| n == 1), "a row published twice: {published:?}");
    let run = node.store.get_run(run_id).await.unwrap();
    assert_eq!((run.status, run.rows_read), (RunStatus::Published, 200));
}

#[tokio::test]
async fn a_stopped_streamer_hands_its_shard_on_and_the_next_goes_on_from_the_checkpoint() {
    let node = Embedded::start().await;
    let (run_id, _) = node.run_of(120).await;
    let one_shard = StreamerConfig { max_shards: 1, batch_size: 10, publish_window: 3, ..Default::default() };
    let first = node.streamer("s1", one_shard.clone());
    // Plan, then stream one window and stop: the shard is checkpointed and handed back.
    drain_plan_only(&first).await;
    let stopping = CancellationToken::new();
    stopping.cancel();
    assert!(first.stream_one(&stopping).await.unwrap());
    let shard = &node.store.list_shards(run_id).await.unwrap()[0];
    // One window: up to three ten-row batches, as many as the reader had ready.
    assert!([10, 20, 30].contains(&shard.rows_read), "stopped after one window: {shard:?}");
    assert!(shard.lease_owner.is_none(), "handed back at once: {shard:?}");

    drain(&node.streamer("s2", one_shard)).await;
    let published = node.published().await;
    assert_eq!(published.len(), 120);
    assert!(published.values().all(|&n| n == 1), "resumed from the checkpoint, no batch again: {published:?}");
}

/// Lets `streamer` plan the pending run without streaming any shard.
async fn drain_plan_only(streamer: &RunStreamer) {
    let stopping = CancellationToken::new();
    stopping.cancel();
    // With no shard yet, the first call plans.
    assert!(streamer.stream_one(&stopping).await.unwrap());
}

#[tokio::test]
async fn a_run_whose_crowd_file_is_gone_fails_with_the_reason() {
    let node = Embedded::start().await;
    let (run_id, crowd_id) = node.run_of(10).await;
    node.crowds.delete(&crowd_id).await.unwrap();
    drain(&node.streamer("s1", small_shards())).await;
    let run = node.store.get_run(run_id).await.unwrap();
    assert_eq!(run.status, RunStatus::Failed);
    assert!(run.error.as_deref().unwrap_or_default().contains(&crowd_id), "{run:?}");
    assert!(node.published().await.is_empty());
}
