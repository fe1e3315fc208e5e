//! `herald run show|pause|resume|cancel|resend-failed`: a run's progress, an operator's pause,
//! resume and cancel, through a running node's API (a pause or cancel answers once no node
//! starts another send of the run), and the resend of an ended run's failed messages.

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
    /// Resend an ended run's failed messages: a new run of its template to only those receivers
    /// (printed, with its id). A run is resent once; resend the resend's failures from it.
    ResendFailed {
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
        RunCommand::ResendFailed { id, node } => {
            node.call(&format!("/api/runs/{id}/resend-failed"), Some(&json!({}))).await
        }
    }
}
