//! Channel accounts: unique names, the housekeeping schedules each one owns, renames that
//! carry templates along, and deletes refused while a template sends through the account.

use super::*;
use herald_store::{AccountWrite, FireOutcome, HousekeepingSpec, ScheduleRecord, StoreError};

pub const TOKEN_REFRESH: &str = "token_refresh";

pub fn account(name: &str, housekeeping: &[(&str, &str)]) -> AccountWrite {
    AccountWrite {
        name: name.into(),
        channel: ChannelKind::WeComApp,
        config_sealed: format!("sealed-config-of-{name}"),
        rate_per_second: Some(2.5),
        housekeeping: housekeeping
            .iter()
            .map(|(kind, cron)| HousekeepingSpec { kind: (*kind).into(), cron: (*cron).into() })
            .collect(),
    }
}

/// The housekeeping schedules of one account, by kind.
pub async fn housekeeping_of(store: &dyn Store, account_id: i64) -> Vec<ScheduleRecord> {
    let mut schedules: Vec<ScheduleRecord> = store
        .list_schedules(&Default::default())
        .await
        .unwrap()
        .into_iter()
        .filter(|s| s.account_id == Some(account_id))
        .collect();
    schedules.sort_by(|a, b| a.kind.cmp(&b.kind));
    schedules
}

pub async fn accounts_have_unique_names_and_round_trip(store: Arc<dyn Store>) {
    let now = t0();
    let a = store.create_account(&account("corp-a", &[]), now).await.unwrap();
    assert_eq!(
        (a.name.as_str(), a.channel, a.config_sealed.as_str()),
        ("corp-a", ChannelKind::WeComApp, "sealed-config-of-corp-a")
    );
    assert_eq!((a.rate_per_second, a.created_at, a.updated_at), (Some(2.5), now, now));
    let b = store
        .create_account(
            &AccountWrite { rate_per_second: None, channel: ChannelKind::Email, ..account("corp-b", &[]) },
            now,
        )
        .await
        .unwrap();
    assert_eq!((b.channel, b.rate_per_second), (ChannelKind::Email, None));
    assert!(b.id > a.id);

    let taken = store.create_account(&account("corp-a", &[(TOKEN_REFRESH, "0 0 * * * ?")]), now).await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
    assert!(
        store.list_schedules(&Default::default()).await.unwrap().is_empty(),
        "a refused account leaves no schedule behind"
    );

    assert_eq!(store.get_account(a.id).await.unwrap().name, "corp-a");
    assert_eq!(store.get_account_by_name("corp-b").await.unwrap().id, b.id);
    let names: Vec<String> =
        store.list_accounts(&Default::default()).await.unwrap().into_iter().map(|a| a.name).collect();
    assert_eq!(names, ["corp-a", "corp-b"]);
    assert!(matches!(store.get_account(9999).await, Err(StoreError::NotFound { .. })));
    assert!(matches!(store.get_account_by_name("nope").await, Err(StoreError::NotFound { .. })));

    let later = now + Duration::minutes(5);
    let updated =
        AccountWrite { config_sealed: "resealed".into(), rate_per_second: Some(10.0), ..account("corp-a", &[]) };
    let a2 = store.update_account(a.id, &updated, later).await.unwrap();
    assert_eq!((a2.config_sealed.as_str(), a2.rate_per_second), ("resealed", Some(10.0)));
    assert_eq!((a2.created_at, a2.updated_at), (now, later));
    let clash = store.update_account(b.id, &account("corp-a", &[]), later).await;
    assert!(matches!(clash, Err(StoreError::Conflict(_))), "{clash:?}");
    assert_eq!(store.get_account(b.id).await.unwrap().name, "corp-b", "a refused rename changes nothing");
    assert!(matches!(store.update_account(9999, &account("x", &[]), later).await, Err(StoreError::NotFound { .. })));
    assert!(matches!(store.delete_account(9999).await, Err(StoreError::NotFound { .. })));

    store.delete_account(b.id).await.unwrap();
    assert!(matches!(store.get_account(b.id).await, Err(StoreError::NotFound { .. })));
    // The name is free again.
    store.create_account(&account("corp-b", &[]), later).await.unwrap();
}

pub async fn housekeeping_schedules_come_and_go_with_their_account(store: Arc<dyn Store>) {
    let now = t0();
    let half_hourly = "0 0/30 * * * ?";
    let a = store.create_account(&account("corp-a", &[(TOKEN_REFRESH, half_hourly)]), now).await.unwrap();
    let b = store.create_account(&account("corp-b", &[(TOKEN_REFRESH, "0 0 * * * ?")]), now).await.unwrap();
    let schedules = housekeeping_of(&*store, a.id).await;
    assert_eq!(schedules.len(), 1);
    let refresh = &schedules[0];
    assert_eq!((refresh.kind.as_str(), refresh.template_id, refresh.account_id), (TOKEN_REFRESH, None, Some(a.id)));
    assert_eq!((refresh.cron.as_str(), refresh.timezone.as_str(), refresh.enabled), (half_hourly, "UTC", true));
    assert_eq!(refresh.next_fire_at, Some(now + Duration::minutes(30)), "armed from now");
    assert!(refresh.last_fire.is_none());

    // A fire of a housekeeping schedule names its account and makes no run.
    let fires = store.claim_due_fires("node-test", now + Duration::minutes(30), GRACE, 10).await.unwrap();
    assert_eq!(fires.len(), 1);
    let fire = &fires[0];
    assert_eq!((fire.schedule_id, fire.account_id, fire.template_id), (refresh.id, Some(a.id), None));
    assert_eq!((fire.kind.as_str(), fire.outcome, fire.run_id), (TOKEN_REFRESH, FireOutcome::Fired, None));
    assert!(store.list_runs(&herald_store::RunFilter::newest(10)).await.unwrap().is_empty());

    // An update replaces the set: a changed cron is re-armed from the update's time (same
    // schedule, its fires kept), a new kind is added ...
    let later = now + Duration::minutes(40);
    let two = account("corp-a", &[(TOKEN_REFRESH, "0 0 * * * ?"), ("key_rotation", "0 0 3 * * ?")]);
    store.update_account(a.id, &two, later).await.unwrap();
    let schedules = housekeeping_of(&*store, a.id).await;
    let kinds: Vec<(&str, &str, Option<DateTime<Utc>>)> =
        schedules.iter().map(|s| (s.kind.as_str(), s.cron.as_str(), s.next_fire_at)).collect();
    assert_eq!(
        kinds,
        [
            ("key_rotation", "0 0 3 * * ?", Some(now + Duration::hours(3))),
            (TOKEN_REFRESH, "0 0 * * * ?", Some(now + Duration::hours(1))),
        ]
    );
    let kept = schedules.iter().find(|s| s.kind == TOKEN_REFRESH).unwrap();
    assert_eq!(kept.id, refresh.id, "replaced in place");
    assert_eq!(kept.last_fire.as_ref().map(|f| f.id), Some(fire.fire_id));
    assert_eq!(store.list_fires(refresh.id, 10).await.unwrap().len(), 1);

    // ... and a kind left out goes.
    store.update_account(a.id, &account("corp-a", &[("key_rotation", "0 0 3 * * ?")]), later).await.unwrap();
    let kinds: Vec<String> = housekeeping_of(&*store, a.id).await.into_iter().map(|s| s.kind).collect();
    assert_eq!(kinds, ["key_rotation"]);
    assert!(
        store.list_fires(refresh.id, 10).await.unwrap().is_empty(),
        "its schedule went with it, and its fires are no longer listed"
    );

    // A cron that does not parse is refused and changes nothing.
    let bad = store.update_account(a.id, &account("corp-renamed", &[(TOKEN_REFRESH, "not a cron")]), later).await;
    assert!(matches!(bad, Err(StoreError::Conflict(_))), "{bad:?}");
    assert_eq!(store.get_account(a.id).await.unwrap().name, "corp-a");
    assert_eq!(housekeeping_of(&*store, a.id).await.len(), 1);
    let bad = store.create_account(&account("corp-c", &[(TOKEN_REFRESH, "not a cron")]), later).await;
    assert!(matches!(bad, Err(StoreError::Conflict(_))), "{bad:?}");
    assert!(matches!(store.get_account_by_name("corp-c").await, Err(StoreError::NotFound { .. })));

    // Deleting an account deletes its schedules; the other account's stay.
    store.delete_account(a.id).await.unwrap();
    assert!(housekeeping_of(&*store, a.id).await.is_empty());
    let left = store.list_schedules(&Default::default()).await.unwrap();
    assert_eq!(left.iter().map(|s| s.account_id).collect::<Vec<_>>(), [Some(b.id)]);
}

pub async fn a_rename_carries_templates_along_and_a_used_account_stays(store: Arc<dyn Store>) {
    let now = t0();
    let a = store.create_account(&account("corp-a", &[(TOKEN_REFRESH, "0 0 * * * ?")]), now).await.unwrap();
    let b = store.create_account(&account("corp-b", &[]), now).await.unwrap();
    let through = |name: &str| TemplateSpec { channel_account: Some(name.into()), ..unscheduled(None) };
    let ta = store.create_template(&through("corp-a"), now).await.unwrap();
    let tb = store.create_template(&through("corp-b"), now).await.unwrap();
    let plain = store.create_template(&unscheduled(None), now).await.unwrap();

    store.update_account(a.id, &account("corp-a2", &[(TOKEN_REFRESH, "0 0 * * * ?")]), now).await.unwrap();
    let account_of = |id| {
        let store = store.clone();
        async move { store.get_template(id).await.unwrap().spec.channel_account }
    };
    assert_eq!(account_of(ta.id).await.as_deref(), Some("corp-a2"));
    assert_eq!(account_of(tb.id).await.as_deref(), Some("corp-b"));
    assert_eq!(account_of(plain.id).await, None);
    assert!(matches!(store.get_account_by_name("corp-a").await, Err(StoreError::NotFound { .. })));

    let refused = store.delete_account(a.id).await;
    assert!(matches!(refused, Err(StoreError::Conflict(ref m)) if m.contains(&ta.id.to_string())), "{refused:?}");
    assert_eq!(store.get_account(a.id).await.unwrap().name, "corp-a2");
    assert_eq!(housekeeping_of(&*store, a.id).await.len(), 1, "a refused delete keeps the schedules");

    // Once no template sends through it, it can go.
    let moved = TemplateSpec { channel_account: Some("corp-b".into()), ..ta.spec.clone() };
    store.update_template(ta.id, &moved, now).await.unwrap();
    store.delete_account(a.id).await.unwrap();
    assert!(matches!(store.delete_account(b.id).await, Err(StoreError::Conflict(_))), "used by two now");
    store.delete_template(ta.id, t0()).await.unwrap();
    store.delete_template(tb.id, t0()).await.unwrap();
    store.delete_account(b.id).await.unwrap();
    assert!(store.list_accounts(&Default::default()).await.unwrap().is_empty());
    assert!(store.list_schedules(&Default::default()).await.unwrap().is_empty());
}
