//! The consume pipeline on a real store: a redelivered batch sends nothing twice, a missing
//! placeholder fails the message for good, and passing faults become failures only on the
//! last attempt; a cancel stops a batch between sends, and a pause holds the rest of it until a
//! resume; a message taken over after a wait is claimed for a full claim time, so a second
//! handling of the batch does not send it again.

use async_trait::async_trait;
use chrono::{TimeZone, Utc};
use herald_channels::outbox::OutboxChannel;
use herald_channels::{Channel, Channels, OutgoingMessage, SendResult};
use herald_core::{
    Batch, BatchItem, ChannelKind, Clock, DeliveryJob, JobOrigin, Recipient, Screened, TemplateSpec, TestClock,
};
use herald_store::{
    ClaimRepo, CrowdRepo, DeferredRepo, LedgerRepo, LocalRates, RunRepo, SqliteStore, Store, TemplateRepo,
};
use herald_worker::{Attempt, BatchReport, Pipeline, PipelineParts, PolicyDefaults};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::task::JoinHandle;

async fn setup(channel: ChannelKind) -> (tempfile::TempDir, Arc<SqliteStore>, Arc<TestClock>, i64) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("h.sqlite")).await.unwrap());
    let clock = Arc::new(TestClock::new(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()));
    let content = if channel == ChannelKind::Webhook {
        json!({"url": "http://127.0.0.1:9/x", "text": "hi {$name}"})
    } else {
        json!({"text": "hi {$name}"})
    };
    let spec: TemplateSpec =
        serde_json::from_value(json!({"name": "t", "channel": channel, "content": content})).unwrap();
    let template = store.create_template(&spec, clock.now()).await.unwrap();
    (dir, store, clock, template.id)
}

fn pipeline(store: &Arc<SqliteStore>, channels: Channels, clock: Arc<TestClock>) -> Pipeline {
    Pipeline::new(PipelineParts {
        store: store.clone(),
        ledger: store.clone(),
        dedup: store.clone(),
        rates: Arc::new(LocalRates::default()),
        channels,
        clock,
        concurrency: 4,
        defaults: PolicyDefaults::default(),
        holder: "test".into(),
        claim_ttl: chrono::Duration::seconds(30),
    })
}

fn job(template_id: i64, people: &[(&str, Option<&str>)]) -> DeliveryJob {
    let items = people
        .iter()
        .enumerate()
        .map(|(i, (who, name))| BatchItem {
            variables: name.map(|n| [("name".to_string(), n.to_string())].into()).unwrap_or_default(),
            recipients: vec![Recipient {
                receiver: who.to_string(),
                message_id: herald_core::Installation::new("t").request("req", i, who),
            }],
        })
        .collect();
    DeliveryJob {
        template_id,
        origin: JobOrigin::Api { request_id: "req".into() },
        batch: Batch { items },
        released: false,
        admitted: false,
    }
}

#[tokio::test]
async fn a_redelivered_batch_sends_nothing_twice() {
    let (_dir, store, clock, id) = setup(ChannelKind::Outbox).await;
    let dyn_store: Arc<dyn Store> = store.clone();
    let channels = Channels::new().with(Arc::new(OutboxChannel::new(dyn_store.clone(), clock.clone())));
    let pipeline = pipeline(&store, channels, clock);
    let job = job(id, &[("a", Some("A")), ("b", Some("B")), ("c", None)]);

    let first = pipeline.handle(&job, Attempt::FIRST).await.unwrap();
    assert_eq!((first.sent, first.failed, first.skipped), (2, 1, 0));
    let again = pipeline.handle(&job, Attempt { number: 2, last: false }).await.unwrap();
    assert_eq!((again.sent, again.failed, again.skipped), (0, 0, 3), "every message was already final");
    assert_eq!(store.count_outbox(Some(id), None).await.unwrap(), 2);

    let failed = job.batch.items[2].recipients[0].message_id.clone();
    let trace = store.trace_of(failed.as_str()).await.unwrap();
    assert_eq!(trace.len(), 1);
    assert_eq!(trace[0].event, "failed");
    assert!(trace[0].detail.as_deref().unwrap().contains("{$name}"), "{trace:?}");
}

/// A channel that always reports a passing fault.
struct Flaky(AtomicUsize);

#[async_trait]
impl Channel for Flaky {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Webhook
    }
    async fn send(&self, _: &OutgoingMessage) -> SendResult {
        self.0.fetch_add(1, Ordering::SeqCst);
        SendResult::Retryable { reason: "HTTP 503".into(), after: None }
    }
}

#[tokio::test]
async fn passing_faults_are_retried_then_failed_on_the_last_attempt() {
    let (_dir, store, clock, id) = setup(ChannelKind::Webhook).await;
    let flaky = Arc::new(Flaky(AtomicUsize::new(0)));
    let pipeline = pipeline(&store, Channels::new().with(flaky.clone()), clock);
    let job = job(id, &[("a", Some("A"))]);
    let report = pipeline.handle(&job, Attempt::FIRST).await.unwrap();
    assert_eq!(report.retryable.len(), 1);
    assert_eq!(report.failed, 0);
    let report = pipeline.handle(&job, Attempt { number: 2, last: true }).await.unwrap();
    assert_eq!(report.failed, 1);
    let trace = store.trace_of(job.batch.items[0].recipients[0].message_id.as_str()).await.unwrap();
    let events: Vec<&str> = trace.iter().map(|t| t.event.as_str()).collect();
    assert_eq!(events, ["retrying", "failed"]);
    assert!(trace[1].detail.as_deref().unwrap().contains("gave up: HTTP 503"));
    assert_eq!(flaky.0.load(Ordering::SeqCst), 2);
}

/// Twenty requests for the same content to the same receiver, handled by two pipelines at once:
/// content dedup lets exactly `limit` through, whichever wins.
async fn racing_pipelines_respect_the_dedup_limit(dedup: Arc<dyn herald_store::DedupStore>) {
    let (_dir, store, clock, _) = setup(ChannelKind::Outbox).await;
    let spec: TemplateSpec = serde_json::from_value(json!({"name": "otp", "channel": "outbox",
        "content": {"text": "same words"}, "dedup": {"content": {"limit": 3, "windowSecs": 300}}}))
    .unwrap();
    let template = store.create_template(&spec, clock.now()).await.unwrap();
    let make = || {
        let dyn_store: Arc<dyn Store> = store.clone();
        let channels = Channels::new().with(Arc::new(OutboxChannel::new(dyn_store.clone(), clock.clone())));
        Arc::new(Pipeline::new(PipelineParts {
            store: dyn_store.clone(),
            ledger: dyn_store,
            dedup: dedup.clone(),
            rates: Arc::new(LocalRates::default()),
            channels,
            clock: clock.clone(),
            concurrency: 4,
            defaults: PolicyDefaults::default(),
            holder: "test".into(),
            claim_ttl: chrono::Duration::seconds(30),
        }))
    };
    let (a, b) = (make(), make());
    let mut tasks = Vec::new();
    for n in 0..20 {
        let pipeline = if n % 2 == 0 { a.clone() } else { b.clone() };
        let mut job = job(template.id, &[("13800000000", None)]);
        job.origin = JobOrigin::Api { request_id: format!("req-{n}") };
        job.batch.items[0].recipients[0].message_id =
            herald_core::Installation::new("t").request(&format!("req-{n}"), 0, "13800000000");
        tasks.push(tokio::spawn(async move { pipeline.handle(&job, Attempt::FIRST).await.unwrap() }));
    }
    let mut sent = 0;
    let mut dropped = 0;
    for task in tasks {
        let report = task.await.unwrap();
        sent += report.sent;
        dropped += report.dropped;
    }
    assert_eq!((sent, dropped), (3, 17));
    assert_eq!(store.count_outbox(Some(template.id), None).await.unwrap(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_pipelines_respect_the_dedup_limit_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let dedup = Arc::new(SqliteStore::open(&dir.path().join("dedup.sqlite")).await.unwrap());
    racing_pipelines_respect_the_dedup_limit(dedup).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_pipelines_respect_the_dedup_limit_on_redis() {
    let prefix = herald_testkit::redis::unique_prefix("racing-dedup");
    let _keys = herald_testkit::redis::PrefixGuard(prefix.clone());
    let url = herald_testkit::redis::redis_url();
    let dedup = herald_store::redis_dedup::RedisDedup::connect(herald_testkit::redis::client(), &prefix)
        .await
        .unwrap_or_else(|e| panic!("Redis at {url} is unreachable ({e}); scripts/test.sh starts it"));
    racing_pipelines_respect_the_dedup_limit(Arc::new(dedup)).await;
}

/// A provider that answers after 50 ms and counts what it got.
struct Slow(AtomicUsize);

#[async_trait]
impl Channel for Slow {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Webhook
    }
    async fn send(&self, _: &OutgoingMessage) -> SendResult {
        self.0.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        SendResult::Sent { detail: None }
    }
}

/// A run of 100 rows whose template (webhook) counts content dedup, and its one batch of 100.
async fn run_of_100(store: &Arc<SqliteStore>, clock: &TestClock) -> (i64, DeliveryJob) {
    let crowd = herald_store::Crowd {
        id: "c".repeat(32),
        original_name: "crowd.csv".into(),
        receiver_column: "userId".into(),
        columns: vec!["name".into()],
        rows: 100,
        valid_rows: 100,
        bad_rows: 0,
        size_bytes: 2_000,
        created_at: clock.now(),
    };
    store.insert_crowd(&crowd, "[]").await.unwrap();
    let content = json!({"url": "http://127.0.0.1:9/x", "text": "hi {$name}"});
    let spec: TemplateSpec = serde_json::from_value(json!({"name": "run", "channel": "webhook", "content": content,
        "crowdId": crowd.id, "dedup": {"content": {"limit": 1, "windowSecs": 300}}}))
    .unwrap();
    let template = store.create_template(&spec, clock.now()).await.unwrap();
    let run_id = store.create_run(template.id, clock.now()).await.unwrap();
    let items = (1..=100u64)
        .map(|row| BatchItem {
            variables: [("name".to_string(), format!("n{row}"))].into(),
            recipients: vec![Recipient { receiver: format!("r{row}"), message_id: row_id(run_id, row) }],
        })
        .collect();
    let job = DeliveryJob {
        template_id: template.id,
        origin: JobOrigin::Run { run_id },
        batch: Batch { items },
        released: false,
        admitted: false,
    };
    (run_id, job)
}

fn row_id(run_id: i64, row: u64) -> herald_core::MessageId {
    herald_core::Installation::new("t").run_row(run_id, row)
}

/// Starts handling `job` and waits until the provider has had 10 sends.
async fn ten_sends_into(pipeline: &Arc<Pipeline>, provider: &Slow, job: DeliveryJob) -> JoinHandle<BatchReport> {
    let handling = tokio::spawn({
        let pipeline = pipeline.clone();
        async move { pipeline.handle(&job, Attempt::FIRST).await.unwrap() }
    });
    while provider.0.load(Ordering::SeqCst) < 10 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    handling
}

/// A run's batch of 100 is being sent (4 at a time) when the run is cancelled: once the cancel
/// has been committed for `RUN_CONTROL_SEEN_WITHIN`, at most the 4 sends in flight reach the
/// provider, and every message not sent ends `cancelled`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_stops_a_batch_between_sends() {
    let (_dir, store, clock, _) = setup(ChannelKind::Webhook).await;
    let (run_id, job) = run_of_100(&store, &clock).await;
    let provider = Arc::new(Slow(AtomicUsize::new(0)));
    let pipeline = Arc::new(pipeline(&store, Channels::new().with(provider.clone()), clock.clone()));
    let handling = ten_sends_into(&pipeline, &provider, job).await;
    store.cancel_run(run_id, clock.now()).await.unwrap();
    tokio::time::sleep(herald_core::RUN_CONTROL_SEEN_WITHIN).await;
    let at_answer = provider.0.load(Ordering::SeqCst);
    let report = handling.await.unwrap();
    let sent = provider.0.load(Ordering::SeqCst);
    assert!(sent - at_answer <= 4, "{} sends after the cancel was seen", sent - at_answer);
    assert!(sent < 100, "the cancel stopped the batch");
    assert_eq!((report.sent, report.dropped, report.failed), (sent, 100 - sent, 0));
    let run = store.get_run(run_id).await.unwrap();
    assert_eq!((run.delivered, run.dropped), (sent as i64, 100 - sent as i64));
    let last = store.trace_of(row_id(run_id, 100).as_str()).await.unwrap();
    assert_eq!(last.iter().map(|t| t.event.as_str()).collect::<Vec<_>>(), ["cancelled"]);
}

/// The same batch, paused instead: at most the 4 sends in flight reach the provider after the
/// pause was seen, the rest are held as they passed every screen; resumed and released, each
/// held message is sent once, and content dedup (1 per 300 s) does not count them a second time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pause_holds_a_batch_between_sends_and_the_resume_sends_each_held_message_once() {
    let (_dir, store, clock, _) = setup(ChannelKind::Webhook).await;
    let (run_id, job) = run_of_100(&store, &clock).await;
    let provider = Arc::new(Slow(AtomicUsize::new(0)));
    let pipeline = Arc::new(pipeline(&store, Channels::new().with(provider.clone()), clock.clone()));
    let handling = ten_sends_into(&pipeline, &provider, job.clone()).await;
    store.pause_run(run_id, clock.now()).await.unwrap();
    tokio::time::sleep(herald_core::RUN_CONTROL_SEEN_WITHIN).await;
    let at_answer = provider.0.load(Ordering::SeqCst);
    let report = handling.await.unwrap();
    let sent = provider.0.load(Ordering::SeqCst);
    assert!(sent - at_answer <= 4, "{} sends after the pause was seen", sent - at_answer);
    assert_eq!((report.sent, report.held, report.dropped), (sent, 100 - sent, 0));
    assert_eq!(store.get_run(run_id).await.unwrap().held, 100 - sent as i64);

    store.resume_run(run_id, clock.now()).await.unwrap();
    // The release publishes them once every worker has seen the resume.
    tokio::time::sleep(herald_core::RUN_CONTROL_SEEN_WITHIN).await;
    let due_at = clock.now() + chrono::Duration::from_std(herald_core::RUN_CONTROL_SEEN_WITHIN).unwrap();
    let due = store.claim_deferred(due_at, 1_000, chrono::Duration::minutes(5)).await.unwrap();
    assert_eq!(due.len(), 100 - sent);
    assert!(due.iter().all(|d| d.screened == Screened::Fully));
    let (released, admitted) = Screened::Fully.job_flags();
    let items = due
        .iter()
        .map(|d| BatchItem {
            variables: d.variables.clone(),
            recipients: vec![Recipient { receiver: d.receiver.clone(), message_id: d.message_id.clone() }],
        })
        .collect();
    let release = DeliveryJob { batch: Batch { items }, released, admitted, ..job.clone() };
    let report = pipeline.handle(&release, Attempt::FIRST).await.unwrap();
    assert_eq!((report.sent, report.dropped), (100 - sent, 0), "sent as admitted, not deduped again");
    assert_eq!(provider.0.load(Ordering::SeqCst), 100, "each message reached the provider once");
    let again = pipeline.handle(&job, Attempt::FIRST).await.unwrap();
    assert_eq!((again.sent, again.skipped), (0, 100), "the original batch redelivered sends nothing");
    let run = store.get_run(run_id).await.unwrap();
    assert_eq!((run.delivered, run.held), (100, 0));
    let last = store.trace_of(row_id(run_id, 100).as_str()).await.unwrap();
    assert_eq!(last.iter().map(|t| t.event.as_str()).collect::<Vec<_>>(), ["paused", "sent"]);
}

/// A provider that counts what each receiver got and holds each send until the test opens its
/// gate: `a5` at level 2, `c` at level 3, the others at level 1.
struct Gated {
    arrivals: std::sync::Mutex<Vec<String>>,
    level: tokio::sync::watch::Sender<u8>,
}

impl Gated {
    fn arrived(&self) -> Vec<String> {
        self.arrivals.lock().unwrap().clone()
    }

    async fn until_arrived(&self, count: usize) {
        while self.arrived().len() < count {
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
    }
}

#[async_trait]
impl Channel for Gated {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Webhook
    }
    async fn send(&self, message: &OutgoingMessage) -> SendResult {
        self.arrivals.lock().unwrap().push(message.receiver.clone());
        let needs = match message.receiver.as_str() {
            "a5" => 2,
            "c" => 3,
            _ => 1,
        };
        let _ = self.level.subscribe().wait_for(|level| *level >= needs).await;
        SendResult::Sent { detail: None }
    }
}

/// A handling waits for a message another holder has; by the time that claim lapses and this
/// handling takes the message over, it has extended its first claims past where a claim made at
/// its start would end. The message's claim must still last a claim's time from the takeover:
/// a second handling of the same batch meanwhile waits instead of sending it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_taken_over_after_a_wait_is_claimed_for_a_full_claim_time() {
    let (_dir, store, clock, id) = setup(ChannelKind::Webhook).await;
    let start = clock.now();
    let provider = Arc::new(Gated { arrivals: Default::default(), level: tokio::sync::watch::channel(0).0 });
    let ttl = chrono::Duration::seconds(3);
    let make = |holder: &str| {
        Arc::new(Pipeline::new(PipelineParts {
            store: store.clone(),
            ledger: store.clone(),
            dedup: store.clone(),
            rates: Arc::new(LocalRates::default()),
            channels: Channels::new().with(provider.clone()),
            clock: clock.clone(),
            concurrency: 4,
            defaults: PolicyDefaults::default(),
            holder: holder.into(),
            claim_ttl: ttl,
        }))
    };
    let people = ["a1", "a2", "a3", "a4", "a5", "c"].map(|who| (who, Some("N")));
    let job = job(id, &people);
    let c = job.batch.items[5].recipients[0].message_id.clone();
    let other = herald_store::SendClaim { holder: "other".into(), token: 7, until: start + ttl * 9 / 10 };
    let taken = store.claim_sends(std::slice::from_ref(&c), &other, start).await.unwrap();
    assert_eq!(taken.claimed.len(), 1);

    let first = tokio::spawn({
        let (pipeline, job) = (make("first"), job.clone());
        async move { pipeline.handle(&job, Attempt::FIRST).await.unwrap() }
    });
    provider.until_arrived(4).await;
    // Late in its claims' time: a5's send extends them first.
    clock.set(start + ttl * 5 / 6);
    provider.level.send_replace(1);
    provider.until_arrived(5).await;
    // Past the other holder's claim on c and past a claim made at the handling's start.
    clock.set(start + ttl * 4 / 3);
    provider.level.send_replace(2);
    provider.until_arrived(6).await;
    assert_eq!(provider.arrived().last().map(String::as_str), Some("c"));

    let second = tokio::spawn({
        let (pipeline, job) = (make("second"), job.clone());
        async move { pipeline.handle(&job, Attempt::FIRST).await.unwrap() }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let c_sends = provider.arrived().iter().filter(|r| *r == "c").count();
    provider.level.send_replace(3);
    assert_eq!(c_sends, 1, "the second handling sent c while the first was sending it");
    let (first, second) = (first.await.unwrap(), second.await.unwrap());
    assert_eq!((first.sent, second.sent, second.skipped), (6, 0, 6));
    assert_eq!(provider.arrived().len(), 6, "each message reached the provider once");
}
