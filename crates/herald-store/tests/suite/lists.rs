//! The lists the API and the console page through: filtered and windowed by the database, with
//! searches that match any case and take `%` and `_` literally, and names for ids.

use super::*;
use herald_core::{CronSchedule, ScheduleKind};
use herald_store::{AccountFilter, AccountWrite, CrowdFilter, ScheduleFilter, TemplateFilter, TemplateName, Window};

fn ids<T>(items: &[T], id: impl Fn(&T) -> i64) -> Vec<i64> {
    items.iter().map(id).collect()
}

pub async fn templates_are_searched_filtered_and_windowed(store: Arc<dyn Store>) {
    let now = t0();
    let mut made = Vec::new();
    for (name, channel) in [
        ("Nightly reminder", ChannelKind::Outbox),
        ("nightly DIGEST", ChannelKind::Webhook),
        ("50%_off promo", ChannelKind::Outbox),
        ("500 off promo", ChannelKind::Sms),
        ("验证码", ChannelKind::Sms),
    ] {
        let spec = TemplateSpec { name: name.into(), channel, ..unscheduled(None) };
        made.push(store.create_template(&spec, now).await.unwrap().id);
    }
    store.set_template_status(made[1], TemplateStatus::Running, now).await.unwrap();
    let list = |filter: TemplateFilter| {
        let store = store.clone();
        async move { ids(&store.list_templates(&filter).await.unwrap(), |t| t.id) }
    };
    let search = |s: &str| TemplateFilter { search: Some(s.into()), ..TemplateFilter::default() };
    assert_eq!(list(TemplateFilter::default()).await, made, "everything, by id");
    assert_eq!(list(search("NIGHTLY")).await, vec![made[0], made[1]], "any case");
    assert_eq!(list(search("50%_")).await, vec![made[2]], "% and _ are literal");
    assert_eq!(list(search("码")).await, vec![made[4]]);
    assert_eq!(list(search(&made[3].to_string())).await, vec![made[3]], "an id matches exactly");
    let running = TemplateFilter { status: Some(TemplateStatus::Running), ..TemplateFilter::default() };
    assert_eq!(list(running).await, vec![made[1]]);
    let sms = TemplateFilter { channel: Some(ChannelKind::Sms), ..TemplateFilter::default() };
    assert_eq!(list(sms).await, vec![made[3], made[4]]);
    let second_page = TemplateFilter { window: Window { offset: 2, limit: 2 }, ..TemplateFilter::default() };
    assert_eq!(list(second_page).await, vec![made[2], made[3]]);

    store.delete_template(made[0], now).await.unwrap();
    assert_eq!(list(search("nightly")).await, vec![made[1]], "a deleted template is listed no more");
    let mut names = store.template_names(&[made[1], made[0], 999_999]).await.unwrap();
    names.sort_by_key(|n| n.id);
    assert_eq!(
        names,
        vec![
            TemplateName { id: made[0], name: "Nightly reminder".into(), deleted: true },
            TemplateName { id: made[1], name: "nightly DIGEST".into(), deleted: false },
        ],
        "names outlive their template; unknown ids are left out"
    );
    assert!(store.template_names(&[]).await.unwrap().is_empty());
    let mut counts = store.count_templates_by_status().await.unwrap();
    counts.sort();
    assert_eq!(counts, vec![("running".to_string(), 1), ("stopped".to_string(), 3)]);
}

pub async fn crowds_accounts_and_schedules_are_searched_filtered_and_windowed(store: Arc<dyn Store>) {
    let now = t0();
    let mut crowds = Vec::new();
    for (n, name) in ["Members.csv", "members-vip.csv", "leads.csv"].into_iter().enumerate() {
        let crowd = Crowd { original_name: name.into(), ..crowd_record(3, now + Duration::minutes(n as i64)) };
        store.insert_crowd(&crowd, "[]").await.unwrap();
        crowds.push(crowd.id);
    }
    let crowd_ids = |filter: CrowdFilter| {
        let store = store.clone();
        async move { store.list_crowds(&filter).await.unwrap().into_iter().map(|c| c.id).collect::<Vec<_>>() }
    };
    let search = |s: &str| CrowdFilter { search: Some(s.into()), ..CrowdFilter::default() };
    assert_eq!(crowd_ids(search("MEMBERS")).await, vec![crowds[1].clone(), crowds[0].clone()], "newest first");
    assert_eq!(crowd_ids(search(&crowds[2])).await, vec![crowds[2].clone()], "by id");
    let second = CrowdFilter { window: Window { offset: 1, limit: 1 }, ..CrowdFilter::default() };
    assert_eq!(crowd_ids(second).await, vec![crowds[1].clone()]);

    let wecom = store.create_account(&account("ops-robot", &[]), now).await.unwrap();
    let sms_write =
        AccountWrite { channel: ChannelKind::Sms, ..account("Marketing SMS", &[(TOKEN_REFRESH, "0 0 * * * ?")]) };
    let sms = store.create_account(&sms_write, now).await.unwrap();
    let accounts = |filter: AccountFilter| {
        let store = store.clone();
        async move { ids(&store.list_accounts(&filter).await.unwrap(), |a| a.id) }
    };
    let by_channel = AccountFilter { channel: Some(ChannelKind::Sms), ..AccountFilter::default() };
    assert_eq!(accounts(by_channel).await, vec![sms.id]);
    assert_eq!(
        accounts(AccountFilter { search: Some("robot".into()), ..AccountFilter::default() }).await,
        vec![wecom.id]
    );
    assert_eq!(accounts(AccountFilter { window: Window::first(1), ..AccountFilter::default() }).await, vec![wecom.id]);

    let template = running(
        &*store,
        &TemplateSpec { name: "Morning".into(), ..spec("0 0 9 * * ?", "UTC", MisfirePolicy::Skip, None) },
        now,
    )
    .await;
    store.ensure_housekeeping(ScheduleKind::Retention.as_str(), "0 0 3 * * ?", now).await.unwrap();
    let schedules = |filter: ScheduleFilter| {
        let store = store.clone();
        async move { store.list_schedules(&filter).await.unwrap() }
    };
    let all = schedules(ScheduleFilter::default()).await;
    assert_eq!(all.len(), 3);
    let refresh =
        schedules(ScheduleFilter { kind: Some(ScheduleKind::TokenRefresh), ..ScheduleFilter::default() }).await;
    assert_eq!(refresh.len(), 1);
    assert_eq!((refresh[0].account_id, refresh[0].account_name.as_deref()), (Some(sms.id), Some("Marketing SMS")));
    let of_template =
        schedules(ScheduleFilter { kind: Some(ScheduleKind::Template), ..ScheduleFilter::default() }).await;
    assert_eq!(
        (of_template[0].template_id, of_template[0].template_name.as_deref()),
        (Some(template), Some("Morning"))
    );
    let one = schedules(ScheduleFilter { id: Some(all[2].id), ..ScheduleFilter::default() }).await;
    assert_eq!(ids(&one, |s| s.id), vec![all[2].id]);
    let page = schedules(ScheduleFilter { window: Window { offset: 1, limit: 5 }, ..ScheduleFilter::default() }).await;
    assert_eq!(ids(&page, |s| s.id), ids(&all[1..], |s| s.id));
}

pub async fn crowds_keep_their_report_are_renamed_and_deleted_only_when_unused(store: Arc<dyn Store>) {
    let now = t0();
    let crowd = crowd_record(3, now);
    let report = r#"[{"line":3,"row":2,"reason":"the receiver column `userId` is blank"}]"#;
    store.insert_crowd(&crowd, report).await.unwrap();
    assert_eq!(store.crowd_bad_rows(&crowd.id).await.unwrap().as_deref(), Some(report), "kept as given");
    let renamed = store.rename_crowd(&crowd.id, "  VIP members  ").await.unwrap();
    assert_eq!(renamed.original_name, "VIP members");

    let template = store
        .create_template(&TemplateSpec { name: "Promo".into(), ..unscheduled(Some(crowd.id.clone())) }, now)
        .await
        .unwrap();
    let refused = store.delete_crowd(&crowd.id, now).await.unwrap_err().to_string();
    assert!(refused.contains(&format!("Promo (#{})", template.id)), "names the template: {refused}");
    let run = store.create_run(template.id, now).await.unwrap();
    store.delete_template(template.id, now).await.unwrap();
    let refused = store.delete_crowd(&crowd.id, now).await.unwrap_err().to_string();
    assert!(refused.contains(&format!("#{run}")) && refused.contains("read"), "a run still reads it: {refused}");
    store.cancel_run(run, now).await.unwrap();
    store.delete_crowd(&crowd.id, now).await.unwrap();

    assert!(matches!(store.get_crowd(&crowd.id).await, Err(herald_store::StoreError::NotFound { .. })));
    assert!(store.list_crowds(&CrowdFilter::default()).await.unwrap().is_empty());
    assert!(store.crowd_bad_rows(&crowd.id).await.is_err());
    assert!(store.rename_crowd(&crowd.id, "x").await.is_err());
    assert!(matches!(store.delete_crowd(&crowd.id, now).await, Err(herald_store::StoreError::NotFound { .. })));
    assert_eq!(store.get_run(run).await.unwrap().id, run, "its run stays");
}

pub async fn a_housekeeping_schedule_takes_a_changed_cron_and_keeps_an_unchanged_one(store: Arc<dyn Store>) {
    let now = t0();
    let kind = ScheduleKind::Retention;
    let shown = || {
        let store = store.clone();
        async move {
            let filter = ScheduleFilter { kind: Some(kind), ..ScheduleFilter::default() };
            let found = store.list_schedules(&filter).await.unwrap();
            assert_eq!(found.len(), 1, "one schedule of the kind, however often a node starts");
            (found[0].cron.clone(), found[0].next_fire_at)
        }
    };
    store.ensure_housekeeping(kind.as_str(), "0 30 3 * * ?", now).await.unwrap();
    let first = shown().await;
    assert_eq!(first.0, "0 30 3 * * ?");
    store.ensure_housekeeping(kind.as_str(), "0 30 3 * * ?", now + Duration::days(3)).await.unwrap();
    assert_eq!(shown().await, first, "a restart with the same cron changes nothing");
    store.ensure_housekeeping(kind.as_str(), "0 0 4 * * ?", now).await.unwrap();
    let next = CronSchedule::parse("0 0 4 * * ?", "UTC").unwrap().next_after(now);
    assert_eq!(shown().await, ("0 0 4 * * ?".to_string(), next), "the configuration's new cron");
}
