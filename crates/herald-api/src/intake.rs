//! The send API's group commit. Requests accepted at the same moment have their `accepted`
//! trace rows written in one statement and their batches published together (one publish per
//! topic), so many clients at once cost two writes per group rather than two per request. A
//! request is answered once both are durable. The writes run on the intake's own task: a client
//! that hangs up half-way does not stop them, so an `accepted` trace row always has its batch on
//! the bus (the order of `herald_bus::EncodedJobs`: record, then publish).

use crate::error::ApiError;
use herald_bus::{Bus, BusMessage, EncodedJobs};
use herald_core::Clock;
use herald_store::{LedgerRepo, TraceEntry};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// The most trace rows one group writes; a request larger than that is a group of its own.
const MAX_GROUP_ROWS: usize = 10_000;

/// Requests waiting for the intake's task.
const QUEUE: usize = 1_024;

/// Why a request's writes failed: the store's or the bus's words.
type IntakeError = String;

/// One request's writes and where its answer goes.
struct Pending {
    trace: Vec<TraceEntry>,
    encoded: EncodedJobs,
    done: oneshot::Sender<Result<(), IntakeError>>,
}

/// The handle requests hand their writes to.
#[derive(Clone)]
pub struct Intake {
    queue: mpsc::Sender<Pending>,
}

/// What the intake's task writes with.
struct Writer {
    ledger: Arc<dyn LedgerRepo>,
    bus: Arc<dyn Bus>,
    clock: Arc<dyn Clock>,
}

impl Intake {
    /// Starts the intake's task on the current runtime; it ends when every handle is dropped.
    pub fn start(ledger: Arc<dyn LedgerRepo>, bus: Arc<dyn Bus>, clock: Arc<dyn Clock>) -> Self {
        let (queue, requests) = mpsc::channel(QUEUE);
        tokio::spawn(Writer { ledger, bus, clock }.run(requests));
        Self { queue }
    }

    /// Records `trace` and publishes `encoded`; Ok once both are durable.
    pub async fn accept(&self, trace: Vec<TraceEntry>, encoded: EncodedJobs) -> Result<(), ApiError> {
        let (done, answer) = oneshot::channel();
        let stopped = || ApiError::Internal("the send intake has stopped".to_string());
        self.queue.send(Pending { trace, encoded, done }).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?.map_err(ApiError::Internal)
    }
}

impl Writer {
    async fn run(self, mut requests: mpsc::Receiver<Pending>) {
        while let Some(first) = requests.recv().await {
            let mut rows = first.trace.len();
            let mut group = vec![first];
            while rows < MAX_GROUP_ROWS {
                let Ok(next) = requests.try_recv() else { break };
                rows += next.trace.len();
                group.push(next);
            }
            self.write(group).await;
        }
    }

    /// Writes a group's trace rows, then publishes its batches topic by topic, and answers
    /// each request with how its own writes went.
    async fn write(&self, mut group: Vec<Pending>) {
        let trace: Vec<TraceEntry> = group.iter_mut().flat_map(|p| std::mem::take(&mut p.trace)).collect();
        if let Err(e) = self.ledger.record_trace(&trace, self.clock.now()).await {
            let reason = e.to_string();
            for pending in group {
                let _ = pending.done.send(Err(reason.clone()));
            }
            return;
        }
        let mut by_topic: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, pending) in group.iter().enumerate() {
            by_topic.entry(pending.encoded.topic()).or_default().push(i);
        }
        let mut results: Vec<Result<(), IntakeError>> = vec![Ok(()); group.len()];
        for (topic, members) in &by_topic {
            let messages: Vec<BusMessage> =
                members.iter().flat_map(|&i| group[i].encoded.messages().iter().cloned()).collect();
            if let Err(e) = self.bus.publish_all(topic, &messages).await {
                for &i in members {
                    results[i] = Err(format!("bus: {e}"));
                }
            }
        }
        for (pending, result) in group.into_iter().zip(results) {
            let _ = pending.done.send(result);
        }
    }
}
