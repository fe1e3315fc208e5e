//! `herald export`: every template and scheduled job of a running node as one JSON or TOML
//! document, read page by page through its API, that `herald import` reads back. Secrets stay
//! behind: a job's secret-looking header values are exported masked.

use super::node_api::NodeArgs;
use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::path::PathBuf;
use std::process::ExitCode;

/// What `herald export` writes and `herald import` reads.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Export {
    /// 1.
    pub version: u32,
    /// Each template as `POST /api/templates` takes it, with its `status` (running or stopped).
    #[serde(default)]
    pub templates: Vec<Map<String, Value>>,
    /// Each job as `POST /api/jobs` takes it, with `enabled`.
    #[serde(default)]
    pub jobs: Vec<Map<String, Value>>,
}

/// The fields an answer adds to a template's spec, which the export keeps only for `status`.
const TEMPLATE_RECORD_KEYS: [&str; 4] = ["id", "nextFireAt", "createdAt", "updatedAt"];
/// The fields an answer adds to a job's spec, which the export keeps only for `enabled`.
const JOB_RECORD_KEYS: [&str; 5] = ["id", "nextFireAt", "scheduleId", "createdAt", "updatedAt"];
/// Items asked for per page.
const PAGE: usize = 500;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Json,
    Toml,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[arg(long, value_enum, default_value = "json")]
    format: Format,
    /// Write here instead of to stdout.
    #[arg(long, short)]
    output: Option<PathBuf>,
    #[command(flatten)]
    node: NodeArgs,
}

pub async fn run(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let templates = all_of(&args.node, "/api/templates", &TEMPLATE_RECORD_KEYS).await?;
    let jobs = all_of(&args.node, "/api/jobs", &JOB_RECORD_KEYS).await?;
    let export = Export { version: 1, templates, jobs };
    let text = match args.format {
        Format::Json => format!("{:#}\n", serde_json::to_value(&export)?),
        Format::Toml => toml::to_string(&without_nulls(serde_json::to_value(&export)?))?,
    };
    match &args.output {
        Some(path) => std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?,
        None => print!("{text}"),
    }
    eprintln!("exported {} templates and {} jobs", export.templates.len(), export.jobs.len());
    Ok(ExitCode::SUCCESS)
}

/// Every item of a paged list, without the fields in `drop`.
pub(super) async fn all_of(node: &NodeArgs, path: &str, drop: &[&str]) -> anyhow::Result<Vec<Map<String, Value>>> {
    let mut items = Vec::new();
    let mut offset = 0;
    loop {
        let (status, page) = node.fetch(Method::GET, &format!("{path}?limit={PAGE}&offset={offset}"), None).await?;
        if !status.is_success() {
            bail!("{path} answered {status}: {page}");
        }
        for item in page["items"].as_array().into_iter().flatten() {
            let mut item = item.as_object().cloned().context("a list item that is not an object")?;
            item.retain(|key, _| !drop.contains(&key.as_str()));
            items.push(item);
        }
        match page["nextOffset"].as_u64() {
            Some(next) => offset = next as usize,
            None => return Ok(items),
        }
    }
}

/// The value without null fields, which TOML cannot write (an absent field reads as null).
fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            Value::Object(map.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k, without_nulls(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}
