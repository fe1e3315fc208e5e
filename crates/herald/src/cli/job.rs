//! `herald job add|list|show|update|pause|resume|run|runs|delete|housekeeping|alarms`:
//! scheduled jobs, housekeeping and alarms through a running node's API. A job is written as a file (JSON, or TOML when its name ends in `.toml`)
//! in the shape `POST /api/jobs` takes.

use super::node_api::NodeArgs;
use anyhow::Context;
use clap::Subcommand;
use figment::Figment;
use figment::providers::{Format, Toml};
use reqwest::Method;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum JobCommand {
    /// Create a job from a file (JSON, or TOML for a `.toml` name); prints it with its id.
    Add {
        file: PathBuf,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Replace a job's spec with a file's; its schedule starts over from now.
    Update {
        id: i64,
        file: PathBuf,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// A page of jobs, by id.
    List {
        #[arg(long, default_value_t = 100)]
        limit: i64,
        #[arg(long, default_value_t = 0)]
        offset: i64,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// A job with its next fire.
    Show {
        id: i64,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// No scheduled fire until resumed (a run asked for still runs).
    Pause {
        id: i64,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Fire again from the first time after now.
    Resume {
        id: i64,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Run it now, on whichever node claims next.
    Run {
        id: i64,
        /// The fire's parameter: `{$param}` in an HTTP job's body, HERALD_PARAM for a command.
        #[arg(long)]
        param: Option<String>,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Housekeeping (token refreshes, the quiet-hours release, retention, receipt pulls, the
    /// daily report): each schedule with its next and last fire; `runs --schedule ID` gives its
    /// run log.
    Housekeeping {
        #[arg(long, default_value_t = 100)]
        limit: i64,
        #[arg(long, default_value_t = 0)]
        offset: i64,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Every alarm rule raised now, on jobs and housekeeping.
    Alarms {
        #[arg(long, default_value_t = 100)]
        limit: i64,
        #[arg(long, default_value_t = 0)]
        offset: i64,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Its run log, newest first.
    Runs {
        id: i64,
        /// ID is a schedule's (a housekeeping schedule's, from `housekeeping`), not a job's.
        #[arg(long)]
        schedule: bool,
        /// Only attempts that ended so (succeeded, failed, timed_out, ...).
        #[arg(long)]
        outcome: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: i64,
        #[arg(long, default_value_t = 0)]
        offset: i64,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Delete it with its schedule and run log.
    Delete {
        id: i64,
        #[command(flatten)]
        node: NodeArgs,
    },
}

pub async fn run(command: JobCommand) -> anyhow::Result<ExitCode> {
    match command {
        JobCommand::Add { file, node } => node.send(Method::POST, "/api/jobs", Some(&read_spec(&file)?)).await,
        JobCommand::Update { id, file, node } => {
            node.send(Method::PUT, &format!("/api/jobs/{id}"), Some(&read_spec(&file)?)).await
        }
        JobCommand::List { limit, offset, node } => {
            node.call(&format!("/api/jobs?limit={limit}&offset={offset}"), None).await
        }
        JobCommand::Show { id, node } => node.call(&format!("/api/jobs/{id}"), None).await,
        JobCommand::Pause { id, node } => node.call(&format!("/api/jobs/{id}/pause"), Some(&json!({}))).await,
        JobCommand::Resume { id, node } => node.call(&format!("/api/jobs/{id}/resume"), Some(&json!({}))).await,
        JobCommand::Run { id, param, node } => {
            node.call(&format!("/api/jobs/{id}/run"), Some(&json!({ "param": param }))).await
        }
        JobCommand::Housekeeping { limit, offset, node } => {
            node.call(&format!("/api/schedules?kind=housekeeping&limit={limit}&offset={offset}"), None).await
        }
        JobCommand::Alarms { limit, offset, node } => {
            node.call(&format!("/api/alarms?limit={limit}&offset={offset}"), None).await
        }
        JobCommand::Runs { id, schedule, outcome, limit, offset, node } => {
            if let Some(o) = outcome.as_deref() {
                anyhow::ensure!(
                    o.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                    "--outcome: {o:?} is not an outcome"
                );
            }
            let only = outcome.map(|o| format!("&outcome={o}")).unwrap_or_default();
            let of = if schedule { "schedules" } else { "jobs" };
            node.call(&format!("/api/{of}/{id}/runs?limit={limit}&offset={offset}{only}"), None).await
        }
        JobCommand::Delete { id, node } => node.send(Method::DELETE, &format!("/api/jobs/{id}"), None).await,
    }
}

/// A file read as `T`: TOML for a `.toml` name, JSON otherwise (a job file, an export).
pub fn read_json_or_toml<T: serde::de::DeserializeOwned>(file: &Path) -> anyhow::Result<T> {
    let shown = file.display();
    if file.extension().is_some_and(|e| e.eq_ignore_ascii_case("toml")) {
        return Figment::from(Toml::file_exact(file)).extract().with_context(|| format!("reading {shown} as TOML"));
    }
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {shown}"))?;
    serde_json::from_str(&text).with_context(|| format!("reading {shown} as JSON"))
}

fn read_spec(file: &Path) -> anyhow::Result<Value> {
    read_json_or_toml(file)
}
