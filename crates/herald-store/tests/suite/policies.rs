//! Send-time policy state: the discard list, channel rates, deferred messages, message states,
//! run and template-day state counts, failure reasons ranked, and retention.

use super::*;
use herald_core::{MessageId, TraceEvent};
use herald_store::{DeferredMessage, DeliveryScope, MessageFilter, OutboxEntry, OutboxFilter, StoreError, TraceEntry};
use serde_json::json;
use std::collections::BTreeMap;

pub async fn the_discard_list(store: Arc<dyn Store>) {
    let now = t0();
    let first = store.create_template(&unscheduled(None), now).await.unwrap();
    let second = store.create_template(&unscheduled(None), now).await.unwrap();
    assert!(store.discarded().await.unwrap().is_empty());
    assert!(!store.is_discarded(first.id).await.unwrap());
    assert!(matches!(store.discard_template(9999, None, now).await, Err(StoreError::NotFound { .. })));

    store.discard_template(second.id, Some("spamming"), now).await.unwrap();
    store.discard_template(first.id, None, now + Duration::seconds(1)).await.unwrap();
    // Discarding again takes the new reason and keeps the time it has been discarded since.
    store.discard_template(second.id, Some("still spamming"), now + Duration::seconds(2)).await.unwrap();
    let list: Vec<(i64, Option<String>, DateTime<Utc>)> =
        store.discarded().await.unwrap().into_iter().map(|d| (d.template_id, d.reason, d.since)).collect();
    assert_eq!(
        list,
        [(first.id, None, now + Duration::seconds(1)), (second.id, Some("still spamming".into()), now)],
        "by template id"
    );
    assert!(store.is_discarded(first.id).await.unwrap() && store.is_discarded(second.id).await.unwrap());
    assert!(!store.is_discarded(9999).await.unwrap());

    store.undiscard_template(first.id).await.unwrap();
    store.undiscard_template(first.id).await.unwrap();
    store.undiscard_template(9999).await.unwrap();
    assert!(!store.is_discarded(first.id).await.unwrap());
    // A deleted template leaves the list.
    store.delete_template(second.id, t0()).await.unwrap();
    assert!(store.discarded().await.unwrap().is_empty());
}

pub async fn channel_rates_are_set_replaced_and_cleared(store: Arc<dyn Store>) {
    let now = t0();
    assert!(store.channel_rates().await.unwrap().is_empty());
    store.set_channel_rate(ChannelKind::Webhook, Some(5.0), now).await.unwrap();
    store.set_channel_rate(ChannelKind::Email, Some(0.5), now).await.unwrap();
    store.set_channel_rate(ChannelKind::Webhook, Some(7.5), now + Duration::minutes(1)).await.unwrap();
    store.set_channel_rate(ChannelKind::Sms, Some(20.0), now).await.unwrap();
    let rates: Vec<(ChannelKind, f64, DateTime<Utc>)> = store
        .channel_rates()
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.channel, r.rate_per_second, r.updated_at))
        .collect();
    assert_eq!(
        rates,
        [
            (ChannelKind::Email, 0.5, now),
            (ChannelKind::Sms, 20.0, now),
            (ChannelKind::Webhook, 7.5, now + Duration::minutes(1)),
        ],
        "by channel name"
    );
    store.set_channel_rate(ChannelKind::Sms, None, now).await.unwrap();
    store.set_channel_rate(ChannelKind::Outbox, None, now).await.unwrap();
    let channels: Vec<ChannelKind> = store.channel_rates().await.unwrap().into_iter().map(|r| r.channel).collect();
    assert_eq!(channels, [ChannelKind::Email, ChannelKind::Webhook]);
}

fn deferred(id: &str, template_id: i64, run_id: Option<i64>, release_at: DateTime<Utc>) -> DeferredMessage {
    DeferredMessage {
        seq: 0,
        message_id: MessageId(id.into()),
        template_id,
        run_id,
        receiver: format!("to-{id}"),
        variables: BTreeMap::from([
            ("name".to_string(), format!("name of {id}")),
            ("city".to_string(), "Hangzhou".to_string()),
        ]),
        position: 0,
        release_at,
        screened: herald_core::Screened::QuietHours,
    }
}

fn ids(messages: &[DeferredMessage]) -> Vec<&str> {
    messages.iter().map(|m| m.message_id.as_str()).collect()
}

pub async fn deferred_messages_are_held_once_and_released_in_order(store: Arc<dyn Store>) {
    let now = t0();
    let (template_id, run_id) = published_run(&*store, 10, now).await;
    let morning = now + Duration::hours(8);
    let noon = now + Duration::hours(12);
    // Ids out of their input order: release follows the order of deferral, not the ids.
    let batch = [
        deferred("m-c", template_id, Some(run_id), morning),
        deferred("m-a", template_id, Some(run_id), noon),
        deferred("m-b", template_id, Some(run_id), morning),
    ];
    store.defer_messages(&batch, now).await.unwrap();
    store.defer_messages(&[], now).await.unwrap();
    // Redelivered, overlapping: m-a is held already; m-d is new; a message twice counts once.
    let again = [
        deferred("m-a", template_id, Some(run_id), morning),
        deferred("m-d", template_id, Some(run_id), morning),
        deferred("m-d", template_id, Some(run_id), noon),
        deferred("api-1", template_id, None, morning),
    ];
    store.defer_messages(&again, now + Duration::seconds(1)).await.unwrap();

    let trace = store.trace_of("m-a").await.unwrap();
    assert_eq!(trace.len(), 1, "traced as deferred once: {trace:?}");
    assert_eq!((trace[0].event.as_str(), trace[0].at), ("deferred", now));
    assert_eq!(trace[0].detail, Some(format!("quiet hours: released at {}", noon.to_rfc3339())));
    assert_eq!((trace[0].run_id, trace[0].receiver.as_str()), (Some(run_id), "to-m-a"));
    assert_eq!(store.trace_of("m-d").await.unwrap().len(), 1);

    let run = store.get_run(run_id).await.unwrap();
    assert_eq!((run.deferred, run.delivered, run.dropped), (4, 0, 0));
    assert_eq!(store.run_state_counts(run_id).await.unwrap(), [("deferred".to_string(), 4)]);

    assert!(store.due_deferred(morning - Duration::seconds(1), 100).await.unwrap().is_empty());
    let due = store.due_deferred(morning, 100).await.unwrap();
    assert_eq!(ids(&due), ["m-c", "m-b", "m-d", "api-1"], "in the order they were deferred");
    assert!(due.windows(2).all(|w| w[0].seq < w[1].seq));
    let first = &due[0];
    assert_eq!((first.template_id, first.run_id, first.receiver.as_str()), (template_id, Some(run_id), "to-m-c"));
    assert_eq!(first.release_at, morning);
    assert_eq!(first.variables, batch[0].variables);
    assert_eq!(due[2].release_at, morning, "m-d as first given");
    assert_eq!(due[3].run_id, None);
    assert_eq!(ids(&store.due_deferred(morning, 2).await.unwrap()), ["m-c", "m-b"]);
    // By release time, then run (API messages last), row position and deferral order.
    assert_eq!(ids(&store.due_deferred(noon, 100).await.unwrap()), ["m-c", "m-b", "m-d", "api-1", "m-a"]);

    // Released and published: forgotten.
    store.remove_deferred(&[due[0].seq, due[1].seq]).await.unwrap();
    store.remove_deferred(&[]).await.unwrap();
    store.remove_deferred(&[due[0].seq, 999_999]).await.unwrap();
    assert_eq!(ids(&store.due_deferred(noon, 100).await.unwrap()), ["m-d", "api-1", "m-a"]);
    assert_eq!(store.get_run(run_id).await.unwrap().deferred, 2);

    // A release claims what it publishes: another release takes only the rest, and nothing
    // more until the first one's lease lapses.
    let lease = Duration::minutes(5);
    assert!(store.claim_deferred(morning - Duration::seconds(1), 100, lease).await.unwrap().is_empty());
    assert_eq!(ids(&store.claim_deferred(noon, 2, lease).await.unwrap()), ["m-d", "api-1"]);
    assert_eq!(ids(&store.claim_deferred(noon, 100, lease).await.unwrap()), ["m-a"]);
    assert!(store.claim_deferred(noon + Duration::minutes(4), 100, lease).await.unwrap().is_empty());
    let lapsed = store.claim_deferred(noon + lease, 100, lease).await.unwrap();
    assert_eq!(ids(&lapsed), ["m-d", "api-1", "m-a"], "a dead release's messages are claimable again");
    assert_eq!(ids(&store.due_deferred(noon, 100).await.unwrap()), ["m-d", "api-1", "m-a"], "claims hide nothing");
}

pub async fn message_states_filter_by_receiver_template_run_and_time(store: Arc<dyn Store>) {
    let now = t0();
    let (template_a, run_a) = published_run(&*store, 10, now).await;
    let (template_b, run_b) = published_run(&*store, 10, now).await;
    let at = |minutes| now + Duration::minutes(minutes);
    let to = |id: &str, template, run, receiver: &str, event| {
        let mut o = message(id, template, run, event);
        o.receiver = receiver.into();
        o
    };
    store
        .record_outcomes(
            &[
                to("a1", template_a, Some(run_a), "alice", TraceEvent::Sent),
                to("a2", template_a, Some(run_a), "bob", TraceEvent::Failed),
            ],
            at(1),
        )
        .await
        .unwrap();
    store
        .record_outcomes(&[to("a3", template_a, Some(run_a), "alice", TraceEvent::DroppedQuietHours)], at(2))
        .await
        .unwrap();
    store
        .record_outcomes(
            &[
                to("b2", template_b, Some(run_b), "alice", TraceEvent::Discarded),
                to("b1", template_b, Some(run_b), "carol", TraceEvent::Sent),
                to("api", template_b, None, "alice", TraceEvent::DroppedDedup),
            ],
            at(3),
        )
        .await
        .unwrap();

    let query = |filter: MessageFilter| {
        let store = store.clone();
        async move {
            let states = store.message_states(&filter).await.unwrap();
            states.into_iter().map(|s| s.message_id).collect::<Vec<_>>()
        }
    };
    let all = MessageFilter { limit: 100, ..Default::default() };
    assert_eq!(query(all.clone()).await, ["api", "b1", "b2", "a3", "a1", "a2"], "newest first, then by id");
    assert_eq!(query(MessageFilter { limit: 2, ..all.clone() }).await, ["api", "b1"]);
    assert_eq!(query(MessageFilter { receiver: Some("alice".into()), ..all.clone() }).await, ["api", "b2", "a3", "a1"]);
    assert_eq!(query(MessageFilter { template_id: Some(template_a), ..all.clone() }).await, ["a3", "a1", "a2"]);
    assert_eq!(query(MessageFilter { run_id: Some(run_b), ..all.clone() }).await, ["b1", "b2"]);
    // From is inclusive, to exclusive.
    assert_eq!(query(MessageFilter { from: Some(at(2)), ..all.clone() }).await, ["api", "b1", "b2", "a3"]);
    assert_eq!(query(MessageFilter { to: Some(at(2)), ..all.clone() }).await, ["a1", "a2"]);
    assert_eq!(query(MessageFilter { from: Some(at(2)), to: Some(at(3)), ..all.clone() }).await, ["a3"]);
    assert_eq!(query(MessageFilter { state: Some("failed".into()), ..all.clone() }).await, ["a2"]);
    assert_eq!(query(MessageFilter { state: Some("sent".into()), ..all.clone() }).await, ["b1", "a1"]);
    assert_eq!(query(MessageFilter { offset: 4, ..all.clone() }).await, ["a1", "a2"], "a page further on");
    let mixed = MessageFilter {
        receiver: Some("alice".into()),
        template_id: Some(template_b),
        from: Some(at(3)),
        ..all.clone()
    };
    assert_eq!(query(mixed).await, ["api", "b2"]);
    assert!(query(MessageFilter { receiver: Some("nobody".into()), ..all.clone() }).await.is_empty());

    let states = store.message_states(&MessageFilter { template_id: Some(template_a), ..all }).await.unwrap();
    let a2 = states.iter().find(|s| s.message_id == "a2").unwrap();
    assert_eq!((a2.template_id, a2.run_id, a2.receiver.as_str()), (template_a, Some(run_a), "bob"));
    assert_eq!((a2.state.as_str(), a2.detail.as_deref(), a2.at), ("failed", Some("mailbox full"), at(1)));
    let a3 = states.iter().find(|s| s.message_id == "a3").unwrap();
    assert_eq!((a3.state.as_str(), a3.detail.as_deref()), ("dropped_quiet_hours", None));
}

pub async fn run_state_counts_count_every_final_state(store: Arc<dyn Store>) {
    let now = t0();
    let (template_id, run_id) = published_run(&*store, 10, now).await;
    let (_, other_run) = published_run(&*store, 10, now).await;
    assert!(store.run_state_counts(run_id).await.unwrap().is_empty());
    let events = [
        ("m1", TraceEvent::Sent),
        ("m2", TraceEvent::Sent),
        ("m3", TraceEvent::Failed),
        ("m4", TraceEvent::DroppedQuietHours),
        ("m5", TraceEvent::DroppedDedup),
        ("m6", TraceEvent::DroppedDedup),
        ("m7", TraceEvent::Discarded),
    ];
    let outcomes: Vec<_> = events.iter().map(|(id, e)| message(id, template_id, Some(run_id), *e)).collect();
    store.record_outcomes(&outcomes, now).await.unwrap();
    store.record_outcomes(&[message("o1", template_id, Some(other_run), TraceEvent::Sent)], now).await.unwrap();
    store.defer_messages(&[deferred("m8", template_id, Some(run_id), now + Duration::hours(1))], now).await.unwrap();
    let counts = store.run_state_counts(run_id).await.unwrap();
    let expected: Vec<(String, i64)> = [
        ("discarded", 1),
        ("dropped_dedup", 2),
        ("dropped_quiet_hours", 1),
        ("failed", 1),
        ("sent", 2),
        ("deferred", 1),
    ]
    .iter()
    .map(|(s, n)| (s.to_string(), *n))
    .collect();
    assert_eq!(counts, expected, "final states by name, then the deferred");
    assert_eq!(store.run_state_counts(other_run).await.unwrap(), [("sent".to_string(), 1)]);
    assert!(store.run_state_counts(9999).await.unwrap().is_empty());
}

pub async fn a_templates_day_is_counted_and_its_failures_ranked(store: Arc<dyn Store>) {
    let now = t0();
    let (template_id, run_id) = published_run(&*store, 10, now).await;
    let failed = |id: &str, reason: &str| TraceEntry {
        detail: Some(reason.to_string()),
        ..message(id, template_id, Some(run_id), TraceEvent::Failed)
    };
    let today = [
        failed("f1", "HTTP 500"),
        failed("f2", "HTTP 500"),
        failed("f3", "HTTP 500"),
        failed("f4", "bad number"),
        failed("f5", "a blocked receiver"),
        message("s1", template_id, Some(run_id), TraceEvent::Sent),
        message("t1", template_id, None, TraceEvent::TestSkipped),
    ];
    store.record_outcomes(&today, now).await.unwrap();
    let tomorrow = now + Duration::days(1);
    store.record_outcomes(&[failed("f6", "bad number")], tomorrow).await.unwrap();
    store.defer_messages(&[deferred("d1", template_id, None, now + Duration::hours(1))], now).await.unwrap();

    let day = DeliveryScope::TemplateBetween { template_id, from: now, to: now + Duration::days(1) };
    let counts = store.state_counts(day).await.unwrap();
    let named = |pairs: &[(&str, i64)]| pairs.iter().map(|(s, n)| (s.to_string(), *n)).collect::<Vec<_>>();
    assert_eq!(counts, named(&[("failed", 5), ("sent", 1), ("test_skipped", 1), ("deferred", 1)]), "/send too");
    let ranked = store.failure_reasons(day, 2).await.unwrap();
    assert_eq!(ranked, named(&[("HTTP 500", 3), ("a blocked receiver", 1)]), "most first, ties by reason, limited");
    let run = store.failure_reasons(DeliveryScope::Run(run_id), 10).await.unwrap();
    assert_eq!(run, named(&[("HTTP 500", 3), ("bad number", 2), ("a blocked receiver", 1)]), "every day of the run");
    let other = DeliveryScope::TemplateBetween { template_id: template_id + 1, from: now, to: tomorrow };
    assert!(store.state_counts(other).await.unwrap().is_empty());
}

fn outbox(id: &str, delivered_at: DateTime<Utc>) -> OutboxEntry {
    OutboxEntry {
        id: 0,
        message_id: id.into(),
        template_id: 1,
        run_id: None,
        receiver: format!("to-{id}"),
        content: json!({"text": id}),
        delivered_at,
    }
}

pub async fn purge_before_deletes_old_rows_in_batches(store: Arc<dyn Store>) {
    let old = t0();
    let cut = old + Duration::days(30);
    let new = cut + Duration::seconds(1);
    let template_id = store.create_template(&unscheduled(None), old).await.unwrap().id;
    let msg = |id: &str, event| message(id, template_id, None, event);
    // Old: 5 messages, each accepted and final (10 trace rows, 5 ledger rows, 5 outbox rows).
    let old_ids = ["o1", "o2", "o3", "o4", "o5"];
    store.record_trace(&old_ids.map(|id| msg(id, TraceEvent::Accepted)), old).await.unwrap();
    store.record_outcomes(&old_ids.map(|id| msg(id, TraceEvent::Sent)), old).await.unwrap();
    store.insert_outbox(&old_ids.map(|id| outbox(id, old))).await.unwrap();
    // New: 2 messages, one at exactly the cut (kept: only rows before it go).
    store.record_trace(&[msg("n1", TraceEvent::Accepted)], cut).await.unwrap();
    store.record_outcomes(&[msg("n1", TraceEvent::Sent), msg("n2", TraceEvent::Failed)], new).await.unwrap();
    store.insert_outbox(&[outbox("n1", cut), outbox("n2", new)]).await.unwrap();
    // The send API's requests by business id: 4 old, one new.
    let request = |receiver: &str, message_id: &str| herald_store::RequestedSend {
        template_id,
        biz_id: "order-1".into(),
        receiver: receiver.into(),
        message_id: message_id.into(),
    };
    let requests = [("r1", "o1"), ("r2", "o2"), ("r3", "o3"), ("r4", "o4"), ("r5", "n1")].map(|(r, id)| request(r, id));
    store.remember_sends(&requests[..4], old, old).await.unwrap();
    store.remember_sends(&requests[4..], cut, cut).await.unwrap();

    assert_eq!(store.purge_before(cut, 3).await.unwrap(), 10 + 5 + 5 + 4);
    let again: Vec<_> =
        ["x1", "x2", "x3", "x4", "x5"].iter().zip(&requests).map(|(id, r)| request(&r.receiver, id)).collect();
    let standing = store.remember_sends(&again, old, cut).await.unwrap();
    assert_eq!(standing, ["x1", "x2", "x3", "x4", "n1"], "the old requests are forgotten, the new one stands");
    assert_eq!(store.purge_before(cut, 3).await.unwrap(), 0, "nothing left to purge");
    assert!(store.trace_of("o1").await.unwrap().is_empty());
    let events: Vec<String> = store.trace_of("n1").await.unwrap().into_iter().map(|t| t.event).collect();
    assert_eq!(events, ["accepted", "sent"]);
    let states: Vec<String> = store
        .message_states(&MessageFilter { limit: 100, ..Default::default() })
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.message_id)
        .collect();
    assert_eq!(states, ["n1", "n2"]);
    let ids: Vec<MessageId> = ["o1", "n1"].iter().map(|s| MessageId(s.to_string())).collect();
    assert_eq!(store.finished_messages(&ids).await.unwrap(), [MessageId("n1".into())]);
    let outbox: Vec<String> = store
        .list_outbox(&OutboxFilter { limit: 100, ..Default::default() })
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.message_id)
        .collect();
    assert_eq!(outbox, ["n1", "n2"]);

    // A batch exactly the size of what is left still finishes.
    assert_eq!(store.purge_before(new + Duration::seconds(1), 2).await.unwrap(), 3 + 2 + 2 + 5);
    assert_eq!(store.count_outbox(None, None).await.unwrap(), 0);
}

pub async fn purge_before_with_a_batch_below_one_still_ends(store: Arc<dyn Store>) {
    let old = t0();
    let cut = old + Duration::days(30);
    let template_id = store.create_template(&unscheduled(None), old).await.unwrap().id;
    let ids = ["o1", "o2", "o3"];
    store.record_outcomes(&ids.map(|id| message(id, template_id, None, TraceEvent::Sent)), old).await.unwrap();
    store.insert_outbox(&ids.map(|id| outbox(id, old))).await.unwrap();
    for batch in [0, -5] {
        // A batch that deletes nothing per statement would loop for ever: it is read as one.
        let purged = tokio::time::timeout(std::time::Duration::from_secs(10), store.purge_before(cut, batch))
            .await
            .unwrap_or_else(|_| panic!("purge_before with batch {batch} did not end"))
            .unwrap();
        assert_eq!(purged, if batch == 0 { 3 + 3 + 3 } else { 0 }, "batch {batch}");
    }
    assert_eq!(store.count_outbox(None, None).await.unwrap(), 0);
}

pub async fn text_sorts_byte_by_byte_on_both_backends(store: Arc<dyn Store>) {
    let now = t0();
    let template_id = store.create_template(&unscheduled(None), now).await.unwrap().id;
    // Byte order puts upper case before `_` before lower case; a locale's collation would not.
    let ids = ["b-2", "_x", "B-1", "a-1", "A-2"];
    store.record_outcomes(&ids.map(|id| message(id, template_id, None, TraceEvent::Sent)), now).await.unwrap();
    let states: Vec<String> = store
        .message_states(&MessageFilter { limit: 100, ..Default::default() })
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.message_id)
        .collect();
    assert_eq!(states, ["A-2", "B-1", "_x", "a-1", "b-2"], "same time: by message id, byte by byte");
}
