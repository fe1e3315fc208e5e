//! The stages a batch goes through, each a small function: drop what the ledger already
//! finished, the discard list, screening (quiet hours, render, dedup), deferral, flow control
//! and send, and record. Kept apart from the polling loop so tests can drive it directly. Each
//! stage holds the narrowest handle it needs: outcomes go only through the delivery ledger
//! (in a cluster, the store behind Redis's hot window).

use crate::limits::ChannelLimits;
use crate::policies::{PolicyDefaults, Verdict, dedup_verdict, quiet_verdict};
use futures::StreamExt;
use herald_channels::{Channels, OutgoingMessage, SendResult};
use herald_core::placeholders::render;
use herald_core::{Clock, DeliveryJob, MessageId, Recipient, TraceEvent};
use herald_store::{
    DedupStore, DeferredMessage, DeferredRepo, LedgerRepo, PolicyRepo, RateGate, Store, StoreError, Template,
    TemplateRepo, TraceEntry,
};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

/// What happened to one batch.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BatchReport {
    pub sent: usize,
    pub failed: usize,
    /// Dropped by a policy (discard list, quiet hours, dedup).
    pub dropped: usize,
    /// Held for the end of quiet hours.
    pub deferred: usize,
    /// Already final in the ledger (a redelivered batch).
    pub skipped: usize,
    /// Passing faults; the batch must be retried for these.
    pub retryable: Vec<(MessageId, String)>,
}

pub struct Pipeline {
    templates: Arc<dyn TemplateRepo>,
    /// The discard list and channel rates.
    policies: Arc<dyn PolicyRepo>,
    deferred: Arc<dyn DeferredRepo>,
    ledger: Arc<dyn LedgerRepo>,
    dedup: Arc<dyn DedupStore>,
    channels: Channels,
    clock: Arc<dyn Clock>,
    /// Sends in flight within one batch.
    concurrency: usize,
    limits: ChannelLimits,
    defaults: PolicyDefaults,
}

/// What a pipeline is built from.
pub struct PipelineParts {
    /// Templates and policies are read from here; outcomes never go through it.
    pub store: Arc<dyn Store>,
    /// The delivery ledger: the store, or in a cluster the store behind Redis's hot window.
    pub ledger: Arc<dyn LedgerRepo>,
    /// Where dedup counts: the store in embedded mode, Redis in a cluster.
    pub dedup: Arc<dyn DedupStore>,
    /// Where channel rate buckets live: the process in embedded mode, Redis in a cluster.
    pub rates: Arc<dyn RateGate>,
    pub channels: Channels,
    pub clock: Arc<dyn Clock>,
    /// Sends in flight within one batch (at least 1).
    pub concurrency: usize,
    pub defaults: PolicyDefaults,
}

/// Which delivery of a batch this is.
#[derive(Debug, Clone, Copy)]
pub struct Attempt {
    pub number: u32,
    /// Passing faults become final failures on the last attempt.
    pub last: bool,
}

impl Attempt {
    pub const FIRST: Attempt = Attempt { number: 1, last: false };
}

/// A recipient of the batch with the variables of its item.
type Pending<'a> = (&'a Recipient, &'a BTreeMap<String, String>);

struct Prepared {
    message: OutgoingMessage,
    /// A render failure: final without a send.
    fault: Option<String>,
}

/// The batch after screening: what to send, what a policy dropped, what waits for morning.
#[derive(Default)]
struct Screened {
    ready: Vec<Prepared>,
    dropped: Vec<TraceEntry>,
    deferred: Vec<DeferredMessage>,
}

impl Pipeline {
    pub fn new(parts: PipelineParts) -> Self {
        let policies: Arc<dyn PolicyRepo> = parts.store.clone();
        Self {
            deferred: parts.store.clone(),
            templates: parts.store,
            limits: ChannelLimits::new(policies.clone(), parts.rates),
            policies,
            ledger: parts.ledger,
            dedup: parts.dedup,
            channels: parts.channels,
            clock: parts.clock,
            concurrency: parts.concurrency.max(1),
            defaults: parts.defaults,
        }
    }

    /// Handles one batch: discard list, quiet hours, render, dedup, flow control, send, record.
    pub async fn handle(&self, job: &DeliveryJob, attempt: Attempt) -> Result<BatchReport, StoreError> {
        let template = match self.templates.get_template(job.template_id).await {
            Ok(t) => t,
            Err(StoreError::NotFound { .. }) => return self.fail_all(job, "template was deleted").await,
            Err(e) => return Err(e),
        };
        let mut report = BatchReport::default();
        let pending = self.unfinished(job, &mut report).await?;
        if self.policies.is_discarded(job.template_id).await? {
            report.dropped = self.discard(job, &pending).await?;
            return Ok(report);
        }
        let screened = self.screen(&template, job, pending, attempt).await?;
        report.deferred = self.defer(&screened.deferred).await?;
        report.dropped = screened.dropped.len();
        let results = self.send_all(&template, screened.ready).await;
        self.record(job, screened.dropped, results, attempt, &mut report).await?;
        Ok(report)
    }

    /// The batch's recipients that the ledger has not finished, with their variables.
    async fn unfinished<'a>(
        &self,
        job: &'a DeliveryJob,
        report: &mut BatchReport,
    ) -> Result<Vec<Pending<'a>>, StoreError> {
        let ids: Vec<MessageId> = job.batch.recipients().map(|r| r.message_id.clone()).collect();
        let finished: HashSet<MessageId> = self.ledger.finished_messages(&ids).await?.into_iter().collect();
        report.skipped = finished.len();
        Ok(job
            .batch
            .items
            .iter()
            .flat_map(|item| item.recipients.iter().map(move |r| (r, &item.variables)))
            .filter(|(r, _)| !finished.contains(&r.message_id))
            .collect())
    }

    /// The whole batch is on the discard list: every pending message is dropped.
    async fn discard(&self, job: &DeliveryJob, pending: &[Pending<'_>]) -> Result<usize, StoreError> {
        let reason = "template is on the discard list";
        let outcomes: Vec<TraceEntry> =
            pending.iter().map(|(r, _)| TraceEntry::of(job, r, TraceEvent::Discarded, Some(reason.into()))).collect();
        Ok(self.ledger.record_outcomes(&outcomes, self.clock.now()).await? as usize)
    }

    /// Quiet hours, render and dedup for each pending message.
    async fn screen(
        &self,
        template: &Template,
        job: &DeliveryJob,
        pending: Vec<Pending<'_>>,
        attempt: Attempt,
    ) -> Result<Screened, StoreError> {
        let now = self.clock.now();
        let mut screened = Screened { ready: Vec::with_capacity(pending.len()), ..Default::default() };
        for (index, (recipient, vars)) in pending.into_iter().enumerate() {
            // Released messages already waited out their quiet hours.
            if !job.released {
                match quiet_verdict(template, vars, now, &self.defaults) {
                    Verdict::Send => {}
                    Verdict::Drop { event, reason } => {
                        screened.dropped.push(TraceEntry::of(job, recipient, event, Some(reason)));
                        continue;
                    }
                    Verdict::Defer { release_at } => {
                        screened.deferred.push(deferral(job, recipient, vars, index, release_at));
                        continue;
                    }
                }
            }
            let message = prepare(template, job, recipient, vars);
            // Dedup counts on a batch's first delivery only: a retried message was admitted
            // then, and must not be refused now (a redelivery errs toward sending).
            if message.fault.is_none() && attempt.number <= 1 {
                let content = &message.message.content;
                let verdict =
                    dedup_verdict(self.dedup.as_ref(), template, &recipient.receiver, content, now, &self.defaults)
                        .await?;
                if let Verdict::Drop { event, reason } = verdict {
                    screened.dropped.push(TraceEntry::of(job, recipient, event, Some(reason)));
                    continue;
                }
            }
            screened.ready.push(message);
        }
        Ok(screened)
    }

    /// Holds messages for the end of their quiet hours; returns how many.
    async fn defer(&self, deferred: &[DeferredMessage]) -> Result<usize, StoreError> {
        if !deferred.is_empty() {
            self.deferred.defer_messages(deferred, self.clock.now()).await?;
        }
        Ok(deferred.len())
    }

    /// Writes final outcomes (dropped, sent, failed) to the ledger, and traces the messages to
    /// retry; counts them into `report`.
    async fn record(
        &self,
        job: &DeliveryJob,
        dropped: Vec<TraceEntry>,
        results: Vec<(OutgoingMessage, SendResult)>,
        attempt: Attempt,
        report: &mut BatchReport,
    ) -> Result<(), StoreError> {
        let mut outcomes = dropped;
        outcomes.reserve(results.len());
        for (message, result) in results {
            let (event, detail) = match result {
                SendResult::Sent { detail } => (TraceEvent::Sent, detail),
                SendResult::Permanent { reason } => (TraceEvent::Failed, Some(reason)),
                SendResult::Retryable { reason, .. } if attempt.last => {
                    (TraceEvent::Failed, Some(format!("gave up: {reason}")))
                }
                SendResult::Retryable { reason, .. } => {
                    report.retryable.push((message.message_id.clone(), reason));
                    continue;
                }
            };
            match event {
                TraceEvent::Sent => report.sent += 1,
                _ => report.failed += 1,
            }
            outcomes.push(outcome(&message, event, detail));
        }
        self.ledger.record_outcomes(&outcomes, self.clock.now()).await?;
        if !report.retryable.is_empty() {
            let retrying: Vec<TraceEntry> = report
                .retryable
                .iter()
                .filter_map(|(id, reason)| {
                    let recipient = job.batch.recipients().find(|r| &r.message_id == id)?;
                    Some(TraceEntry::of(job, recipient, TraceEvent::Retrying, Some(reason.clone())))
                })
                .collect();
            self.ledger.record_trace(&retrying, self.clock.now()).await?;
        }
        Ok(())
    }

    /// Sends with bounded concurrency; render faults skip the channel.
    async fn send_all(&self, template: &Template, prepared: Vec<Prepared>) -> Vec<(OutgoingMessage, SendResult)> {
        let channel = match self.channels.resolve(template.spec.channel, template.spec.channel_account.as_deref()).await
        {
            Ok(channel) => channel,
            // An operator can fix an account or enable a channel; retry within the attempt budget.
            Err(reason) => {
                return prepared
                    .into_iter()
                    .map(|p| (p.message, SendResult::Retryable { reason: reason.clone(), after: None }))
                    .collect();
            }
        };
        let throttle = match self.limits.throttle(template.spec.channel).await {
            Ok(throttle) => throttle,
            Err(e) => {
                tracing::warn!(error = %e, "channel rates unavailable; sending unthrottled");
                None
            }
        };
        if channel.prefers_batch() {
            let (faulty, ready): (Vec<Prepared>, Vec<Prepared>) = prepared.into_iter().partition(|p| p.fault.is_some());
            let messages: Vec<OutgoingMessage> = ready.into_iter().map(|p| p.message).collect();
            if let Some(throttle) = &throttle {
                throttle.wait(u32::try_from(messages.len()).unwrap_or(u32::MAX)).await;
            }
            let results = channel.send_batch(&messages).await;
            let mut all: Vec<(OutgoingMessage, SendResult)> = messages.into_iter().zip(results).collect();
            all.extend(faulty.into_iter().map(|p| {
                let reason = p.fault.unwrap_or_default();
                (p.message, SendResult::Permanent { reason })
            }));
            return all;
        }
        futures::stream::iter(prepared)
            .map(|p| {
                let channel = channel.clone();
                let throttle = throttle.clone();
                async move {
                    let result = match p.fault {
                        Some(reason) => SendResult::Permanent { reason },
                        None => {
                            if let Some(throttle) = throttle {
                                throttle.wait(1).await;
                            }
                            channel.send(&p.message).await
                        }
                    };
                    (p.message, result)
                }
            })
            .buffered(self.concurrency)
            .collect()
            .await
    }

    async fn fail_all(&self, job: &DeliveryJob, reason: &str) -> Result<BatchReport, StoreError> {
        let mut report = BatchReport::default();
        let outcomes: Vec<TraceEntry> = job
            .batch
            .recipients()
            .map(|r| TraceEntry::of(job, r, TraceEvent::Failed, Some(reason.to_string())))
            .collect();
        report.failed = self.ledger.record_outcomes(&outcomes, self.clock.now()).await? as usize;
        Ok(report)
    }
}

/// The rendered message for one recipient.
fn prepare(template: &Template, job: &DeliveryJob, recipient: &Recipient, vars: &BTreeMap<String, String>) -> Prepared {
    let (content, fault) = match render(&template.spec.content, vars) {
        Ok(content) => (content, None),
        Err(e) => (serde_json::Value::Null, Some(e.to_string())),
    };
    Prepared {
        message: OutgoingMessage {
            message_id: recipient.message_id.clone(),
            template_id: job.template_id,
            run_id: job.run_id(),
            receiver: recipient.receiver.clone(),
            msg_type: template.spec.msg_type,
            content,
        },
        fault,
    }
}

fn outcome(message: &OutgoingMessage, event: TraceEvent, detail: Option<String>) -> TraceEntry {
    TraceEntry {
        message_id: message.message_id.clone(),
        template_id: message.template_id,
        run_id: message.run_id,
        receiver: message.receiver.clone(),
        event,
        detail,
    }
}

/// A message held for the end of its quiet hours, in the order it was to be sent.
fn deferral(
    job: &DeliveryJob,
    recipient: &Recipient,
    vars: &BTreeMap<String, String>,
    index: usize,
    release_at: chrono::DateTime<chrono::Utc>,
) -> DeferredMessage {
    DeferredMessage {
        seq: 0,
        message_id: recipient.message_id.clone(),
        template_id: job.template_id,
        run_id: job.run_id(),
        receiver: recipient.receiver.clone(),
        variables: vars.clone(),
        position: recipient.message_id.row().map(|r| r as i64).unwrap_or(index as i64),
        release_at,
    }
}
