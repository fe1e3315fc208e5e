//! The suppression list: entries per receiver and channel, merged kinds, the worker's batch
//! lookup by channel and kind, and the paged, filtered list.

use super::*;
use herald_core::{Kinds, MessageKind, Suppression, SuppressionSource};
use herald_store::{StoreError, SuppressionFilter, Window};

fn entry(
    receiver: &str,
    channel: Option<ChannelKind>,
    kinds: &[MessageKind],
    source: SuppressionSource,
) -> Suppression {
    Suppression::new(receiver, channel, Some(kinds), source, None).unwrap()
}

fn among(found: Vec<String>) -> Vec<String> {
    let mut found = found;
    found.sort();
    found
}

pub async fn the_suppression_list_covers_its_channel_and_kinds(store: Arc<dyn Store>) {
    use ChannelKind::{Email, Sms};
    use MessageKind::{Marketing, Notice, Verification};
    let now = t0();
    let entries = [
        entry("13800000001", Some(Sms), &[Marketing], SuppressionSource::SmsReply),
        entry("A@Example.com", None, &[Marketing, Notice], SuppressionSource::Api),
        entry("u-3", Some(Email), &[Verification], SuppressionSource::Import),
    ];
    assert_eq!(store.suppress(&entries, now).await.unwrap(), 3);
    let asked: Vec<String> = ["13800000001", "a@example.com", "u-3", "nobody"].map(String::from).to_vec();
    assert_eq!(among(store.suppressed_among(&asked, Sms, Marketing).await.unwrap()), ["13800000001", "a@example.com"]);
    assert_eq!(store.suppressed_among(&asked, Sms, Notice).await.unwrap(), ["a@example.com"], "every channel");
    assert!(store.suppressed_among(&asked, Sms, Verification).await.unwrap().is_empty());
    assert_eq!(among(store.suppressed_among(&asked, Email, Verification).await.unwrap()), ["u-3"]);
    assert!(store.suppressed_among(&[], Email, Verification).await.unwrap().is_empty());

    // Suppressing again widens the kinds, keeps the source and time, and takes a new note.
    let mut again = entry("13800000001", Some(Sms), &[Verification], SuppressionSource::Console);
    again.note = Some("asked twice".into());
    let twice = [again.clone(), entry("13800000001", Some(Sms), &[Notice], SuppressionSource::Console)];
    store.suppress(&twice, now + Duration::minutes(1)).await.unwrap();
    let stored = store.get_suppression("13800000001", Some(Sms)).await.unwrap();
    assert_eq!(stored.entry.kinds, Kinds::EVERY);
    assert_eq!(stored.entry.source, SuppressionSource::SmsReply);
    assert_eq!(stored.entry.note.as_deref(), Some("asked twice"));
    assert_eq!(stored.created_at, now);

    // The same receiver on every channel is another entry; removing one leaves the other.
    store.suppress(&[entry("13800000001", None, &[Notice], SuppressionSource::Api)], now).await.unwrap();
    store.unsuppress("13800000001", Some(Sms)).await.unwrap();
    assert!(matches!(store.unsuppress("13800000001", Some(Sms)).await, Err(StoreError::NotFound { .. })));
    assert!(matches!(store.get_suppression("13800000001", Some(Sms)).await, Err(StoreError::NotFound { .. })));
    assert!(store.suppressed_among(&asked, Sms, Marketing).await.unwrap() == ["a@example.com"]);
    assert_eq!(store.suppressed_among(&asked, Email, Notice).await.unwrap().len(), 2);
}

pub async fn the_suppression_list_is_searched_filtered_and_paged_newest_first(store: Arc<dyn Store>) {
    let now = t0();
    let many: Vec<Suppression> = (0..1200)
        .map(|i| {
            entry(
                &format!("user{i:04}@mail.test"),
                Some(ChannelKind::Email),
                &[MessageKind::Marketing],
                SuppressionSource::Import,
            )
        })
        .collect();
    assert_eq!(store.suppress(&many, now).await.unwrap(), 1200, "more rows than one statement holds");
    store
        .suppress(
            &[entry("13900000000", None, &[MessageKind::Marketing], SuppressionSource::SmsReply)],
            now + Duration::seconds(1),
        )
        .await
        .unwrap();
    let list = |filter: SuppressionFilter| {
        let store = store.clone();
        async move { store.list_suppressions(&filter).await.unwrap() }
    };
    let first = list(SuppressionFilter { window: Window::first(3), ..Default::default() }).await;
    let receivers: Vec<&str> = first.iter().map(|e| e.entry.receiver.as_str()).collect();
    assert_eq!(
        receivers,
        ["13900000000", "user0000@mail.test", "user0001@mail.test"],
        "newest first, then by receiver"
    );
    let searched = list(SuppressionFilter { search: Some("USER11".into()), ..Default::default() }).await;
    assert_eq!(searched.len(), 100);
    let every = list(SuppressionFilter { channel: Some(None), ..Default::default() }).await;
    assert_eq!(every.len(), 1);
    let from_sms = list(SuppressionFilter { source: Some(SuppressionSource::SmsReply), ..Default::default() }).await;
    assert_eq!(from_sms.len(), 1);
    let literal = list(SuppressionFilter { search: Some("%".into()), ..Default::default() }).await;
    assert!(literal.is_empty(), "a % is searched for literally");
    let page = list(SuppressionFilter { window: Window { offset: 1199, limit: 10 }, ..Default::default() }).await;
    assert_eq!(page.len(), 2);
}
