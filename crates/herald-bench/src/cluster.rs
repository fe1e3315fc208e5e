//! Cluster mode against its limit: three herald nodes as processes (scripts/local-cluster.sh:
//! PostgreSQL, Redis, the Kafka mock, moto) streaming one large crowd run, beside a raw rdkafka
//! producer publishing the same batches to the same mock cluster. Needs the release binaries
//! (`cargo build --release -p herald --bins`) and the local PostgreSQL and Redis.

use crate::report::{Row, mib, per_sec, rate, secs, thousands};
use anyhow::{Context, bail};
use futures::{StreamExt, TryStreamExt, stream};
use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// An existing topic of the mock cluster that the benchmark's outbox run does not use.
const RAW_TOPIC: &str = "herald.webhook";
const IN_FLIGHT: usize = 256;

struct Cluster {
    dir: tempfile::TempDir,
    vars: HashMap<String, String>,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("bash").arg(script()).arg("down").arg(self.dir.path()).status();
    }
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/local-cluster.sh")
}

fn binaries() -> anyhow::Result<(PathBuf, PathBuf)> {
    let dir = std::env::current_exe()?.parent().context("the bench's directory")?.to_path_buf();
    let (herald, mock) = (dir.join("herald"), dir.join("herald-kafka-mock"));
    if !herald.exists() || !mock.exists() {
        bail!("{} and herald-kafka-mock are missing: cargo build --release -p herald --bins", herald.display());
    }
    Ok((herald, mock))
}

fn up(nodes: usize) -> anyhow::Result<Cluster> {
    let (herald, mock) = binaries()?;
    let dir = tempfile::tempdir()?;
    let output = Command::new("bash")
        .arg(script())
        .args(["up", dir.path().to_str().context("temp dir")?, "--nodes", &nodes.to_string()])
        .env("HERALD_BIN", herald)
        .env("HERALD_KAFKA_MOCK_BIN", mock)
        .env("HERALD_LOG__FILTER", "warn")
        .output()?;
    if !output.status.success() {
        bail!("local-cluster.sh up failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    let vars = std::fs::read_to_string(dir.path().join("cluster.env"))?
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    Ok(Cluster { dir, vars })
}

fn peak_rss_kib(pid: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap_or("");
    line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).unwrap_or(0)
}

fn send<'a>(
    producer: &'a FutureProducer,
    (key, payload): &'a (String, Vec<u8>),
) -> impl std::future::Future<Output = anyhow::Result<()>> + 'a {
    let sent = producer.send(FutureRecord::to(RAW_TOPIC).key(key).payload(payload), Timeout::Never);
    async move { sent.await.map(|_| ()).map_err(|(e, _)| anyhow::anyhow!("raw produce: {e}")) }
}

/// The raw producer: the same properties herald's KafkaBus sets, `in_flight` outstanding.
async fn raw_produce(brokers: &str, payloads: &[(String, Vec<u8>)]) -> anyhow::Result<Duration> {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("client.id", "raw-bench")
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .create()?;
    let send = |item| send(&producer, item);
    stream::iter(payloads.iter().take(100).map(send)).buffer_unordered(16).try_collect::<()>().await?;
    let started = Instant::now();
    stream::iter(payloads.iter().map(send)).buffer_unordered(IN_FLIGHT).try_collect::<()>().await?;
    Ok(started.elapsed())
}

pub async fn run(rows: usize) -> anyhow::Result<Vec<Row>> {
    let nodes = 3;
    let cluster = up(nodes)?;
    let (key, base) = (cluster.vars["API_KEY"].clone(), cluster.vars["NODE_1_URL"].clone());
    let http = reqwest::Client::new();

    let batches = rows.div_ceil(100);
    let payloads = crate::kafka::payloads(batches);
    let raw = raw_produce(&cluster.vars["KAFKA_BROKERS"], &payloads).await?;
    drop(payloads);

    let crowd = tempfile::NamedTempFile::new()?;
    crate::csv::write_crowd(crowd.as_file(), rows)?;
    let uploading = Instant::now();
    let part = reqwest::multipart::Part::bytes(std::fs::read(crowd.path())?).file_name("crowd.csv");
    let form = reqwest::multipart::Form::new().part("file", part);
    let uploaded: Value =
        http.post(format!("{base}/api/crowds")).header("X-API-Key", &key).multipart(form).send().await?.json().await?;
    let upload_time = uploading.elapsed();
    let crowd_id = uploaded["crowd"]["id"].as_str().with_context(|| format!("upload: {uploaded}"))?;
    let spec = json!({"name": "bench", "channel": "outbox", "content": {"title": "Hi {$name}", "body": "{$code}"},
                      "crowdId": crowd_id});
    let template: Value =
        http.post(format!("{base}/api/templates")).header("X-API-Key", &key).json(&spec).send().await?.json().await?;
    let template_id = template["id"].as_i64().with_context(|| format!("template: {template}"))?;

    let fired = Instant::now();
    let run: Value = http
        .post(format!("{base}/api/templates/{template_id}/run"))
        .header("X-API-Key", &key)
        .json(&json!({}))
        .send()
        .await?
        .json()
        .await?;
    let run_id = run["runId"].as_i64().with_context(|| format!("run: {run}"))?;
    let mut published = None;
    let completed = loop {
        let run: Value =
            http.get(format!("{base}/api/runs/{run_id}")).header("X-API-Key", &key).send().await?.json().await?;
        match run["status"].as_str() {
            Some("published") if published.is_none() => published = Some(fired.elapsed()),
            Some("completed") => break fired.elapsed(),
            Some("failed") => bail!("the run failed: {run}"),
            _ => {}
        }
        if fired.elapsed() > Duration::from_secs(1800) {
            bail!("the run did not complete in 30 minutes: {run}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let published = published.unwrap_or(completed);
    let shards: Value =
        http.get(format!("{base}/api/runs/{run_id}/shards")).header("X-API-Key", &key).send().await?.json().await?;
    let shard_count = shards["items"].as_array().map_or(0, Vec::len);
    let rss: Vec<String> =
        (1..=nodes).map(|i| format!("{:.0} MiB", mib(peak_rss_kib(&cluster.vars[&format!("NODE_{i}_PID")])))).collect();
    drop(cluster);

    let limit = rate(rows, raw);
    let common = format!(
        "{} rows ({} batches of 100) in {shard_count} shards, 3 nodes x (api, scheduler with 2 streamers, worker) \
         on PostgreSQL + Redis + MockCluster(3) + moto, release build, workers delivering meanwhile; \
         limit = raw rdkafka produce of the same {} DeliveryJob payloads to the same mock cluster, {IN_FLIGHT} in \
         flight ({}); upload + validation before the run: {}",
        thousands(rows as f64),
        thousands(batches as f64),
        thousands(batches as f64),
        secs(raw),
        secs(upload_time),
    );
    Ok(vec![
        Row::new(
            "cluster: run fired -> all batches published",
            per_sec(limit, "rows"),
            format!("{} ({})", per_sec(rate(rows, published), "rows"), secs(published)),
            Some(rate(rows, published) / limit),
            common.clone(),
        ),
        Row::new(
            "cluster: run fired -> every row delivered (completed)",
            per_sec(limit, "rows"),
            format!("{} ({})", per_sec(rate(rows, completed), "rows"), secs(completed)),
            Some(rate(rows, completed) / limit),
            "same run; rows rendered and written to the outbox table in PostgreSQL".to_owned(),
        ),
        Row::new(
            "cluster: peak RSS per node",
            "n/a".to_owned(),
            rss.join(" / "),
            None,
            "VmHWM of each node process at the end of the run".to_owned(),
        ),
    ])
}
