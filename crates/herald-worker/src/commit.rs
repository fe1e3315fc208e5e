//! Group commit of outcomes: every finished send hands its outcome here and waits until it is in
//! the delivery ledger. One task gathers what arrives within a few milliseconds (or up to a
//! group's size) into one write, so sends in flight share a transaction, and a send's slot is
//! free only once its outcome is durable: a crash repeats at most the sends in flight.

use herald_core::Clock;
use herald_store::{LedgerRepo, StoreError, TraceEntry};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Most outcomes written in one transaction.
pub const GROUP_MAX: usize = 256;
/// How long a single send's outcome, first of a group, waits for others.
pub const GROUP_WAIT: Duration = Duration::from_millis(5);

type Ack = oneshot::Sender<Result<(), String>>;

/// A handle on the node's committer; clone it freely.
#[derive(Clone)]
pub struct Committer {
    tx: mpsc::Sender<(Vec<TraceEntry>, Ack)>,
}

impl Committer {
    /// Starts the committer task on the current runtime; it ends when every handle is dropped.
    pub fn start(ledger: Arc<dyn LedgerRepo>, clock: Arc<dyn Clock>) -> Self {
        let (tx, rx) = mpsc::channel(4 * GROUP_MAX);
        tokio::spawn(run(rx, ledger, clock));
        Self { tx }
    }

    /// Writes `outcomes` to the ledger with whatever else is waiting; Ok once they are durable.
    pub async fn commit(&self, outcomes: Vec<TraceEntry>) -> Result<(), StoreError> {
        if outcomes.is_empty() {
            return Ok(());
        }
        let (ack, done) = oneshot::channel();
        self.tx.send((outcomes, ack)).await.map_err(|_| gone())?;
        done.await.map_err(|_| gone())?.map_err(StoreError::Unavailable)
    }
}

fn gone() -> StoreError {
    StoreError::Unavailable("the outcome committer stopped".into())
}

async fn run(mut rx: mpsc::Receiver<(Vec<TraceEntry>, Ack)>, ledger: Arc<dyn LedgerRepo>, clock: Arc<dyn Clock>) {
    while let Some(first) = rx.recv().await {
        // One send's outcome waits a moment for others; a whole batch's (a channel taking the
        // batch at once) is a group already, and goes with whatever is queued now.
        let wait = if first.0.len() == 1 { GROUP_WAIT } else { Duration::ZERO };
        let mut group = vec![first];
        let mut size = group[0].0.len();
        let deadline = tokio::time::Instant::now() + wait;
        while size < GROUP_MAX {
            let next = match rx.try_recv() {
                Ok(next) => Some(next),
                Err(_) if wait.is_zero() => None,
                Err(_) => tokio::time::timeout_at(deadline, rx.recv()).await.ok().flatten(),
            };
            let Some(next) = next else { break };
            size += next.0.len();
            group.push(next);
        }
        let outcomes: Vec<TraceEntry> = group.iter().flat_map(|(o, _)| o.iter().cloned()).collect();
        let written = ledger.record_outcomes(&outcomes, clock.now()).await.map(|_| ()).map_err(|e| e.to_string());
        if let Err(e) = &written {
            tracing::error!(error = %e, outcomes = outcomes.len(), "recording outcomes failed");
        }
        for (_, ack) in group {
            let _ = ack.send(written.clone());
        }
    }
}
