//! End to end in embedded mode: a crowd uploaded through the API, "run now", and the time
//! until every batch is on the bus (run `published`) and every row delivered (`completed`),
//! beside the same crowd written by raw sqlx into herald's tables (`store_limits`), with the
//! process's peak RSS during the run.

use crate::load::Load;
use crate::mem;
use crate::node::BenchNode;
use crate::report::{Row, mib, per_sec, rate, secs, significant, thousands};
use crate::store_limits::{self, StoreLimits};
use anyhow::{Context, bail, ensure};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const POLL: Duration = Duration::from_millis(20);
/// A run not completed after this (or a second per 1,000 rows, if longer) fails the bench.
const TIMEOUT: Duration = Duration::from_secs(600);

/// Crowd sizes of the end-to-end section.
pub struct Sizes {
    /// The small run of the memory comparison.
    pub small: usize,
    /// The outbox run measured against the store limits.
    pub rows: usize,
    /// The webhook run.
    pub webhook: usize,
}

/// Where a run delivers: the template's channel and content (a title and a body per row).
pub enum Channel<'a> {
    Outbox,
    Webhook { url: &'a str },
}

impl Channel<'_> {
    fn name(&self) -> &'static str {
        match self {
            Channel::Outbox => "outbox",
            Channel::Webhook { .. } => "webhook",
        }
    }

    fn content(&self) -> Value {
        let mut content = json!({"title": "Hi {$name}", "body": "Your code is {$code}"});
        if let Channel::Webhook { url } = self {
            content["url"] = json!(url);
        }
        content
    }
}

/// One run, from run-now to completed.
pub struct Run {
    pub rows: usize,
    pub upload: Duration,
    pub published: Duration,
    pub completed: Duration,
    pub peak_kib: u64,
}

impl Run {
    pub fn published_rate(&self) -> f64 {
        rate(self.rows, self.published)
    }

    pub fn completed_rate(&self) -> f64 {
        rate(self.rows, self.completed)
    }
}

/// Uploads a generated crowd of `rows` rows, runs a template on it to `channel` and waits until
/// every row is delivered.
pub async fn one_run(node: &BenchNode, rows: usize, channel: &Channel<'_>) -> anyhow::Result<Run> {
    let mut csv = Vec::new();
    crate::csv::write_crowd(&mut csv, rows)?;
    let started = Instant::now();
    let crowd_id = node.upload_crowd(csv).await?;
    let upload = started.elapsed();
    let spec = json!({"name": format!("bench {} {rows}", channel.name()), "channel": channel.name(),
                      "content": channel.content(), "crowdId": crowd_id});
    let template_id = node.template(&spec).await?;

    mem::reset_peak();
    let started = Instant::now();
    let answer = node.post(&format!("/api/templates/{template_id}/run"), &json!({}), 202).await?;
    let run_id = answer["runId"].as_i64().context("runId")?;
    let timeout = TIMEOUT.max(Duration::from_secs(rows as u64 / 1_000));
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
            _ if started.elapsed() > timeout => bail!("run {run_id} not completed within {timeout:?}: {run}"),
            _ => tokio::time::sleep(POLL).await,
        }
    };
    let completed = started.elapsed();
    let peak_kib = mem::peak_kib();
    ensure!(run["delivered"] == rows as i64 && run["failed"] == 0, "run {run_id} ended with {run}");
    Ok(Run { rows, upload, published: published.unwrap_or(completed), completed, peak_kib })
}

/// The store limits on a crowd of `sizes.rows`, then on one node a small outbox run, the large
/// one and the webhook run.
pub async fn run(sizes: &Sizes, load: &Load) -> anyhow::Result<Vec<Row>> {
    let limits = store_limits::measure(sizes.rows, BenchNode::durability()).await?;
    let node = BenchNode::start().await?;
    let small = one_run(&node, sizes.small, &Channel::Outbox).await?;
    let large = one_run(&node, sizes.rows, &Channel::Outbox).await?;
    let webhook = crate::webhook::run(&node, sizes.webhook, load).await?;
    node.shutdown().await;

    let mut table = outbox_rows(&limits, &small, &large);
    table.push(webhook);
    Ok(table)
}

fn outbox_rows(limits: &StoreLimits, small: &Run, large: &Run) -> Vec<Row> {
    let n = thousands(large.rows as f64);
    let (to_published, to_completed) = (large.published_rate(), large.completed_rate());
    vec![
        Row::new(
            "end to end (embedded): run-now -> all batches published",
            per_sec(limits.fan_out, "rows"),
            format!("{} ({})", per_sec(to_published, "rows"), secs(large.published)),
            Some(to_published / limits.fan_out),
            format!(
                "{n}-row crowd, outbox channel, SQLite state + bus, shipped defaults; polled every {} ms; {}",
                POLL.as_millis(),
                limits.fan_out_notes()
            ),
        ),
        Row::new(
            "end to end (embedded): run-now -> all delivered (completed)",
            per_sec(limits.outbox, "rows"),
            format!("{} ({})", per_sec(to_completed, "rows"), secs(large.completed)),
            Some(to_completed / limits.outbox),
            format!(
                "same run; {n} rendered outbox deliveries; upload + validation of the crowd took {} before; {}",
                secs(large.upload),
                limits.outbox_notes()
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
    ]
}

/// At each size, on a fresh node: the store limits and one outbox run; a row per size.
pub async fn scaling(sizes: &[usize]) -> anyhow::Result<Vec<Row>> {
    let mut table = Vec::with_capacity(sizes.len());
    for &rows in sizes {
        eprintln!("  {} rows", thousands(rows as f64));
        let limits = store_limits::measure(rows, BenchNode::durability()).await?;
        let node = BenchNode::start().await?;
        let run = one_run(&node, rows, &Channel::Outbox).await?;
        node.shutdown().await;
        table.push(scaling_row(&limits, &run));
    }
    Ok(table)
}

fn scaling_row(limits: &StoreLimits, run: &Run) -> Row {
    let per_million = run.completed.as_secs_f64() * 1e6 / run.rows as f64;
    Row::new(
        &format!("end to end (embedded) at {} rows: run-now -> completed", thousands(run.rows as f64)),
        format!("{} delivery; {} fan-out", per_sec(limits.outbox, "rows"), per_sec(limits.fan_out, "rows")),
        format!(
            "{} completed ({}), {} published; {per_million:.1} s per million rows; peak RSS {}",
            per_sec(run.completed_rate(), "rows"),
            secs(run.completed),
            per_sec(run.published_rate(), "rows"),
            mib(run.peak_kib)
        ),
        Some(run.completed_rate() / limits.outbox),
        format!(
            "fresh node, outbox channel, shipped defaults; ratio = completed / delivery limit; published / fan-out \
             limit = {}; limits measured on the same crowd just before (raw sqlx into herald's tables, as in the \
             end-to-end rows); peak RSS = whole-process VmHWM during the run",
            significant(run.published_rate() / limits.fan_out)
        ),
    )
}
