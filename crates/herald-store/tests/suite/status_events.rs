//! Status events in the store: its writes queue a message's final and receipt states and a
//! run's end for each endpoint that takes the type (a paused one too), once per event id; a
//! batch is claimed when ready and held from other claims, retried later, deleted on success,
//! and replayed from the trace under the same ids.

use super::*;
use herald_core::TraceEvent;
use herald_core::status_events::{Batching, EventType};
use herald_store::{EndpointSpec, ReplayWindow, StoreError, TraceEntry};

/// Row `row`'s outcome, with a detail to see carried into its event.
fn entry(run_id: i64, template_id: i64, row: u64, event: TraceEvent) -> TraceEntry {
    TraceEntry { detail: Some(format!("detail {row}")), ..outcome(run_id, template_id, row, event) }
}

fn endpoint(events: &[EventType], enabled: bool) -> EndpointSpec {
    EndpointSpec { name: "ops".into(), url: "https://example.com/e".into(), events: events.to_vec(), enabled }
}

pub async fn status_events_are_queued_claimed_retried_acknowledged_and_replayed(store: Arc<dyn Store>) {
    let now = t0();
    let all = store.create_event_endpoint(&endpoint(&EventType::ALL, true), "sealed-a", now).await.unwrap();
    let runs_only =
        store.create_event_endpoint(&endpoint(&[EventType::RunFinished], false), "sealed-b", now).await.unwrap();
    let crowd_id = crowd(&*store, 4, now).await;
    let template = store.create_template(&unscheduled(Some(crowd_id)), now).await.unwrap();
    let run = store.create_run(template.id, now).await.unwrap();
    let events = [TraceEvent::Sent, TraceEvent::Failed, TraceEvent::DroppedDedup, TraceEvent::Suppressed];
    let outcomes: Vec<TraceEntry> =
        events.iter().enumerate().map(|(n, e)| entry(run, template.id, n as u64 + 1, *e)).collect();
    store.record_outcomes(&outcomes, now).await.unwrap();
    store.record_outcomes(&outcomes, now).await.unwrap();
    let shown = |id| {
        let store = store.clone();
        async move { store.get_event_endpoint(id).await.unwrap() }
    };
    assert_eq!((shown(all).await.backlog, shown(runs_only).await.backlog), (3, 0), "sent, failed, suppressed once");
    assert_eq!(shown(all).await.oldest_waiting_at, Some(now));
    let targets: Vec<i64> = store.enabled_event_targets().await.unwrap().iter().map(|t| t.id).collect();
    assert_eq!(targets, [all], "a paused endpoint is not sent to");

    let b = Batching::default();
    let lease = |t: DateTime<Utc>| t + Duration::seconds(60);
    assert!(store.claim_status_events(all, "n1", now, lease(now), &b).await.unwrap().is_empty(), "waits for its batch");
    let later = now + Duration::seconds(10);
    let batch = store.claim_status_events(all, "n1", later, lease(later), &b).await.unwrap();
    let ids: Vec<&str> = batch.iter().map(|e| e.event_id.as_str()).collect();
    let message = |row: usize| outcomes[row - 1].message_id.to_string();
    let expected =
        [format!("{}.sent", message(1)), format!("{}.failed", message(2)), format!("{}.suppressed", message(4))];
    assert_eq!(ids, expected);
    assert_eq!((batch[0].kind.as_str(), batch[0].detail.as_deref()), ("message.sent", Some("detail 1")));
    assert_eq!((batch[0].receiver.as_deref(), batch[0].run_id, batch[0].at), (Some("user1"), Some(run), now));
    assert!(store.claim_status_events(all, "n2", later, lease(later), &b).await.unwrap().is_empty(), "held by n1");

    let keys: Vec<i64> = batch.iter().map(|e| e.id).collect();
    store
        .retry_status_events(all, "n1", &keys, later + Duration::seconds(10), "answered HTTP 500", later)
        .await
        .unwrap();
    assert_eq!(shown(all).await.last_error.as_deref(), Some("answered HTTP 500"));
    assert!(store.claim_status_events(all, "n2", later, lease(later), &b).await.unwrap().is_empty(), "not due yet");
    let retry_at = later + Duration::seconds(10);
    let again = store.claim_status_events(all, "n2", retry_at, lease(retry_at), &b).await.unwrap();
    assert_eq!(
        again.iter().map(|e| (e.event_id.clone(), e.attempts)).collect::<Vec<_>>(),
        expected.clone().map(|id| (id, 1))
    );
    store.acknowledge_status_events(all, "n1", &keys, retry_at).await.unwrap();
    assert_eq!(shown(all).await.backlog, 3, "n1 holds them no more: its acknowledgement deletes nothing");
    store.acknowledge_status_events(all, "n2", &keys, retry_at).await.unwrap();
    let done = shown(all).await;
    assert_eq!((done.backlog, done.last_success_at, done.last_error), (0, Some(retry_at), None));

    store.cancel_run(run, retry_at).await.unwrap();
    assert_eq!((shown(all).await.backlog, shown(runs_only).await.backlog), (1, 1), "the run's end, for both");
    let window = ReplayWindow { from: now - Duration::hours(1), to: now + Duration::hours(1), run_id: None };
    assert_eq!(store.replay_status_events(all, &window, retry_at).await.unwrap(), 3, "its end is waiting already");
    let other_run = ReplayWindow { run_id: Some(run + 1), ..window };
    assert_eq!(store.replay_status_events(all, &other_run, retry_at).await.unwrap(), 0);
    // They happened more than 10 s ago: they go at once.
    let replayed = store.claim_status_events(all, "n1", retry_at, lease(retry_at), &b).await.unwrap();
    let mut ids: Vec<String> = replayed.iter().map(|e| e.event_id.clone()).collect();
    ids.sort();
    let mut want = expected.to_vec();
    want.push(format!("run-{run}.finished"));
    want.sort();
    assert_eq!(ids, want, "the same ids as first sent");

    let mut change = endpoint(&[EventType::Sent], true);
    change.name = "renamed".into();
    store.update_event_endpoint(runs_only, &change).await.unwrap();
    let changed = shown(runs_only).await;
    assert_eq!(
        (changed.name.as_str(), changed.events.as_slice(), changed.enabled),
        ("renamed", &[EventType::Sent][..], true)
    );
    store.set_event_endpoint_secret(runs_only, "sealed-c").await.unwrap();
    let secret = store.enabled_event_targets().await.unwrap().into_iter().find(|t| t.id == runs_only).unwrap();
    assert_eq!(secret.secret_sealed, "sealed-c");
    store.delete_event_endpoint(all).await.unwrap();
    assert!(matches!(store.get_event_endpoint(all).await, Err(StoreError::NotFound { .. })));
    assert!(matches!(store.delete_event_endpoint(all).await, Err(StoreError::NotFound { .. })));
    assert!(matches!(store.update_event_endpoint(all, &change).await, Err(StoreError::NotFound { .. })));
    let listed: Vec<i64> = store.list_event_endpoints(0, 10).await.unwrap().iter().map(|e| e.id).collect();
    assert_eq!(listed, [runs_only]);
}

pub async fn retention_drops_status_events_that_waited_as_long_as_their_trace(store: Arc<dyn Store>) {
    let old = t0();
    let cut = old + Duration::days(30);
    let endpoint_id = store.create_event_endpoint(&endpoint(&EventType::ALL, true), "sealed", old).await.unwrap();
    let crowd_id = crowd(&*store, 2, old).await;
    let template = store.create_template(&unscheduled(Some(crowd_id)), old).await.unwrap();
    let run = store.create_run(template.id, old).await.unwrap();
    store.record_outcomes(&[entry(run, template.id, 1, TraceEvent::Sent)], old).await.unwrap();
    store.record_outcomes(&[entry(run, template.id, 2, TraceEvent::Sent)], cut).await.unwrap();
    assert_eq!(store.get_event_endpoint(endpoint_id).await.unwrap().backlog, 2, "the endpoint never answered");

    store.purge_before(cut, 1).await.unwrap();
    let shown = store.get_event_endpoint(endpoint_id).await.unwrap();
    assert_eq!((shown.backlog, shown.oldest_waiting_at), (1, Some(cut)), "the old one went with its trace");
}

pub async fn a_receipt_queues_its_state_once_for_the_endpoints_taking_it(store: Arc<dyn Store>) {
    use herald_core::receipt::ReceiptState;
    let now = t0();
    let delivered = store.create_event_endpoint(&endpoint(&[EventType::Delivered], true), "sealed-d", now).await;
    let sent_only = store.create_event_endpoint(&endpoint(&[EventType::Sent], true), "sealed-s", now).await;
    let (delivered, sent_only) = (delivered.unwrap(), sent_only.unwrap());
    let template = store.create_template(&unscheduled(None), now).await.unwrap();
    let sent = super::ledger::message("m-1", template.id, None, TraceEvent::Sent);
    store.record_outcomes(&[sent], now).await.unwrap();
    let receipt = |id: &str| by_id(id, ReceiptState::Delivered);
    let later = now + Duration::seconds(5);
    let tally = store.record_receipts(&[receipt("m-1"), receipt("m-1"), receipt("nobody")], later).await.unwrap();
    assert_eq!((tally.recorded, tally.repeated, tally.unmatched), (1, 1, 1));
    store.record_receipts(&[receipt("m-1")], later).await.unwrap();
    let backlog = |id| {
        let store = store.clone();
        async move { store.get_event_endpoint(id).await.unwrap().backlog }
    };
    assert_eq!((backlog(delivered).await, backlog(sent_only).await), (1, 1), "the receipt once, the send once");
    let due = later + Duration::seconds(60);
    let batch = store
        .claim_status_events(delivered, "n1", due, due + Duration::seconds(60), &Batching::default())
        .await
        .unwrap();
    let got: Vec<(&str, &str, DateTime<Utc>)> =
        batch.iter().map(|e| (e.event_id.as_str(), e.kind.as_str(), e.at)).collect();
    assert_eq!(got, [("m-1.delivered", "message.delivered", later)]);
}
