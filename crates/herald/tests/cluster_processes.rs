//! Three herald nodes as separate processes on one PostgreSQL, Redis, Kafka mock cluster and S3
//! server, brought up by scripts/local-cluster.sh: (a) a thousand schedules firing every second
//! for a minute land in the fire ledger exactly once each; (b) a 100,000-row crowd send survives
//! a SIGKILLed node with every row arriving at a recording receiver, repeating at most the killed
//! node's sends in flight; (c) when the node doing the
//! scheduler's work is killed, the others go on firing within the lease time; (d) scheduled
//! jobs firing every second against a slow receiver never have more calls going at once than
//! their overlap rule and concurrency limit allow; (e) a broadcast job runs once on each node,
//! a sharded job's shards spread over the nodes, and the shard of a SIGKILLed node is taken
//! over by another, its fire ending once. The tests run one at a time: each cluster needs the
//! whole machine.
#![cfg(feature = "cluster")]

mod common;

use common::cluster::{LocalCluster, pid_in_node_id};
use common::*;
use serde_json::{Value, json};
use sqlx::Row;
use std::collections::HashMap;
use std::time::Duration;

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn create_template(cluster: &LocalCluster, node: usize, spec: &Value) -> i64 {
    let (status, body) = cluster.post(node, "/api/templates", spec).await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_i64().unwrap()
}

/// Creates a scheduled template and starts its schedule.
async fn start_template(cluster: &LocalCluster, node: usize, spec: &Value) -> i64 {
    let id = create_template(cluster, node, spec).await;
    let (status, body) = cluster.post(node, &format!("/api/templates/{id}/start"), &json!({})).await;
    assert_eq!(status, 200, "{body}");
    id
}

async fn database_now(db: &mut sqlx::PgConnection) -> chrono::DateTime<chrono::Utc> {
    sqlx::query_scalar("SELECT now()").fetch_one(db).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_schedules_every_second_for_a_minute_fire_exactly_once() {
    let _serial = SERIAL.lock().await;
    // The fires' runs are left pending (no streamers): at a thousand runs a second they would
    // bury the schedulers this test measures under streaming work the other two tests cover.
    let cluster = LocalCluster::up(3, &[("HERALD_STREAMER__STREAMERS", "0")]);
    const SCHEDULES: usize = 1_000;
    const SECONDS: i64 = 60;
    let crowd = cluster.upload(1, crowd_csv(1)).await;
    let mut created = 0;
    let cluster_ref = &cluster;
    for chunk in (0..SCHEDULES).collect::<Vec<_>>().chunks(20) {
        let requests = chunk.iter().map(|&n| {
            let spec = outbox_template(&format!("every-second-{n}"), &crowd, Some("* * * * * ?"));
            let node = 1 + n % 3;
            async move { start_template(cluster_ref, node, &spec).await }
        });
        created += futures::future::join_all(requests).await.len();
    }
    assert_eq!(created, SCHEDULES);

    let mut db = cluster.database().await;
    // The window starts at the next whole second after every schedule exists.
    let start = database_now(&mut db).await + chrono::Duration::seconds(2);
    let start =
        start.with_timezone(&chrono::Utc) - chrono::Duration::nanoseconds(start.timestamp_subsec_nanos().into());
    let end = start + chrono::Duration::seconds(SECONDS);
    while database_now(&mut db).await < end + chrono::Duration::seconds(3) {
        tokio::time::sleep(Duration::from_secs(1)).await;
    }

    let rows = sqlx::query(
        "SELECT f.schedule_id, COUNT(*) AS fires, COUNT(DISTINCT f.fire_time) AS times, \
         COUNT(DISTINCT f.run_id) AS runs \
         FROM fires f JOIN schedules s ON s.id = f.schedule_id \
         WHERE s.template_id IS NOT NULL AND f.fire_time >= $1 AND f.fire_time < $2 GROUP BY f.schedule_id",
    )
    .bind(start)
    .bind(end)
    .fetch_all(&mut db)
    .await
    .unwrap();
    assert_eq!(rows.len(), SCHEDULES, "every schedule fired in the window");
    for row in &rows {
        let (fires, times, runs): (i64, i64, i64) = (row.get("fires"), row.get("times"), row.get("runs"));
        let schedule: i64 = row.get("schedule_id");
        assert_eq!((fires, times, runs), (SECONDS, SECONDS, SECONDS), "schedule {schedule}: a run per fire");
    }
    let summary = sqlx::query(
        "SELECT COUNT(*) AS fires, COUNT(DISTINCT claimed_by) AS claimers, \
         COUNT(*) FILTER (WHERE outcome = 'misfire_skipped') AS skipped, \
         MAX(lateness_ms) AS worst, percentile_cont(0.99) WITHIN GROUP (ORDER BY lateness_ms) AS p99 \
         FROM fires f JOIN schedules s ON s.id = f.schedule_id \
         WHERE s.template_id IS NOT NULL AND f.fire_time >= $1 AND f.fire_time < $2",
    )
    .bind(start)
    .bind(end)
    .fetch_one(&mut db)
    .await
    .unwrap();
    let fires: i64 = summary.get("fires");
    let claimers: i64 = summary.get("claimers");
    let skipped: i64 = summary.get("skipped");
    println!(
        "{fires} fires by {claimers} nodes; lateness p99 {:.0} ms, worst {} ms",
        summary.get::<f64, _>("p99"),
        summary.get::<i64, _>("worst")
    );
    assert_eq!(fires, SCHEDULES as i64 * SECONDS, "each expected fire exactly once");
    assert_eq!(skipped, 0, "no fire fell behind its misfire grace");
    let by_node: Vec<(String, i64)> = sqlx::query_as(
        "SELECT claimed_by, COUNT(*) FROM fires f JOIN schedules s ON s.id = f.schedule_id \
         WHERE s.template_id IS NOT NULL AND f.fire_time >= $1 AND f.fire_time < $2 GROUP BY claimed_by ORDER BY 2 DESC",
    )
    .bind(start)
    .bind(end)
    .fetch_all(&mut db)
    .await
    .unwrap();
    println!("fires claimed by node: {by_node:?}");
    assert_eq!(claimers, 3, "every node's scheduler took part");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_mid_crowd_send_loses_and_doubles_no_row() {
    let _serial = SERIAL.lock().await;
    const ROWS: usize = 100_000;
    let cluster = LocalCluster::up(
        3,
        &[
            // Small shards, so every node streams some; short leases, so a dead node's shard
            // is taken over quickly; a short group session, so its partitions move too.
            ("HERALD_STREAMER__SHARD_BYTES", "131072"),
            ("HERALD_STREAMER__LEASE_SECS", "5"),
            ("HERALD_STREAMER__PUBLISH_WINDOW", "4"),
            ("HERALD_BUS__KAFKA__SESSION_TIMEOUT_MS", "6000"),
            ("HERALD_CHANNELS__ALLOW_PRIVATE_NETWORKS", "true"),
            ("HERALD_WORKER__CLAIM_SECS", "5"),
        ],
    );
    // Counted where a provider would see it: a recording receiver behind the webhook channel.
    let receiver = herald_testkit::RecordingReceiver::start().await;
    let crowd = cluster.upload(1, crowd_csv(ROWS)).await;
    let spec = herald_testkit::node::webhook_template("sigkill", &crowd, &format!("{}/hook", receiver.url));
    let template = create_template(&cluster, 1, &spec).await;
    let (status, body) = cluster.post(1, &format!("/api/templates/{template}/run"), &json!({})).await;
    assert_eq!(status, 202, "{body}");
    let run_id = body["runId"].as_i64().unwrap();

    // Kill a node other than node 1 while it holds a shard it is streaming.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let victim = loop {
        let (_, shards) = cluster.get(1, &format!("/api/runs/{run_id}/shards")).await;
        let holder = shards["items"].as_array().into_iter().flatten().find_map(|s| {
            let owner = s["leaseOwner"].as_str()?;
            let node = cluster.node_of_pid(pid_in_node_id(owner)?)?;
            (node != 1 && s["status"] == "streaming" && s["rowsRead"].as_i64() > Some(0)).then_some(node)
        });
        if let Some(node) = holder {
            break node;
        }
        assert!(tokio::time::Instant::now() < deadline, "no node but 1 streamed a shard: {shards}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let (_, before) = cluster.get(1, &format!("/api/runs/{run_id}")).await;
    cluster.kill(victim, "KILL");
    println!("killed node {victim} at {before}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!cluster.alive(victim), "node {victim} still running");

    let run = cluster.wait_run(1, run_id, Duration::from_secs(300), |r| r["status"] == "completed").await;
    assert_eq!((run["rowsRead"].as_i64(), run["delivered"].as_i64()), (Some(ROWS as i64), Some(ROWS as i64)), "{run}");
    assert_eq!(run["failed"], 0, "{run}");
    let prefix = run["messageIdPrefix"].as_str().expect("the run's message id prefix");
    let expected: Vec<String> = (1..=ROWS).map(|n| format!("{prefix}{n}")).collect();
    let missing = receiver.missing(expected.iter().map(String::as_str));
    assert!(missing.is_empty(), "{} rows lost, e.g. {:?}", missing.len(), &missing[..missing.len().min(5)]);
    // One node's sends in flight (8 per worker, 4 workers in config/cluster.toml) are all a kill
    // may repeat.
    assert!(receiver.repeats() <= 32, "{} repeats after one kill", receiver.repeats());

    let mut db = cluster.database().await;
    let counts = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM deliveries WHERE run_id = $1) AS ledger, \
         (SELECT COUNT(DISTINCT r.value ->> 0) FROM accepted_rows w CROSS JOIN jsonb_array_elements(w.receivers) r \
          WHERE w.run_id = $1) AS accepted, \
         (SELECT COUNT(*) FROM trace WHERE run_id = $1 AND event = 'sent') AS sent",
    )
    .bind(run_id)
    .fetch_one(&mut db)
    .await
    .unwrap();
    let (ledger, accepted, sent): (i64, i64, i64) = (counts.get("ledger"), counts.get("accepted"), counts.get("sent"));
    assert_eq!((ledger, accepted, sent), (ROWS as i64, ROWS as i64, ROWS as i64), "ledger and trace");
    let (_, shards) = cluster.get(1, &format!("/api/runs/{run_id}/shards")).await;
    let shards = shards["items"].as_array().unwrap().clone();
    assert!(shards.len() > 3 && shards.iter().all(|s| s["status"] == "done"), "{shards:?}");
    let streamed: i64 = shards.iter().map(|s| s["rowsRead"].as_i64().unwrap()).sum();
    assert_eq!(streamed, ROWS as i64, "each row read into exactly one shard's count");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fires_go_on_from_another_node_when_the_scheduling_node_dies() {
    let _serial = SERIAL.lock().await;
    const LEASE_SECS: i64 = 5;
    const ROWS: usize = 20;
    let cluster =
        LocalCluster::up(3, &[("HERALD_STREAMER__LEASE_SECS", "5"), ("HERALD_BUS__KAFKA__SESSION_TIMEOUT_MS", "6000")]);
    let crowd = cluster.upload(1, crowd_csv(ROWS)).await;
    let mut templates = Vec::new();
    for n in 0..5 {
        let spec = outbox_template(&format!("every-two-seconds-{n}"), &crowd, Some("*/2 * * * * ?"));
        templates.push(start_template(&cluster, 1, &spec).await);
    }
    let mut db = cluster.database().await;
    tokio::time::sleep(Duration::from_secs(6)).await;

    // The node that claimed the latest fire is the one doing the scheduler's work: kill it.
    let latest: String =
        sqlx::query_scalar("SELECT claimed_by FROM fires WHERE claimed_by IS NOT NULL ORDER BY id DESC LIMIT 1")
            .fetch_one(&mut db)
            .await
            .unwrap();
    let victim = cluster.node_of_pid(pid_in_node_id(&latest).unwrap()).expect("a node of this cluster");
    let killed_at = database_now(&mut db).await;
    cluster.kill(victim, "KILL");
    let survivor = (1..=3).find(|&n| n != victim).unwrap();
    println!("killed node {victim} ({latest}) at {killed_at}");
    tokio::time::sleep(Duration::from_secs(12)).await;
    let checked_until = database_now(&mut db).await - chrono::Duration::seconds(2);

    let fires = sqlx::query(
        "SELECT f.schedule_id, f.fire_time, f.claimed_at, f.claimed_by, f.outcome, f.run_id \
         FROM fires f JOIN schedules s ON s.id = f.schedule_id WHERE s.template_id IS NOT NULL \
         AND f.fire_time <= $1 ORDER BY f.schedule_id, f.fire_time",
    )
    .bind(checked_until)
    .fetch_all(&mut db)
    .await
    .unwrap();
    let mut by_schedule: HashMap<i64, Vec<chrono::DateTime<chrono::Utc>>> = HashMap::new();
    let mut after_kill = 0;
    for f in &fires {
        let fire_time: chrono::DateTime<chrono::Utc> = f.get("fire_time");
        let claimed_at: chrono::DateTime<chrono::Utc> = f.get("claimed_at");
        let claimed_by: String = f.get("claimed_by");
        assert_eq!(f.get::<String, _>("outcome"), "fired");
        by_schedule.entry(f.get("schedule_id")).or_default().push(fire_time);
        if fire_time > killed_at {
            after_kill += 1;
            assert_ne!(claimed_by, latest, "a dead node claimed a fire");
            let late = claimed_at - fire_time;
            assert!(late < chrono::Duration::seconds(LEASE_SECS), "fire at {fire_time} claimed {late} late");
        }
    }
    assert_eq!(by_schedule.len(), templates.len());
    for (schedule, times) in &by_schedule {
        // Every two seconds from the first fire to the last, none missing, none twice.
        for pair in times.windows(2) {
            assert_eq!(pair[1] - pair[0], chrono::Duration::seconds(2), "schedule {schedule}: {times:?}");
        }
        assert!(*times.last().unwrap() >= checked_until - chrono::Duration::seconds(2), "schedule {schedule} stopped");
    }
    assert!(after_kill >= templates.len() * 4, "only {after_kill} fires after the kill");

    // Every run those fires made completes with each row delivered once, the dead node's
    // shards and unacknowledged batches included.
    let runs: Vec<i64> = fires.iter().map(|f| f.get::<i64, _>("run_id")).collect();
    for run_id in &runs {
        let run = cluster.wait_run(survivor, *run_id, Duration::from_secs(120), |r| r["status"] == "completed").await;
        assert_eq!((run["delivered"].as_i64(), run["failed"].as_i64()), (Some(ROWS as i64), Some(0)), "{run}");
    }
    let outbox: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE run_id = ANY($1)")
        .bind(&runs)
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(outbox, (runs.len() * ROWS) as i64, "each row of each run once");
}

/// The most calls to `path` the receiver was answering at once, each taking `answer`.
fn most_at_once(receiver: &herald_testkit::receiver::RecordingReceiver, path: &str, answer: Duration) -> usize {
    let starts: Vec<Duration> = receiver.received().iter().filter(|r| r.path == path).map(|r| r.at).collect();
    starts.iter().map(|s| starts.iter().filter(|o| **o <= *s && *s < **o + answer).count()).max().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_s_overlap_rule_and_concurrency_limit_hold_across_nodes_at_the_receiver() {
    let _serial = SERIAL.lock().await;
    const ANSWER: Duration = Duration::from_millis(2_500);
    let cluster = LocalCluster::up(3, &[("HERALD_CHANNELS__ALLOW_PRIVATE_NETWORKS", "true")]);
    let receiver = herald_testkit::receiver::RecordingReceiver::start().await;
    receiver.set_delay(ANSWER);
    let mut ids = Vec::new();
    for (name, overlap, limit) in [("one", "discard", 1), ("two", "discard", 2), ("serial", "serial", 1)] {
        let spec = json!({"name": name, "http": {"method": "POST", "url": format!("{}/{name}", receiver.url)},
            "schedule": {"type": "fixed_rate", "everySecs": 1}, "overlap": overlap, "maxConcurrent": limit,
            "timeoutMs": 10_000});
        let (status, job) = cluster.post(1 + ids.len(), "/api/jobs", &spec).await;
        assert_eq!(status, 201, "{job}");
        ids.push(job["id"].as_i64().unwrap());
    }
    tokio::time::sleep(Duration::from_secs(12)).await;
    for id in &ids {
        assert_eq!(cluster.post(1, &format!("/api/jobs/{id}/pause"), &json!({})).await.0, 200);
    }
    tokio::time::sleep(ANSWER * 2).await;

    let at_once = ["one", "two", "serial"].map(|name| most_at_once(&receiver, &format!("/{name}"), ANSWER));
    println!("calls at once: {at_once:?} of {} calls", receiver.count());
    assert_eq!(at_once, [1, 2, 1], "the limit holds across three nodes, and two at once is used");
    let mut nodes = std::collections::BTreeMap::new();
    for (id, name) in ids.iter().zip(["one", "two", "serial"]) {
        let (_, runs) = cluster.get(2, &format!("/api/jobs/{id}/runs?limit=100")).await;
        let runs = runs["items"].as_array().unwrap().clone();
        for run in &runs {
            *nodes.entry(run["node"].as_str().unwrap_or_default().to_string()).or_insert(0) += 1;
        }
        if name == "one" {
            let discarded = runs.iter().filter(|r| r["outcome"] == "discarded").count();
            let called = receiver.received().iter().filter(|r| r.path == "/one").count();
            assert!(discarded >= 4 && called >= 3, "{discarded} discarded, {called} called: {runs:?}");
        }
    }
    // Whichever node claims a fire runs it; the rule is read from the store's running rows, so
    // it holds whichever node that is.
    println!("runs by node: {nodes:?}");
}

/// The job's run log as node `node` answers it (the newest 100 attempts).
async fn job_runs(cluster: &LocalCluster, node: usize, id: i64) -> Vec<Value> {
    let (status, runs) = cluster.get(node, &format!("/api/jobs/{id}/runs?limit=100")).await;
    assert_eq!(status, 200, "{runs}");
    runs["items"].as_array().unwrap().clone()
}

/// Waits until the receiver got `count` calls whose path starts with `prefix`.
async fn wait_calls(receiver: &herald_testkit::receiver::RecordingReceiver, prefix: &str, count: usize) -> bool {
    for _ in 0..300 {
        if receiver.received().iter().filter(|r| r.path.starts_with(prefix)).count() >= count {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

fn paths(receiver: &herald_testkit::receiver::RecordingReceiver, prefix: &str) -> Vec<String> {
    let mut paths: Vec<String> =
        receiver.received().into_iter().map(|r| r.path).filter(|p| p.starts_with(prefix)).collect();
    paths.sort();
    paths
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broadcast_jobs_run_on_every_node_and_a_killed_node_s_shard_is_taken_over() {
    let _serial = SERIAL.lock().await;
    const ANSWER: Duration = Duration::from_secs(4);
    let cluster = LocalCluster::up(
        3,
        &[("HERALD_CHANNELS__ALLOW_PRIVATE_NETWORKS", "true"), ("HERALD_SCHEDULER__SHARD_LEASE_SECS", "3")],
    );
    let receiver = herald_testkit::receiver::RecordingReceiver::start().await;
    receiver.set_delay(ANSWER);
    let url = &receiver.url;
    let specs = [
        json!({"name": "after", "schedule": {"type": "api"}, "http": {"method": "POST", "url": format!("{url}/after")}}),
        json!({"name": "everywhere", "schedule": {"type": "api"}, "sharding": {"mode": "broadcast"},
            "http": {"method": "POST", "url": format!("{url}/everywhere/{{$shardIndex}}/{{$shardTotal}}")}}),
        json!({"name": "sharded", "schedule": {"type": "api"}, "sharding": {"mode": "shards", "count": 3},
            "timeoutMs": 20_000, "children": [{"job": "after", "on": "always"}],
            "http": {"method": "POST", "url": format!("{url}/sharded/{{$shardIndex}}/{{$shardTotal}}")}}),
    ];
    let mut ids = Vec::new();
    for spec in &specs {
        let (status, job) = cluster.post(1, "/api/jobs", spec).await;
        assert_eq!(status, 201, "{job}");
        ids.push(job["id"].as_i64().unwrap());
    }
    let (everywhere, sharded) = (ids[1], ids[2]);

    // All three alive: the broadcast is three shards, one on each node.
    assert_eq!(cluster.post(2, &format!("/api/jobs/{everywhere}/run"), &json!({})).await.0, 202);
    assert!(wait_calls(&receiver, "/everywhere/", 3).await, "{:?}", paths(&receiver, "/"));
    tokio::time::sleep(ANSWER + Duration::from_secs(1)).await;
    assert_eq!(paths(&receiver, "/everywhere/"), ["/everywhere/0/3", "/everywhere/1/3", "/everywhere/2/3"]);
    let runs = job_runs(&cluster, 1, everywhere).await;
    let nodes: std::collections::BTreeSet<&str> = runs.iter().map(|r| r["node"].as_str().unwrap()).collect();
    assert_eq!((runs.len(), nodes.len()), (3, 3), "one shard on each node: {runs:?}");

    // Three shards spread one per node; the node running shard 0 is killed mid-call.
    assert_eq!(cluster.post(2, &format!("/api/jobs/{sharded}/run"), &json!({})).await.0, 202);
    assert!(wait_calls(&receiver, "/sharded/", 3).await, "{:?}", paths(&receiver, "/"));
    let runs = job_runs(&cluster, 1, sharded).await;
    let running: Vec<&Value> = runs.iter().filter(|r| r["outcome"] == "running").collect();
    let nodes: std::collections::BTreeSet<&str> = running.iter().map(|r| r["node"].as_str().unwrap()).collect();
    assert_eq!((running.len(), nodes.len()), (3, 3), "the shards spread over the nodes: {runs:?}");
    let first = running.iter().find(|r| r["shard"] == 0).expect("shard 0 running");
    let holder = first["node"].as_str().unwrap().to_string();
    let victim = cluster.node_of_pid(pid_in_node_id(&holder).unwrap()).expect("a node of this cluster");
    cluster.kill(victim, "KILL");
    let survivor = (1..=3).find(|&n| n != victim).unwrap();
    println!("killed node {victim} ({holder}) running shard 0");

    // The lease (3 s) lapses and another node calls shard 0 again; the fire ends once.
    assert!(wait_calls(&receiver, "/after", 1).await, "the fire never ended: {:?}", paths(&receiver, "/"));
    tokio::time::sleep(ANSWER + Duration::from_secs(2)).await;
    let sharded_calls = paths(&receiver, "/sharded/");
    println!("sharded calls: {sharded_calls:?}");
    assert_eq!(sharded_calls, ["/sharded/0/3", "/sharded/0/3", "/sharded/1/3", "/sharded/2/3"]);
    assert_eq!(paths(&receiver, "/after"), ["/after"], "the fire ended once, by whichever node ended its last shard");
    let runs = job_runs(&cluster, survivor, sharded).await;
    let of_shard_0: Vec<(&str, &str)> = runs
        .iter()
        .filter(|r| r["shard"] == 0)
        .map(|r| (r["node"].as_str().unwrap(), r["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(of_shard_0.len(), 2, "{runs:?}");
    assert!(of_shard_0.contains(&(holder.as_str(), "abandoned")), "{of_shard_0:?}");
    assert!(of_shard_0.iter().any(|(node, outcome)| *node != holder && *outcome == "succeeded"), "{of_shard_0:?}");

    // With the dead node gone for longer than the lease, a broadcast has two shards.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(cluster.post(survivor, &format!("/api/jobs/{everywhere}/run"), &json!({})).await.0, 202);
    assert!(wait_calls(&receiver, "/everywhere/", 5).await, "{:?}", paths(&receiver, "/everywhere/"));
    tokio::time::sleep(ANSWER + Duration::from_secs(1)).await;
    let broadcast: Vec<String> = paths(&receiver, "/everywhere/").into_iter().filter(|p| p.ends_with("/2")).collect();
    assert_eq!(broadcast, ["/everywhere/0/2", "/everywhere/1/2"], "the survivors only");
}
