//! Retention and the fire ledger: old fires go unless a run, a job run, a job shard or their
//! schedule (as its newest fire) still names them, and each goes once what named it has gone.

use super::*;
use herald_core::scheduled_job::JobSpec;
use herald_store::{JobRunOutcome, JobRunStart, ShardedFire};

fn api_job(name: &str, extra: serde_json::Value) -> JobSpec {
    let mut spec = serde_json::json!({
        "name": name, "http": {"url": "https://crm.example/ping"}, "schedule": {"type": "api"}
    });
    spec.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    serde_json::from_value(spec).unwrap()
}

/// How many fires each schedule's ledger lists.
async fn ledger_lengths(store: &dyn Store, schedules: &[i64]) -> Vec<usize> {
    let mut lengths = Vec::new();
    for &id in schedules {
        lengths.push(store.list_fires(id, 100).await.unwrap().len());
    }
    lengths
}

pub async fn retention_purges_old_fires_but_keeps_those_a_run_a_job_or_a_schedule_still_names(store: Arc<dyn Store>) {
    let start = t0();
    let every_minute = |crowd_id| spec("0 * * * * ?", "UTC", MisfirePolicy::FireOnce, crowd_id);
    let lonely = running(&*store, &every_minute(None), start).await;
    let crowd_id = crowd(&*store, 10, start).await;
    let crowded = running(&*store, &every_minute(Some(crowd_id)), start).await;
    let logged = store.create_job(&api_job("logged", serde_json::json!({"keepRunsDays": 365})), start).await.unwrap();
    let sharded = serde_json::json!({"sharding": {"mode": "shards", "count": 2}});
    let sharded = store.create_job(&api_job("sharded", sharded), start).await.unwrap();

    // Each job fires twice: the first fire is named by a job run (kept by the job's own days)
    // or by its shards (still pending), the second by its schedule as its newest.
    let mut claimed = Vec::new();
    for minute in 1..=5 {
        if minute == 1 || minute == 4 {
            for job in [logged.id, sharded.id] {
                store.trigger_job(job, start + Duration::minutes(minute) - Duration::seconds(30), None).await.unwrap();
            }
        }
        claimed.extend(store.claim_due_fires("node-a", start + Duration::minutes(minute), GRACE, 10).await.unwrap());
    }
    let first_of = |job: i64| claimed.iter().find(|f| f.job_id == Some(job)).unwrap().clone();
    let (logged_fire, sharded_fire) = (first_of(logged.id), first_of(sharded.id));
    let run = JobRunStart {
        job_id: logged.id,
        fire_id: Some(logged_fire.fire_id),
        attempt: 1,
        node: "node-a",
        outcome: JobRunOutcome::Running,
        at: logged_fire.fire_time,
        shard: None,
    };
    store.start_job_run(&run).await.unwrap();
    let plan = ShardedFire {
        fire_id: sharded_fire.fire_id,
        job_id: sharded.id,
        schedule_id: sharded_fire.schedule_id,
        param: None,
        nodes: vec![None, None],
        at: sharded_fire.fire_time,
    };
    store.plan_job_shards(&plan).await.unwrap();

    let schedule_of = async |template| store.schedule_id_of(template).await.unwrap().unwrap();
    let schedules = [schedule_of(lonely).await, schedule_of(crowded).await, logged_fire.schedule_id, plan.schedule_id];
    assert_eq!(ledger_lengths(&*store, &schedules).await, [5, 5, 2, 2]);
    let lonely_newest = store.list_fires(schedules[0], 1).await.unwrap()[0].id;

    // A month on: of the lonely template's fires (no crowd, no run) only the newest stays; each
    // run of the crowded one keeps its fire; each job keeps both. Nothing else is old enough.
    let cut = start + Duration::days(30);
    assert_eq!(store.purge_before(cut, 2).await.unwrap(), 4, "the lonely template's four older fires");
    assert_eq!(ledger_lengths(&*store, &schedules).await, [1, 5, 2, 2]);
    assert_eq!(store.list_fires(schedules[0], 10).await.unwrap()[0].id, lonely_newest);
    let listed = store.list_schedules(&Default::default()).await.unwrap();
    let newest = listed.iter().find(|s| s.id == schedules[0]).and_then(|s| s.last_fire.as_ref()).map(|f| f.id);
    assert_eq!(newest, Some(lonely_newest), "the schedules list still shows its newest fire");
    let runs = store.list_runs(&herald_store::RunFilter::newest(10).of_template(crowded)).await.unwrap();
    assert_eq!(runs.len(), 5);
    store.heartbeat_node("node-a", cut).await.unwrap();
    let pending = store.claim_job_shard("node-a", cut, Duration::seconds(15), cut).await.unwrap();
    assert_eq!(pending.map(|s| s.fire_id), Some(sharded_fire.fire_id), "the pending shards stay with their fire");
    assert_eq!(store.purge_before(cut, 2).await.unwrap(), 0, "nothing more to purge");

    // The job's own days pass: its run goes, and with it what kept its first fire.
    assert_eq!(store.purge_kept_job_runs(start + Duration::days(366), 2).await.unwrap(), 1);
    assert_eq!(store.purge_before(cut, 2).await.unwrap(), 1, "the logged job's first fire");
    assert_eq!(ledger_lengths(&*store, &schedules).await, [1, 5, 1, 2]);
}
