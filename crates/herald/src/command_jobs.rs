//! The command of a scheduled job, run as the node's configuration allows: only a listed
//! program (or a `sh -c` script where shells are allowed), with its arguments passed as they
//! are, a clean environment (the node's secrets are not passed on), stdout and stderr captured
//! up to the run log's cap, and its whole process group killed when it ends, times out or is
//! replaced.

use herald_core::scheduled_job::{CommandCall, CommandPolicy};
use herald_scheduler::{Answer, Attempting, CallError, MAX_OUTPUT_BYTES};
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

/// The node's own variables a command sees; nothing else of the node's environment is passed.
const PASSED_ON: [&str; 4] = ["PATH", "HOME", "LANG", "TZ"];

pub struct CommandJobs {
    pub policy: CommandPolicy,
}

impl CommandJobs {
    pub async fn run(
        &self,
        command: &CommandCall,
        job_name: &str,
        attempting: Attempting<'_>,
        timeout: std::time::Duration,
    ) -> Result<Answer, CallError> {
        if let Some(refusal) = self.policy.refusal(command) {
            return Err(CallError::Failed(refusal.message));
        }
        let mut child = prepared(command, job_name, attempting)
            .spawn()
            .map_err(|e| CallError::Failed(format!("could not start {:?}: {e}", command.program)))?;
        let mut group = ProcessGroup(child.id());
        let captured = Arc::new(Mutex::new(Vec::new()));
        let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
        let reading = async {
            tokio::join!(drain(stdout, &captured), drain(stderr, &captured));
        };
        let waiting = async {
            let status = child.wait().await;
            // What it left running in the background ends with it, closing the pipes.
            group.kill();
            status
        };
        let (status, ()) = tokio::time::timeout(timeout, async { tokio::join!(waiting, reading) })
            .await
            .map_err(|_| CallError::TimedOut)?;
        let status = status.map_err(|e| CallError::Failed(format!("waiting for the command: {e}")))?;
        let body = std::mem::take(&mut *captured.lock().expect("captured output"));
        match (status.code(), status.signal()) {
            (Some(code), _) => Ok(Answer { code, body }),
            (None, signal) => Err(CallError::Failed(format!("killed by signal {}", signal.unwrap_or(0)))),
        }
    }
}

fn prepared(command: &CommandCall, job_name: &str, attempting: Attempting<'_>) -> Command {
    let mut prepared = if command.shell {
        let mut sh = Command::new("/bin/sh");
        // The arguments are the script's $1, $2, ...
        sh.arg("-c").arg(&command.program).arg(job_name).args(&command.args);
        sh
    } else {
        let mut program = Command::new(&command.program);
        program.args(&command.args);
        program
    };
    prepared.env_clear();
    for name in PASSED_ON {
        if let Some(value) = std::env::var_os(name) {
            prepared.env(name, value);
        }
    }
    prepared
        .envs(&command.env)
        .env("HERALD_JOB_ID", attempting.job_id.to_string())
        .env("HERALD_JOB_NAME", job_name)
        .env("HERALD_FIRE_ID", attempting.fire_id.to_string())
        .env("HERALD_ATTEMPT", attempting.attempt.to_string())
        .env("HERALD_NODE", attempting.node)
        .env("HERALD_PARAM", attempting.param.unwrap_or_default());
    if let Some(shard) = attempting.shard {
        prepared.env("HERALD_SHARD_INDEX", shard.index.to_string()).env("HERALD_SHARD_TOTAL", shard.total.to_string());
    }
    prepared.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true).process_group(0);
    prepared
}

/// Reads a pipe to its end, keeping what fits under the cap in `captured`.
async fn drain(pipe: Option<impl AsyncRead + Unpin>, captured: &Mutex<Vec<u8>>) {
    let Some(mut pipe) = pipe else { return };
    let mut chunk = [0u8; 8 * 1024];
    while let Ok(n) = pipe.read(&mut chunk).await {
        if n == 0 {
            return;
        }
        let mut kept = captured.lock().expect("captured output");
        let room = MAX_OUTPUT_BYTES.saturating_sub(kept.len());
        kept.extend_from_slice(&chunk[..n.min(room)]);
    }
}

/// A command's process group (it leads its own): killed when the run is over, however it ends,
/// and only once (its id may be another's later).
struct ProcessGroup(Option<u32>);

impl ProcessGroup {
    fn kill(&mut self) {
        let group = self.0.take().and_then(|pid| i32::try_from(pid).ok()).and_then(rustix::process::Pid::from_raw);
        if let Some(group) = group {
            // Fails only when the group has already ended.
            let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
        }
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        self.kill();
    }
}
