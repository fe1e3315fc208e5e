//! The send API's group commit. Requests accepted at the same moment are written together:
//! their bizId records in one write, their `accepted` trace rows in one statement and their
//! batches published together (one publish per topic), so many clients at once cost three
//! writes per group rather than three per request. A request is answered once all are durable.
//! The writes run on the intake's own task: a client that hangs up half-way does not stop them,
//! so an `accepted` trace row always has its batch on the bus (the order of
//! `herald_bus::EncodedJobs`: record, then publish).

use crate::send::BIZ_ID_WINDOW;
use herald_bus::{Bus, BusMessage, EncodedJobs, JobTooLarge};
use herald_core::{ChannelKind, Clock, DeliveryJob, MessageId};
use herald_store::{RequestedSend, Store, TraceEntry};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// The most trace rows one group writes; a request larger than that is a group of its own.
const MAX_GROUP_ROWS: usize = 10_000;

/// Requests waiting for the intake's task.
const QUEUE: usize = 1_024;

/// One request's messages as its handler planned them, checked whole.
pub struct Request {
    pub channel: ChannelKind,
    pub jobs: Vec<DeliveryJob>,
    /// The jobs encoded for the bus as planned (encoded again only when a repeated bizId's
    /// first message id goes in).
    pub encoded: EncodedJobs,
    /// The sends that carry a bizId: recorded, and where one repeats an earlier request's
    /// within [`BIZ_ID_WINDOW`], that request's message id goes out instead (in the jobs and
    /// in [`FirstIds`]).
    pub sends: Vec<RequestedSend>,
    /// What the `accepted` trace rows say of the request.
    pub detail: String,
}

/// The message ids a request gave out that an earlier request's stand for: its id -> the
/// first request's.
pub type FirstIds = HashMap<String, String>;

/// Why a request was not accepted.
pub enum Refusal {
    /// A job grew over the bus's limit with its first message ids put back.
    TooLarge(JobTooLarge),
    /// The store or the bus failed (their words), or the intake has stopped.
    Failed(String),
}

/// One request waiting for its group's writes, and where its answer goes.
struct Pending {
    request: Request,
    done: oneshot::Sender<Result<FirstIds, Refusal>>,
}

/// A request of the group whose jobs are encoded, waiting for the trace and the publish.
struct Ready {
    done: oneshot::Sender<Result<FirstIds, Refusal>>,
    first_ids: FirstIds,
    trace: Vec<TraceEntry>,
    encoded: EncodedJobs,
}

/// The handle requests hand their writes to.
#[derive(Clone)]
pub struct Intake {
    queue: mpsc::Sender<Pending>,
}

/// What the intake's task writes with.
struct Writer {
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    clock: Arc<dyn Clock>,
}

impl Intake {
    /// Starts the intake's task on the current runtime; it ends when every handle is dropped.
    pub fn start(store: Arc<dyn Store>, bus: Arc<dyn Bus>, clock: Arc<dyn Clock>) -> Self {
        let (queue, requests) = mpsc::channel(QUEUE);
        tokio::spawn(Writer { store, bus, clock }.run(requests));
        Self { queue }
    }

    /// Records the request's bizIds and `accepted` trace rows and publishes its jobs; Ok once
    /// all are durable, with the message ids a repeated bizId keeps.
    pub async fn accept(&self, request: Request) -> Result<FirstIds, Refusal> {
        let (done, answer) = oneshot::channel();
        let stopped = || Refusal::Failed("the send intake has stopped".to_string());
        self.queue.send(Pending { request, done }).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

impl Writer {
    async fn run(self, mut requests: mpsc::Receiver<Pending>) {
        while let Some(first) = requests.recv().await {
            let mut rows = recipients(&first.request);
            let mut group = vec![first];
            while rows < MAX_GROUP_ROWS {
                let Ok(next) = requests.try_recv() else { break };
                rows += recipients(&next.request);
                group.push(next);
            }
            self.write(group).await;
        }
    }

    /// Writes a group's bizId records, then its trace rows, then publishes its batches topic by
    /// topic, and answers each request with how its own writes went.
    async fn write(&self, group: Vec<Pending>) {
        let Some(mut ready) = self.remember(group).await else { return };
        let trace: Vec<TraceEntry> = ready.iter_mut().flat_map(|r| std::mem::take(&mut r.trace)).collect();
        if let Err(e) = self.store.record_trace(&trace, self.clock.now()).await {
            let reason = e.to_string();
            for r in ready {
                let _ = r.done.send(Err(Refusal::Failed(reason.clone())));
            }
            return;
        }
        let mut by_topic: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, r) in ready.iter().enumerate() {
            by_topic.entry(r.encoded.topic()).or_default().push(i);
        }
        let mut failed: Vec<Option<String>> = vec![None; ready.len()];
        for (topic, members) in &by_topic {
            let messages: Vec<BusMessage> =
                members.iter().flat_map(|&i| ready[i].encoded.messages().iter().cloned()).collect();
            if let Err(e) = self.bus.publish_all(topic, &messages).await {
                for &i in members {
                    failed[i] = Some(format!("bus: {e}"));
                }
            }
        }
        for (r, failed) in ready.into_iter().zip(failed) {
            let _ = r.done.send(match failed {
                None => Ok(r.first_ids),
                Some(reason) => Err(Refusal::Failed(reason)),
            });
        }
    }

    /// Records the group's bizIds in one write and puts each repeat's first message id in its
    /// jobs; None when the write failed (every request answered).
    async fn remember(&self, group: Vec<Pending>) -> Option<Vec<Ready>> {
        let sends: Vec<RequestedSend> = group.iter().flat_map(|p| p.request.sends.iter().cloned()).collect();
        let now = self.clock.now();
        let standing = match self.store.remember_sends(&sends, now - BIZ_ID_WINDOW, now).await {
            Ok(standing) => standing,
            Err(e) => {
                let reason = e.to_string();
                for pending in group {
                    let _ = pending.done.send(Err(Refusal::Failed(reason.clone())));
                }
                return None;
            }
        };
        let mut standing = standing.into_iter();
        let mut ready = Vec::with_capacity(group.len());
        for Pending { mut request, done } in group {
            let first_ids = first_ids(&request.sends, standing.by_ref().take(request.sends.len()));
            let encoded = if first_ids.is_empty() {
                Ok(request.encoded)
            } else {
                put_back(&mut request.jobs, &first_ids);
                EncodedJobs::encode(request.channel, &request.jobs)
            };
            match encoded {
                Ok(encoded) => {
                    let trace = TraceEntry::accepted(&request.jobs, Some(&request.detail));
                    ready.push(Ready { done, first_ids, trace, encoded });
                }
                Err(e) => {
                    let _ = done.send(Err(Refusal::TooLarge(e)));
                }
            }
        }
        Some(ready)
    }
}

fn recipients(request: &Request) -> usize {
    request.jobs.iter().map(|j| j.batch.recipients().count()).sum()
}

/// The sends whose standing message id is not their own.
fn first_ids(sends: &[RequestedSend], standing: impl Iterator<Item = String>) -> FirstIds {
    sends
        .iter()
        .zip(standing)
        .filter(|(s, first)| s.message_id != *first)
        .map(|(s, first)| (s.message_id.clone(), first))
        .collect()
}

/// Gives each recipient whose message id an earlier request's stands for that id.
fn put_back(jobs: &mut [DeliveryJob], first_ids: &FirstIds) {
    for recipient in jobs.iter_mut().flat_map(|j| j.batch.items.iter_mut()).flat_map(|i| i.recipients.iter_mut()) {
        if let Some(first) = first_ids.get(recipient.message_id.as_str()) {
            recipient.message_id = MessageId(first.clone());
        }
    }
}
