//! Templates and their schedules, crowds and API keys.

use super::*;
use herald_core::{CronSchedule, QuietHoursPolicy};
use herald_store::{ApiKeyScope, NewApiKey, Revoked, StoreError, TraceEntry};

pub async fn template_crud(store: Arc<dyn Store>) {
    let now = t0();
    let crowd_id = crowd(&*store, 3, now).await;
    let mut first = spec("0 0 9 * * ?", "Asia/Shanghai", MisfirePolicy::Skip, Some(crowd_id.clone()));
    first.name = "  morning news  ".into();
    first.channel_account = Some("smtp-main".into());
    first.content = serde_json::json!({"title": "Hello {$name}", "text": "from {$city}", "n": [1, 2]});
    let created = store.create_template(&first, now).await.unwrap();
    assert_eq!(created.spec.name, "morning news", "names are trimmed");
    assert_eq!(created.status, TemplateStatus::Stopped);
    assert_eq!(created.next_fire_at, None, "a new template is stopped, its schedule disarmed");
    assert_eq!(created.spec.content, first.content);
    assert_eq!(created.spec.channel_account.as_deref(), Some("smtp-main"));
    assert_eq!(created.spec.crowd_id.as_deref(), Some(crowd_id.as_str()));
    let schedule = created.spec.schedule.clone().unwrap();
    assert_eq!((schedule.cron.as_str(), schedule.timezone.as_str()), ("0 0 9 * * ?", "Asia/Shanghai"));
    assert_eq!(schedule.misfire, MisfirePolicy::Skip);
    assert_eq!((created.created_at, created.updated_at), (now, now));

    let second = store.create_template(&unscheduled(None), now).await.unwrap();
    assert!(second.id > created.id);
    assert!(second.spec.schedule.is_none());
    let listed = store.list_templates(&Default::default()).await.unwrap();
    assert_eq!(listed.iter().map(|t| t.id).collect::<Vec<_>>(), vec![created.id, second.id]);

    let later = now + Duration::hours(1);
    let mut changed = first.clone();
    changed.name = "evening news".into();
    changed.channel = ChannelKind::Webhook;
    changed.msg_type = 20;
    changed.quiet_hours = QuietHoursPolicy::Defer;
    changed.schedule = Some(ScheduleSpec {
        cron: "0 0 18 * * ?".into(),
        timezone: "UTC".into(),
        misfire: MisfirePolicy::FireOnce,
        start_at: Some(later),
        end_at: None,
        exclude_dates: vec!["2026-10-01".parse().unwrap(), "2026-10-02".parse().unwrap()],
        exclude_windows: vec![serde_json::from_value(serde_json::json!({"from": "22:00", "to": "06:00"})).unwrap()],
    });
    changed.crowd_id = None;
    changed.test_mode = Some(herald_core::TestMode { receivers: vec!["13900000003".into(), "qa@example.com".into()] });
    let updated = store.update_template(created.id, &changed, later).await.unwrap();
    assert_eq!(updated.spec.test_mode, changed.test_mode, "test mode is kept");
    assert_eq!(updated.spec.name, "evening news");
    assert_eq!(updated.spec.channel, ChannelKind::Webhook);
    assert_eq!(updated.spec.msg_type, 20);
    assert_eq!(updated.spec.quiet_hours, changed.quiet_hours);
    assert_eq!(updated.spec.schedule, changed.schedule, "cron, dates, excluded days and windows read back");
    assert_eq!(updated.spec.crowd_id, None);
    assert_eq!((updated.created_at, updated.updated_at), (now, later));
    assert_eq!(updated.next_fire_at, None, "still stopped");
    assert_eq!(store.get_template(created.id).await.unwrap().spec.name, "evening news");

    assert!(matches!(store.update_template(9999, &changed, later).await, Err(StoreError::NotFound { .. })));
    store.delete_template(created.id, t0()).await.unwrap();
    assert!(matches!(store.get_template(created.id).await, Err(StoreError::NotFound { .. })));
    assert!(matches!(store.delete_template(created.id, t0()).await, Err(StoreError::NotFound { .. })));
    let schedule_id = store.schedule_id_of(created.id).await.unwrap().expect("kept, with its fires");
    let schedule =
        store.list_schedules(&Default::default()).await.unwrap().into_iter().find(|s| s.id == schedule_id).unwrap();
    assert_eq!((schedule.enabled, schedule.next_fire_at), (false, None), "the schedule is disarmed");
    assert_eq!(store.list_templates(&Default::default()).await.unwrap().len(), 1);
}

/// A deleted template keeps its runs and messages, and no later template or run takes its ids.
pub async fn a_deleted_templates_history_stays_and_its_ids_are_never_reused(store: Arc<dyn Store>) {
    let now = t0();
    let crowd_id = crowd(&*store, 3, now).await;
    let first = store.create_template(&unscheduled(Some(crowd_id.clone())), now).await.unwrap();
    let run = store.create_run(first.id, now).await.unwrap();
    let message = herald_core::Installation::new("t").run_row(run, 1);
    let sent = TraceEntry {
        message_id: message.clone(),
        template_id: first.id,
        run_id: Some(run),
        receiver: "a".into(),
        event: herald_core::TraceEvent::Sent,
        detail: None,
    };
    store.record_outcomes(&[sent], now).await.unwrap();
    store.delete_template(first.id, now).await.unwrap();
    assert!(
        matches!(store.create_run(first.id, now).await, Err(StoreError::NotFound { .. })),
        "no run of a deleted template"
    );

    let second = store.create_template(&unscheduled(Some(crowd_id)), now).await.unwrap();
    assert!(second.id > first.id, "{} reused {}", second.id, first.id);
    let second_run = store.create_run(second.id, now).await.unwrap();
    assert!(second_run > run, "run {second_run} reused {run}");
    assert_eq!(store.get_run(run).await.unwrap().template_id, first.id, "the run stays");
    assert_eq!(store.trace_of(message.as_str()).await.unwrap().len(), 1, "the trace stays");
    assert_eq!(
        store.finished_messages(std::slice::from_ref(&message)).await.unwrap(),
        vec![message],
        "the ledger stays"
    );
}

pub async fn template_status_arms_and_disarms_the_schedule(store: Arc<dyn Store>) {
    let now = t0() + Duration::seconds(30);
    let every_quarter = spec("0 0/15 * * * ?", "Asia/Shanghai", MisfirePolicy::FireOnce, None);
    let t = store.create_template(&every_quarter, now).await.unwrap();
    let schedule_id = store.schedule_id_of(t.id).await.unwrap();
    assert!(schedule_id.is_some());

    let started = store.set_template_status(t.id, TemplateStatus::Running, now).await.unwrap();
    assert_eq!(started.status, TemplateStatus::Running);
    assert_eq!(started.next_fire_at, Some(t0() + Duration::minutes(15)));
    assert_eq!(started.updated_at, now);

    // Updating a running template re-plans from the update's time.
    let later = t0() + Duration::hours(2) + Duration::minutes(1);
    let hourly = spec("0 0 * * * ?", "UTC", MisfirePolicy::FireOnce, None);
    let updated = store.update_template(t.id, &hourly, later).await.unwrap();
    assert_eq!(updated.status, TemplateStatus::Running);
    assert_eq!(updated.next_fire_at, Some(t0() + Duration::hours(3)));
    assert_eq!(store.schedule_id_of(t.id).await.unwrap(), schedule_id, "the schedule row is kept");

    let stopped = store.set_template_status(t.id, TemplateStatus::Stopped, later).await.unwrap();
    assert_eq!(stopped.status, TemplateStatus::Stopped);
    assert_eq!(stopped.next_fire_at, None);

    // Restarting arms it again from the new time.
    let again = store.set_template_status(t.id, TemplateStatus::Running, t0() + Duration::hours(5)).await.unwrap();
    let expected = CronSchedule::parse("0 0 * * * ?", "UTC").unwrap().next_after(t0() + Duration::hours(5));
    assert_eq!(again.next_fire_at, expected);

    // Dropping the schedule from a template removes its row; a running unscheduled template
    // has nothing to arm.
    let plain = store.update_template(t.id, &unscheduled(None), later).await.unwrap();
    assert!(plain.spec.schedule.is_none());
    assert_eq!(plain.next_fire_at, None);
    assert_eq!(store.schedule_id_of(t.id).await.unwrap(), None);
    let plain = store.set_template_status(t.id, TemplateStatus::Running, later).await.unwrap();
    assert_eq!((plain.status, plain.next_fire_at), (TemplateStatus::Running, None));

    assert!(matches!(
        store.set_template_status(9999, TemplateStatus::Running, now).await,
        Err(StoreError::NotFound { .. })
    ));
}

pub async fn crowd_insert_and_get(store: Arc<dyn Store>) {
    let crowd = crowd_record(1234, t0());
    store.insert_crowd(&crowd, "[]").await.unwrap();
    let got = store.get_crowd(&crowd.id).await.unwrap();
    assert_eq!(got.id, crowd.id);
    assert_eq!(got.original_name, "crowd.csv");
    assert_eq!(got.receiver_column, "userId");
    assert_eq!(got.columns, vec!["name".to_string(), "city".to_string()]);
    assert_eq!((got.rows, got.valid_rows, got.bad_rows, got.size_bytes), (1234, 1234, 0, 1234 * 20));
    assert_eq!(got.created_at, t0());
    assert!(matches!(store.get_crowd("no-such-crowd").await, Err(StoreError::NotFound { .. })));
    assert!(store.insert_crowd(&crowd, "[]").await.is_err(), "crowd ids are unique");
}

fn new_key<'a>(hash: &'a str, name: &'a str, scope: ApiKeyScope) -> NewApiKey<'a> {
    NewApiKey { key_hash: hash, prefix: "hk_12345678", name, scope }
}

pub async fn api_keys(store: Arc<dyn Store>) {
    assert_eq!(store.count_api_keys().await.unwrap(), 0);
    assert!(store.find_api_key("abc").await.unwrap().is_none());
    let admin = store.insert_api_key(&new_key("abc", "admin", ApiKeyScope::Admin), t0()).await.unwrap();
    let ci = store.insert_api_key(&new_key("def", "ci", ApiKeyScope::Send), t0()).await.unwrap();
    assert_eq!(store.count_api_keys().await.unwrap(), 2);
    let found = store.find_api_key("abc").await.unwrap().expect("found by its hash");
    assert_eq!(
        (found.id, found.scope, found.name.as_str(), found.last_used_at),
        (admin, ApiKeyScope::Admin, "admin", None)
    );
    assert!(store.find_api_key("ab").await.unwrap().is_none());
    assert!(
        store.insert_api_key(&new_key("abc", "again", ApiKeyScope::Admin), t0()).await.is_err(),
        "key hashes are unique"
    );

    // A use is noted at most once per window.
    let t1 = t0() + Duration::seconds(10);
    store.touch_api_key(admin, t1, t1 - Duration::minutes(1)).await.unwrap();
    store.touch_api_key(admin, t1 + Duration::seconds(5), t1 - Duration::seconds(55)).await.unwrap();
    assert_eq!(store.find_api_key("abc").await.unwrap().unwrap().last_used_at, Some(t1));

    // The only admin key stays; a send key goes; revoking twice is harmless.
    assert_eq!(store.revoke_api_key(admin, t1).await.unwrap(), Revoked::LastAdmin);
    assert_eq!(store.revoke_api_key(ci, t1).await.unwrap(), Revoked::Revoked);
    assert_eq!(store.revoke_api_key(ci, t1).await.unwrap(), Revoked::Already);
    assert_eq!(store.revoke_api_key(999, t1).await.unwrap(), Revoked::NotFound);
    let second = store.insert_api_key(&new_key("ghi", "ops", ApiKeyScope::Admin), t1).await.unwrap();
    assert_eq!(store.revoke_api_key(admin, t1).await.unwrap(), Revoked::Revoked);
    assert_eq!(store.revoke_api_key(second, t1).await.unwrap(), Revoked::LastAdmin);
    let listed = store.list_api_keys(10, 0).await.unwrap();
    let summary: Vec<(i64, bool)> = listed.iter().map(|k| (k.id, k.revoked_at.is_some())).collect();
    assert_eq!(summary, [(admin, true), (ci, true), (second, false)]);
    assert_eq!(store.list_api_keys(1, 1).await.unwrap()[0].id, ci, "pages");
    assert_eq!(store.count_api_keys().await.unwrap(), 3, "revoked keys still count: no new first-start key");
}
