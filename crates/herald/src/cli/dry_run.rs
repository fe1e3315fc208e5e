//! `herald dry-run TEMPLATE_ID [--at TIME] [--samples N]`: where a template's crowd would go if
//! it ran (counts per screen and a few rendered messages), through a running node's API; nothing
//! is sent or recorded.

use super::node_api::NodeArgs;
use chrono::{DateTime, Utc};
use clap::Args;
use serde_json::{Map, Value, json};
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct DryRunArgs {
    /// The template whose crowd to screen.
    template_id: i64,
    /// When quiet hours and dedup are judged, in RFC 3339 (2026-06-01T09:00:00+08:00); now by
    /// default.
    #[arg(long, value_parser = parse_time)]
    at: Option<DateTime<Utc>>,
    /// How many of the messages that would be sent to print, 0 to 10 (default 3).
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=10))]
    samples: Option<u32>,
    #[command(flatten)]
    node: NodeArgs,
}

fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("not an RFC 3339 time: {e}"))
}

pub async fn run(args: DryRunArgs) -> anyhow::Result<ExitCode> {
    let mut body = Map::new();
    if let Some(at) = args.at {
        body.insert("at".into(), json!(at));
    }
    if let Some(samples) = args.samples {
        body.insert("samples".into(), json!(samples));
    }
    args.node.call(&format!("/api/templates/{}/dry-run", args.template_id), Some(&Value::Object(body))).await
}
