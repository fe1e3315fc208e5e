//! `herald run show|cancel`: a run's progress, and an operator's cancel, through a running
//! node's API (the cancel answers once no node starts another send of the run).

use super::node_api::NodeArgs;
use clap::Subcommand;
use serde_json::json;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum RunCommand {
    /// Print a run's status and counters.
    Show {
        id: i64,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Cancel a run: nothing more of it is sent (the sends under way finish); its queued and
    /// deferred messages end as cancelled.
    Cancel {
        id: i64,
        #[command(flatten)]
        node: NodeArgs,
    },
}

pub async fn run(command: RunCommand) -> anyhow::Result<ExitCode> {
    match command {
        RunCommand::Show { id, node } => node.call(&format!("/api/runs/{id}"), None).await,
        RunCommand::Cancel { id, node } => node.call(&format!("/api/runs/{id}/cancel"), Some(&json!({}))).await,
    }
}
