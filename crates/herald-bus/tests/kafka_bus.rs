//! `KafkaBus` against librdkafka's in-process mock cluster (three brokers on loopback ports):
//! round trips, ordering, consumer groups, redelivery, commits, retries, dead letters, a broker
//! outage, producer back-pressure and messages the broker deleted unread. All tests run in one
//! binary, in parallel, each on its own cluster; most of their time is consumer-group formation
//! (about 3 s with the mock).
#![cfg(feature = "kafka")]

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use herald_bus::kafka::{HEADER_ATTEMPTS, HEADER_ERROR};
use herald_bus::{Bus, BusClaim, BusError, KafkaBus, KafkaConfig, RetryOutcome};
use rdkafka::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Headers, Message};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;
use tokio::task::JoinSet;

type Mock = MockCluster<'static, DefaultProducerContext>;

const VISIBILITY: Duration = Duration::from_secs(60);
/// Generous bound for anything that waits on group formation or a rebalance.
const GROUP_WAIT: Duration = Duration::from_secs(30);

fn mock(topics: &[(&str, i32)]) -> Mock {
    let mock = MockCluster::new(3).expect("mock cluster");
    for (topic, partitions) in topics {
        mock.create_topic(topic, *partitions, 3).expect("topic");
        mock.create_topic(&format!("{topic}.dead"), *partitions, 3).expect("dead topic");
    }
    mock
}

fn config(mock: &Mock, group: &str) -> KafkaConfig {
    KafkaConfig {
        session_timeout_ms: 6000,
        max_attempts: 3,
        // The mock has no CreateTopics; tests create their topics on the mock itself.
        create_topics: false,
        ..KafkaConfig::new(mock.bootstrap_servers(), group)
    }
}

fn bus(mock: &Mock, group: &str) -> Arc<KafkaBus> {
    Arc::new(KafkaBus::new(config(mock, group)).expect("bus"))
}

/// Drops a bus off the async threads: closing its consumers waits for the group to let go.
async fn close(bus: Arc<KafkaBus>) {
    let bus = Arc::try_unwrap(bus).expect("last reference to the bus");
    tokio::task::spawn_blocking(move || drop(bus)).await.expect("drop bus");
}

/// Claims until `n` deliveries arrived (or panics after `within`); acks them when `ack`.
async fn claim_n(bus: &KafkaBus, topic: &str, n: usize, within: Duration, ack: bool) -> Vec<BusClaim> {
    let started = Instant::now();
    let mut got = Vec::new();
    while got.len() < n {
        assert!(started.elapsed() < within, "claimed only {} of {n} from {topic} in {within:?}", got.len());
        for d in bus.claim(topic, 100, VISIBILITY).await.expect("claim") {
            if ack {
                bus.ack(&d).await.expect("ack");
            }
            got.push(d);
        }
    }
    got
}

/// Claims (and acks) everything that arrives for `quiet`.
async fn drain(bus: &KafkaBus, topic: &str, quiet: Duration) -> Vec<BusClaim> {
    let until = Instant::now() + quiet;
    let mut got = Vec::new();
    while Instant::now() < until {
        for d in bus.claim(topic, 100, VISIBILITY).await.expect("claim") {
            bus.ack(&d).await.expect("ack");
            got.push(d);
        }
    }
    got
}

fn text(d: &BusClaim) -> String {
    String::from_utf8(d.payload.clone()).expect("utf-8 payload")
}

async fn publish_all(bus: &Arc<KafkaBus>, topic: &'static str, payloads: Vec<(String, String)>) -> JoinSet<()> {
    let mut set = JoinSet::new();
    for (key, payload) in payloads {
        let bus = bus.clone();
        set.spawn(async move { bus.publish(topic, &key, payload.as_bytes()).await.expect("publish") });
    }
    set
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trip_keeps_payload_and_key_and_refuses_stale_acks() {
    let mock = mock(&[("herald.rt", 6)]);
    let bus = bus(&mock, "rt");
    bus.publish("herald.rt", "7:alice", b"hello").await.unwrap();
    bus.publish("herald.rt", "7:bob", b"lapse").await.unwrap();

    // Claims lapse after 300 ms here: "lapse" is left unsettled and must come back.
    let short = Duration::from_millis(300);
    let started = Instant::now();
    let (mut hello_seen, mut lapse) = (false, None);
    while !hello_seen || lapse.is_none() {
        assert!(started.elapsed() < GROUP_WAIT, "round trip never arrived");
        for d in bus.claim("herald.rt", 10, short).await.unwrap() {
            if d.payload == b"hello" {
                assert_eq!((d.topic.as_str(), d.key.as_str(), d.attempts), ("herald.rt", "7:alice", 1));
                bus.ack(&d).await.unwrap();
                assert!(matches!(bus.ack(&d).await, Err(BusError::LeaseLost { .. })), "a second ack is refused");
                hello_seen = true;
            } else if lapse.is_none() {
                assert_eq!((d.payload.as_slice(), d.key.as_str(), d.attempts), (&b"lapse"[..], "7:bob", 1));
                lapse = Some(d);
            }
        }
    }
    let lapse = lapse.unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let again = bus.claim("herald.rt", 10, VISIBILITY).await.unwrap().pop().expect("lapsed claim comes back");
    assert_eq!(again.id, lapse.id);
    assert!(again.attempts >= 2, "a lapsed claim counts as an attempt");
    assert!(matches!(bus.ack(&lapse).await, Err(BusError::LeaseLost { .. })), "the lapsed claim's ack is refused");
    bus.ack(&again).await.unwrap();

    let big = vec![0u8; herald_bus::MAX_PAYLOAD_BYTES + 1];
    assert!(matches!(bus.publish("herald.rt", "k", &big).await, Err(BusError::PayloadTooLarge { .. })));
    close(bus).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_key_stays_in_order() {
    let mock = mock(&[("herald.order", 6)]);
    let bus = bus(&mock, "order");
    for i in 0..100 {
        bus.publish("herald.order", "3:carol", format!("{i}").as_bytes()).await.unwrap();
    }
    let got = claim_n(&bus, "herald.order", 100, GROUP_WAIT, true).await;
    let order: Vec<String> = got.iter().map(text).collect();
    let expected: Vec<String> = (0..100).map(|i| i.to_string()).collect();
    assert_eq!(order, expected);
    assert!(got.windows(2).all(|w| w[0].id < w[1].id), "one partition, rising offsets");
    close(bus).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_of_two_handles_each_message_once() {
    const TOPIC: &str = "herald.group";
    let mock = mock(&[(TOPIC, 6)]);
    let (a, b) = (bus(&mock, "workers"), bus(&mock, "workers"));
    // Both members claim (nothing yet) until the group settled with the partitions split.
    let started = Instant::now();
    loop {
        let (_, _) = tokio::join!(a.claim(TOPIC, 1, VISIBILITY), b.claim(TOPIC, 1, VISIBILITY));
        let (pa, pb) = (a.assigned_partitions(TOPIC), b.assigned_partitions(TOPIC));
        let all: BTreeSet<i32> = pa.iter().chain(&pb).copied().collect();
        if !pa.is_empty() && !pb.is_empty() && all.len() == 6 && pa.len() + pb.len() == 6 {
            break;
        }
        assert!(started.elapsed() < GROUP_WAIT, "group never split the partitions: {pa:?} {pb:?}");
    }

    let producer = bus(&mock, "producer");
    let payloads = (0..1000).map(|i| (format!("k{i}"), format!("m{i}"))).collect();
    publish_all(&producer, TOPIC, payloads).await.join_all().await;

    let member = |bus: Arc<KafkaBus>| async move {
        let started = Instant::now();
        let mut got = Vec::new();
        let mut idle_since = Instant::now();
        // Stop once the other member may have the rest: idle for 2 s after work started.
        while started.elapsed() < GROUP_WAIT && (got.is_empty() || idle_since.elapsed() < Duration::from_secs(2)) {
            let claimed = bus.claim(TOPIC, 100, VISIBILITY).await.expect("claim");
            if !claimed.is_empty() {
                idle_since = Instant::now();
            }
            for d in claimed {
                bus.ack(&d).await.expect("ack");
                got.push(text(&d));
            }
        }
        (bus, got)
    };
    let ((a, got_a), (b, got_b)) = tokio::join!(member(a), member(b));
    let set_a: HashSet<&String> = got_a.iter().collect();
    let set_b: HashSet<&String> = got_b.iter().collect();
    assert_eq!(set_a.len(), got_a.len(), "member A saw a message twice");
    assert_eq!(set_b.len(), got_b.len(), "member B saw a message twice");
    assert!(set_a.is_disjoint(&set_b), "a message was handled by both members");
    assert_eq!(set_a.len() + set_b.len(), 1000, "union is everything");
    assert!(!got_a.is_empty() && !got_b.is_empty(), "both members worked: {} / {}", got_a.len(), got_b.len());
    close(a).await;
    close(b).await;
    close(producer).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_members_unacked_messages_go_to_the_next() {
    const TOPIC: &str = "herald.crash";
    let mock = mock(&[(TOPIC, 6)]);
    let producer = bus(&mock, "producer");
    let payloads = (0..300).map(|i| (format!("k{}", i % 30), format!("m{i}"))).collect();
    publish_all(&producer, TOPIC, payloads).await.join_all().await;

    // A claims 60 and acks, per partition, the first half of what it got there.
    let a = bus(&mock, "crash");
    let claimed = claim_n(&a, TOPIC, 60, GROUP_WAIT, false).await;
    let mut by_partition: BTreeMap<i64, Vec<&BusClaim>> = BTreeMap::new();
    for d in &claimed {
        by_partition.entry(d.lease >> 40).or_default().push(d);
    }
    let mut acked = HashSet::new();
    let mut unacked = HashSet::new();
    for ds in by_partition.values_mut() {
        ds.sort_by_key(|d| d.id);
        let half = ds.len() / 2;
        for (i, d) in ds.iter().enumerate() {
            if i < half {
                a.ack(d).await.unwrap();
                acked.insert(text(d));
            } else {
                unacked.insert(text(d));
            }
        }
    }
    assert!(!acked.is_empty() && !unacked.is_empty());
    close(a).await; // dies without acking the rest

    let b = bus(&mock, "crash");
    let got = claim_n(&b, TOPIC, 300 - acked.len(), GROUP_WAIT, true).await;
    let extra = drain(&b, TOPIC, Duration::from_secs(1)).await;
    assert!(extra.is_empty(), "redelivered more than once: {:?}", extra.iter().map(text).collect::<Vec<_>>());
    let got: Vec<String> = got.iter().map(text).collect();
    let got_set: HashSet<String> = got.iter().cloned().collect();
    assert_eq!(got_set.len(), got.len(), "B saw a message twice");
    assert!(unacked.is_subset(&got_set), "A's unacked messages went to B");
    assert!(acked.is_disjoint(&got_set), "A's acked messages were not redelivered");
    let all: HashSet<String> = (0..300).map(|i| format!("m{i}")).collect();
    assert_eq!(got_set.union(&acked).cloned().collect::<HashSet<_>>(), all, "nothing lost");
    close(b).await;
    close(producer).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_never_skip_an_unacked_offset() {
    const TOPIC: &str = "herald.ooo";
    let mock = mock(&[(TOPIC, 1)]);
    let producer = bus(&mock, "producer");
    for i in 0..4 {
        producer.publish(TOPIC, "k", format!("m{i}").as_bytes()).await.unwrap();
    }

    let first = bus(&mock, "ooo");
    let got = claim_n(&first, TOPIC, 4, GROUP_WAIT, false).await;
    assert_eq!(got.iter().map(|d| d.id).collect::<Vec<_>>(), vec![0, 1, 2, 3]);
    for d in [&got[0], &got[2], &got[3]] {
        first.ack(d).await.unwrap();
    }
    let stats = first.stats(TOPIC).await.unwrap();
    assert_eq!(stats.in_flight, 1, "{stats:?}");
    close(first).await;

    let second = bus(&mock, "ooo");
    let got = claim_n(&second, TOPIC, 3, GROUP_WAIT, false).await;
    assert_eq!(got.iter().map(|d| d.id).collect::<Vec<_>>(), vec![1, 2, 3], "1 was never committed past");
    for d in [&got[2], &got[1], &got[0]] {
        second.ack(d).await.unwrap();
    }
    close(second).await;

    producer.publish(TOPIC, "k", b"sentinel").await.unwrap();
    let third = bus(&mock, "ooo");
    let got = claim_n(&third, TOPIC, 1, GROUP_WAIT, true).await;
    assert_eq!(got.iter().map(text).collect::<Vec<_>>(), vec!["sentinel"], "nothing acked came back");
    assert!(drain(&third, TOPIC, Duration::from_millis(500)).await.is_empty());
    assert_eq!(third.stats(TOPIC).await.unwrap().ready, 0);
    close(third).await;
    close(producer).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_count_attempts_honour_delays_and_dead_letter() {
    const TOPIC: &str = "herald.retry";
    let mock = mock(&[(TOPIC, 6)]);
    let bus = bus(&mock, "retry");
    bus.publish(TOPIC, "9:dave", b"flaky").await.unwrap();
    bus.publish(TOPIC, "9:erin", b"poison").await.unwrap();

    let got = claim_n(&bus, TOPIC, 2, GROUP_WAIT, false).await;
    let poison = got.iter().find(|d| d.payload == b"poison").unwrap();
    bus.dead_letter(poison, "undecodable").await.unwrap();
    let first = got.iter().find(|d| d.payload == b"flaky").unwrap();
    assert_eq!(first.attempts, 1);
    assert_eq!(bus.retry(first, "smtp 451", Duration::ZERO).await.unwrap(), RetryOutcome::Requeued);
    assert!(matches!(bus.ack(first).await, Err(BusError::LeaseLost { .. })), "the retried claim is settled");

    let second = claim_n(&bus, TOPIC, 1, Duration::from_secs(10), false).await.remove(0);
    assert_eq!((second.payload.as_slice(), second.key.as_str(), second.attempts), (&b"flaky"[..], "9:dave", 2));
    let delay = Duration::from_millis(1500);
    let retried_at = Instant::now();
    assert_eq!(bus.retry(&second, "smtp 451", delay).await.unwrap(), RetryOutcome::Requeued);

    // The copy arrives at once but is held until its not-before time.
    let third = claim_n(&bus, TOPIC, 1, Duration::from_secs(10), false).await.remove(0);
    assert!(retried_at.elapsed() >= delay, "handed out after {:?}", retried_at.elapsed());
    assert_eq!(third.attempts, 3);
    assert_eq!(bus.retry(&third, "smtp 550 final", delay).await.unwrap(), RetryOutcome::DeadLettered);
    assert!(drain(&bus, TOPIC, Duration::from_millis(500)).await.is_empty(), "nothing left on the topic");

    // Operators read dead letters with a group of their own.
    let reader = self::bus(&mock, "dead-readers");
    let dead = claim_n(&reader, "herald.retry.dead", 2, GROUP_WAIT, true).await;
    let mut dead: Vec<(String, u32)> = dead.iter().map(|d| (text(d), d.attempts)).collect();
    dead.sort();
    assert_eq!(dead, vec![("flaky".to_owned(), 3), ("poison".to_owned(), 1)]);
    assert_eq!(bus.stats(TOPIC).await.unwrap().dead, 2);

    // The dead letters carry their last error.
    let raw: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", mock.bootstrap_servers())
        .set("group.id", "inspect")
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", "6000")
        .create()
        .unwrap();
    raw.subscribe(&["herald.retry.dead"]).unwrap();
    let mut errors = BTreeMap::new();
    while errors.len() < 2 {
        let msg = tokio::time::timeout(GROUP_WAIT, raw.recv()).await.expect("dead letters").unwrap();
        let header = |name: &str| {
            msg.headers()
                .and_then(|h| h.iter().find(|h| h.key == name))
                .and_then(|h| h.value)
                .map(|v| String::from_utf8_lossy(v).into_owned())
        };
        let payload = String::from_utf8_lossy(msg.payload().unwrap()).into_owned();
        errors.insert(payload, (header(HEADER_ERROR), header(HEADER_ATTEMPTS)));
    }
    assert_eq!(errors["flaky"], (Some("smtp 550 final".to_owned()), Some("3".to_owned())));
    assert_eq!(errors["poison"], (Some("undecodable".to_owned()), Some("1".to_owned())));
    tokio::task::spawn_blocking(move || drop(raw)).await.unwrap();
    close(reader).await;
    close(bus).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_outage_delays_publishes_and_loses_nothing() {
    const TOPIC: &str = "herald.outage";
    let mock = mock(&[(TOPIC, 6)]);
    let producer = bus(&mock, "producer");
    producer.publish(TOPIC, "warm", b"warm-up").await.unwrap();

    for broker in 1..=3 {
        mock.broker_down(broker).unwrap();
    }
    let payloads = (0..200).map(|i| (format!("k{}", i % 20), format!("m{i}"))).collect();
    let mut publishes = publish_all(&producer, TOPIC, payloads).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(publishes.try_join_next().is_none(), "a publish returned while every broker was down");
    for broker in 1..=3 {
        mock.broker_up(broker).unwrap();
    }
    tokio::time::timeout(Duration::from_secs(60), publishes.join_all()).await.expect("publishes resume");

    let consumer = bus(&mock, "outage");
    let got = claim_n(&consumer, TOPIC, 201, GROUP_WAIT, true).await;
    let extra = drain(&consumer, TOPIC, Duration::from_secs(1)).await;
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for d in got.iter().chain(&extra) {
        *counts.entry(text(d)).or_default() += 1;
    }
    let doubled: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(doubled.is_empty(), "duplicates after the outage: {doubled:?}");
    assert_eq!(counts.len(), 201, "every message arrived");
    close(consumer).await;
    close(producer).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_producer_queue_is_back_pressure() {
    const TOPIC: &str = "herald.full";
    let mock = mock(&[(TOPIC, 6)]);
    let mut config = config(&mock, "full");
    config.producer.insert("queue.buffering.max.messages".into(), "5".into());
    let bus = Arc::new(KafkaBus::new(config).unwrap());
    let payloads = (0..500).map(|i| (format!("k{i}"), format!("m{i}"))).collect();
    publish_all(&bus, TOPIC, payloads).await.join_all().await;
    assert!(bus.queue_full_waits() > 0, "the queue never filled; the test proves nothing");
    let stats = bus.stats(TOPIC).await.unwrap();
    assert_eq!((stats.ready, stats.in_flight, stats.dead), (500, 0, 0));
    close(bus).await;
}

/// The reset alarms counted so far for `topic`, read from this test binary's metrics recorder.
fn offset_resets(topic: &str) -> u64 {
    static SNAPSHOTTER: std::sync::OnceLock<metrics_util::debugging::Snapshotter> = std::sync::OnceLock::new();
    let snapshotter = SNAPSHOTTER.get_or_init(|| {
        let recorder = metrics_util::debugging::DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        recorder.install().expect("the only metrics recorder in this test binary");
        snapshotter
    });
    let named = |key: &metrics_util::CompositeKey| {
        key.key().name() == "herald_bus_offset_resets_total" && key.key().labels().any(|l| l.value() == topic)
    };
    let counted = snapshotter.snapshot().into_vec().into_iter().find(|(key, ..)| named(key));
    match counted {
        Some((_, _, _, metrics_util::debugging::DebugValue::Counter(n))) => n,
        _ => 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_the_broker_deleted_unread_raise_the_reset_alarm_and_the_rest_arrive_once() {
    const TOPIC: &str = "herald.expired";
    offset_resets(TOPIC);
    let mock = mock(&[(TOPIC, 1)]);
    let producer = bus(&mock, "producer");
    producer.publish(TOPIC, "k", b"read").await.unwrap();
    let first = bus(&mock, "expired");
    assert_eq!(claim_n(&first, TOPIC, 1, GROUP_WAIT, true).await.iter().map(|d| d.id).collect::<Vec<_>>(), [0]);
    close(first).await;

    // With no member running, 7 MiB more arrive. The mock keeps 5 MiB of a partition's log
    // and deletes the oldest messages past that, as a broker's retention.bytes would: the
    // group's committed offset (1) is no longer on the broker.
    let big = vec![b'x'; 100 * 1024];
    for _ in 0..70 {
        producer.publish(TOPIC, "k", &big).await.unwrap();
    }
    let reader: rdkafka::consumer::BaseConsumer =
        ClientConfig::new().set("bootstrap.servers", mock.bootstrap_servers()).create().unwrap();
    let (low, high) = reader.fetch_watermarks(TOPIC, 0, Duration::from_secs(10)).unwrap();
    assert!(low > 1 && high == 71, "the mock deleted messages 1..{low} of {high}");
    assert_eq!(offset_resets(TOPIC), 0);

    // The next member reads from where the log starts now, each message once, and says what
    // was lost.
    let second = bus(&mock, "expired");
    let got = claim_n(&second, TOPIC, (high - low) as usize, GROUP_WAIT, true).await;
    assert_eq!(got.iter().map(|d| d.id).collect::<Vec<_>>(), (low..high).collect::<Vec<_>>());
    assert!(drain(&second, TOPIC, Duration::from_millis(500)).await.is_empty());
    assert_eq!(offset_resets(TOPIC), 1, "one reset alarm, for the one partition");
    close(second).await;
    close(producer).await;
}
