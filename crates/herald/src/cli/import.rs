//! `herald import FILE`: templates and jobs from a `herald export` document (JSON, or TOML for a
//! `.toml` name) into a running node through its API. Each is matched by name: updated when the
//! node has one of that name, created otherwise, then started, stopped, paused or resumed as the
//! file says. One refused item does not stop the others; each refusal is printed with the
//! node's reason, and the command then fails.

use super::export::Export;
use super::node_api::NodeArgs;
use anyhow::bail;
use clap::Args;
use herald_core::scheduled_job::MASKED;
use reqwest::Method;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct ImportArgs {
    file: PathBuf,
    #[command(flatten)]
    node: NodeArgs,
}

/// What an import did, counted for its summary.
#[derive(Default)]
struct Tally {
    created: usize,
    updated: usize,
    refused: Vec<String>,
}

pub async fn run(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let export: Export = super::job::read_json_or_toml(&args.file)?;
    if export.version != 1 {
        bail!("{}: version {} is not one this herald reads (1)", args.file.display(), export.version);
    }
    let node = &args.node;
    let mut templates = Tally::default();
    let known = names(node, "/api/templates").await?;
    for mut template in export.templates {
        let status = template.remove("status");
        let target = Target { node, base: "/api/templates", known: &known };
        match target.save(&template).await {
            Ok((id, created)) => {
                templates.count(created);
                let action = match status.as_ref().and_then(Value::as_str) {
                    Some("running") => "start",
                    Some("stopped") if !created => "stop",
                    _ => continue,
                };
                target.act(id, action).await.unwrap_or_else(|e| templates.refuse(&template, &e));
            }
            Err(e) => templates.refuse(&template, &e),
        }
    }
    let mut jobs = Tally::default();
    let known = names(node, "/api/jobs").await?;
    for mut job in export.jobs {
        let enabled = job.remove("enabled").and_then(|e| e.as_bool());
        let target = Target { node, base: "/api/jobs", known: &known };
        if !known.contains_key(&name_of(&job)) && has_masked_header(&job) {
            jobs.refuse(&job, &format!("a header is exported masked ({MASKED}); write its value in the file"));
            continue;
        }
        match target.save(&job).await {
            Ok((id, created)) => {
                jobs.count(created);
                let action = match enabled {
                    Some(false) => "pause",
                    Some(true) if !created => "resume",
                    _ => continue,
                };
                target.act(id, action).await.unwrap_or_else(|e| jobs.refuse(&job, &e));
            }
            Err(e) => jobs.refuse(&job, &e),
        }
    }
    println!(
        "templates: {} created, {} updated, {} refused",
        templates.created,
        templates.updated,
        templates.refused.len()
    );
    println!("jobs: {} created, {} updated, {} refused", jobs.created, jobs.updated, jobs.refused.len());
    let refused: Vec<String> = templates.refused.into_iter().chain(jobs.refused).collect();
    for line in &refused {
        println!("refused {line}");
    }
    Ok(if refused.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn name_of(item: &Map<String, Value>) -> String {
    item.get("name").and_then(Value::as_str).unwrap_or_default().trim().to_string()
}

fn has_masked_header(job: &Map<String, Value>) -> bool {
    let headers = job.get("http").and_then(|h| h.get("headers")).and_then(Value::as_object);
    headers.into_iter().flatten().any(|(_, value)| value == MASKED)
}

/// The node's items by name (the first of each name), read page by page.
async fn names(node: &NodeArgs, path: &str) -> anyhow::Result<HashMap<String, i64>> {
    let mut known = HashMap::new();
    for item in super::export::all_of(node, path, &[]).await? {
        if let (Some(name), Some(id)) =
            (item.get("name").and_then(Value::as_str), item.get("id").and_then(Value::as_i64))
        {
            known.entry(name.trim().to_string()).or_insert(id);
        }
    }
    Ok(known)
}

/// Where one kind of item is saved on the node.
struct Target<'a> {
    node: &'a NodeArgs,
    base: &'a str,
    known: &'a HashMap<String, i64>,
}

impl Target<'_> {
    /// Updates the item of its name or creates it; its id, and whether it was created.
    async fn save(&self, item: &Map<String, Value>) -> Result<(i64, bool), String> {
        let body = Value::Object(item.clone());
        let (method, path, created) = match self.known.get(&name_of(item)) {
            Some(id) => (Method::PUT, format!("{}/{id}", self.base), false),
            None => (Method::POST, self.base.to_string(), true),
        };
        let (status, answer) = self.node.fetch(method, &path, Some(&body)).await.map_err(|e| e.to_string())?;
        match answer["id"].as_i64() {
            Some(id) if status.is_success() => Ok((id, created)),
            _ => Err(format!("{status}: {answer}")),
        }
    }

    async fn act(&self, id: i64, action: &str) -> Result<(), String> {
        let path = format!("{}/{id}/{action}", self.base);
        let (status, answer) =
            self.node.fetch(Method::POST, &path, Some(&json!({}))).await.map_err(|e| e.to_string())?;
        if status.is_success() { Ok(()) } else { Err(format!("{action}: {status}: {answer}")) }
    }
}

impl Tally {
    fn count(&mut self, created: bool) {
        if created {
            self.created += 1;
        } else {
            self.updated += 1;
        }
    }

    fn refuse(&mut self, item: &Map<String, Value>, reason: &str) {
        self.refused.push(format!("{:?}: {reason}", name_of(item)));
    }
}
