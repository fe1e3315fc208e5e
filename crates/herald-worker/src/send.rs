//! The send stage: flow control, the run's pause or cancel and the claim's fencing checked right
//! before the channel call, the call, and the outcome committed before the send's slot is free.
//! At most `concurrency` sends of a batch are in flight, each either not yet sent or sent and
//! being recorded: what a crash can repeat, and what a pause or cancel lets through. Messages
//! of a run paused meanwhile are held, together, once the batch's sends have ended.

use crate::claims::ClaimKeeper;
use crate::pipeline::{Attempt, BatchReport, Pipeline, Prepared};
use futures::StreamExt;
use herald_channels::{Channel, OutgoingMessage, SendResult};
use herald_core::{CANCELLED_REASON, DeliveryJob, MessageId, RunSendState, TraceEvent};
use herald_store::{StoreError, Template, Throttle, TraceEntry};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

/// The labels a batch's deliveries are counted under.
struct Labels {
    channel: &'static str,
    account: String,
}

impl Labels {
    fn of(template: &Template) -> Self {
        Self {
            channel: template.spec.channel.as_str(),
            account: template.spec.channel_account.clone().unwrap_or_else(|| "-".into()),
        }
    }

    /// Counts a send's end: `sent`, `failed`, `cancelled`, `held` (its run paused), `retry` or
    /// `lost` (its claim taken over).
    fn observe(&self, slot: &Slot) {
        let outcome = match slot {
            Slot::Final(TraceEvent::Sent) => "sent",
            Slot::Final(TraceEvent::Cancelled) => "cancelled",
            Slot::Final(_) => "failed",
            Slot::Held(_) => "held",
            Slot::Retry(..) => "retry",
            Slot::Lost => "lost",
        };
        let labels =
            [("channel", self.channel.to_string()), ("account", self.account.clone()), ("outcome", outcome.into())];
        metrics::counter!("herald_deliveries_total", &labels).increment(1);
    }

    /// The provider's answer time for one call.
    fn provider_latency(&self, started: Instant) {
        metrics::histogram!("herald_provider_latency_seconds", "channel" => self.channel)
            .record(started.elapsed().as_secs_f64());
    }
}

/// What became of one prepared message.
enum Slot {
    Final(TraceEvent),
    /// Not sent: its run is paused. Held with the batch's others once its sends have ended.
    Held(MessageId),
    Retry(MessageId, String),
    /// Its claim was taken over (this handling was paused past it): not sent here.
    Lost,
}

impl Pipeline {
    /// Sends with bounded concurrency, committing each outcome as its send ends; counts into
    /// `report`.
    pub(crate) async fn send_all(
        &self,
        template: &Template,
        job: &DeliveryJob,
        prepared: Vec<Prepared>,
        attempt: Attempt,
        keeper: &ClaimKeeper,
        report: &mut BatchReport,
    ) -> Result<(), StoreError> {
        if prepared.is_empty() {
            return Ok(());
        }
        let labels = Labels::of(template);
        let channel = match self.channels.resolve(template.spec.channel, template.spec.channel_account.as_deref()).await
        {
            Ok(channel) => channel,
            // An operator can fix an account or enable a channel; retry within the attempt budget.
            Err(reason) => {
                let slots = prepared.into_iter().map(|p| self.settle(p.message, retry(&reason), attempt));
                let slots = futures::future::join_all(slots).await.into_iter().collect::<Result<_, _>>()?;
                return self.count_all(job, slots, keeper, &labels, report).await;
            }
        };
        let throttle = match self.limits.throttle(template.spec.channel).await {
            Ok(throttle) => throttle,
            Err(e) => {
                tracing::warn!(error = %e, "channel rates unavailable; sending unthrottled");
                None
            }
        };
        let slots = if channel.prefers_batch() {
            self.send_batch((channel, throttle), prepared, attempt, keeper, &labels).await?
        } else {
            let slots: Vec<Result<Slot, StoreError>> = futures::stream::iter(prepared)
                .map(|p| self.send_one(&channel, throttle.as_ref(), p, attempt, keeper, &labels))
                .buffer_unordered(self.concurrency)
                .collect()
                .await;
            slots.into_iter().collect::<Result<_, _>>()?
        };
        self.count_all(job, slots, keeper, &labels, report).await
    }

    /// Counts every slot into `report`, holding together the messages of a run paused meanwhile.
    async fn count_all(
        &self,
        job: &DeliveryJob,
        slots: Vec<Slot>,
        keeper: &ClaimKeeper,
        labels: &Labels,
        report: &mut BatchReport,
    ) -> Result<(), StoreError> {
        let mut held = HashSet::new();
        for slot in slots {
            labels.observe(&slot);
            match slot {
                Slot::Final(TraceEvent::Sent) => report.sent += 1,
                Slot::Final(event) if event.is_dropped() => report.dropped += 1,
                Slot::Final(_) => report.failed += 1,
                Slot::Held(id) => {
                    held.insert(id);
                }
                Slot::Retry(id, reason) => report.retryable.push((id, reason)),
                Slot::Lost => report.skipped += 1,
            }
        }
        // They passed every screen already: sent as they are once the run is resumed.
        if !held.is_empty() {
            report.held += self.hold_admitted(job, &held, keeper).await?;
        }
        Ok(())
    }

    async fn send_one(
        &self,
        channel: &Arc<dyn Channel>,
        throttle: Option<&Throttle>,
        p: Prepared,
        attempt: Attempt,
        keeper: &ClaimKeeper,
        labels: &Labels,
    ) -> Result<Slot, StoreError> {
        let result = match p.fault {
            Some(reason) => SendResult::Permanent { reason },
            None => {
                if let Some(throttle) = throttle {
                    throttle.wait(1).await;
                }
                match self.run_state(p.message.run_id).await? {
                    RunSendState::Open => {}
                    RunSendState::Paused => return Ok(Slot::Held(p.message.message_id)),
                    RunSendState::Cancelled => {
                        self.cancel_unsent(vec![p.message], keeper).await?;
                        return Ok(Slot::Final(TraceEvent::Cancelled));
                    }
                }
                if !keeper.may_send(&p.message.message_id).await? {
                    return Ok(Slot::Lost);
                }
                let started = Instant::now();
                let result = channel.send(&p.message).await;
                labels.provider_latency(started);
                result
            }
        };
        let slot = self.settle(p.message, result, attempt).await?;
        Ok(slot)
    }

    /// A channel that takes the whole batch at once (one provider call for all).
    async fn send_batch(
        &self,
        (channel, throttle): (Arc<dyn Channel>, Option<Throttle>),
        prepared: Vec<Prepared>,
        attempt: Attempt,
        keeper: &ClaimKeeper,
        labels: &Labels,
    ) -> Result<Vec<Slot>, StoreError> {
        let (faulty, ready): (Vec<Prepared>, Vec<Prepared>) = prepared.into_iter().partition(|p| p.fault.is_some());
        if let Some(throttle) = &throttle {
            throttle.wait(u32::try_from(ready.len()).unwrap_or(u32::MAX)).await;
        }
        match self.run_state(ready.first().and_then(|p| p.message.run_id)).await? {
            RunSendState::Open => {}
            RunSendState::Paused => {
                return Ok(ready.into_iter().chain(faulty).map(|p| Slot::Held(p.message.message_id)).collect());
            }
            RunSendState::Cancelled => {
                let unsent = ready.into_iter().chain(faulty).map(|p| p.message).collect();
                let cancelled = self.cancel_unsent(unsent, keeper).await?;
                return Ok((0..cancelled).map(|_| Slot::Final(TraceEvent::Cancelled)).collect());
            }
        }
        let mut slots = Vec::with_capacity(ready.len() + faulty.len());
        let mut messages = Vec::with_capacity(ready.len());
        for p in ready {
            if keeper.may_send(&p.message.message_id).await? {
                messages.push(p.message);
            } else {
                slots.push(Slot::Lost);
            }
        }
        let started = Instant::now();
        let results = if messages.is_empty() { Vec::new() } else { channel.send_batch(&messages).await };
        labels.provider_latency(started);
        let mut outcomes = Vec::with_capacity(messages.len() + faulty.len());
        let sent = messages.into_iter().zip(results);
        let failed = faulty.into_iter().map(|p| {
            let reason = p.fault.unwrap_or_default();
            (p.message, SendResult::Permanent { reason })
        });
        for (message, result) in sent.chain(failed) {
            match final_event(result, attempt) {
                Ok((event, detail)) => {
                    outcomes.push(outcome(&message, event, detail));
                    slots.push(Slot::Final(event));
                }
                Err(reason) => slots.push(Slot::Retry(message.message_id, reason)),
            }
        }
        self.commit(outcomes.clone()).await?;
        keeper.done(outcomes.iter().map(|o| &o.message_id));
        Ok(slots)
    }

    /// Ends messages of a cancelled run as `cancelled` without a send; returns how many.
    async fn cancel_unsent(&self, messages: Vec<OutgoingMessage>, keeper: &ClaimKeeper) -> Result<usize, StoreError> {
        let reason = Some(CANCELLED_REASON.to_string());
        let outcomes: Vec<TraceEntry> =
            messages.iter().map(|m| outcome(m, TraceEvent::Cancelled, reason.clone())).collect();
        self.commit(outcomes.clone()).await?;
        keeper.done(outcomes.iter().map(|o| &o.message_id));
        Ok(outcomes.len())
    }

    /// Commits a final outcome (or notes the message for a retry).
    async fn settle(&self, message: OutgoingMessage, result: SendResult, attempt: Attempt) -> Result<Slot, StoreError> {
        match final_event(result, attempt) {
            Ok((event, detail)) => {
                self.commit(vec![outcome(&message, event, detail)]).await?;
                Ok(Slot::Final(event))
            }
            Err(reason) => Ok(Slot::Retry(message.message_id, reason)),
        }
    }
}

/// The final event of a send, or the reason to retry it.
fn final_event(result: SendResult, attempt: Attempt) -> Result<(TraceEvent, Option<String>), String> {
    match result {
        SendResult::Sent { detail } => Ok((TraceEvent::Sent, detail)),
        SendResult::Permanent { reason } => Ok((TraceEvent::Failed, Some(reason))),
        SendResult::Retryable { reason, .. } if attempt.last => {
            Ok((TraceEvent::Failed, Some(format!("gave up: {reason}"))))
        }
        SendResult::Retryable { reason, .. } => Err(reason),
    }
}

fn retry(reason: &str) -> SendResult {
    SendResult::Retryable { reason: reason.to_string(), after: None }
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
