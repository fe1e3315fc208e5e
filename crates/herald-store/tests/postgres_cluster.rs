//! PostgreSQL only: several nodes, each with its own connection pool, racing on one database.
//! Claims, leases and delivery counts must each happen exactly once.

mod suite;

use chrono::Duration;
use herald_core::{MisfirePolicy, RunStatus, TraceEvent};
use herald_store::{
    AccountRepo, DeferredMessage, DeferredRepo, FireOutcome, LedgerRepo, PgStore, RunRepo, ScheduleRepo, Store,
    StoreError, StreamStep, TemplateRepo, TraceEntry,
};
use rand::seq::SliceRandom;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use suite::{GRACE, crowd, pg_store, running, spec, t0, unscheduled, with_test_db};
use tokio::sync::Barrier;

async fn nodes(db: &suite::TestDb, n: usize) -> Vec<PgStore> {
    let mut nodes = Vec::with_capacity(n);
    for _ in 0..n {
        nodes.push(pg_store(db).await);
    }
    nodes
}

#[tokio::test]
async fn eight_nodes_claim_every_fire_exactly_once() {
    with_test_db(|db| async move {
        let setup = pg_store(&db).await;
        let start = t0();
        let crowd_id = crowd(&setup, 1, start).await;
        let mut schedule_ids = HashSet::new();
        for _ in 0..50 {
            let every_ten_seconds = spec("0/10 * * * * ?", "UTC", MisfirePolicy::FireOnce, Some(crowd_id.clone()));
            let id = running(&setup, &every_ten_seconds, start).await;
            schedule_ids.insert(setup.schedule_id_of(id).await.unwrap().unwrap());
        }
        const NODES: usize = 8;
        const PAGE: i64 = 7;
        // All nodes share one simulated clock: each tick they race to drain it, then move on
        // together, so no node lags into the misfire path.
        let barrier = Arc::new(Barrier::new(NODES));
        let mut tasks = Vec::new();
        for node in nodes(&db, NODES).await {
            let barrier = barrier.clone();
            tasks.push(tokio::spawn(async move {
                let mut got = Vec::new();
                let mut now = start;
                while now <= start + Duration::minutes(10) {
                    loop {
                        let page = node.claim_due_fires("node-test", now, GRACE, PAGE).await.unwrap();
                        let done = (page.len() as i64) < PAGE;
                        got.extend(page);
                        if done {
                            break;
                        }
                    }
                    barrier.wait().await;
                    now += Duration::seconds(5);
                }
                node.close().await;
                got
            }));
        }
        let mut all = Vec::new();
        let mut busy_nodes = 0;
        for task in tasks {
            let got = task.await.unwrap();
            busy_nodes += usize::from(!got.is_empty());
            all.extend(got);
        }
        let unique: HashSet<_> = all.iter().map(|f| (f.schedule_id, f.fire_time)).collect();
        assert_eq!(all.len(), unique.len(), "a fire was claimed twice");
        assert_eq!(unique.len(), 50 * 60, "50 schedules x 60 fires in 10 minutes");
        assert!(all.iter().all(|f| f.outcome == FireOutcome::Fired && f.run_id.is_some()));
        assert!(all.iter().all(|f| schedule_ids.contains(&f.schedule_id)));
        let runs: HashSet<_> = all.iter().map(|f| f.run_id).collect();
        assert_eq!(runs.len(), 50 * 60, "one run per fire");
        assert_eq!(setup.list_runs(&herald_store::RunFilter::newest(10_000)).await.unwrap().len(), 50 * 60);
        for schedule_id in schedule_ids {
            let mut times: Vec<_> =
                setup.list_fires(schedule_id, 1000).await.unwrap().into_iter().map(|f| f.fire_time).collect();
            times.reverse();
            assert_eq!(times.len(), 60);
            assert!(times.windows(2).all(|w| w[1] - w[0] == Duration::seconds(10)), "no gap in {schedule_id}");
        }
        println!("{busy_nodes} of {NODES} nodes claimed fires");
        setup.close().await;
    })
    .await;
}

#[tokio::test]
async fn four_streamers_never_hold_the_same_shard_and_the_last_finisher_publishes() {
    with_test_db(|db| async move {
        let setup = pg_store(&db).await;
        let now = t0();
        let crowd_id = crowd(&setup, 40, now).await;
        let template = setup.create_template(&unscheduled(Some(crowd_id)), now).await.unwrap();
        const RUNS: usize = 10;
        const SHARDS: usize = 4;
        for _ in 0..RUNS {
            setup.create_run(template.id, now).await.unwrap();
        }
        // Four planners race over the pending runs: each run is planned once.
        let mut planners = Vec::new();
        for (i, node) in nodes(&db, 4).await.into_iter().enumerate() {
            planners.push(tokio::spawn(async move {
                let mut planned = Vec::new();
                while let Some(lease) =
                    node.lease_run(&format!("planner-{i}"), now, Duration::minutes(1)).await.unwrap()
                {
                    assert!(node.plan_run(&lease, &suite::shard_plans(SHARDS), now).await.unwrap());
                    planned.push(lease.run_id);
                }
                node.close().await;
                planned
            }));
        }
        let mut planned = Vec::new();
        for task in planners {
            planned.extend(task.await.unwrap());
        }
        assert_eq!(planned.len(), RUNS);
        assert_eq!(planned.iter().collect::<HashSet<_>>().len(), RUNS, "a run planned twice");

        let lease_for = Duration::minutes(1);
        // Round one: every streamer leases until nothing is left and keeps what it took.
        let round = |at: chrono::DateTime<chrono::Utc>, nodes: Vec<PgStore>| async move {
            let mut tasks = Vec::new();
            for (i, node) in nodes.into_iter().enumerate() {
                tasks.push(tokio::spawn(async move {
                    let mut leases = Vec::new();
                    while let Some(lease) = node.lease_shard(&format!("node-{i}"), at, lease_for).await.unwrap() {
                        leases.push(lease);
                    }
                    (node, leases)
                }));
            }
            let mut out = Vec::new();
            for task in tasks {
                out.push(task.await.unwrap());
            }
            out
        };
        let key = |l: &herald_store::ShardLease| (l.run_id, l.shard_no);
        let first = round(now, nodes(&db, 4).await).await;
        let held: Vec<_> = first.iter().flat_map(|(_, leases)| leases.iter().map(key)).collect();
        let unique: HashSet<_> = held.iter().copied().collect();
        assert_eq!(held.len(), unique.len(), "two streamers held one shard");
        assert_eq!(unique.len(), RUNS * SHARDS);

        // Every lease lapses; round two takes them all over, each by exactly one streamer, and
        // the previous owners can no longer checkpoint.
        let later = now + lease_for + Duration::seconds(1);
        let old: Vec<_> = first.iter().flat_map(|(_, leases)| leases.clone()).collect();
        let second = round(later, first.into_iter().map(|(node, _)| node).collect()).await;
        let retaken: HashSet<_> = second.iter().flat_map(|(_, leases)| leases.iter().map(key)).collect();
        assert_eq!(retaken, unique, "each lapsed shard taken over once");
        let step = StreamStep { checkpoint: json!({"row": 10}), rows_read: 10, rows_invalid: 0, batches: 1 };
        let mut lost = 0;
        for lease in &old {
            let owner_now = second.iter().flat_map(|(_, l)| l).find(|l| key(l) == key(lease)).map(|l| l.owner.clone());
            if owner_now.as_deref() != Some(lease.owner.as_str()) {
                assert!(!setup.checkpoint_shard(lease, &step, later, lease_for).await.unwrap(), "lost lease");
                lost += 1;
            }
        }
        println!("{lost} of {} shards changed hands", RUNS * SHARDS);
        // The new owners checkpoint and finish at once, racing on each run's last shard.
        let barrier = Arc::new(Barrier::new(second.len()));
        let mut finishers = Vec::new();
        for (node, mut leases) in second {
            let (barrier, step) = (barrier.clone(), step.clone());
            finishers.push(tokio::spawn(async move {
                leases.shuffle(&mut rand::rng());
                barrier.wait().await;
                for lease in &leases {
                    assert!(node.checkpoint_shard(lease, &step, later, lease_for).await.unwrap());
                    node.finish_shard(lease, later).await.unwrap();
                }
                node.close().await;
            }));
        }
        for task in finishers {
            task.await.unwrap();
        }
        let runs = setup.list_runs(&herald_store::RunFilter::newest(100).of_template(template.id)).await.unwrap();
        assert!(
            runs.iter().all(|r| r.status == RunStatus::Published && r.rows_read == 40 && r.rows_total == 40),
            "{runs:?}"
        );
        setup.close().await;
    })
    .await;
}

#[tokio::test]
async fn racing_workers_count_each_message_into_its_run_once() {
    with_test_db(|db| async move {
        let setup = pg_store(&db).await;
        let now = t0();
        const RUNS: usize = 4;
        const ROWS: i64 = 150;
        let mut outcomes = Vec::new();
        let mut runs = Vec::new();
        for _ in 0..RUNS {
            let (template_id, run_id) = suite::published_run(&setup, ROWS, now).await;
            runs.push(run_id);
            for row in 1..=ROWS as u64 {
                outcomes.push(TraceEntry {
                    message_id: herald_core::Installation::new("t").run_row(run_id, row),
                    template_id,
                    run_id: Some(run_id),
                    receiver: format!("user{row}"),
                    // Every final state, dropped ones included.
                    event: TraceEvent::TERMINAL[row as usize % TraceEvent::TERMINAL.len()],
                    detail: None,
                });
            }
        }
        // Four workers each record every outcome, in their own order and batch sizes, as after
        // a redelivery storm: batches overlap within and across runs.
        let mut tasks = Vec::new();
        for (i, node) in nodes(&db, 4).await.into_iter().enumerate() {
            let mut mine = outcomes.clone();
            mine.shuffle(&mut rand::rng());
            tasks.push(tokio::spawn(async move {
                let mut new = 0;
                for batch in mine.chunks(20 + i * 7) {
                    new += node.record_outcomes(batch, now).await.unwrap();
                }
                node.close().await;
                new
            }));
        }
        let mut total_new = 0;
        for task in tasks {
            total_new += task.await.unwrap();
        }
        assert_eq!(total_new, (RUNS as u64) * ROWS as u64, "each message new exactly once across workers");
        // What each run's rows add up to, counted once each.
        let mut expected = herald_core::RunCounts::default();
        for row in 1..=ROWS as usize {
            expected.count(TraceEvent::TERMINAL[row % TraceEvent::TERMINAL.len()]);
        }
        assert_eq!(expected.total(), ROWS);
        for run_id in runs {
            let run = setup.get_run(run_id).await.unwrap();
            let counted = (run.delivered, run.failed, run.dropped);
            assert_eq!(counted, (expected.delivered, expected.failed, expected.dropped), "run {run_id}");
            assert_eq!(run.status, RunStatus::Completed);
        }
        let mut finals: HashMap<&str, usize> = HashMap::new();
        for o in outcomes.iter().step_by(37) {
            for t in setup.trace_of(o.message_id.as_str()).await.unwrap() {
                *finals.entry(o.message_id.as_str()).or_default() += usize::from(t.event != "accepted");
            }
        }
        assert!(finals.values().all(|&n| n == 1), "one final trace event per message: {finals:?}");
        setup.close().await;
    })
    .await;
}

#[tokio::test]
async fn racing_workers_defer_each_message_once() {
    with_test_db(|db| async move {
        let setup = pg_store(&db).await;
        let now = t0();
        let (template_id, run_id) = suite::published_run(&setup, 200, now).await;
        let messages: Vec<DeferredMessage> = (1..=200u64)
            .map(|row| DeferredMessage {
                seq: 0,
                message_id: herald_core::Installation::new("t").run_row(run_id, row),
                template_id,
                run_id: Some(run_id),
                receiver: format!("user{row}"),
                variables: [("row".to_string(), row.to_string())].into(),
                position: row as i64,
                release_at: now + Duration::hours(8),
                screened: herald_core::Screened::QuietHours,
            })
            .collect();
        // Four workers defer every message, each in its own order and batch sizes, as when a
        // batch held for quiet hours is redelivered: overlapping batches must not deadlock.
        let mut tasks = Vec::new();
        for (i, node) in nodes(&db, 4).await.into_iter().enumerate() {
            let mut mine = messages.clone();
            mine.shuffle(&mut rand::rng());
            tasks.push(tokio::spawn(async move {
                for batch in mine.chunks(15 + i * 6) {
                    node.defer_messages(batch, now).await.unwrap();
                }
                node.close().await;
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let due = setup.due_deferred(now + Duration::hours(8), 1000).await.unwrap();
        assert_eq!(due.len(), 200, "each message held once");
        let rows: Vec<i64> = due.iter().map(|m| m.position).collect();
        assert_eq!(rows, (1..=200).collect::<Vec<i64>>(), "released in row order, whoever deferred first");
        assert_eq!(setup.get_run(run_id).await.unwrap().deferred, 200);
        for m in due.iter().step_by(23) {
            let trace = setup.trace_of(m.message_id.as_str()).await.unwrap();
            assert_eq!(trace.iter().filter(|t| t.event == "deferred").count(), 1, "{}", m.message_id.as_str());
        }

        // Four releases at once (two nodes, or one overrunning into the next minute): each
        // message is claimed by exactly one, and each claim is in row order.
        let morning = now + Duration::hours(8);
        let barrier = Arc::new(Barrier::new(4));
        let mut releases = Vec::new();
        for node in nodes(&db, 4).await {
            let barrier = barrier.clone();
            releases.push(tokio::spawn(async move {
                barrier.wait().await;
                let mut claimed = Vec::new();
                loop {
                    let page = node.claim_deferred(morning, 7, Duration::minutes(5)).await.unwrap();
                    if page.is_empty() {
                        break;
                    }
                    assert!(page.windows(2).all(|w| w[0].position < w[1].position), "a page out of order");
                    claimed.extend(page.into_iter().map(|m| m.position));
                }
                node.close().await;
                claimed
            }));
        }
        let mut claimed = Vec::new();
        for release in releases {
            claimed.extend(release.await.unwrap());
        }
        claimed.sort();
        assert_eq!(claimed, (1..=200).collect::<Vec<i64>>(), "each deferred message claimed once");
        setup.close().await;
    })
    .await;
}

#[tokio::test]
async fn racing_nodes_create_one_account_of_a_name() {
    with_test_db(|db| async move {
        let setup = pg_store(&db).await;
        let now = t0();
        let barrier = Arc::new(Barrier::new(8));
        let mut tasks = Vec::new();
        for node in nodes(&db, 8).await {
            let barrier = barrier.clone();
            tasks.push(tokio::spawn(async move {
                let write = suite::account("corp", &[(suite::TOKEN_REFRESH, "0 0/30 * * * ?")]);
                barrier.wait().await;
                let created = node.create_account(&write, now).await;
                node.close().await;
                created
            }));
        }
        let mut created = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => created += 1,
                Err(StoreError::Conflict(_)) => {}
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(created, 1);
        assert_eq!(setup.list_accounts(&Default::default()).await.unwrap().len(), 1);
        assert_eq!(setup.list_schedules(&Default::default()).await.unwrap().len(), 1, "the losers left no schedule");
        setup.close().await;
    })
    .await;
}

#[tokio::test]
async fn the_database_clock_is_the_cluster_clock() {
    with_test_db(|db| async move {
        let store = pg_store(&db).await;
        let before = chrono::Utc::now();
        let db_now = store.database_now().await.unwrap();
        // Same machine here, so the two clocks agree to well within a second.
        assert!((db_now - before).num_milliseconds().abs() < 5_000, "{db_now} vs {before}");
        let later = store.database_now().await.unwrap();
        assert!(later >= db_now);
        // Migrations are idempotent: a second node connecting finds nothing to do.
        let again = pg_store(&db).await;
        let shared: Arc<dyn Store> = Arc::new(again.clone());
        assert_eq!(shared.count_api_keys().await.unwrap(), 0);
        again.close().await;
        store.close().await;
    })
    .await;
}

/// How long a store call may take while another transaction holds a row it reads: it must
/// neither wait for that lock nor pass the row over.
const NOT_HELD_UP: std::time::Duration = std::time::Duration::from_secs(5);

#[tokio::test]
async fn a_run_row_another_node_holds_hides_none_of_its_shards() {
    with_test_db(|db| async move {
        let store = pg_store(&db).await;
        let now = t0();
        let crowd_id = crowd(&store, 4, now).await;
        let template = store.create_template(&unscheduled(Some(crowd_id)), now).await.unwrap();
        let run_id = store.create_run(template.id, now).await.unwrap();
        let plan = store.lease_run("planner", now, Duration::minutes(1)).await.unwrap().unwrap();
        assert!(store.plan_run(&plan, &suite::shard_plans(2), now).await.unwrap());
        // Another node holds the run row, as its checkpoint or shard finish does.
        let mut holder = store.pool().begin().await.unwrap();
        sqlx::query("SELECT id FROM runs WHERE id = $1 FOR UPDATE").bind(run_id).fetch_one(&mut *holder).await.unwrap();

        let leased = tokio::time::timeout(NOT_HELD_UP, store.lease_shard("streamer", now, Duration::minutes(1)))
            .await
            .expect("leasing a shard waited for the run row")
            .unwrap();
        assert_eq!(leased.map(|l| (l.run_id, l.shard_no)), Some((run_id, 0)), "the shard was passed over");
        holder.rollback().await.unwrap();
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn a_template_another_node_is_updating_still_fires() {
    with_test_db(|db| async move {
        let store = pg_store(&db).await;
        let start = t0();
        let crowd_id = crowd(&store, 1, start).await;
        let id = running(&store, &spec("0 * * * * ?", "UTC", MisfirePolicy::FireOnce, Some(crowd_id)), start).await;
        // Another node holds the template row as a template update does (its schedule row is free).
        let mut holder = store.pool().begin().await.unwrap();
        sqlx::query("SELECT id FROM templates WHERE id = $1 FOR NO KEY UPDATE")
            .bind(id)
            .fetch_one(&mut *holder)
            .await
            .unwrap();

        let claim = store.claim_due_fires("node-1", start + Duration::minutes(1), GRACE, 10);
        let fires = tokio::time::timeout(NOT_HELD_UP, claim).await.expect("the claim waited for the template").unwrap();
        assert_eq!(fires.len(), 1, "the due schedule was passed over: {fires:?}");
        assert_eq!((fires[0].template_id, fires[0].outcome), (Some(id), FireOutcome::Fired));
        assert!(fires[0].run_id.is_some());
        holder.rollback().await.unwrap();
        store.close().await;
    })
    .await;
}
