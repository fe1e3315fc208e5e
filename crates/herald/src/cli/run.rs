//! `herald run show|pause|resume|cancel`: a run's progress, and an operator's pause, resume
//! and cancel, through a running node's API (a pause or cancel answers once no node starts
//! another send of the run).

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
    /// Pause a run: nothing more of it is sent (the sends under way finish) and its crowd is not
    /// read further; its messages are held until it is resumed.
    Pause {
        id: i64,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Resume a paused run: its held messages are sent, each once, and its crowd read on.
    Resume {
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
        RunCommand::Pause { id, node } => node.call(&format!("/api/runs/{id}/pause"), Some(&json!({}))).await,
        RunCommand::Resume { id, node } => node.call(&format!("/api/runs/{id}/resume"), Some(&json!({}))).await,
        RunCommand::Cancel { id, node } => node.call(&format!("/api/runs/{id}/cancel"), Some(&json!({}))).await,
    }
}
