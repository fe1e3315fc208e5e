//! Receipt pulls' questions to the store: which sent messages of an account still wait for a
//! receipt, and receipts naming a message by its task and receiver.

use super::ledger::message;
use super::*;
use herald_core::TraceEvent;
use herald_core::receipt::{Receipt, ReceiptKey, ReceiptState, ReceiptTally};
use herald_store::{AwaitingReceipts, TraceEntry};

fn sent(id: &str, template_id: i64, detail: &str) -> TraceEntry {
    let mut entry = message(id, template_id, None, TraceEvent::Sent);
    entry.detail = Some(detail.to_string());
    entry
}

/// A receipt naming its message by herald's id.
pub fn by_id(id: &str, state: ReceiptState) -> Receipt {
    Receipt { provider: "aliyun".into(), key: ReceiptKey::Message(id.into()), state, code: None }
}

pub async fn a_pull_asks_for_an_accounts_sends_without_a_final_receipt_oldest_first(store: Arc<dyn Store>) {
    let now = t0();
    let template = |account: &str| {
        let mut spec = unscheduled(None);
        spec.channel_account = Some(account.to_string());
        spec
    };
    let a = store.create_template(&template("sms-a"), now).await.unwrap().id;
    let b = store.create_template(&template("sms-b"), now).await.unwrap().id;
    let at = |hours: i64| now - Duration::hours(hours);
    store.record_outcomes(&[sent("a-0", a, "aliyun: 0^0")], at(25)).await.unwrap();
    store.record_outcomes(&[sent("a-1", a, "aliyun: 1^0"), sent("b-1", b, "aliyun: 9^0")], at(3)).await.unwrap();
    let others = [sent("a-2", a, "aliyun: 2^0"), sent("a-3", a, "aliyun#2: 3^0"), sent("a-4", a, "tencent: 4")];
    store.record_outcomes(&others, at(2)).await.unwrap();
    store.record_outcomes(&[message("a-5", a, None, TraceEvent::Failed)], at(2)).await.unwrap();
    store.record_outcomes(&[sent("a-6", a, "aliyun: 6^0")], at(1)).await.unwrap();

    let ask = |read_follows: bool, after: Option<(DateTime<Utc>, String)>, limit: i64| {
        let store = store.clone();
        async move {
            let query = AwaitingReceipts {
                account: "sms-a".into(),
                detail_prefix: "aliyun: ".into(),
                since: now - Duration::days(1),
                read_follows,
                after,
                limit,
            };
            store.awaiting_receipts(&query).await.unwrap().into_iter().map(|r| r.message_id).collect::<Vec<_>>()
        }
    };
    assert_eq!(ask(false, None, 10).await, ["a-1", "a-2", "a-6"], "not too old, another supplier's or account's");
    assert_eq!(ask(false, None, 2).await, ["a-1", "a-2"], "a page, oldest first");
    assert_eq!(ask(false, Some((at(2), "a-2".into())), 2).await, ["a-6"], "after the page");
    let query = AwaitingReceipts {
        account: "sms-a".into(),
        detail_prefix: "aliyun: ".into(),
        since: now - Duration::days(1),
        read_follows: false,
        after: None,
        limit: 1,
    };
    let first = store.awaiting_receipts(&query).await.unwrap().remove(0);
    assert_eq!((first.event.as_str(), first.detail.as_deref(), first.at), ("sent", Some("aliyun: 1^0"), at(3)));

    let receipts = [by_id("a-1", ReceiptState::Delivered), by_id("a-2", ReceiptState::Undelivered)];
    store.record_receipts(&receipts, now).await.unwrap();
    assert_eq!(ask(false, None, 10).await, ["a-6"], "delivered and undelivered are final for SMS");
    assert_eq!(ask(true, None, 10).await, ["a-1", "a-6"], "where read may follow, delivered still waits");
    store.record_receipts(&[by_id("a-1", ReceiptState::Read)], now).await.unwrap();
    assert_eq!(ask(true, None, 10).await, ["a-6"]);
}

pub async fn a_receipt_names_a_list_pushs_message_by_task_and_receiver(store: Arc<dyn Store>) {
    let now = t0();
    let t = store.create_template(&unscheduled(None), now).await.unwrap().id;
    let mut one = sent("g-1", t, "task T1: successed_online");
    one.receiver = "cid-1".into();
    let mut two = sent("g-2", t, "task T1: successed_offline");
    two.receiver = "cid-2".into();
    store.record_outcomes(&[one, two], now).await.unwrap();
    let task = |cid: &str, state| Receipt {
        provider: "getui".into(),
        key: ReceiptKey::Task {
            details: vec!["task T1: successed_online".into(), "task T1: successed_offline".into()],
            receiver: cid.into(),
            id: "T1".into(),
        },
        state,
        code: Some("0".into()),
    };
    let batch = [
        task("cid-2", ReceiptState::Delivered),
        task("cid-2", ReceiptState::Delivered),
        task("cid-9", ReceiptState::Read),
    ];
    let tally = store.record_receipts(&batch, now).await.unwrap();
    assert_eq!(tally, ReceiptTally { recorded: 1, repeated: 1, unmatched: 1 });
    let events = |trace: Vec<herald_store::TraceRecord>| trace.into_iter().map(|r| r.event).collect::<Vec<_>>();
    assert_eq!(events(store.trace_of("g-2").await.unwrap()), ["sent", "delivered"]);
    assert_eq!(events(store.trace_of("g-1").await.unwrap()), ["sent"], "the task's other receiver has none");
    let unmatched = store.unmatched_receipts(0, 10).await.unwrap();
    assert_eq!((unmatched[0].provider.as_str(), unmatched[0].reference.as_str()), ("getui", "T1"));
}
