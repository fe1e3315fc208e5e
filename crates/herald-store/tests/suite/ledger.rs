//! The delivery ledger, the trace and the outbox.

use super::*;
use herald_core::{Installation, MessageId, RunStatus, TraceEvent};
use herald_store::{AcceptedRows, OutboxEntry, OutboxFilter, StoreError, StreamStep, TraceEntry, TraceRecord};
use serde_json::json;

pub fn message(id: &str, template_id: i64, run_id: Option<i64>, event: TraceEvent) -> TraceEntry {
    TraceEntry {
        message_id: MessageId(id.to_string()),
        template_id,
        run_id,
        receiver: format!("to-{id}"),
        event,
        detail: (event == TraceEvent::Failed).then(|| "mailbox full".to_string()),
    }
}

/// A published run of `rows` rows, ready to be counted into.
pub async fn published_run(store: &dyn Store, rows: i64, now: DateTime<Utc>) -> (i64, i64) {
    let crowd_id = crowd(store, rows, now).await;
    let template = store.create_template(&unscheduled(Some(crowd_id)), now).await.unwrap();
    let run_id = store.create_run(template.id, now).await.unwrap();
    assert_eq!(super::plan_next_run(store, 1, now).await, run_id);
    let lease = store.lease_shard(&format!("streamer-{run_id}"), now, Duration::minutes(5)).await.unwrap().unwrap();
    assert_eq!(lease.run_id, run_id);
    let step = StreamStep { checkpoint: json!({"row": rows}), rows_read: rows, rows_invalid: 0, batches: 1 };
    assert!(store.checkpoint_shard(&lease, &step, now, Duration::minutes(5)).await.unwrap());
    store.finish_shard(&lease, now).await.unwrap();
    (template.id, run_id)
}

pub async fn record_outcomes_is_idempotent_and_counts_once(store: Arc<dyn Store>) {
    let now = t0();
    let (template_id, run_id) = published_run(&*store, 4, now).await;
    let batch = vec![
        message("m1", template_id, Some(run_id), TraceEvent::Sent),
        message("m2", template_id, Some(run_id), TraceEvent::Failed),
        message("api-1", template_id, None, TraceEvent::Sent),
    ];
    assert_eq!(store.record_outcomes(&batch, now).await.unwrap(), 3);
    assert_eq!(store.record_outcomes(&batch, now).await.unwrap(), 0, "a redelivered batch is harmless");
    // A batch overlapping the ledger counts only its new messages; a message twice in one
    // batch counts once, with its first outcome.
    let overlapping = vec![
        message("m2", template_id, Some(run_id), TraceEvent::Sent),
        message("m3", template_id, Some(run_id), TraceEvent::Sent),
        message("m3", template_id, Some(run_id), TraceEvent::Failed),
    ];
    assert_eq!(store.record_outcomes(&overlapping, now).await.unwrap(), 1);
    let run = store.get_run(run_id).await.unwrap();
    assert_eq!((run.delivered, run.failed, run.status), (2, 1, RunStatus::Published));
    assert_eq!(store.trace_of("m3").await.unwrap().iter().map(|t| t.event.as_str()).collect::<Vec<_>>(), ["sent"]);

    let not_final = [message("m4", template_id, Some(run_id), TraceEvent::Retrying)];
    assert!(matches!(store.record_outcomes(&not_final, now).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.record_outcomes(&[], now).await.unwrap(), 0);
    store.record_outcomes(&[message("m4", template_id, Some(run_id), TraceEvent::Failed)], now).await.unwrap();
    let run = store.get_run(run_id).await.unwrap();
    assert_eq!((run.delivered, run.failed, run.status), (2, 2, RunStatus::Completed));

    let ids: Vec<MessageId> = ["m1", "m4", "nope", "api-1"].iter().map(|s| MessageId(s.to_string())).collect();
    let mut finished: Vec<String> = store.finished_messages(&ids).await.unwrap().into_iter().map(|m| m.0).collect();
    finished.sort();
    assert_eq!(finished, ["api-1", "m1", "m4"]);
    assert!(store.finished_messages(&[]).await.unwrap().is_empty());
}

pub async fn the_trace_keeps_order_and_accepts_once(store: Arc<dyn Store>) {
    let now = t0();
    let (template_id, run_id) = published_run(&*store, 2, now).await;
    let accepted = |id: &str| message(id, template_id, Some(run_id), TraceEvent::Accepted);
    store.record_trace(&[accepted("m1"), accepted("m2")], now).await.unwrap();
    // The batch is re-read after a crash: accepted again, recorded once.
    store.record_trace(&[accepted("m2"), accepted("m1")], now + Duration::seconds(1)).await.unwrap();
    let mut retrying = message("m1", template_id, Some(run_id), TraceEvent::Retrying);
    retrying.detail = Some("timeout".into());
    store.record_trace(&[retrying.clone()], now + Duration::seconds(2)).await.unwrap();
    store.record_trace(&[retrying], now + Duration::seconds(3)).await.unwrap();
    store
        .record_outcomes(&[message("m1", template_id, Some(run_id), TraceEvent::Sent)], now + Duration::seconds(4))
        .await
        .unwrap();
    store.record_trace(&[], now).await.unwrap();

    let trace = store.trace_of("m1").await.unwrap();
    let events: Vec<(&str, i64)> = trace.iter().map(|t| (t.event.as_str(), (t.at - now).num_seconds())).collect();
    assert_eq!(events, [("accepted", 0), ("retrying", 2), ("retrying", 3), ("sent", 4)]);
    assert_eq!(trace[1].detail.as_deref(), Some("timeout"));
    assert!(trace.iter().all(|t| t.message_id == "m1" && t.run_id == Some(run_id) && t.template_id == template_id));
    assert_eq!(trace[0].receiver, "to-m1");
    assert_eq!(store.trace_of("m2").await.unwrap().len(), 1);
    assert!(store.trace_of("nope").await.unwrap().is_empty());
}

pub async fn a_run_window_is_accepted_in_one_row_that_each_of_its_messages_trace_reads(store: Arc<dyn Store>) {
    let now = t0();
    let at = |seconds| now + Duration::seconds(seconds);
    let (template_id, run_id) = published_run(&*store, 8, now).await;
    let here = store.installation().await.unwrap();
    let id = |row: u64| here.run_row(run_id, row).0;
    let window = |rows: &[u64]| AcceptedRows {
        template_id,
        run_id,
        message_prefix: here.run_prefix(run_id),
        rows: rows.iter().map(|&row| (row, format!("to-{row}"))).collect(),
    };
    // Rows 2 to 5, row 4 invalid (no message); read again after a crash, longer (the first time
    // stands, the span grows), then shorter (nothing shrinks).
    store.record_accepted_rows(&window(&[2, 3, 5]), now).await.unwrap();
    store.record_accepted_rows(&window(&[2, 3, 5, 6]), at(1)).await.unwrap();
    store.record_accepted_rows(&window(&[2]), at(2)).await.unwrap();
    store.record_accepted_rows(&window(&[7, 8]), at(3)).await.unwrap();
    store.record_accepted_rows(&window(&[]), at(3)).await.unwrap();
    let mut accepted_here = message(&id(6), template_id, Some(run_id), TraceEvent::Accepted);
    accepted_here.receiver = "to-6".into();
    store.record_trace(&[accepted_here], at(4)).await.unwrap();
    let mut sent = message(&id(3), template_id, Some(run_id), TraceEvent::Sent);
    sent.receiver = "to-3".into();
    store.record_outcomes(&[sent], at(5)).await.unwrap();

    let events = |trace: Vec<TraceRecord>| -> Vec<(String, String, i64)> {
        trace.into_iter().map(|t| (t.event, t.receiver, (t.at - now).num_seconds())).collect()
    };
    let accepted = |row: u64, second: i64| ("accepted".to_string(), format!("to-{row}"), second);
    for (row, second) in [(2, 0), (5, 0), (7, 3), (8, 3)] {
        let trace = store.trace_of(&id(row)).await.unwrap();
        assert!(
            trace.iter().all(|t| t.message_id == id(row) && t.template_id == template_id && t.run_id == Some(run_id))
        );
        assert_eq!(events(trace), [accepted(row, second)], "row {row}");
    }
    assert_eq!(events(store.trace_of(&id(3)).await.unwrap()), [accepted(3, 0), ("sent".into(), "to-3".into(), 5)]);
    assert_eq!(events(store.trace_of(&id(6)).await.unwrap()), [accepted(6, 4)], "its own accepted, once");
    for nothing in
        [id(4), id(1), id(9), here.run_row(run_id + 1, 2).0, Installation::new("a0a0a0a0a0a0").run_row(run_id, 2).0]
    {
        assert!(store.trace_of(&nothing).await.unwrap().is_empty(), "{nothing}");
    }

    // Retention takes windows by age.
    store.purge_before(at(2), 10).await.unwrap();
    assert!(store.trace_of(&id(2)).await.unwrap().is_empty());
    assert_eq!(events(store.trace_of(&id(8)).await.unwrap()), [accepted(8, 3)]);
}

fn entry(message_id: &str, template_id: i64, run_id: Option<i64>, receiver: &str) -> OutboxEntry {
    OutboxEntry {
        id: 0,
        message_id: message_id.into(),
        template_id,
        run_id,
        receiver: receiver.into(),
        content: json!({"title": "hello", "text": format!("for {receiver}")}),
        delivered_at: t0() + Duration::seconds(7),
    }
}

pub async fn the_outbox_is_idempotent_and_pages(store: Arc<dyn Store>) {
    let batch: Vec<OutboxEntry> = (1..=5).map(|i| entry(&format!("r1-{i}"), 1, Some(1), &format!("u{i}"))).collect();
    store.insert_outbox(&batch).await.unwrap();
    store.insert_outbox(&batch[2..]).await.unwrap();
    store.insert_outbox(&[]).await.unwrap();
    store
        .insert_outbox(&[
            entry("api-a", 2, None, "u1"),
            entry("r1-5", 1, Some(1), "u5"),
            entry("r3-1", 2, Some(3), "u9"),
        ])
        .await
        .unwrap();
    assert_eq!(store.count_outbox(None, None).await.unwrap(), 7);
    assert_eq!(store.count_outbox(Some(1), None).await.unwrap(), 5);
    assert_eq!(store.count_outbox(Some(2), None).await.unwrap(), 2);
    assert_eq!(store.count_outbox(None, Some(3)).await.unwrap(), 1);
    assert_eq!(store.count_outbox(Some(2), Some(1)).await.unwrap(), 0);

    let all = store.list_outbox(&OutboxFilter { limit: 100, ..Default::default() }).await.unwrap();
    let ids: Vec<&str> = all.iter().map(|e| e.message_id.as_str()).collect();
    assert_eq!(ids, ["r1-1", "r1-2", "r1-3", "r1-4", "r1-5", "api-a", "r3-1"], "delivery order");
    assert!(all.windows(2).all(|w| w[0].id < w[1].id));
    assert_eq!(all[0].content, json!({"title": "hello", "text": "for u1"}));
    assert_eq!((all[0].template_id, all[0].run_id, all[0].receiver.as_str()), (1, Some(1), "u1"));
    assert_eq!(all[0].delivered_at, t0() + Duration::seconds(7));
    assert_eq!(all[5].run_id, None);

    // Paging by id.
    let mut seen = Vec::new();
    let mut after_id = 0;
    loop {
        let filter = OutboxFilter { template_id: Some(1), after_id, limit: 2, ..Default::default() };
        let page = store.list_outbox(&filter).await.unwrap();
        if page.is_empty() {
            break;
        }
        after_id = page.last().unwrap().id;
        seen.extend(page.into_iter().map(|e| e.message_id));
    }
    assert_eq!(seen, ["r1-1", "r1-2", "r1-3", "r1-4", "r1-5"]);

    let by_receiver = store
        .list_outbox(&OutboxFilter { receiver: Some("u1".into()), limit: 10, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(by_receiver.iter().map(|e| e.message_id.as_str()).collect::<Vec<_>>(), ["r1-1", "api-a"]);
    let by_run = store.list_outbox(&OutboxFilter { run_id: Some(3), limit: 10, ..Default::default() }).await.unwrap();
    assert_eq!(by_run.len(), 1);
    let both = OutboxFilter { template_id: Some(2), receiver: Some("u1".into()), limit: 10, ..Default::default() };
    assert_eq!(store.list_outbox(&both).await.unwrap().len(), 1);
}

fn claim_of(holder: &str, token: i64, until: DateTime<Utc>) -> herald_store::SendClaim {
    herald_store::SendClaim { holder: holder.into(), token, until }
}

/// Claims: a live claim keeps others off, a lapsed one passes on, extension and release work by
/// token, and a recorded outcome ends the claim (the message is final from then on).
pub async fn send_claims_keep_a_message_to_one_live_holder(store: Arc<dyn Store>) {
    let now = t0();
    let ids: Vec<MessageId> = (1..=3).map(|n| herald_core::Installation::new("t").run_row(1, n)).collect();
    let a = claim_of("node-a", 1, now + Duration::seconds(30));
    let got = store.claim_sends(&ids, &a, now).await.unwrap();
    assert_eq!((got.claimed.len(), got.finished.len(), got.held.len()), (3, 0, 0));

    let b = claim_of("node-b", 2, now + Duration::seconds(60));
    let got = store.claim_sends(&ids, &b, now + Duration::seconds(10)).await.unwrap();
    assert!(got.claimed.is_empty(), "{got:?}");
    assert_eq!(got.held.iter().map(|h| (h.holder.as_str(), h.until)).collect::<Vec<_>>(), vec![("node-a", a.until); 3]);

    // A extends two of its claims; the third lapses and passes to B.
    let kept = store.extend_sends(&ids[..2], 1, now + Duration::seconds(90)).await.unwrap();
    assert_eq!(kept.len(), 2);
    let got = store.claim_sends(&ids, &b, now + Duration::seconds(31)).await.unwrap();
    assert_eq!(got.claimed, vec![ids[2].clone()], "only the lapsed claim passes");
    assert!(
        store.extend_sends(&ids[2..], 1, now + Duration::seconds(90)).await.unwrap().is_empty(),
        "A's token lost it"
    );

    // A records one outcome (its claim ends with it) and releases another.
    let sent = TraceEntry {
        message_id: ids[0].clone(),
        template_id: 1,
        run_id: None,
        receiver: "r".into(),
        event: TraceEvent::Sent,
        detail: None,
    };
    store.record_outcomes(&[sent], now + Duration::seconds(32)).await.unwrap();
    store.release_sends(&ids[1..2], 1).await.unwrap();
    let c = claim_of("node-c", 3, now + Duration::seconds(200));
    let got = store.claim_sends(&ids, &c, now + Duration::seconds(33)).await.unwrap();
    assert_eq!(got.finished, vec![ids[0].clone()]);
    assert_eq!(got.claimed, vec![ids[1].clone()], "released: free at once");
    assert_eq!(got.held.iter().map(|h| h.holder.as_str()).collect::<Vec<_>>(), ["node-b"]);
}

/// One handling holds live claims on 400 messages and records their outcomes 8 at a time while
/// another keeps claiming the same messages: each comes back held or finished, never claimed.
/// (An outcome committed between a claim's look at the final messages and its insert, which
/// PostgreSQL allows, would otherwise pass a sent message on to be sent again.)
pub async fn an_outcome_committed_during_a_claim_never_passes_its_message_on(store: Arc<dyn Store>) {
    let now = t0();
    let ids: Vec<MessageId> = (1..=400).map(|n| herald_core::Installation::new("t").run_row(1, n)).collect();
    let a = claim_of("node-a", 1, now + Duration::seconds(300));
    assert_eq!(store.claim_sends(&ids, &a, now).await.unwrap().claimed.len(), 400);
    let recording = tokio::spawn({
        let (store, ids) = (store.clone(), ids.clone());
        async move {
            for chunk in ids.chunks(8) {
                let outcomes: Vec<TraceEntry> = chunk
                    .iter()
                    .map(|id| TraceEntry {
                        message_id: id.clone(),
                        template_id: 1,
                        run_id: None,
                        receiver: "r".into(),
                        event: TraceEvent::Sent,
                        detail: None,
                    })
                    .collect();
                store.record_outcomes(&outcomes, now).await.unwrap();
                tokio::task::yield_now().await;
            }
        }
    });
    let b = claim_of("node-b", 2, now + Duration::seconds(300));
    for round in 0.. {
        let recorded_all = recording.is_finished();
        let got = store.claim_sends(&ids, &b, now + Duration::seconds(1)).await.unwrap();
        assert!(got.claimed.is_empty(), "round {round} claimed messages held or final: {:?}", got.claimed);
        if recorded_all {
            assert_eq!(got.finished.len(), 400);
            break;
        }
    }
    recording.await.unwrap();
}

/// A send API request's business id: a repeat within the window keeps the first message id.
pub async fn repeated_business_ids_keep_their_first_message_id(store: Arc<dyn Store>) {
    let now = t0();
    let send = |receiver: &str, message_id: &str| herald_store::RequestedSend {
        template_id: 7,
        biz_id: "order-1".into(),
        receiver: receiver.into(),
        message_id: message_id.into(),
    };
    let window = Duration::hours(24);
    let first = store.remember_sends(&[send("a", "m1"), send("b", "m2")], now - window, now).await.unwrap();
    assert_eq!(first, ["m1", "m2"]);
    let later = now + Duration::hours(1);
    let again = store.remember_sends(&[send("a", "m3"), send("c", "m4")], later - window, later).await.unwrap();
    assert_eq!(again, ["m1", "m4"], "a repeat keeps its id, a new receiver gets its own");
    let next_day = now + Duration::hours(25);
    let fresh = store.remember_sends(&[send("a", "m5")], next_day - window, next_day).await.unwrap();
    assert_eq!(fresh, ["m5"], "past the window the request is new again");

    // One call with a key twice (two requests of one moment): the first of them stands for both.
    let twice =
        store.remember_sends(&[send("d", "m6"), send("a", "m7"), send("d", "m8")], next_day, next_day).await.unwrap();
    assert_eq!(twice, ["m6", "m5", "m6"]);
    // More keys than one statement takes, half of them repeats of the call before.
    let many = |round: &str| -> Vec<herald_store::RequestedSend> {
        (0..2_500)
            .map(|i| send(&format!("r{}", i % 1_250 + if round == "b" { 625 } else { 0 }), &format!("{round}{i}")))
            .collect()
    };
    let first = store.remember_sends(&many("a"), next_day, next_day).await.unwrap();
    assert!(first.iter().enumerate().all(|(i, id)| *id == format!("a{}", i % 1_250)), "each key's first send stands");
    let again = store.remember_sends(&many("b"), next_day, next_day).await.unwrap();
    for (i, id) in again.iter().enumerate() {
        let key = i % 1_250 + 625;
        let expected = if key < 1_250 { format!("a{key}") } else { format!("b{}", i % 1_250) };
        assert_eq!(*id, expected, "send {i} (receiver r{key})");
    }
    let much_later = next_day + Duration::hours(25);
    let renewed = store
        .remember_sends(&[send("d", "m9"), send("r0", "m10"), send("r1", "m11")], much_later - window, much_later)
        .await
        .unwrap();
    assert_eq!(renewed, ["m9", "m10", "m11"], "past the window every key of one call is new again");
}

pub async fn a_templates_recall_finds_its_unrecalled_sends_and_its_waiting_requests(store: Arc<dyn Store>) {
    let now = t0();
    let t = store.create_template(&unscheduled(None), now).await.unwrap().id;
    let other = store.create_template(&unscheduled(None), now).await.unwrap().id;
    let accepted: Vec<TraceEntry> = ["a-1", "a-2", "a-3", "a-4", "a-5"]
        .iter()
        .map(|id| message(id, t, None, TraceEvent::Accepted))
        .chain([message("b-1", other, None, TraceEvent::Accepted), message("a-run", t, Some(1), TraceEvent::Accepted)])
        .collect();
    store.record_trace(&accepted, now).await.unwrap();
    let old = message("a-0", t, None, TraceEvent::Sent);
    store.record_outcomes(&[old], now - Duration::hours(25)).await.unwrap();
    let ends =
        [("a-1", TraceEvent::Sent), ("a-2", TraceEvent::Sent), ("a-3", TraceEvent::Failed), ("b-1", TraceEvent::Sent)];
    let ends: Vec<TraceEntry> =
        ends.iter().map(|(id, e)| message(id, if id.starts_with('b') { other } else { t }, None, *e)).collect();
    store.record_outcomes(&ends, now).await.unwrap();
    store.record_trace(&[message("a-2", t, None, TraceEvent::Recalled)], now).await.unwrap();

    let ids = |records: Vec<herald_store::TraceRecord>| records.into_iter().map(|r| r.message_id).collect::<Vec<_>>();
    let day_ago = now - Duration::hours(24);
    assert_eq!(
        ids(store.sent_not_recalled(t, day_ago, "", 10).await.unwrap()),
        vec!["a-1"],
        "not a-0 (too old) nor a-2"
    );
    assert_eq!(ids(store.unsent_requests(t, day_ago, "", 10).await.unwrap()), vec!["a-4", "a-5"], "no run message");
    assert_eq!(ids(store.unsent_requests(t, day_ago, "a-4", 10).await.unwrap()), vec!["a-5"], "after a-4");
    assert_eq!(ids(store.unsent_requests(t, day_ago, "", 1).await.unwrap()), vec!["a-4"], "a page");
    let sent = store.sent_not_recalled(t, day_ago, "", 10).await.unwrap().remove(0);
    assert_eq!((sent.event.as_str(), sent.at, sent.template_id), ("sent", now, t));
}

pub async fn receipts_land_once_per_message_and_state_and_the_unknown_are_kept(store: Arc<dyn Store>) {
    use herald_core::receipt::{Receipt, ReceiptKey, ReceiptState, ReceiptTally};
    let now = t0();
    let t = store.create_template(&unscheduled(None), now).await.unwrap().id;
    let mut sent = message("m-1", t, None, TraceEvent::Sent);
    sent.detail = Some("tencent#2: 5000:1".into());
    store
        .record_outcomes(
            &[sent, message("m-2", t, None, TraceEvent::Sent), message("m-3", t, None, TraceEvent::Failed)],
            now,
        )
        .await
        .unwrap();
    let by_sid = |id: &str, state| Receipt {
        provider: "tencent".into(),
        key: ReceiptKey::Provider { suppliers: vec!["tencent".into(), "tencent#2".into()], id: id.into() },
        state,
        code: Some("DELIVRD".into()),
    };
    let batch = [
        by_sid("5000:1", ReceiptState::Delivered),
        by_id("m-2", ReceiptState::Read),
        by_id("m-2", ReceiptState::Read),
        by_id("m-3", ReceiptState::Delivered),
        by_sid("5000:9", ReceiptState::Undelivered),
    ];
    let tally = store.record_receipts(&batch, now).await.unwrap();
    assert_eq!(tally, ReceiptTally { recorded: 2, repeated: 1, unmatched: 2 }, "m-3 failed: its receipt is unmatched");
    let again = store.record_receipts(&batch[..2], now).await.unwrap();
    assert_eq!(again, ReceiptTally { recorded: 0, repeated: 2, unmatched: 0 });
    let events = |trace: Vec<herald_store::TraceRecord>| trace.into_iter().map(|r| r.event).collect::<Vec<_>>();
    assert_eq!(events(store.trace_of("m-1").await.unwrap()), ["sent", "delivered"]);
    assert_eq!(events(store.trace_of("m-2").await.unwrap()), ["sent", "read"]);
    let unmatched = store.unmatched_receipts(0, 10).await.unwrap();
    let listed: Vec<(&str, &str, &str)> =
        unmatched.iter().map(|u| (u.provider.as_str(), u.reference.as_str(), u.state.as_str())).collect();
    assert_eq!(listed, [("tencent", "5000:9", "undelivered"), ("aliyun", "m-3", "delivered")], "newest first");
    let counts = store.receipt_counts(herald_store::DeliveryScope::TemplateBetween {
        template_id: t,
        from: now - Duration::hours(1),
        to: now + Duration::hours(1),
    });
    let counts = counts.await.unwrap();
    assert_eq!((counts.delivered, counts.read, counts.undelivered), (2, 1, 0), "read counts as delivered too");
}
