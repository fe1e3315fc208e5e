//! Publishing batches: a raw rdkafka `FutureProducer` (the limit) against herald's
//! `KafkaBus::publish`, same payloads, same producer settings, on librdkafka's mock cluster.

use crate::report::{Row, per_sec, rate, thousands};
use crate::store_limits;
use anyhow::Context;
use futures::{StreamExt, TryStreamExt, stream};
use herald_bus::{Bus, KafkaBus, KafkaConfig};
use herald_core::MAX_RECEIVERS_PER_BATCH;
use rdkafka::ClientConfig;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;
use std::future::Future;
use std::time::{Duration, Instant};

const RAW_TOPIC: &str = "raw.outbox";
/// herald's topic name; `KafkaConfig::kafka_topic` keeps it as is with the default prefix.
const HERALD_TOPIC: &str = "herald.outbox";
const PARTITIONS: i32 = 6;
const WARM_UP: usize = 100;

pub struct Sizes {
    /// Messages published with `in_flight` concurrent publishes.
    pub messages: usize,
    pub in_flight: usize,
    /// Messages published one at a time, awaiting each ack (herald's streamer did this before it
    /// published in windows).
    pub sequential: usize,
}

/// The streamer's payloads: `DeliveryJob`s of 100 distinct receivers, serialized as JSON.
pub fn payloads(n: usize) -> Vec<(String, Vec<u8>)> {
    let mut batcher = store_limits::batcher(MAX_RECEIVERS_PER_BATCH);
    let mut out = Vec::with_capacity(n);
    let mut row = 0;
    while out.len() < n {
        row += 1;
        if let Some(batch) = batcher.push(crate::csv::row(row)) {
            let message = store_limits::bus_message(batch);
            out.push((message.key, message.payload));
        }
    }
    out
}

/// A bare `FutureProducer` with the producer properties herald sets (see
/// `KafkaConfig::producer_config`): the limit herald's publishing is measured against.
pub fn raw_producer(config: &KafkaConfig) -> anyhow::Result<FutureProducer> {
    Ok(ClientConfig::new()
        .set("bootstrap.servers", &config.brokers)
        .set("client.id", "raw-bench")
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("message.timeout.ms", config.message_timeout_ms.to_string())
        .create()?)
}

/// Produces one payload with the raw producer and waits for its acknowledgement.
pub fn raw_send<'a>(
    producer: &'a FutureProducer,
    topic: &'a str,
    key: &'a str,
    payload: &'a [u8],
) -> impl Future<Output = anyhow::Result<()>> + 'a {
    let sent = producer.send(FutureRecord::to(topic).key(key).payload(payload), Timeout::Never);
    async move { sent.await.map(|_| ()).map_err(|(e, _)| anyhow::anyhow!("raw produce: {e}")) }
}

/// Gives a publishing closure one payload lifetime rather than a higher-ranked one, so the
/// future it returns may borrow its arguments.
pub fn publisher<'a, F, Fut>(f: F) -> F
where
    F: Fn(&'a str, &'a [u8]) -> Fut,
{
    f
}

/// Publishes every payload through `publish` with at most `in_flight` outstanding; the time.
pub async fn drive<'a, F, Fut>(
    payloads: &'a [(String, Vec<u8>)],
    in_flight: usize,
    publish: F,
) -> anyhow::Result<Duration>
where
    F: Fn(&'a str, &'a [u8]) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let started = Instant::now();
    stream::iter(payloads.iter().map(|(k, p)| publish(k, p))).buffer_unordered(in_flight).try_collect::<()>().await?;
    Ok(started.elapsed())
}

pub async fn run(sizes: &Sizes) -> anyhow::Result<Vec<Row>> {
    let payloads = payloads(sizes.messages.max(sizes.sequential) + WARM_UP);
    let avg_bytes = payloads.iter().map(|(_, p)| p.len()).sum::<usize>() / payloads.len();
    let (warm, payloads) = payloads.split_at(WARM_UP);
    let mock = MockCluster::new(3).context("mock cluster")?;
    for topic in [RAW_TOPIC, HERALD_TOPIC] {
        mock.create_topic(topic, PARTITIONS, 3).context("mock topic")?;
    }
    let config = KafkaConfig { create_topics: false, ..KafkaConfig::new(mock.bootstrap_servers(), "herald-bench") };

    let raw = raw_producer(&config)?;
    let raw_send = publisher(|key, payload| raw_send(&raw, RAW_TOPIC, key, payload));
    let bus = KafkaBus::new(config)?;
    let bus_send = publisher(|key, payload| {
        let published = bus.publish(HERALD_TOPIC, key, payload);
        async move { published.await.map_err(|e| anyhow::anyhow!("KafkaBus::publish: {e}")) }
    });

    // Connections and producer ids first, then the timed runs, raw first each time.
    drive(warm, 16, raw_send).await?;
    drive(warm, 16, bus_send).await?;
    let batch = &payloads[..sizes.messages];
    let raw_bulk = drive(batch, sizes.in_flight, raw_send).await?;
    let bus_bulk = drive(batch, sizes.in_flight, bus_send).await?;
    let one = &payloads[..sizes.sequential];
    let raw_seq = drive(one, 1, raw_send).await?;
    let bus_seq = drive(one, 1, bus_send).await?;
    let waits = bus.queue_full_waits();

    drop(raw);
    // Dropping the bus closes its group member, which blocks: off the async threads.
    tokio::task::spawn_blocking(move || drop(bus)).await?;
    drop(mock);

    let (limit, herald) = (rate(sizes.messages, raw_bulk), rate(sizes.messages, bus_bulk));
    let (limit_seq, herald_seq) = (rate(sizes.sequential, raw_seq), rate(sizes.sequential, bus_seq));
    let common = format!(
        "MockCluster(3), {PARTITIONS} partitions x3 replicas; acks=all, idempotent; DeliveryJob of 100 receivers, {} B avg",
        thousands(avg_bytes as f64)
    );
    Ok(vec![
        Row::new(
            "Kafka publish, bounded concurrency",
            per_sec(limit, "msg"),
            per_sec(herald, "msg"),
            Some(herald / limit),
            format!(
                "{} messages, {} in flight; {common}; queue-full waits: {waits}",
                thousands(sizes.messages as f64),
                sizes.in_flight
            ),
        ),
        Row::new(
            "Kafka publish, one at a time (each awaited)",
            per_sec(limit_seq, "msg"),
            per_sec(herald_seq, "msg"),
            Some(herald_seq / limit_seq),
            format!("{} messages, each awaited before the next; {common}", thousands(sizes.sequential as f64)),
        ),
    ])
}
