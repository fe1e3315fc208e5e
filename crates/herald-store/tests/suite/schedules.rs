//! Claiming due fires with time as an argument: a day of fires, misfire policies, no crowd.

use super::*;
use herald_store::FireOutcome;

pub async fn a_day_of_quarter_hours_claimed_minute_by_minute_fires_96_times(store: Arc<dyn Store>) {
    let start = t0();
    let crowd_id = crowd(&*store, 10, start).await;
    let id = running(
        &*store,
        &spec("0 0/15 * * * ?", "Asia/Shanghai", MisfirePolicy::FireOnce, Some(crowd_id.clone())),
        start,
    )
    .await;
    let mut fires = Vec::new();
    let mut now = start;
    while now <= start + Duration::days(1) {
        for fire in store.claim_due_fires("node-test", now, GRACE, 50).await.unwrap() {
            assert_eq!(fire.outcome, FireOutcome::Fired);
            assert_eq!(fire.template_id, Some(id));
            assert_eq!(fire.kind, "template");
            assert_eq!(fire.lateness_ms, 0, "claimed on the minute it is due");
            assert!(fire.run_id.is_some());
            fires.push(fire);
        }
        now += Duration::minutes(1);
    }
    assert_eq!(fires.len(), 96, "00:15 .. 24:00");
    assert_eq!(fires[0].fire_time, start + Duration::minutes(15));
    for pair in fires.windows(2) {
        assert_eq!(pair[1].fire_time - pair[0].fire_time, Duration::minutes(15));
    }
    let runs = store.list_runs(&herald_store::RunFilter::newest(1000).of_template(id)).await.unwrap();
    assert_eq!(runs.len(), 96);
    assert!(runs.iter().all(|r| r.status == herald_core::RunStatus::Pending && r.rows_total == 10));

    let schedule_id = store.schedule_id_of(id).await.unwrap().unwrap();
    let ledger = store.list_fires(schedule_id, 10).await.unwrap();
    assert_eq!(ledger.len(), 10, "limited");
    assert_eq!(ledger[0].fire_time, start + Duration::days(1), "newest first");
    assert_eq!(ledger[0].outcome, "fired");
    assert_eq!(ledger[0].claimed_at, start + Duration::days(1));
    assert_eq!(ledger[0].run_id, fires.last().unwrap().run_id);
    assert_eq!(ledger[0].id, fires.last().unwrap().fire_id);
    assert_eq!(store.list_fires(schedule_id, 1000).await.unwrap().len(), 96);
}

pub async fn late_fires_follow_the_misfire_policy(store: Arc<dyn Store>) {
    let start = t0();
    let crowd_id = crowd(&*store, 10, start).await;
    let once =
        running(&*store, &spec("0 * * * * ?", "UTC", MisfirePolicy::FireOnce, Some(crowd_id.clone())), start).await;
    let skip = running(&*store, &spec("0 * * * * ?", "UTC", MisfirePolicy::Skip, Some(crowd_id)), start).await;

    // Down for three hours: 180 missed minutes.
    let back = start + Duration::hours(3) + Duration::seconds(5);
    let fires = store.claim_due_fires("node-test", back, GRACE, 50).await.unwrap();
    assert_eq!(fires.len(), 2, "one ledger entry per schedule, not 180: {fires:?}");
    let by_template = |id| fires.iter().find(|f| f.template_id == Some(id)).unwrap();
    let fired = by_template(once);
    assert_eq!(fired.outcome, FireOutcome::Fired);
    assert_eq!(fired.fire_time, start + Duration::minutes(1));
    assert_eq!(
        fired.lateness_ms,
        (Duration::hours(3) - Duration::minutes(1) + Duration::seconds(5)).num_milliseconds()
    );
    assert!(fired.run_id.is_some());
    let skipped = by_template(skip);
    assert_eq!(skipped.outcome, FireOutcome::MisfireSkipped);
    assert!(skipped.run_id.is_none());
    for id in [once, skip] {
        assert_eq!(
            store.get_template(id).await.unwrap().next_fire_at,
            Some(start + Duration::hours(3) + Duration::minutes(1)),
            "both resume on the schedule from now"
        );
    }
    assert!(store.claim_due_fires("node-test", back, GRACE, 50).await.unwrap().is_empty());
    let skip_schedule = store.schedule_id_of(skip).await.unwrap().unwrap();
    let ledger = store.list_fires(skip_schedule, 10).await.unwrap();
    assert_eq!(ledger.len(), 1);
    assert_eq!((ledger[0].outcome.as_str(), ledger[0].run_id), ("misfire_skipped", None));
    assert_eq!(
        store.list_runs(&herald_store::RunFilter::newest(100)).await.unwrap().len(),
        1,
        "only the fire-once schedule made a run"
    );

    // Within the grace period a late fire is an ordinary one.
    let fires = store
        .claim_due_fires("node-test", start + Duration::hours(3) + Duration::seconds(90), GRACE, 50)
        .await
        .unwrap();
    assert_eq!(fires.len(), 2);
    assert!(fires.iter().all(|f| f.outcome == FireOutcome::Fired && f.lateness_ms == 30_000));
}

pub async fn a_template_without_crowd_gives_no_crowd_and_stopped_ones_do_not_fire(store: Arc<dyn Store>) {
    let start = t0();
    let lonely = running(&*store, &spec("0 * * * * ?", "UTC", MisfirePolicy::FireOnce, None), start).await;
    let crowd_id = crowd(&*store, 10, start).await;
    let stopped = store
        .create_template(&spec("0 * * * * ?", "UTC", MisfirePolicy::FireOnce, Some(crowd_id)), start)
        .await
        .unwrap();
    let fires = store.claim_due_fires("node-test", start + Duration::minutes(1), GRACE, 10).await.unwrap();
    assert_eq!(fires.len(), 1);
    assert_eq!(fires[0].template_id, Some(lonely));
    assert_eq!(fires[0].outcome, FireOutcome::NoCrowd);
    assert!(fires[0].run_id.is_none());
    let ledger = store.list_fires(fires[0].schedule_id, 10).await.unwrap();
    assert_eq!(ledger[0].outcome, "no_crowd");
    assert!(store.list_runs(&herald_store::RunFilter::newest(10)).await.unwrap().is_empty());
    assert_eq!(store.get_template(stopped.id).await.unwrap().next_fire_at, None);
    assert_eq!(
        store.get_template(lonely).await.unwrap().next_fire_at,
        Some(start + Duration::minutes(2)),
        "a no-crowd fire still advances the schedule"
    );
    store.set_template_status(lonely, TemplateStatus::Stopped, start).await.unwrap();
    assert!(store.claim_due_fires("node-test", start + Duration::minutes(5), GRACE, 10).await.unwrap().is_empty());
}

pub async fn claims_come_in_pages_of_the_limit(store: Arc<dyn Store>) {
    let start = t0();
    let crowd_id = crowd(&*store, 1, start).await;
    for _ in 0..12 {
        running(&*store, &spec("0 * * * * ?", "UTC", MisfirePolicy::FireOnce, Some(crowd_id.clone())), start).await;
    }
    let now = start + Duration::minutes(1);
    let pages: Vec<usize> = [
        store.claim_due_fires("node-test", now, GRACE, 5).await.unwrap().len(),
        store.claim_due_fires("node-test", now, GRACE, 5).await.unwrap().len(),
        store.claim_due_fires("node-test", now, GRACE, 5).await.unwrap().len(),
        store.claim_due_fires("node-test", now, GRACE, 5).await.unwrap().len(),
    ]
    .into();
    assert_eq!(pages, vec![5, 5, 2, 0]);
}

pub async fn list_schedules_shows_every_schedule_with_its_last_fire(store: Arc<dyn Store>) {
    let start = t0();
    assert!(store.list_schedules(&Default::default()).await.unwrap().is_empty());
    let crowd_id = crowd(&*store, 3, start).await;
    let minutely = running(&*store, &spec("0 * * * * ?", "UTC", MisfirePolicy::FireOnce, Some(crowd_id)), start).await;
    let stopped =
        store.create_template(&spec("0 0 9 * * ?", "Asia/Shanghai", MisfirePolicy::Skip, None), start).await.unwrap();
    let _unscheduled = store.create_template(&unscheduled(None), start).await.unwrap();
    let corp = store.create_account(&account("corp", &[(TOKEN_REFRESH, "0 0/2 * * * ?")]), start).await.unwrap();

    let mut claimed = Vec::new();
    for minute in 1..=3 {
        claimed.extend(store.claim_due_fires("node-test", start + Duration::minutes(minute), GRACE, 10).await.unwrap());
    }
    assert_eq!(claimed.len(), 4, "three minutely fires and one housekeeping fire: {claimed:?}");

    let schedules = store.list_schedules(&Default::default()).await.unwrap();
    assert_eq!(schedules.len(), 3, "the unscheduled template has none");
    assert!(schedules.windows(2).all(|w| w[0].id < w[1].id), "in id order");
    let of_template = |id| schedules.iter().find(|s| s.template_id == Some(id)).unwrap();

    let s = of_template(minutely);
    assert_eq!((s.kind.as_str(), s.account_id, s.enabled), ("template", None, true));
    assert_eq!((s.cron.as_str(), s.timezone.as_str()), ("0 * * * * ?", "UTC"));
    assert_eq!(s.next_fire_at, Some(start + Duration::minutes(4)));
    let last = s.last_fire.as_ref().expect("fired three times");
    let newest = claimed.iter().filter(|f| f.template_id == Some(minutely)).max_by_key(|f| f.fire_time).unwrap();
    assert_eq!((last.id, last.schedule_id, last.run_id), (newest.fire_id, s.id, newest.run_id));
    assert_eq!((last.fire_time, last.claimed_at), (start + Duration::minutes(3), start + Duration::minutes(3)));
    assert_eq!((last.outcome.as_str(), last.lateness_ms, last.error.clone()), ("fired", 0, None));

    let s = of_template(stopped.id);
    assert_eq!((s.enabled, s.next_fire_at, s.timezone.as_str()), (false, None, "Asia/Shanghai"));
    assert!(s.last_fire.is_none());

    let s = schedules.iter().find(|s| s.account_id == Some(corp.id)).unwrap();
    assert_eq!((s.kind.as_str(), s.template_id, s.enabled), (TOKEN_REFRESH, None, true));
    assert_eq!(s.next_fire_at, Some(start + Duration::minutes(4)));
    let last = s.last_fire.as_ref().unwrap();
    assert_eq!((last.fire_time, last.outcome.as_str(), last.run_id), (start + Duration::minutes(2), "fired", None));
}

pub async fn a_failed_housekeeping_fire_is_retried_sooner(store: Arc<dyn Store>) {
    let start = t0();
    let hourly = "0 0 * * * ?";
    let corp = store.create_account(&account("corp", &[(TOKEN_REFRESH, hourly)]), start).await.unwrap();
    let schedule_id = housekeeping_of(&*store, corp.id).await[0].id;
    let next_fire = |store: Arc<dyn Store>| async move {
        store
            .list_schedules(&Default::default())
            .await
            .unwrap()
            .into_iter()
            .find(|s| s.id == schedule_id)
            .unwrap()
            .next_fire_at
    };

    let at = start + Duration::hours(1);
    let fire = store.claim_due_fires("node-test", at, GRACE, 10).await.unwrap().remove(0);
    assert_eq!((fire.schedule_id, fire.account_id), (schedule_id, Some(corp.id)));
    assert_eq!(next_fire(store.clone()).await, Some(start + Duration::hours(2)));

    // The token endpoint failed: the fire says so, and the schedule comes back in five minutes
    // rather than in an hour.
    let retry_at = at + Duration::minutes(5);
    store.complete_fire(fire.fire_id, Some("token endpoint answered 503"), Some(retry_at)).await.unwrap();
    let ledger = store.list_fires(schedule_id, 10).await.unwrap();
    assert_eq!((ledger[0].id, ledger[0].outcome.as_str()), (fire.fire_id, "failed"));
    assert_eq!(ledger[0].error.as_deref(), Some("token endpoint answered 503"));
    assert_eq!(next_fire(store.clone()).await, Some(retry_at));
    let last = store
        .list_schedules(&Default::default())
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.id == schedule_id)
        .unwrap()
        .last_fire;
    assert_eq!(last.map(|f| (f.outcome, f.error)), Some(("failed".into(), Some("token endpoint answered 503".into()))));

    assert!(store.claim_due_fires("node-test", retry_at - Duration::seconds(1), GRACE, 10).await.unwrap().is_empty());
    let retry = store.claim_due_fires("node-test", retry_at, GRACE, 10).await.unwrap().remove(0);
    assert_eq!((retry.schedule_id, retry.fire_time, retry.kind.as_str()), (schedule_id, retry_at, TOKEN_REFRESH));
    assert_eq!(next_fire(store.clone()).await, Some(start + Duration::hours(2)), "back on the hour");
    store.complete_fire(retry.fire_id, None, None).await.unwrap();
    let ledger = store.list_fires(schedule_id, 10).await.unwrap();
    let outcomes: Vec<(&str, Option<&str>)> = ledger.iter().map(|f| (f.outcome.as_str(), f.error.as_deref())).collect();
    assert_eq!(outcomes, [("succeeded", None), ("failed", Some("token endpoint answered 503"))], "newest first");

    // A retry later than the next fire changes nothing; neither does a failure without one.
    store.complete_fire(retry.fire_id, Some("again"), Some(start + Duration::hours(3))).await.unwrap();
    assert_eq!(next_fire(store.clone()).await, Some(start + Duration::hours(2)));
    store.complete_fire(retry.fire_id, Some("again"), None).await.unwrap();
    assert_eq!(next_fire(store.clone()).await, Some(start + Duration::hours(2)));
    // Success ignores a retry time.
    store.complete_fire(retry.fire_id, None, Some(start)).await.unwrap();
    assert_eq!(next_fire(store.clone()).await, Some(start + Duration::hours(2)));
    assert_eq!(store.list_fires(schedule_id, 1).await.unwrap()[0].error, None);

    // A disabled schedule stays disarmed.
    let crowd_id = crowd(&*store, 1, start).await;
    let template = running(&*store, &spec(hourly, "UTC", MisfirePolicy::FireOnce, Some(crowd_id)), start).await;
    let fire = store
        .claim_due_fires("node-test", start + Duration::hours(2), GRACE, 10)
        .await
        .unwrap()
        .into_iter()
        .find(|f| f.template_id == Some(template))
        .unwrap();
    store.set_template_status(template, TemplateStatus::Stopped, start + Duration::hours(2)).await.unwrap();
    store.complete_fire(fire.fire_id, Some("boom"), Some(start + Duration::hours(2))).await.unwrap();
    assert_eq!(store.get_template(template).await.unwrap().next_fire_at, None);

    assert!(matches!(store.complete_fire(9999, None, None).await, Err(herald_store::StoreError::NotFound { .. })));
}

pub async fn an_unreadable_cron_disables_its_schedule_and_the_claim_goes_on(store: Arc<dyn Store>, raw: Raw) {
    let start = t0();
    let crowd_id = crowd(&*store, 1, start).await;
    let broken =
        running(&*store, &spec("0 * * * * ?", "UTC", MisfirePolicy::FireOnce, Some(crowd_id.clone())), start).await;
    let healthy = running(&*store, &spec("0 * * * * ?", "UTC", MisfirePolicy::FireOnce, Some(crowd_id)), start).await;
    let broken_schedule = store.schedule_id_of(broken).await.unwrap().unwrap();
    raw.set_schedule_cron(broken_schedule, "every minute, please").await;

    let fires = store.claim_due_fires("node-test", start + Duration::minutes(1), GRACE, 10).await.unwrap();
    assert_eq!(fires.iter().map(|f| f.template_id).collect::<Vec<_>>(), [Some(healthy)], "{fires:?}");
    let schedules = store.list_schedules(&Default::default()).await.unwrap();
    let disabled = schedules.iter().find(|s| s.id == broken_schedule).unwrap();
    assert_eq!((disabled.enabled, disabled.next_fire_at, disabled.last_fire.is_none()), (false, None, true));
    assert!(store.list_fires(broken_schedule, 10).await.unwrap().is_empty());
    assert!(store.list_runs(&herald_store::RunFilter::newest(10).of_template(broken)).await.unwrap().is_empty());
    let later = store.claim_due_fires("node-test", start + Duration::minutes(2), GRACE, 10).await.unwrap();
    assert_eq!(later.iter().map(|f| f.template_id).collect::<Vec<_>>(), [Some(healthy)]);
}

pub async fn a_fire_the_ledger_holds_already_is_left_out_and_the_rest_keep_their_own_ids(
    store: Arc<dyn Store>,
    raw: Raw,
) {
    let start = t0();
    let mut templates = Vec::new();
    for _ in 0..5 {
        templates.push(running(&*store, &spec("0 * * * * ?", "UTC", MisfirePolicy::FireOnce, None), start).await);
    }
    let taken = store.schedule_id_of(templates[2]).await.unwrap().unwrap();
    let minute = start + Duration::minutes(1);
    let taken_fire = raw.record_fire(taken, minute).await;

    let fires = store.claim_due_fires("node-test", minute, GRACE, 10).await.unwrap();
    let claimed: Vec<Option<i64>> = fires.iter().map(|f| f.template_id).collect();
    let others: Vec<Option<i64>> = templates.iter().filter(|&&t| t != templates[2]).map(|&t| Some(t)).collect();
    assert_eq!(claimed, others, "the fire another claimer wrote is not claimed again");
    for fire in &fires {
        let ledger = store.list_fires(fire.schedule_id, 10).await.unwrap();
        assert_eq!(ledger.iter().map(|f| f.id).collect::<Vec<_>>(), [fire.fire_id], "its own ledger row: {fire:?}");
        assert_ne!(fire.fire_id, taken_fire);
    }
    assert_eq!(store.list_fires(taken, 10).await.unwrap().iter().map(|f| f.id).collect::<Vec<_>>(), [taken_fire]);
    let next = store.claim_due_fires("node-test", minute + Duration::minutes(1), GRACE, 10).await.unwrap();
    assert_eq!(next.len(), 5, "every schedule advanced past the minute, the passed-over one too");

    // A page whose every fire the ledger holds already: nothing claimed, every schedule moved on.
    let third = minute + Duration::minutes(2);
    for &template in &templates {
        let schedule = store.schedule_id_of(template).await.unwrap().unwrap();
        raw.record_fire(schedule, third).await;
    }
    assert!(store.claim_due_fires("node-test", third, GRACE, 10).await.unwrap().is_empty());
    let fourth = store.claim_due_fires("node-test", third + Duration::minutes(1), GRACE, 10).await.unwrap();
    assert_eq!(fourth.len(), 5, "the page held already still moved its schedules on");
    assert!(fourth.iter().all(|f| f.fire_time == third + Duration::minutes(1)));
}

pub async fn the_last_fire_of_a_finite_cron_disarms_its_schedule(store: Arc<dyn Store>) {
    let start = t0();
    let crowd_id = crowd(&*store, 1, start).await;
    // Noon on the first of July 2026 only, in Shanghai: 04:00 UTC.
    let once = spec("0 0 12 1 7 ? 2026", "Asia/Shanghai", MisfirePolicy::FireOnce, Some(crowd_id));
    let id = running(&*store, &once, start).await;
    let noon = start + Duration::hours(4);
    assert_eq!(store.get_template(id).await.unwrap().next_fire_at, Some(noon));

    let fires = store.claim_due_fires("node-test", noon, GRACE, 10).await.unwrap();
    assert_eq!(fires.len(), 1);
    assert_eq!((fires[0].outcome, fires[0].fire_time), (FireOutcome::Fired, noon));
    assert!(fires[0].run_id.is_some());
    let schedule = store.list_schedules(&Default::default()).await.unwrap().remove(0);
    assert_eq!((schedule.enabled, schedule.next_fire_at), (true, None), "armed, with nothing left to fire");
    assert_eq!(schedule.last_fire.map(|f| f.fire_time), Some(noon));
    assert!(store.claim_due_fires("node-test", noon + Duration::days(400), GRACE, 10).await.unwrap().is_empty());
}

pub async fn a_claim_of_more_fires_than_one_statement_writes_each_once_and_advances_each(store: Arc<dyn Store>) {
    let start = t0();
    assert_eq!(store.soonest_fire_at().await.unwrap(), None, "no schedule yet");
    let crowd_id = crowd(&*store, 1, start).await;
    let every_minute = |crowd: Option<String>| spec("0 * * * * ?", "UTC", MisfirePolicy::FireOnce, crowd);
    let with_crowd = running(&*store, &every_minute(Some(crowd_id)), start).await;
    for _ in 0..1_100 {
        running(&*store, &every_minute(None), start).await;
    }
    // One schedule's next fire sooner than the rest: the claimer wakes for the soonest.
    let early = running(&*store, &spec("30 0 0 * * ?", "UTC", MisfirePolicy::FireOnce, None), start).await;
    assert_eq!(store.soonest_fire_at().await.unwrap(), Some(start + Duration::seconds(30)));

    for minute in 1..=2 {
        let now = start + Duration::minutes(minute);
        let fires = store.claim_due_fires("node-test", now, GRACE, 5_000).await.unwrap();
        let expected = if minute == 1 { 1_102 } else { 1_101 };
        assert_eq!(fires.len(), expected, "every due schedule once, in one claim");
        let fire_ids: std::collections::HashSet<i64> = fires.iter().map(|f| f.fire_id).collect();
        assert_eq!(fire_ids.len(), expected, "a ledger row each");
        for fire in &fires {
            let sends = fire.template_id == Some(with_crowd);
            assert_eq!(fire.run_id.is_some(), sends, "a run for the template with a crowd only: {fire:?}");
            assert_eq!(fire.outcome, if sends { FireOutcome::Fired } else { FireOutcome::NoCrowd });
        }
        for fire in &fires {
            let newest = store.list_fires(fire.schedule_id, 1).await.unwrap();
            assert_eq!(newest[0].id, fire.fire_id, "ids match the ledger: {fire:?}");
        }
        assert!(store.claim_due_fires("node-test", now, GRACE, 5_000).await.unwrap().is_empty(), "each advanced");
        assert_eq!(store.soonest_fire_at().await.unwrap(), Some(now + Duration::minutes(1)));
    }
    let early_next = store.get_template(early).await.unwrap().next_fire_at;
    assert_eq!(early_next, Some(start + Duration::days(1) + Duration::seconds(30)), "advanced by its own cron");
}

pub async fn a_schedule_s_fires_are_listed_newest_first_and_only_its_own(store: Arc<dyn Store>) {
    let start = t0();
    let every_minute = spec("0 * * * * ?", "UTC", MisfirePolicy::FireOnce, None);
    let (first, second) = (running(&*store, &every_minute, start).await, running(&*store, &every_minute, start).await);
    let mut claimed = Vec::new();
    for minute in 1..=5 {
        claimed.extend(store.claim_due_fires("node-test", start + Duration::minutes(minute), GRACE, 10).await.unwrap());
    }
    let schedule = store.schedule_id_of(first).await.unwrap().unwrap();
    let own: Vec<i64> = claimed.iter().rev().filter(|f| f.schedule_id == schedule).map(|f| f.fire_id).collect();
    assert_eq!(own.len(), 5);

    let listed = store.list_fires(schedule, 10).await.unwrap();
    assert_eq!(listed.iter().map(|f| f.id).collect::<Vec<_>>(), own);
    assert!(listed.iter().all(|f| f.schedule_id == schedule), "{listed:?}");
    let times: Vec<_> = listed.iter().map(|f| f.fire_time).collect();
    assert_eq!(times, (1..=5).rev().map(|m| start + Duration::minutes(m)).collect::<Vec<_>>());
    assert_eq!(store.list_fires(schedule, 2).await.unwrap().iter().map(|f| f.id).collect::<Vec<_>>(), own[..2]);
    assert!(store.list_fires(schedule, 0).await.unwrap().is_empty());
    let other = store.schedule_id_of(second).await.unwrap().unwrap();
    assert_eq!(store.list_fires(other, 10).await.unwrap().len(), 5);

    let schedules = store.list_schedules(&Default::default()).await.unwrap();
    let newest = schedules.iter().find(|s| s.id == schedule).and_then(|s| s.last_fire.as_ref()).map(|f| f.id);
    assert_eq!(newest, Some(own[0]), "the schedules list shows its newest fire");
}
