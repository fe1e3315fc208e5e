//! Sharded and broadcast jobs' shards in the store: a node takes its own broadcast shard and
//! only its share of the others, a dead node's pending broadcast shard and a lapsed lease are
//! taken by another (its running attempt marked abandoned), a lost lease ends nothing, and the
//! end of the last shard is told once, naming a failed shard.

use super::*;
use herald_core::scheduled_job::{JobSpec, Shard};
use herald_store::{JobRunFilter, JobRunOutcome, JobRunStart, JobShardEnd, ShardedFire, Window};

fn job(name: &str) -> JobSpec {
    serde_json::from_value(serde_json::json!({
        "name": name, "http": {"url": "https://crm.example/sync"}, "schedule": {"type": "api"},
        "sharding": {"mode": "shards", "count": 4}
    }))
    .unwrap()
}

fn ended(succeeded: bool, error: Option<&'static str>) -> JobShardEnd<'static> {
    JobShardEnd { succeeded, output: Some("done"), error }
}

pub async fn job_shards_spread_are_taken_over_and_end_their_fire_once(store: Arc<dyn Store>) {
    let start = t0();
    let lease = Duration::seconds(15);
    let since = start - lease;
    let sync = store.create_job(&job("sync"), start).await.unwrap();
    store.trigger_job(sync.id, start, Some("p")).await.unwrap();
    let fire = store.claim_due_fires("node-a", start, GRACE, 10).await.unwrap().remove(0);
    for node in ["node-a", "node-b"] {
        store.heartbeat_node(node, start).await.unwrap();
    }
    store.heartbeat_node("node-gone", start - Duration::minutes(5)).await.unwrap();
    assert_eq!(store.live_nodes(since).await.unwrap(), ["node-a", "node-b"]);

    let plan = ShardedFire {
        fire_id: fire.fire_id,
        job_id: sync.id,
        schedule_id: fire.schedule_id,
        param: Some("p"),
        nodes: vec![None, None, None, None],
        at: start,
    };
    store.plan_job_shards(&plan).await.unwrap();
    store.plan_job_shards(&plan).await.unwrap();
    // Two nodes seen: each takes two of the four, no more while they run.
    let mut taken = Vec::new();
    for node in ["node-a", "node-a", "node-b", "node-b"] {
        if node == "node-b" && taken.len() == 2 {
            let more = store.claim_job_shard("node-a", start, lease, since).await.unwrap();
            assert_eq!(more, None, "node-a holds its share of the fire");
        }
        let shard = store.claim_job_shard(node, start, lease, since).await.unwrap().expect("a shard");
        assert_eq!((shard.param.as_deref(), shard.shard.total, shard.takeovers), (Some("p"), 4, 0));
        taken.push((node, shard));
    }
    assert_eq!(taken.iter().map(|(_, s)| s.shard.index).collect::<Vec<_>>(), [0, 1, 2, 3]);

    // node-b stops answering with shards 2 and 3 running: once their leases lapse node-a takes
    // both (a takeover is not held to a share), and node-b's attempt is marked abandoned.
    let run = JobRunStart {
        job_id: sync.id,
        fire_id: Some(fire.fire_id),
        attempt: 1,
        node: "node-b",
        outcome: JobRunOutcome::Running,
        at: start,
        shard: Some(Shard { index: 3, total: 4 }),
    };
    store.start_job_run(&run).await.unwrap();
    let later = start + Duration::seconds(10);
    for (_, mine) in &taken[..2] {
        assert!(store.renew_job_shard(mine.id, "node-a", later + lease).await.unwrap());
    }
    assert_eq!(store.claim_job_shard("node-a", later, lease, since).await.unwrap(), None, "no lease lapsed yet");
    let lapsed = start + Duration::seconds(16);
    let mut retaken = Vec::new();
    while let Some(shard) = store.claim_job_shard("node-a", lapsed, lease, since).await.unwrap() {
        retaken.push((shard.shard.index, shard.takeovers));
    }
    assert_eq!(retaken, [(2, 1), (3, 1)], "node-a's own leases were renewed and stay");
    let three = taken[3].1.id;
    assert!(!store.renew_job_shard(three, "node-b", lapsed + lease).await.unwrap(), "node-b lost its lease");
    assert_eq!(
        store.end_job_shard(three, "node-b", &ended(true, None)).await.unwrap(),
        None,
        "a lost lease ends nothing"
    );
    let all = JobRunFilter { job_id: sync.id, outcome: None, window: Window::ALL };
    let runs = store.list_job_runs(&all).await.unwrap();
    assert_eq!(
        runs.iter().map(|r| (r.outcome, r.shard, r.shards)).collect::<Vec<_>>(),
        [(JobRunOutcome::Abandoned, Some(3), Some(4))]
    );

    // The last shard to end is told, once, with the first failed shard named.
    let a = "node-a";
    assert_eq!(store.end_job_shard(taken[0].1.id, a, &ended(true, None)).await.unwrap(), None);
    assert_eq!(store.end_job_shard(taken[1].1.id, a, &ended(false, Some("answered 500"))).await.unwrap(), None);
    assert_eq!(store.end_job_shard(taken[2].1.id, a, &ended(true, None)).await.unwrap(), None);
    let last = store.end_job_shard(three, a, &ended(true, None)).await.unwrap().expect("the last shard");
    assert_eq!((last.total, last.failed), (4, 1));
    assert_eq!(last.error.as_deref(), Some("shard 1/4: answered 500"));
    assert_eq!(last.output.as_deref(), Some("done"));
    assert_eq!(store.end_job_shard(three, a, &ended(true, None)).await.unwrap(), None, "ended once");

    // Retention takes ended shards with the rest of the day's records.
    let purged = store.purge_before(start + Duration::seconds(1), 100).await.unwrap();
    assert!(purged >= 4, "{purged}");
    store.plan_job_shards(&plan).await.unwrap();
    assert!(store.claim_job_shard("node-a", lapsed, lease, since).await.unwrap().is_some(), "planned anew once purged");
}

pub async fn a_broadcast_shard_runs_on_its_node_unless_that_node_is_gone(store: Arc<dyn Store>) {
    let start = t0();
    let lease = Duration::seconds(15);
    let since = start - lease;
    let flush = store.create_job(&job("flush"), start).await.unwrap();
    store.trigger_job(flush.id, start, None).await.unwrap();
    let fire = store.claim_due_fires("node-a", start, GRACE, 10).await.unwrap().remove(0);
    for node in ["node-a", "node-b", "node-c"] {
        store.heartbeat_node(node, start).await.unwrap();
    }
    let nodes = ["node-a", "node-b", "node-c"].map(|n| Some(n.to_string())).to_vec();
    let plan = ShardedFire {
        fire_id: fire.fire_id,
        job_id: flush.id,
        schedule_id: fire.schedule_id,
        param: None,
        nodes,
        at: start,
    };
    store.plan_job_shards(&plan).await.unwrap();
    let b = store.claim_job_shard("node-b", start, lease, since).await.unwrap().expect("its own shard");
    assert_eq!(b.shard, Shard { index: 1, total: 3 });
    assert_eq!(
        store.claim_job_shard("node-b", start, lease, since).await.unwrap(),
        None,
        "others' shards wait for them"
    );

    // node-c stops heartbeating; once it is not seen for a lease its shard goes to another.
    let later = start + Duration::seconds(20);
    for node in ["node-a", "node-b"] {
        store.heartbeat_node(node, later).await.unwrap();
    }
    let since = later - lease;
    let a = store.claim_job_shard("node-a", later, lease, since).await.unwrap().expect("its own shard");
    assert_eq!(a.shard.index, 0);
    store.end_job_shard(b.id, "node-b", &ended(true, None)).await.unwrap();
    let c = store.claim_job_shard("node-b", later, lease, since).await.unwrap().expect("the gone node's shard");
    assert_eq!((c.shard.index, c.takeovers), (2, 0));
    store.end_job_shard(c.id, "node-b", &ended(true, None)).await.unwrap();
    let last = store.end_job_shard(a.id, "node-a", &ended(true, None)).await.unwrap().expect("the last shard");
    assert_eq!((last.total, last.failed, last.error), (3, 0, None));
}

pub async fn housekeeping_runs_are_logged_by_their_schedule_beside_jobs_runs(store: Arc<dyn Store>) {
    use herald_store::{JobRunEnd, ScheduleFilter};
    let start = t0();
    store.ensure_housekeeping("retention", "0 0 3 * * ?", start).await.unwrap();
    let sync = store.create_job(&job("sync"), start).await.unwrap();
    let housekeeping = ScheduleFilter { housekeeping: true, window: Window::ALL, ..ScheduleFilter::default() };
    let listed = store.list_schedules(&housekeeping).await.unwrap();
    assert_eq!(listed.iter().map(|s| s.kind.as_str()).collect::<Vec<_>>(), ["retention"], "no job's schedule");
    let retention = listed[0].id;

    let due = start + Duration::hours(3);
    let fire = store.claim_due_fires("node-a", due, GRACE, 10).await.unwrap().remove(0);
    assert_eq!(fire.schedule_id, retention);
    let run = store.start_housekeeping_run(retention, fire.fire_id, "node-a", due).await.unwrap();
    let end = JobRunEnd {
        outcome: JobRunOutcome::Failed,
        at: due + Duration::seconds(2),
        status_code: None,
        output: None,
        error: Some("disk full"),
    };
    store.finish_job_run(run, &end).await.unwrap();
    let runs = store.list_schedule_runs(retention, None, Window::ALL).await.unwrap();
    assert_eq!(runs.len(), 1);
    let logged = &runs[0];
    assert_eq!((logged.job_id, logged.schedule_id, logged.outcome), (None, Some(retention), JobRunOutcome::Failed));
    assert_eq!(
        (logged.duration_ms, logged.error.as_deref(), logged.node.as_str()),
        (Some(2_000), Some("disk full"), "node-a")
    );
    let succeeded = store.list_schedule_runs(retention, Some(JobRunOutcome::Succeeded), Window::ALL).await.unwrap();
    assert!(succeeded.is_empty());

    // A job's attempts are its schedule's runs too.
    let attempt = JobRunStart {
        job_id: sync.id,
        fire_id: None,
        attempt: 1,
        node: "node-a",
        outcome: JobRunOutcome::Running,
        at: due,
        shard: None,
    };
    let id = store.start_job_run(&attempt).await.unwrap();
    let of_job = store.list_schedule_runs(sync.schedule_id, None, Window::ALL).await.unwrap();
    assert_eq!(of_job.iter().map(|r| (r.id, r.job_id)).collect::<Vec<_>>(), [(id, Some(sync.id))]);
}
