//! Cluster mode against its limit: three herald nodes as processes (scripts/local-cluster.sh:
//! PostgreSQL, Redis, the Kafka mock, moto) streaming one large crowd run, beside a raw rdkafka
//! producer publishing the same batches to the same mock cluster. Needs the release binaries
//! (`cargo build --release -p herald --bins`) and the local PostgreSQL and Redis.

use crate::kafka;
use crate::report::{Row, mib, per_sec, rate, secs, thousands};
use anyhow::{Context, bail};
use herald_bus::KafkaConfig;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The raw producer's own topic: no herald worker consumes it (the raw payloads carry the same
/// message ids as the herald run, which a worker would otherwise record first).
const RAW_TOPIC: &str = "bench.raw";
const IN_FLIGHT: usize = 256;

/// How much of each partition's log the Kafka mock keeps; it drops the oldest messages past
/// that, delivered or not (librdkafka's `rdkafka_mock.c`).
const MOCK_PARTITION_BYTES: usize = 5 << 20;

/// A running local cluster; dropping it stops every process.
pub struct Cluster {
    dir: tempfile::TempDir,
    vars: HashMap<String, String>,
}

impl Cluster {
    /// A value of the cluster's cluster.env (DATABASE_URL, NODE_1_PID, ...).
    pub fn var(&self, name: &str) -> anyhow::Result<String> {
        self.vars.get(name).cloned().with_context(|| format!("{name} is not in cluster.env"))
    }
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
        bail!(
            "{} and herald-kafka-mock are missing: cargo build --release -p herald --bins --features cluster",
            herald.display()
        );
    }
    Ok((herald, mock))
}

/// Starts `nodes` herald processes with `roles` (space separated, one per node) and what they
/// need (scripts/local-cluster.sh), the Kafka mock's channel topics with `partitions` (the
/// script's default when `None`).
pub fn up(nodes: usize, roles: &str, partitions: Option<usize>) -> anyhow::Result<Cluster> {
    let (herald, mock) = binaries()?;
    let dir = tempfile::tempdir()?;
    let mut command = Command::new("bash");
    if let Some(partitions) = partitions {
        command.env("KAFKA_PARTITIONS", partitions.to_string());
    }
    let output = command
        .arg(script())
        .args(["up", dir.path().to_str().context("temp dir")?, "--nodes", &nodes.to_string()])
        .env("HERALD_BIN", herald)
        .env("HERALD_KAFKA_MOCK_BIN", mock)
        .env("HERALD_LOG__FILTER", "warn")
        .env("NODE_ROLES", roles)
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

/// The limit: raw rdkafka produce of the same payloads to the same brokers, `IN_FLIGHT`
/// outstanding, after a warm-up.
async fn raw_produce(brokers: &str, payloads: &[(String, Vec<u8>)]) -> anyhow::Result<Duration> {
    let producer = kafka::raw_producer(&KafkaConfig::new(brokers.to_owned(), "raw-bench"))?;
    let send = kafka::publisher(|key, payload| kafka::raw_send(&producer, RAW_TOPIC, key, payload));
    kafka::drive(&payloads[..payloads.len().min(100)], 16, send).await?;
    kafka::drive(payloads, IN_FLIGHT, send).await
}

/// What one cluster run measured.
struct Measured {
    raw: Duration,
    upload: Duration,
    published: Duration,
    completed: Option<Duration>,
    shards: usize,
    /// Partitions of the channel topic in the mock.
    partitions: usize,
    rss: Vec<String>,
}

/// Brings up three nodes with `roles`, measures the raw produce limit on their Kafka, then
/// one run of a `rows`-row crowd from run-now to published (and to completed when `workers`).
async fn measure(rows: usize, roles: &str, workers: bool) -> anyhow::Result<Measured> {
    let nodes = 3;
    let payloads = kafka::payloads(rows.div_ceil(100));
    // Room in the mock for every batch twice over: a run publishes far ahead of its delivery,
    // and a batch the mock dropped before a worker read it would never be delivered.
    let bytes: usize = payloads.iter().map(|(key, payload)| key.len() + payload.len()).sum();
    let partitions = (2 * bytes).div_ceil(MOCK_PARTITION_BYTES).max(6);
    let cluster = up(nodes, roles, Some(partitions))?;
    let (key, base) = (cluster.vars["API_KEY"].clone(), cluster.vars["NODE_1_URL"].clone());
    let http = reqwest::Client::new();

    let raw = raw_produce(&cluster.vars["KAFKA_BROKERS"], &payloads).await?;
    drop(payloads);

    let crowd = tempfile::NamedTempFile::new()?;
    crate::csv::write_crowd(crowd.as_file(), rows)?;
    let uploading = Instant::now();
    let part = reqwest::multipart::Part::bytes(std::fs::read(crowd.path())?).file_name("crowd.csv");
    let form = reqwest::multipart::Form::new().part("file", part);
    let uploaded: Value =
        http.post(format!("{base}/api/crowds")).header("X-API-Key", &key).multipart(form).send().await?.json().await?;
    let upload = uploading.elapsed();
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
            Some("completed") => break Some(fired.elapsed()),
            Some("failed") => bail!("the run failed: {run}"),
            _ => {}
        }
        if published.is_some() && !workers {
            break None;
        }
        if fired.elapsed() > Duration::from_secs(1800) {
            bail!("the run did not complete in 30 minutes: {run}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let published = published.or(completed).context("neither published nor completed")?;
    let shards: Value =
        http.get(format!("{base}/api/runs/{run_id}/shards")).header("X-API-Key", &key).send().await?.json().await?;
    let shards = shards["items"].as_array().map_or(0, Vec::len);
    let rss = (1..=nodes).map(|i| mib(crate::mem::peak_kib_of(&cluster.vars[&format!("NODE_{i}_PID")]))).collect();
    drop(cluster);
    Ok(Measured { raw, upload, published, completed, shards, partitions, rss })
}

pub async fn run(rows: usize) -> anyhow::Result<Vec<Row>> {
    let batches = thousands(rows.div_ceil(100) as f64);
    let full = measure(rows, "api,scheduler,worker api,scheduler,worker api,scheduler,worker", true).await?;
    let streaming = measure(rows, "api,scheduler scheduler scheduler", false).await?;
    let setup = "3 node processes on PostgreSQL + Redis + MockCluster(3) + moto (scripts/local-cluster.sh), \
                 release build, 2 streamers per node";
    let limit_note = |m: &Measured| {
        format!(
            "limit = raw rdkafka produce of the same {batches} DeliveryJob payloads to the same mock cluster, \
             {IN_FLIGHT} in flight, idempotent, acks=all ({})",
            secs(m.raw)
        )
    };
    let published_row = |what: &str, m: &Measured, note: String| {
        let limit = rate(rows, m.raw);
        Row::new(
            what,
            per_sec(limit, "rows"),
            format!("{} ({})", per_sec(rate(rows, m.published), "rows"), secs(m.published)),
            Some(rate(rows, m.published) / limit),
            note,
        )
    };
    let completed = full.completed.unwrap_or(full.published);
    Ok(vec![
        published_row(
            "cluster: run fired -> all batches published",
            &full,
            format!(
                "{} rows ({batches} batches of 100) in {} shards; {setup}; {} partitions a topic in the mock; every \
                 node also api + worker, delivering meanwhile; {}; crowd upload + validation before the run: {}",
                thousands(rows as f64),
                full.shards,
                full.partitions,
                limit_note(&full),
                secs(full.upload)
            ),
        ),
        Row::new(
            "cluster: run fired -> every row delivered (completed)",
            per_sec(rate(rows, full.raw), "rows"),
            format!("{} ({})", per_sec(rate(rows, completed), "rows"), secs(completed)),
            Some(rate(rows, completed) / rate(rows, full.raw)),
            "same run; every row rendered and written to the outbox table in PostgreSQL".to_owned(),
        ),
        Row::new(
            "cluster: peak RSS per node (all roles)",
            "n/a".to_owned(),
            full.rss.join(" / "),
            None,
            "VmHWM of each node process at the end of the run".to_owned(),
        ),
        published_row(
            "cluster: run fired -> all batches published, streaming nodes only",
            &streaming,
            format!(
                "same crowd in {} shards; nodes `api,scheduler`, `scheduler`, `scheduler` (no workers competing); {}",
                streaming.shards,
                limit_note(&streaming)
            ),
        ),
        Row::new(
            "cluster: peak RSS per node (streaming only)",
            "n/a".to_owned(),
            streaming.rss.join(" / "),
            None,
            "VmHWM of each node process at the end of the run".to_owned(),
        ),
    ])
}
