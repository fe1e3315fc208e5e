//! Scheduled jobs in the store: a job's schedule row beside its spec, a trigger claimed once
//! whether or not the job is paused, housekeeping kept one per kind beside many jobs, the run
//! log (and its retention), and a fixed delay's next fire counted from its run's end.

use super::*;
use herald_core::scheduled_job::JobSpec;
use herald_store::{JobRunEnd, JobRunFilter, JobRunOutcome, JobRunStart, StoreError, Window};

fn job(name: &str, schedule: serde_json::Value) -> JobSpec {
    serde_json::from_value(serde_json::json!({
        "name": name, "http": {"url": "https://crm.example/ping"}, "schedule": schedule
    }))
    .unwrap()
}

pub async fn jobs_fire_on_their_cadence_and_when_triggered_paused_or_not(store: Arc<dyn Store>) {
    let start = t0();
    store.ensure_housekeeping("retention", "0 0 3 * * ?", start).await.unwrap();
    let rate = store
        .create_job(&job("rate", serde_json::json!({"type": "fixed_rate", "everySecs": 60})), start)
        .await
        .unwrap();
    let api = store.create_job(&job("api", serde_json::json!({"type": "api"})), start).await.unwrap();
    assert_eq!((rate.enabled, rate.next_fire_at), (true, Some(start + Duration::seconds(60))));
    assert_eq!(api.next_fire_at, None);
    let taken = store.create_job(&job("rate", serde_json::json!({"type": "api"})), start).await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
    store.ensure_housekeeping("retention", "0 0 4 * * ?", start).await.unwrap();

    let at = start + Duration::seconds(60);
    let fires = store.claim_due_fires("node-test", at, GRACE, 10).await.unwrap();
    assert_eq!(fires.iter().map(|f| f.job_id).collect::<Vec<_>>(), [Some(rate.id)]);
    assert_eq!(store.get_job(rate.id).await.unwrap().next_fire_at, Some(start + Duration::seconds(120)));

    // Asked twice before a claim: one fire, at the first ask with the latest param, and the
    // schedule is left as it was.
    store.set_job_enabled(rate.id, false, at).await.unwrap();
    store.trigger_job(rate.id, at + Duration::seconds(5), None).await.unwrap();
    store.trigger_job(rate.id, at + Duration::seconds(6), Some("latest")).await.unwrap();
    store.trigger_job(api.id, at + Duration::seconds(6), None).await.unwrap();
    assert!(store.claim_due_fires("node-test", at + Duration::seconds(4), GRACE, 10).await.unwrap().is_empty());
    let fires = store.claim_due_fires("node-test", at + Duration::seconds(7), GRACE, 10).await.unwrap();
    let mut asked: Vec<_> = fires.iter().map(|f| (f.job_id, f.fire_time - at)).collect();
    asked.sort();
    assert_eq!(asked, [(Some(rate.id), Duration::seconds(5)), (Some(api.id), Duration::seconds(6))]);
    let param_of = |id| fires.iter().find(|f| f.job_id == Some(id)).and_then(|f| f.param.clone());
    assert_eq!((param_of(rate.id), param_of(api.id)), (Some("latest".to_string()), None), "the latest ask's param");
    assert!(store.claim_due_fires("node-test", at + Duration::minutes(10), GRACE, 10).await.unwrap().is_empty());
    assert_eq!(store.get_job(rate.id).await.unwrap().next_fire_at, None, "still paused");
    assert!(matches!(store.trigger_job(999, at, None).await, Err(StoreError::NotFound { .. })));
    assert_eq!(store.list_jobs(Window::ALL).await.unwrap().len(), 2);
    store.delete_job(api.id).await.unwrap();
    assert!(matches!(store.get_job(api.id).await, Err(StoreError::NotFound { .. })));
}

pub async fn the_run_log_pages_and_a_fixed_delay_counts_from_the_runs_end(store: Arc<dyn Store>) {
    let start = t0();
    let delay = store
        .create_job(&job("delay", serde_json::json!({"type": "fixed_delay", "delaySecs": 30})), start)
        .await
        .unwrap();
    let due = start + Duration::seconds(30);
    let fire = store.claim_due_fires("node-a", due, GRACE, 10).await.unwrap().remove(0);
    let held = store.get_job(delay.id).await.unwrap().next_fire_at.unwrap();
    assert!(held > due + Duration::minutes(1), "held for the longest run while it runs: {held}");

    let begin = |attempt, at| JobRunStart {
        job_id: delay.id,
        fire_id: Some(fire.fire_id),
        attempt,
        node: "node-a",
        outcome: JobRunOutcome::Running,
        at,
        shard: None,
    };
    let first = store.start_job_run(&begin(1, due)).await.unwrap();
    let end = |outcome, at| JobRunEnd {
        outcome,
        at,
        status_code: Some(503),
        output: Some("busy"),
        error: Some("answered 503"),
    };
    store.finish_job_run(first, &end(JobRunOutcome::Failed, due + Duration::seconds(1))).await.unwrap();
    let second = store.start_job_run(&begin(2, due + Duration::seconds(2))).await.unwrap();
    assert_eq!(store.running_job_runs(delay.id).await.unwrap().iter().map(|r| r.id).collect::<Vec<_>>(), [second]);
    assert!(store.ask_job_run_stop(second).await.unwrap());
    assert!(store.job_run_stop_asked(second).await.unwrap());
    store.finish_job_run(second, &end(JobRunOutcome::Replaced, due + Duration::seconds(3))).await.unwrap();
    store.finish_job_run(second, &end(JobRunOutcome::Succeeded, due + Duration::seconds(9))).await.unwrap();
    assert!(!store.ask_job_run_stop(second).await.unwrap(), "an ended run is not stopped");

    let ended = due + Duration::seconds(3);
    store.complete_job_fire(fire.fire_id, Some("replaced"), ended).await.unwrap();
    assert_eq!(store.get_job(delay.id).await.unwrap().next_fire_at, Some(ended + Duration::seconds(30)));
    let all = JobRunFilter { job_id: delay.id, outcome: None, window: Window::ALL };
    let runs = store.list_job_runs(&all).await.unwrap();
    assert_eq!(
        runs.iter().map(|r| (r.attempt, r.outcome)).collect::<Vec<_>>(),
        [(2, JobRunOutcome::Replaced), (1, JobRunOutcome::Failed)]
    );
    assert_eq!(
        (runs[1].duration_ms, runs[1].status_code, runs[1].output.as_deref()),
        (Some(1_000), Some(503), Some("busy"))
    );
    let failed = JobRunFilter { outcome: Some(JobRunOutcome::Failed), window: Window { offset: 0, limit: 1 }, ..all };
    assert_eq!(store.list_job_runs(&failed).await.unwrap().len(), 1);
    assert_eq!(store.list_fires(fire.schedule_id, 5).await.unwrap()[0].outcome, "failed");

    // Retention takes the run log with the rest: runs started before the cut go.
    assert_eq!(store.purge_before(due + Duration::seconds(2), 10).await.unwrap(), 1);
    assert_eq!(store.list_job_runs(&all).await.unwrap().iter().map(|r| r.id).collect::<Vec<_>>(), [second]);
}

pub async fn a_job_s_limit_of_runs_admits_no_more_when_nodes_start_at_once(store: Arc<dyn Store>) {
    let start = t0();
    let limited = store.create_job(&job("limited", serde_json::json!({"type": "api"})), start).await.unwrap();
    store.trigger_job(limited.id, start, None).await.unwrap();
    let fire = store.claim_due_fires("node-a", start, GRACE, 10).await.unwrap().remove(0);
    let begin = |fire_id, node: &'static str| JobRunStart {
        job_id: limited.id,
        fire_id,
        attempt: 1,
        node,
        outcome: JobRunOutcome::Running,
        at: start,
        shard: None,
    };
    // Two shards of one fire are one run of the limit.
    let shard_a = store.start_job_run_within(&begin(Some(fire.fire_id), "node-a"), 2).await.unwrap();
    let shard_b = store.start_job_run_within(&begin(Some(fire.fire_id), "node-b"), 2).await.unwrap();
    assert!(shard_a.is_some() && shard_b.is_some());

    // Eight nodes asking for the one room left at once (each with a connection open already,
    // so none is held back by connecting): one gets it.
    let warm = (0..8).map(|_| store.running_job_runs(limited.id));
    futures::future::try_join_all(warm).await.unwrap();
    let asks = (0..8).map(|_| {
        let store = store.clone();
        let run = begin(None, "node-c");
        tokio::spawn(async move { store.start_job_run_within(&run, 2).await.unwrap() })
    });
    let admitted: Vec<i64> = futures::future::join_all(asks).await.into_iter().filter_map(|r| r.unwrap()).collect();
    assert_eq!(admitted.len(), 1, "{admitted:?}");
    assert_eq!(store.running_job_runs(limited.id).await.unwrap().len(), 3);

    let end = JobRunEnd { outcome: JobRunOutcome::Succeeded, at: start, status_code: None, output: None, error: None };
    store.finish_job_run(admitted[0], &end).await.unwrap();
    assert!(store.start_job_run_within(&begin(None, "node-c"), 2).await.unwrap().is_some(), "room again");
    assert!(store.start_job_run_within(&begin(None, "node-c"), 2).await.unwrap().is_none(), "and no more");
}

pub async fn a_cadence_this_version_cannot_read_is_passed_over_and_the_claim_goes_on(store: Arc<dyn Store>, raw: Raw) {
    let start = t0();
    let every = serde_json::json!({"type": "fixed_rate", "everySecs": 60});
    let newer = store.create_job(&job("newer", every.clone()), start).await.unwrap();
    let known = store.create_job(&job("known", every), start).await.unwrap();
    raw.set_schedule_cadence(newer.schedule_id, "lunar").await;
    let at = start + Duration::seconds(60);
    let fires = store.claim_due_fires("node-test", at, GRACE, 10).await.unwrap();
    assert_eq!(fires.iter().map(|f| f.job_id).collect::<Vec<_>>(), [Some(known.id)]);
    let left = store.get_job(newer.id).await.unwrap();
    assert_eq!((left.enabled, left.next_fire_at), (true, Some(at)), "left as it was for the nodes that read it");
}

pub async fn an_alarm_sends_once_per_quiet_window_and_recovers_once(store: Arc<dyn Store>) {
    let start = t0();
    let flaky = store.create_job(&job("flaky", serde_json::json!({"type": "api"})), start).await.unwrap();
    let quiet = Duration::minutes(30);
    let schedule = flaky.schedule_id;
    let raise = |at| store.raise_alarm(schedule, "failure", at, quiet);
    assert!(raise(start).await.unwrap(), "the first raise sends");
    assert!(!raise(start + Duration::minutes(10)).await.unwrap(), "kept quiet within the window");
    assert!(raise(start + Duration::minutes(30)).await.unwrap(), "a reminder once the window is over");
    let raised = store.raised_alarms(schedule).await.unwrap();
    assert_eq!(
        raised.iter().map(|r| (r.rule.as_str(), r.last_sent_at, r.quieted)).collect::<Vec<_>>(),
        [("failure", Some(start + Duration::minutes(30)), 0)]
    );
    let everywhere = store.list_raised_alarms(Window::ALL).await.unwrap();
    assert_eq!(
        everywhere
            .iter()
            .map(|r| (r.schedule_id, r.kind.as_str(), r.job_name.as_deref(), r.rule.as_str()))
            .collect::<Vec<_>>(),
        [(schedule, "job", Some("flaky"), "failure")]
    );
    assert!(!store.recover_alarm(schedule, "timeout").await.unwrap(), "never raised: nothing to recover");
    assert!(store.recover_alarm(schedule, "failure").await.unwrap());
    assert!(!store.recover_alarm(schedule, "failure").await.unwrap(), "recovered once");
    assert!(store.raised_alarms(schedule).await.unwrap().is_empty());
    assert!(store.list_raised_alarms(Window::ALL).await.unwrap().is_empty());
    assert!(raise(start + Duration::minutes(31)).await.unwrap(), "after a recovery the next raise sends at once");

    // Fires that ended, counted by outcome within the window.
    for (n, error) in [(1, None), (2, Some("answered 500")), (3, None)] {
        store.trigger_job(flaky.id, start + Duration::minutes(n), None).await.unwrap();
        let at = start + Duration::minutes(n);
        let fire = store.claim_due_fires("node-a", at, GRACE, 10).await.unwrap().remove(0);
        store.complete_job_fire(fire.fire_id, error, at).await.unwrap();
    }
    assert_eq!(store.fire_counts(schedule, start).await.unwrap(), (3, 1));
    assert_eq!(store.fire_counts(schedule, start + Duration::minutes(2)).await.unwrap(), (2, 1));
}

pub async fn a_job_that_keeps_its_own_run_log_is_purged_by_its_own_days(store: Arc<dyn Store>) {
    let start = t0();
    let mut spec = job("kept", serde_json::json!({"type": "api"}));
    spec.keep_runs_days = Some(1);
    let kept = store.create_job(&spec, start).await.unwrap();
    let plain = store.create_job(&job("plain", serde_json::json!({"type": "api"})), start).await.unwrap();
    for id in [kept.id, plain.id] {
        let run = JobRunStart {
            job_id: id,
            fire_id: None,
            attempt: 1,
            node: "n",
            outcome: JobRunOutcome::Running,
            at: start,
            shard: None,
        };
        store.start_job_run(&run).await.unwrap();
    }
    let runs_of = async |id| {
        store.list_job_runs(&JobRunFilter { job_id: id, outcome: None, window: Window::ALL }).await.unwrap().len()
    };
    assert_eq!(store.purge_before(start + Duration::hours(1), 10).await.unwrap(), 1, "only the plain job's");
    assert_eq!((runs_of(kept.id).await, runs_of(plain.id).await), (1, 0));
    assert_eq!(store.purge_kept_job_runs(start + Duration::hours(23), 10).await.unwrap(), 0, "within its day");
    assert_eq!(store.purge_kept_job_runs(start + Duration::hours(25), 10).await.unwrap(), 1);
    assert_eq!(runs_of(kept.id).await, 0);
}
