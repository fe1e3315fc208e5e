//! Runs: run-now, planning into shards, shard leases and checkpoints, publishing and completion,
//! failure.

use super::*;
use herald_core::{MessageId, QuietHoursPolicy, RunSendState, RunStatus, Screened, TraceEvent};
use herald_store::{FireOutcome, ShardPlan, StoreError, StreamStep, TraceEntry};
use serde_json::json;

const LEASE: Duration = Duration::seconds(30);

pub fn outcome(run_id: i64, template_id: i64, row: u64, event: TraceEvent) -> TraceEntry {
    TraceEntry {
        message_id: herald_core::Installation::new("t").run_row(run_id, row),
        template_id,
        run_id: Some(run_id),
        receiver: format!("user{row}"),
        event,
        detail: None,
    }
}

/// Row `row` of the run, held for the end of quiet hours at `release_at`.
fn deferred(run_id: i64, template_id: i64, row: u64, release_at: DateTime<Utc>) -> herald_store::DeferredMessage {
    held(run_id, template_id, row, release_at, Screened::QuietHours)
}

/// Row `row` of the run, held having passed `screened`.
fn held(
    run_id: i64,
    template_id: i64,
    row: u64,
    release_at: DateTime<Utc>,
    screened: Screened,
) -> herald_store::DeferredMessage {
    herald_store::DeferredMessage {
        seq: 0,
        message_id: herald_core::Installation::new("t").run_row(run_id, row),
        template_id,
        run_id: Some(run_id),
        receiver: format!("user{row}"),
        variables: Default::default(),
        position: row as i64,
        release_at,
        screened,
    }
}

/// Shard plans for tests: `n` shards whose checkpoints name their number.
pub fn shard_plans(n: usize) -> Vec<ShardPlan> {
    (0..n)
        .map(|i| ShardPlan {
            checkpoint: json!({"offset": 100 * i, "shard": i}),
            end_offset: (i + 1 < n).then(|| 100 * (i as i64 + 1)),
        })
        .collect()
}

/// Plans the oldest pending run into `n` shards, as a streamer would.
pub async fn plan_next_run(store: &dyn Store, n: usize, now: DateTime<Utc>) -> i64 {
    let lease = store.lease_run("planner", now, LEASE).await.unwrap().expect("a pending run");
    assert!(store.plan_run(&lease, &shard_plans(n), now).await.unwrap());
    lease.run_id
}

pub async fn runs_plan_lease_shards_checkpoint_and_complete(store: Arc<dyn Store>) {
    let now = t0();
    let lonely = store.create_template(&unscheduled(None), now).await.unwrap();
    assert!(matches!(store.create_run(lonely.id, now).await, Err(StoreError::Conflict(_))), "no crowd");
    assert!(matches!(store.create_run(9999, now).await, Err(StoreError::NotFound { .. })));
    assert!(store.lease_run("a", now, LEASE).await.unwrap().is_none(), "nothing to plan");
    assert!(store.lease_shard("a", now, LEASE).await.unwrap().is_none(), "nothing to stream");

    let crowd_id = crowd(&*store, 3, now).await;
    let template = store.create_template(&unscheduled(Some(crowd_id.clone())), now).await.unwrap();
    let run_id = store.create_run(template.id, now).await.unwrap();
    let run = store.get_run(run_id).await.unwrap();
    assert_eq!((run.status, run.rows_total, run.rows_read, run.template_id), (RunStatus::Pending, 3, 0, template.id));
    assert_eq!((run.created_at, run.finished_at), (now, None));

    // Planning: a leases the pending run; no one else can plan it while a holds it.
    let plan = store.lease_run("a", now, LEASE).await.unwrap().unwrap();
    assert_eq!((plan.run_id, plan.template_id, plan.owner.as_str()), (run_id, template.id, "a"));
    assert_eq!(plan.crowd_id, crowd_id);
    assert!(store.lease_run("b", now + Duration::seconds(29), LEASE).await.unwrap().is_none(), "held by a");
    assert!(store.lease_shard("b", now, LEASE).await.unwrap().is_none(), "not planned yet");
    // a's planning lease lapses and b plans the run; a's late plan is refused.
    let b_plan = store.lease_run("b", now + Duration::seconds(31), LEASE).await.unwrap().unwrap();
    assert!(store.plan_run(&b_plan, &shard_plans(2), now).await.unwrap());
    assert!(!store.plan_run(&plan, &shard_plans(5), now).await.unwrap(), "a lost its planning lease");
    assert_eq!(store.get_run(run_id).await.unwrap().status, RunStatus::Streaming);
    assert!(store.lease_run("c", now + Duration::hours(1), LEASE).await.unwrap().is_none(), "planned once");
    assert_eq!(store.list_shards(run_id).await.unwrap().len(), 2);

    // Two streamers take one shard each; a third finds nothing.
    let s0 = store.lease_shard("a", now, LEASE).await.unwrap().unwrap();
    let s1 = store.lease_shard("b", now, LEASE).await.unwrap().unwrap();
    assert!(store.lease_shard("c", now, LEASE).await.unwrap().is_none());
    assert_eq!((s0.run_id, s0.shard_no, s0.template_id, s0.crowd_id.as_str()), (run_id, 0, template.id, &*crowd_id));
    assert_eq!((s0.checkpoint.clone(), s0.end_offset), (json!({"offset": 0, "shard": 0}), Some(100)));
    assert_eq!((s1.shard_no, s1.end_offset), (1, None));

    let step = StreamStep { checkpoint: json!({"offset": 60, "row": 2}), rows_read: 2, rows_invalid: 0, batches: 1 };
    assert!(store.checkpoint_shard(&s0, &step, now + Duration::seconds(10), LEASE).await.unwrap());
    let run = store.get_run(run_id).await.unwrap();
    assert_eq!((run.rows_read, run.rows_invalid, run.batches), (2, 0, 1));
    // The checkpoint extended s0's lease to 00:00:40; b's lease on s1 ends at 00:00:30.
    let taken = store.lease_shard("c", now + Duration::seconds(39), LEASE).await.unwrap().unwrap();
    assert_eq!((taken.shard_no, taken.owner.as_str()), (1, "c"), "s1 lapsed first");
    assert!(store.lease_shard("d", now + Duration::seconds(39), LEASE).await.unwrap().is_none());

    // s0 lapses too: d takes over from its checkpoint, and a has lost it.
    let resumed = store.lease_shard("d", now + Duration::seconds(41), LEASE).await.unwrap().unwrap();
    assert_eq!((resumed.shard_no, resumed.checkpoint.clone()), (0, json!({"offset": 60, "row": 2})));
    let stale = StreamStep { checkpoint: json!({"offset": 999}), rows_read: 5, rows_invalid: 0, batches: 1 };
    assert!(!store.checkpoint_shard(&s0, &stale, now + Duration::seconds(42), LEASE).await.unwrap(), "lost lease");
    store.finish_shard(&s0, now + Duration::seconds(42)).await.unwrap();
    store.finish_shard(&s1, now + Duration::seconds(42)).await.unwrap();
    let shards = store.list_shards(run_id).await.unwrap();
    assert!(shards.iter().all(|s| s.status == "streaming"), "stale finishes are ignored: {shards:?}");

    // d finishes shard 0 (nothing more to read); the run waits for shard 1.
    store.finish_shard(&resumed, now + Duration::seconds(43)).await.unwrap();
    assert_eq!(store.get_run(run_id).await.unwrap().status, RunStatus::Streaming);
    let last = StreamStep { checkpoint: json!({"offset": 180, "row": 3}), rows_read: 1, rows_invalid: 1, batches: 0 };
    assert!(store.checkpoint_shard(&taken, &last, now + Duration::seconds(45), LEASE).await.unwrap());
    store.finish_shard(&taken, now + Duration::seconds(46)).await.unwrap();
    let run = store.get_run(run_id).await.unwrap();
    assert_eq!(run.status, RunStatus::Published, "two rows still undelivered");
    assert_eq!((run.rows_total, run.rows_read, run.rows_invalid, run.batches), (3, 3, 1, 1));
    let shards = store.list_shards(run_id).await.unwrap();
    assert_eq!(shards.iter().map(|s| (s.status.as_str(), s.rows_read)).collect::<Vec<_>>(), [("done", 2), ("done", 1)]);
    assert!(store.lease_shard("e", now + Duration::hours(1), LEASE).await.unwrap().is_none(), "done stays done");

    let done = now + Duration::seconds(50);
    let first = [outcome(run_id, template.id, 1, TraceEvent::Sent)];
    assert_eq!(store.record_outcomes(&first, done).await.unwrap(), 1);
    assert_eq!(store.get_run(run_id).await.unwrap().status, RunStatus::Published);
    let second = [outcome(run_id, template.id, 2, TraceEvent::Failed)];
    assert_eq!(store.record_outcomes(&second, done).await.unwrap(), 1);
    let run = store.get_run(run_id).await.unwrap();
    assert_eq!((run.status, run.delivered, run.failed), (RunStatus::Completed, 1, 1));
    assert_eq!(run.finished_at, Some(done));
}

pub async fn a_run_whose_rows_are_all_final_completes_when_published(store: Arc<dyn Store>) {
    let now = t0();
    let crowd_id = crowd(&*store, 2, now).await;
    let template = store.create_template(&unscheduled(Some(crowd_id)), now).await.unwrap();
    let run_id = store.create_run(template.id, now).await.unwrap();
    plan_next_run(&*store, 1, now).await;
    let lease = store.lease_shard("a", now, LEASE).await.unwrap().unwrap();
    let step = StreamStep { checkpoint: json!({"row": 2}), rows_read: 2, rows_invalid: 1, batches: 1 };
    assert!(store.checkpoint_shard(&lease, &step, now, LEASE).await.unwrap());
    // The worker is quicker than the streamer: the one valid row is final before publishing ends.
    store.record_outcomes(&[outcome(run_id, template.id, 1, TraceEvent::Sent)], now).await.unwrap();
    assert_eq!(store.get_run(run_id).await.unwrap().status, RunStatus::Streaming);
    store.finish_shard(&lease, now + Duration::seconds(1)).await.unwrap();
    let run = store.get_run(run_id).await.unwrap();
    assert_eq!((run.status, run.finished_at), (RunStatus::Completed, Some(now + Duration::seconds(1))));
}

pub async fn failed_released_and_listed_runs(store: Arc<dyn Store>) {
    let now = t0();
    let crowd_id = crowd(&*store, 5, now).await;
    let first = store.create_template(&unscheduled(Some(crowd_id.clone())), now).await.unwrap();
    let second = store.create_template(&unscheduled(Some(crowd_id)), now).await.unwrap();
    let a = store.create_run(first.id, now).await.unwrap();
    let b = store.create_run(second.id, now).await.unwrap();
    let c = store.create_run(first.id, now).await.unwrap();
    assert_eq!(plan_next_run(&*store, 1, now).await, a, "oldest first");
    assert_eq!(plan_next_run(&*store, 1, now).await, b);

    let lease = store.lease_shard("node-1", now, LEASE).await.unwrap().unwrap();
    assert_eq!(lease.run_id, a, "oldest first");
    store.fail_run(a, "crowd file is gone", now + Duration::seconds(5)).await.unwrap();
    let failed = store.get_run(a).await.unwrap();
    assert_eq!(failed.status, RunStatus::Failed);
    assert_eq!(failed.error.as_deref(), Some("crowd file is gone"));
    assert_eq!(failed.finished_at, Some(now + Duration::seconds(5)));
    let step = StreamStep { checkpoint: json!({"row": 1}), rows_read: 1, ..Default::default() };
    assert!(!store.checkpoint_shard(&lease, &step, now, LEASE).await.unwrap(), "a failed run takes no progress");
    assert_eq!(store.get_run(a).await.unwrap().rows_read, 0);

    let lease = store.lease_shard("node-1", now, LEASE).await.unwrap().unwrap();
    assert_eq!(lease.run_id, b, "a failed run's shards are not streamed");
    assert!(store.checkpoint_shard(&lease, &step, now, LEASE).await.unwrap());
    // A clean shutdown hands b's shard back at once; someone else resumes it from the checkpoint.
    store.release_shard(&lease).await.unwrap();
    let resumed = store.lease_shard("node-2", now + Duration::seconds(1), LEASE).await.unwrap().unwrap();
    assert_eq!((resumed.run_id, resumed.checkpoint.clone()), (b, json!({"row": 1})));
    store.release_shard(&lease).await.unwrap();
    assert!(
        store.lease_shard("node-3", now + Duration::seconds(1), LEASE).await.unwrap().is_none(),
        "node-1's stale release did not free b's shard"
    );
    // A planning lease handed back is free at once too.
    let planning = store.lease_run("node-3", now, LEASE).await.unwrap().unwrap();
    assert_eq!(planning.run_id, c);
    store.release_run(&planning).await.unwrap();
    assert_eq!(store.lease_run("node-4", now, LEASE).await.unwrap().unwrap().run_id, c);

    let all = store.list_runs(&herald_store::RunFilter::newest(10)).await.unwrap();
    assert_eq!(all.iter().map(|r| r.id).collect::<Vec<_>>(), vec![c, b, a], "newest first");
    let of_first = store.list_runs(&herald_store::RunFilter::newest(10).of_template(first.id)).await.unwrap();
    assert_eq!(of_first.iter().map(|r| r.id).collect::<Vec<_>>(), vec![c, a]);
    assert_eq!(store.list_runs(&herald_store::RunFilter::newest(1)).await.unwrap().len(), 1);
    assert!(store.list_runs(&herald_store::RunFilter::newest(10).of_template(9999)).await.unwrap().is_empty());
    assert!(matches!(store.get_run(9999).await, Err(StoreError::NotFound { .. })));
}

pub async fn dropped_messages_count_into_their_run_once(store: Arc<dyn Store>) {
    let now = t0();
    let (template_id, run_id) = super::published_run(&*store, 6, now).await;
    let batch: Vec<TraceEntry> = [
        (1, TraceEvent::Sent),
        (2, TraceEvent::Failed),
        (3, TraceEvent::DroppedQuietHours),
        (4, TraceEvent::DroppedDedup),
        (5, TraceEvent::Discarded),
    ]
    .into_iter()
    .map(|(row, event)| outcome(run_id, template_id, row, event))
    .collect();
    assert_eq!(store.record_outcomes(&batch, now).await.unwrap(), 5);
    assert_eq!(store.record_outcomes(&batch, now).await.unwrap(), 0, "redelivered: counted once");
    // The same messages with other final states do not move them between counters either.
    let changed: Vec<TraceEntry> =
        batch.iter().map(|o| TraceEntry { event: TraceEvent::DroppedDedup, ..o.clone() }).collect();
    assert_eq!(store.record_outcomes(&changed, now).await.unwrap(), 0);
    let run = store.get_run(run_id).await.unwrap();
    assert_eq!((run.delivered, run.failed, run.dropped, run.deferred), (1, 1, 3, 0));
    assert_eq!(run.status, RunStatus::Published, "one row still open");
    for (row, event) in [(3, "dropped_quiet_hours"), (4, "dropped_dedup"), (5, "discarded")] {
        let trace = store.trace_of(herald_core::Installation::new("t").run_row(run_id, row).as_str()).await.unwrap();
        assert_eq!(trace.iter().map(|t| t.event.as_str()).collect::<Vec<_>>(), [event]);
    }

    // The last row is deferred first (not final), then dropped when released: that completes.
    let last = outcome(run_id, template_id, 6, TraceEvent::DroppedQuietHours);
    let held = deferred(run_id, template_id, 6, now + Duration::hours(1));
    store.defer_messages(&[held], now).await.unwrap();
    let run = store.get_run(run_id).await.unwrap();
    assert_eq!((run.status, run.deferred, run.dropped), (RunStatus::Published, 1, 3));
    let done = now + Duration::hours(1);
    let released = store.due_deferred(done, 10).await.unwrap();
    assert_eq!(released.len(), 1);
    assert_eq!(store.record_outcomes(&[last], done).await.unwrap(), 1);
    store.remove_deferred(&[released[0].seq]).await.unwrap();
    let run = store.get_run(run_id).await.unwrap();
    assert_eq!((run.delivered, run.failed, run.dropped, run.deferred), (1, 1, 4, 0));
    assert_eq!((run.status, run.finished_at), (RunStatus::Completed, Some(done)));
    let listed = store.list_runs(&herald_store::RunFilter::newest(10).of_template(template_id)).await.unwrap();
    assert_eq!((listed[0].id, listed[0].dropped, listed[0].deferred), (run_id, 4, 0));

    // A run whose every row was dropped completes too.
    let (template_id, run_id) = super::published_run(&*store, 2, now).await;
    let all_dropped: Vec<TraceEntry> =
        (1..=2).map(|row| outcome(run_id, template_id, row, TraceEvent::Discarded)).collect();
    store.record_outcomes(&all_dropped, now).await.unwrap();
    let run = store.get_run(run_id).await.unwrap();
    assert_eq!((run.status, run.delivered, run.failed, run.dropped), (RunStatus::Completed, 0, 0, 2));
}

pub async fn a_run_held_for_quiet_hours_is_leased_from_not_before(store: Arc<dyn Store>, raw: Raw) {
    let now = t0();
    let crowd_id = crowd(&*store, 3, now).await;
    let template = store.create_template(&unscheduled(Some(crowd_id)), now).await.unwrap();
    let held = store.create_run(template.id, now).await.unwrap();
    let free = store.create_run(template.id, now).await.unwrap();
    let morning = now + Duration::hours(8);
    raw.set_run_not_before(held, morning).await;

    let lease = store.lease_run("a", now, LEASE).await.unwrap().unwrap();
    assert_eq!(lease.run_id, free, "the older run waits for the end of quiet hours");
    assert!(store.lease_run("b", now, LEASE).await.unwrap().is_none());
    // Just before morning only a's long-lapsed lease is there to take.
    let retaken = store.lease_run("b", morning - Duration::seconds(1), LEASE).await.unwrap().unwrap();
    assert_eq!(retaken.run_id, free);
    assert!(store.lease_run("b", morning - Duration::seconds(1), LEASE).await.unwrap().is_none());
    assert_eq!(store.get_run(held).await.unwrap().status, RunStatus::Pending);
    let lease = store.lease_run("b", morning, LEASE).await.unwrap().unwrap();
    assert_eq!((lease.run_id, lease.owner.as_str()), (held, "b"), "due at not_before itself");

    // Past not_before, a lapsed lease is taken over as usual.
    let lapsed = morning + LEASE + Duration::seconds(1);
    assert_eq!(store.lease_run("c", lapsed, LEASE).await.unwrap().unwrap().run_id, held, "oldest first");
    assert_eq!(store.lease_run("c", lapsed, LEASE).await.unwrap().unwrap().run_id, free);
    assert!(store.lease_run("c", lapsed, LEASE).await.unwrap().is_none());
}

pub async fn a_deferring_template_fired_inside_quiet_hours_streams_when_they_end(store: Arc<dyn Store>) {
    // 01:00 UTC is inside the default quiet window (00:00 to 08:00); its sends go at 09:00.
    let night = t0() + Duration::hours(1);
    let morning = t0() + Duration::hours(9);
    let crowd_id = crowd(&*store, 3, t0()).await;
    let deferring = |spec: TemplateSpec| TemplateSpec { quiet_hours: QuietHoursPolicy::Defer, ..spec };

    let run_now = store.create_template(&deferring(unscheduled(Some(crowd_id.clone()))), t0()).await.unwrap();
    let held_now = store.create_run(run_now.id, night).await.unwrap();
    let hourly = spec("0 0 * * * ?", "UTC", MisfirePolicy::FireOnce, Some(crowd_id.clone()));
    let scheduled = running(&*store, &deferring(hourly), t0()).await;
    let fire = store.claim_due_fires("node-test", night, GRACE, 10).await.unwrap().remove(0);
    assert_eq!((fire.template_id, fire.outcome), (Some(scheduled), FireOutcome::Fired));
    let held_fired = fire.run_id.expect("a run, held rather than not made");
    assert_eq!(store.get_run(held_fired).await.unwrap().fire_time, Some(fire.fire_time), "started by this fire");
    // A dropping template's run streams at once: its rows meet the policy one by one.
    let dropping = TemplateSpec { quiet_hours: QuietHoursPolicy::Drop, ..unscheduled(Some(crowd_id)) };
    let dropping = store.create_template(&dropping, t0()).await.unwrap();
    let free = store.create_run(dropping.id, night).await.unwrap();

    let lease = store.lease_run("a", night, LEASE).await.unwrap().unwrap();
    assert_eq!(lease.run_id, free, "the older runs wait for the morning");
    assert!(store.plan_run(&lease, &shard_plans(1), night).await.unwrap());
    assert!(store.lease_run("b", morning - Duration::seconds(1), LEASE).await.unwrap().is_none());
    let mut from_morning = Vec::new();
    while let Some(lease) = store.lease_run("c", morning, LEASE).await.unwrap() {
        assert!(store.plan_run(&lease, &shard_plans(1), morning).await.unwrap());
        from_morning.push(lease.run_id);
    }
    assert_eq!(from_morning, [held_now, held_fired], "oldest first, from the window's end");

    // Outside quiet hours a deferring template's run streams at once.
    let day = t0() + Duration::hours(12);
    let daytime = store.create_run(run_now.id, day).await.unwrap();
    assert_eq!(store.lease_run("d", day, LEASE).await.unwrap().unwrap().run_id, daytime);
}

pub async fn a_cancelled_run_stops_streaming_and_its_deferred_messages_end_cancelled(store: Arc<dyn Store>) {
    let now = t0();
    let crowd_id = crowd(&*store, 5, now).await;
    let template = store.create_template(&unscheduled(Some(crowd_id)), now).await.unwrap();
    let run_id = store.create_run(template.id, now).await.unwrap();
    plan_next_run(&*store, 2, now).await;
    let streaming = store.lease_shard("a", now, LEASE).await.unwrap().unwrap();
    let step = StreamStep { checkpoint: json!({"row": 2}), rows_read: 2, rows_invalid: 0, batches: 1 };
    assert!(store.checkpoint_shard(&streaming, &step, now, LEASE).await.unwrap());
    store.record_outcomes(&[outcome(run_id, template.id, 1, TraceEvent::Sent)], now).await.unwrap();
    store.defer_messages(&[deferred(run_id, template.id, 2, now + Duration::hours(8))], now).await.unwrap();
    assert_eq!(store.run_send_state(run_id).await.unwrap(), RunSendState::Open);

    let at = now + Duration::seconds(5);
    store.cancel_run(run_id, at).await.unwrap();
    let run = store.get_run(run_id).await.unwrap();
    assert_eq!((run.status, run.finished_at), (RunStatus::Cancelled, Some(at)));
    assert_eq!((run.delivered, run.dropped, run.deferred), (1, 1, 0), "the deferred row ended cancelled");
    assert_eq!(store.run_send_state(run_id).await.unwrap(), RunSendState::Cancelled);
    let row2 = herald_core::Installation::new("t").run_row(run_id, 2);
    let trace = store.trace_of(row2.as_str()).await.unwrap();
    assert_eq!(trace.iter().map(|t| t.event.as_str()).collect::<Vec<_>>(), ["deferred", "cancelled"]);
    assert_eq!(trace[1].detail.as_deref(), Some(herald_core::CANCELLED_REASON));
    assert!(store.due_deferred(now + Duration::days(1), 10).await.unwrap().is_empty(), "nothing left to release");

    // The streamer's next window was published before it learnt of the cancel: its rows count,
    // the shard is done, and the streamer is told to stop. No shard of the run is leased again.
    let window = StreamStep { checkpoint: json!({"row": 4}), rows_read: 2, rows_invalid: 1, batches: 1 };
    assert!(!store.checkpoint_shard(&streaming, &window, at, LEASE).await.unwrap(), "stop streaming");
    let run = store.get_run(run_id).await.unwrap();
    assert_eq!((run.rows_read, run.rows_invalid, run.batches), (4, 1, 2));
    let shards = store.list_shards(run_id).await.unwrap();
    assert_eq!(shards.iter().map(|s| s.status.as_str()).collect::<Vec<_>>(), ["done", "pending"]);
    assert!(store.lease_shard("b", at + Duration::hours(1), LEASE).await.unwrap().is_none());
    // Messages finishing later still count, and the run stays cancelled.
    store.record_outcomes(&[outcome(run_id, template.id, 3, TraceEvent::Cancelled)], at).await.unwrap();
    let run = store.get_run(run_id).await.unwrap();
    assert_eq!((run.status, run.delivered, run.dropped), (RunStatus::Cancelled, 1, 2));

    // A run that has ended cannot be cancelled (again); an unknown one is not found.
    let again = store.cancel_run(run_id, at).await;
    assert!(matches!(&again, Err(StoreError::Conflict(m)) if m.contains("cancelled")), "{again:?}");
    let (done_template, done_run) = super::published_run(&*store, 1, now).await;
    store.record_outcomes(&[outcome(done_run, done_template, 1, TraceEvent::Sent)], now).await.unwrap();
    assert_eq!(store.get_run(done_run).await.unwrap().status, RunStatus::Completed);
    let refused = store.cancel_run(done_run, at).await;
    assert!(matches!(&refused, Err(StoreError::Conflict(m)) if m.contains("completed")), "{refused:?}");
    assert!(matches!(store.cancel_run(9999, at).await, Err(StoreError::NotFound { .. })));
    assert!(matches!(store.run_send_state(9999).await, Err(StoreError::NotFound { .. })));

    // A pending run (waiting for its quiet hours to end, say) cancelled is never planned.
    let waiting = store.create_run(template.id, at).await.unwrap();
    store.cancel_run(waiting, at).await.unwrap();
    assert!(store.lease_run("c", at + Duration::days(1), LEASE).await.unwrap().is_none());
}

pub async fn cancelling_a_run_with_many_deferred_messages_ends_every_one(store: Arc<dyn Store>) {
    let now = t0();
    let (template_id, run_id) = super::published_run(&*store, 2_500, now).await;
    let held: Vec<_> = (1..=2_500).map(|row| deferred(run_id, template_id, row, now + Duration::hours(8))).collect();
    store.defer_messages(&held, now).await.unwrap();
    assert_eq!(store.get_run(run_id).await.unwrap().deferred, 2_500);
    store.cancel_run(run_id, now).await.unwrap();
    let run = store.get_run(run_id).await.unwrap();
    assert_eq!((run.status, run.dropped, run.deferred), (RunStatus::Cancelled, 2_500, 0), "three pages, all ended");
    let counts: std::collections::BTreeMap<String, i64> =
        store.run_state_counts(run_id).await.unwrap().into_iter().collect();
    assert_eq!(counts.get("cancelled"), Some(&2_500), "{counts:?}");
}

pub async fn a_paused_run_holds_its_messages_and_stops_streaming_until_resumed(store: Arc<dyn Store>) {
    let now = t0();
    store.ensure_housekeeping("quiet_release", "0 * * * * ?", now).await.unwrap();
    let crowd_id = crowd(&*store, 6, now).await;
    let template = store.create_template(&unscheduled(Some(crowd_id)), now).await.unwrap();
    let run_id = store.create_run(template.id, now).await.unwrap();
    plan_next_run(&*store, 2, now).await;
    let streaming = store.lease_shard("a", now, LEASE).await.unwrap().unwrap();
    let step = StreamStep { checkpoint: json!({"row": 2}), rows_read: 2, rows_invalid: 0, batches: 1 };
    assert!(store.checkpoint_shard(&streaming, &step, now, LEASE).await.unwrap());
    store.defer_messages(&[deferred(run_id, template.id, 6, now + Duration::hours(8))], now).await.unwrap();

    let at = now + Duration::seconds(5);
    store.pause_run(run_id, at).await.unwrap();
    assert_eq!(store.run_send_state(run_id).await.unwrap(), RunSendState::Paused);
    let run = store.get_run(run_id).await.unwrap();
    assert_eq!((run.status, run.paused_at), (RunStatus::Streaming, Some(at)), "paused, still streaming");
    let again = store.pause_run(run_id, at).await;
    assert!(matches!(&again, Err(StoreError::Conflict(m)) if m.contains("paused already")), "{again:?}");

    // The streamer's next window was published before it learnt of the pause: its rows count,
    // and the shard is handed back where it stands. No shard of the run is leased while paused.
    let window = StreamStep { checkpoint: json!({"row": 4}), rows_read: 2, rows_invalid: 0, batches: 1 };
    assert!(!store.checkpoint_shard(&streaming, &window, at, LEASE).await.unwrap(), "stop streaming");
    assert_eq!(store.get_run(run_id).await.unwrap().rows_read, 4);
    let shards = store.list_shards(run_id).await.unwrap();
    assert!(shards.iter().all(|s| s.status != "done" && s.lease_owner.is_none()), "{shards:?}");
    assert!(store.lease_shard("b", at + Duration::hours(1), LEASE).await.unwrap().is_none());

    // Workers hold what they had: row 1 not yet screened, row 2 past every screen.
    let rows = [held(run_id, template.id, 1, at, Screened::Not), held(run_id, template.id, 2, at, Screened::Fully)];
    store.hold_for_pause(run_id, &rows, at).await.unwrap();
    store.hold_for_pause(run_id, &rows, at).await.unwrap();
    let run = store.get_run(run_id).await.unwrap();
    assert_eq!((run.held, run.deferred), (2, 1), "held once each; the quiet-hours one apart");
    let row1 = herald_core::Installation::new("t").run_row(run_id, 1);
    let trace = store.trace_of(row1.as_str()).await.unwrap();
    assert_eq!(trace.iter().map(|t| t.event.as_str()).collect::<Vec<_>>(), ["paused"]);
    assert_eq!(trace[0].detail.as_deref(), Some(herald_core::PAUSED_REASON));
    assert!(store.due_deferred(at + Duration::days(3650), 10).await.unwrap().len() == 1, "only the quiet-hours one");
    let states = store.run_state_counts(run_id).await.unwrap();
    assert!(states.contains(&("paused".into(), 2)) && states.contains(&("deferred".into(), 1)), "{states:?}");

    // Resumed: the held rows are due once every worker has seen the resume, as screened as they
    // were; the quiet-hours release is brought forward to publish them then; the shard is leased
    // again from where it stopped.
    let resumed = at + Duration::seconds(5);
    let due_at = resumed + Duration::from_std(herald_core::RUN_CONTROL_SEEN_WITHIN).unwrap();
    store.resume_run(run_id, resumed).await.unwrap();
    let again = store.resume_run(run_id, resumed).await;
    assert!(matches!(&again, Err(StoreError::Conflict(m)) if m.contains("not paused")), "{again:?}");
    assert_eq!(store.run_send_state(run_id).await.unwrap(), RunSendState::Open);
    let run = store.get_run(run_id).await.unwrap();
    assert_eq!((run.paused_at, run.held, run.deferred), (None, 0, 3));
    assert!(store.claim_deferred(due_at - Duration::milliseconds(1), 10, LEASE).await.unwrap().is_empty());
    let due = store.claim_deferred(due_at, 10, LEASE).await.unwrap();
    let due: Vec<(i64, Screened)> = due.iter().map(|d| (d.position, d.screened)).collect();
    assert_eq!(due, [(1, Screened::Not), (2, Screened::Fully)]);
    let release = store
        .list_schedules(&Default::default())
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.kind == "quiet_release")
        .unwrap();
    assert_eq!(release.next_fire_at, Some(due_at), "the release runs for them");
    let lease = store.lease_shard("b", resumed, LEASE).await.unwrap().unwrap();
    assert_eq!((lease.run_id, lease.checkpoint.clone()), (run_id, json!({"row": 4})));

    // A hold written after the resume (by a worker that read the pause just before it) is due
    // as the resume's are.
    store.hold_for_pause(run_id, &[held(run_id, template.id, 3, at, Screened::Fully)], resumed).await.unwrap();
    let late = store.claim_deferred(due_at, 10, LEASE).await.unwrap();
    assert_eq!(late.iter().map(|d| d.position).collect::<Vec<_>>(), [3]);

    // Paused again and cancelled: what it held ends cancelled; an ended run refuses both.
    store.pause_run(run_id, resumed).await.unwrap();
    store.hold_for_pause(run_id, &[held(run_id, template.id, 4, at, Screened::Not)], resumed).await.unwrap();
    store.cancel_run(run_id, resumed).await.unwrap();
    let run = store.get_run(run_id).await.unwrap();
    assert_eq!((run.status, run.held), (RunStatus::Cancelled, 0));
    let row4 = herald_core::Installation::new("t").run_row(run_id, 4);
    let trace = store.trace_of(row4.as_str()).await.unwrap();
    assert_eq!(trace.iter().map(|t| t.event.as_str()).collect::<Vec<_>>(), ["paused", "cancelled"]);
    for refused in [store.pause_run(run_id, resumed).await, store.resume_run(run_id, resumed).await] {
        assert!(matches!(&refused, Err(StoreError::Conflict(m)) if m.contains("is cancelled")), "{refused:?}");
    }
    assert!(matches!(store.pause_run(9999, at).await, Err(StoreError::NotFound { .. })));
    assert!(matches!(store.resume_run(9999, at).await, Err(StoreError::NotFound { .. })));
}

pub async fn runs_are_listed_by_status_as_shown_and_by_creation_time_a_page_at_a_time(store: Arc<dyn Store>) {
    let now = t0();
    let (failing_template, all_failed) = super::published_run(&*store, 1, now).await;
    store.record_outcomes(&[outcome(all_failed, failing_template, 1, TraceEvent::Failed)], now).await.unwrap();
    let crowd_id = crowd(&*store, 3, now).await;
    let template = store.create_template(&unscheduled(Some(crowd_id)), now).await.unwrap();
    let day = Duration::days(1);
    let waiting = store.create_run(template.id, now).await.unwrap();
    let paused = store.create_run(template.id, now + day).await.unwrap();
    let cancelled = store.create_run(template.id, now + day * 2).await.unwrap();
    store.pause_run(paused, now + day).await.unwrap();
    store.cancel_run(cancelled, now + day * 2).await.unwrap();
    let ids = |filter: herald_store::RunFilter| {
        let store = store.clone();
        async move { store.list_runs(&filter).await.unwrap().iter().map(|r| r.id).collect::<Vec<_>>() }
    };
    let with_status =
        |s: &str| herald_store::RunFilter { status: Some(s.into()), ..herald_store::RunFilter::newest(10) };
    assert_eq!(ids(with_status("pending")).await, [waiting], "a paused run is not listed as pending");
    assert_eq!(ids(with_status("paused")).await, [paused]);
    assert_eq!(ids(with_status("cancelled")).await, [cancelled]);
    let created = |from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>| herald_store::RunFilter {
        from,
        to,
        ..herald_store::RunFilter::newest(10).of_template(template.id)
    };
    assert_eq!(ids(created(Some(now + day), None)).await, [cancelled, paused]);
    assert_eq!(ids(created(None, Some(now + day))).await, [waiting], "before, not at");
    assert_eq!(ids(created(Some(now + day), Some(now + day * 2))).await, [paused]);
    let second = herald_store::RunFilter { offset: 1, ..herald_store::RunFilter::newest(1).of_template(template.id) };
    assert_eq!(ids(second).await, [paused], "the second page of one");

    // A completed run whose every message failed is listed (and shown) as failed, not completed.
    let run = store.get_run(all_failed).await.unwrap();
    assert_eq!((run.status, run.shown_status()), (RunStatus::Completed, "failed"));
    assert_eq!(ids(with_status("failed")).await, [all_failed]);
    assert!(ids(with_status("completed")).await.is_empty());
    assert_eq!(run.fire_time, None, "started now, not by a fire");
}

pub async fn a_runs_failed_messages_stream_and_it_is_resent_once(store: Arc<dyn Store>) {
    let now = t0();
    let crowd_id = crowd(&*store, 5, now).await;
    let template = store.create_template(&unscheduled(Some(crowd_id.clone())), now).await.unwrap();
    let run_id = store.create_run(template.id, now).await.unwrap();
    let other = store.create_run(template.id, now).await.unwrap();
    let events = [TraceEvent::Sent, TraceEvent::Failed, TraceEvent::DroppedDedup, TraceEvent::Failed, TraceEvent::Sent];
    let outcomes: Vec<TraceEntry> =
        events.iter().enumerate().map(|(n, e)| outcome(run_id, template.id, n as u64 + 1, *e)).collect();
    store.record_outcomes(&outcomes, now).await.unwrap();
    store.record_outcomes(&[outcome(other, template.id, 1, TraceEvent::Failed)], now).await.unwrap();

    let mut failed = Vec::new();
    let count = store.visit_failed_messages(run_id, &mut |id: MessageId| failed.push(id.row().unwrap())).await.unwrap();
    failed.sort_unstable();
    assert_eq!((count, failed), (2, vec![2, 4]), "this run's failures only");

    let copy = crowd(&*store, 2, now).await;
    let resend = store.create_resend_run(run_id, &copy, 2, now).await.unwrap();
    let run = store.get_run(resend).await.unwrap();
    assert_eq!((run.resend_of, run.crowd_id.as_str(), run.rows_total), (Some(run_id), copy.as_str(), 2));
    assert_eq!((run.template_id, run.status), (template.id, RunStatus::Pending));
    assert_eq!(store.get_run(run_id).await.unwrap().resend_of, None);
    assert_eq!(store.resend_of_run(resend).await.unwrap(), Some(run_id));
    assert_eq!(store.resend_of_run(run_id).await.unwrap(), None);
    assert!(matches!(store.resend_of_run(9_999).await, Err(StoreError::NotFound { .. })));

    let again = store.create_resend_run(run_id, &copy, 2, now).await.unwrap_err().to_string();
    assert!(again.contains(&format!("run {run_id} was resent already as run {resend}")), "{again}");
    assert!(matches!(store.create_resend_run(9_999, &copy, 2, now).await, Err(StoreError::NotFound { .. })));
    store.delete_template(template.id, now).await.unwrap();
    let gone = store.create_resend_run(other, &copy, 2, now).await.unwrap_err().to_string();
    assert!(gone.contains("was deleted"), "{gone}");
}
