//! End to end in embedded mode: a crowd uploaded through the API, "run now", and the time
//! until every batch is on the bus (run `published`) and every row delivered (`completed`)
//! to the outbox channel, with the process's peak RSS during the run.

use crate::mem;
use crate::node::BenchNode;
use crate::report::{Row, mib, per_sec, rate, secs, thousands};
use anyhow::{Context, bail, ensure};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const POLL: Duration = Duration::from_millis(20);
const TIMEOUT: Duration = Duration::from_secs(600);

struct Run {
    rows: usize,
    upload: Duration,
    published: Duration,
    completed: Duration,
    peak_kib: u64,
}

async fn one_run(node: &BenchNode, rows: usize) -> anyhow::Result<Run> {
    let mut csv = Vec::new();
    crate::csv::write_crowd(&mut csv, rows)?;
    let started = Instant::now();
    let crowd_id = node.upload_crowd(csv).await?;
    let upload = started.elapsed();
    let spec = json!({"name": format!("bench {rows}"), "channel": "outbox",
                      "content": {"title": "Hi {$name}", "body": "Your code is {$code}"}, "crowdId": crowd_id});
    let template_id = node.template(&spec).await?;

    mem::reset_peak();
    let started = Instant::now();
    let answer = node.post(&format!("/api/templates/{template_id}/run"), &json!({}), 202).await?;
    let run_id = answer["runId"].as_i64().context("runId")?;
    let mut published = None;
    let run: Value = loop {
        let run = node.get(&format!("/api/runs/{run_id}")).await?;
        let status = run["status"].as_str().unwrap_or_default();
        if published.is_none() && matches!(status, "published" | "completed") {
            published = Some(started.elapsed());
        }
        match status {
            "completed" => break run,
            "failed" => bail!("run {run_id} failed: {run}"),
            _ if started.elapsed() > TIMEOUT => bail!("run {run_id} not completed within {TIMEOUT:?}: {run}"),
            _ => tokio::time::sleep(POLL).await,
        }
    };
    let completed = started.elapsed();
    let peak_kib = mem::peak_kib();
    ensure!(run["delivered"] == rows as i64 && run["failed"] == 0, "run {run_id} ended with {run}");
    Ok(Run { rows, upload, published: published.unwrap_or(completed), completed, peak_kib })
}

/// A small run then a large one on one node; `csv_limit` is the raw CSV parse rate (rows/s).
pub async fn run(small_rows: usize, rows: usize, csv_limit: f64) -> anyhow::Result<Vec<Row>> {
    let node = BenchNode::start().await?;
    let small = one_run(&node, small_rows).await?;
    let large = one_run(&node, rows).await?;
    node.shutdown().await;

    let n = thousands(large.rows as f64);
    let to_published = rate(large.rows, large.published);
    let to_completed = rate(large.rows, large.completed);
    let poll = format!("polled every {} ms", POLL.as_millis());
    Ok(vec![
        Row::new(
            "end to end (embedded): run-now -> all batches published",
            per_sec(csv_limit, "rows"),
            format!("{} ({})", per_sec(to_published, "rows"), secs(large.published)),
            Some(to_published / csv_limit),
            format!(
                "{n}-row crowd, outbox channel, SQLite state + bus, shipped defaults; limit = raw CSV parse; {poll}"
            ),
        ),
        Row::new(
            "end to end (embedded): run-now -> all delivered (completed)",
            per_sec(csv_limit, "rows"),
            format!("{} ({})", per_sec(to_completed, "rows"), secs(large.completed)),
            Some(to_completed / csv_limit),
            format!(
                "same run; {} rendered outbox deliveries; upload + validation of the crowd took {} before",
                n,
                secs(large.upload)
            ),
        ),
        Row::new(
            "end to end (embedded): peak RSS during the run, small -> large crowd",
            "n/a".to_owned(),
            format!("{} -> {}", mib(small.peak_kib), mib(large.peak_kib)),
            None,
            format!(
                "whole-process VmHWM (node + API client) reset before each run; {} rows ({} to completed) vs {n} rows",
                thousands(small.rows as f64),
                secs(small.completed)
            ),
        ),
    ])
}
