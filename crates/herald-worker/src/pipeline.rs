//! The stages a batch goes through, each a small function: drop what the ledger already
//! finished, claim the rest for this handling (skipping what another live holder sends, until it
//! is final or its claim lapses), the discard list and a cancelled or paused run, screening
//! (test mode, the suppression list, quiet hours, render, dedup; a message held before skips
//! the quiet hours and dedup it passed, never the suppression list, and a resend run's skip
//! dedup),
//! deferral, then flow control and send with each outcome committed as its send ends
//! (`send.rs`).
//! Kept apart from the polling loop so tests can drive it directly. Each stage holds the
//! narrowest handle it needs: outcomes go only through the delivery ledger (in a cluster, the
//! store behind Redis's hot window).

use crate::claims::ClaimKeeper;
use crate::commit::Committer;
use crate::limits::ChannelLimits;
use crate::policies::{PolicyDefaults, Verdict, dedup_verdict, quiet_verdict};
use crate::run_gate::RunGate;
use herald_channels::{Channels, OutgoingMessage};
use herald_core::placeholders::render;
use herald_core::suppression::{SUPPRESSED_REASON, receiver_key};
use herald_core::test_mode::TEST_SKIP_REASON;
use herald_core::{
    CANCELLED_REASON, Clock, DeliveryJob, MessageId, MessageKind, Recipient, RunSendState, Screened, TraceEvent,
};
use herald_store::{
    ClaimRepo, DedupStore, DeferredMessage, DeferredRepo, LedgerRepo, PolicyRepo, RateGate, Store, StoreError,
    SuppressionRepo, Template, TemplateRepo, TraceEntry,
};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

/// What happened to one batch.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BatchReport {
    pub sent: usize,
    pub failed: usize,
    /// Dropped by a policy (discard list, test mode, suppression list, quiet hours, dedup).
    pub dropped: usize,
    /// Held for the end of quiet hours.
    pub deferred: usize,
    /// Held because their run is paused: sent when it is resumed.
    pub held: usize,
    /// Already final in the ledger (a redelivered batch).
    pub skipped: usize,
    /// Passing faults; the batch must be retried for these.
    pub retryable: Vec<(MessageId, String)>,
}

pub struct Pipeline {
    templates: Arc<dyn TemplateRepo>,
    claims: Arc<dyn ClaimRepo>,
    /// The discard list and channel rates.
    policies: Arc<dyn PolicyRepo>,
    /// Who opted out, asked once per batch.
    suppressions: Arc<dyn SuppressionRepo>,
    deferred: Arc<dyn DeferredRepo>,
    /// Whether a run was paused or cancelled, asked before a batch and before each send.
    gate: RunGate,
    ledger: Arc<dyn LedgerRepo>,
    committer: Committer,
    dedup: Arc<dyn DedupStore>,
    pub(crate) channels: Channels,
    pub(crate) clock: Arc<dyn Clock>,
    /// Sends in flight within one batch.
    pub(crate) concurrency: usize,
    pub(crate) limits: ChannelLimits,
    defaults: PolicyDefaults,
    /// Who claims messages, in the ledger (the node).
    holder: String,
    /// How long a send claim lasts unless extended.
    claim_ttl: chrono::Duration,
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
    /// Who claims messages in the ledger: the node's id.
    pub holder: String,
    /// How long a send claim lasts unless its holder extends it.
    pub claim_ttl: chrono::Duration,
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

pub(crate) struct Prepared {
    pub message: OutgoingMessage,
    /// A render failure: final without a send.
    pub fault: Option<String>,
}

/// The batch after screening: what to send, what a policy dropped, what waits for morning.
#[derive(Default)]
struct Screening {
    ready: Vec<Prepared>,
    dropped: Vec<TraceEntry>,
    deferred: Vec<DeferredMessage>,
}

impl Pipeline {
    /// Starts the node's outcome committer on the current runtime.
    pub fn new(parts: PipelineParts) -> Self {
        let policies: Arc<dyn PolicyRepo> = parts.store.clone();
        Self {
            deferred: parts.store.clone(),
            suppressions: parts.store.clone(),
            claims: parts.store.clone(),
            gate: RunGate::new(parts.store.clone()),
            templates: parts.store,
            limits: ChannelLimits::new(policies.clone(), parts.rates),
            policies,
            committer: Committer::start(parts.ledger.clone(), parts.clock.clone()),
            ledger: parts.ledger,
            dedup: parts.dedup,
            channels: parts.channels,
            clock: parts.clock,
            concurrency: parts.concurrency.max(1),
            defaults: parts.defaults,
            holder: parts.holder,
            claim_ttl: parts.claim_ttl,
        }
    }

    /// Handles one batch: discard list, quiet hours, render, dedup, flow control, send, record.
    /// Messages another live handling holds are waited for, not skipped: this returns once
    /// every message of the batch is final, deferred or handed back for a retry.
    pub async fn handle(&self, job: &DeliveryJob, attempt: Attempt) -> Result<BatchReport, StoreError> {
        let template = match self.templates.get_template(job.template_id).await {
            Ok(t) => t,
            Err(StoreError::NotFound { .. }) => return self.fail_all(job, "template was deleted").await,
            Err(e) => return Err(e),
        };
        let mut report = BatchReport::default();
        let discarded = self.policies.is_discarded(job.template_id).await?;
        let keeper = ClaimKeeper::new(self.claims.clone(), self.clock.clone(), self.holder.clone(), self.claim_ttl);
        let mut pending = self.unfinished(job, &mut report).await?;
        while !pending.is_empty() {
            let ids: Vec<MessageId> = pending.iter().map(|(r, _)| r.message_id.clone()).collect();
            let claim = keeper.claim();
            let claimed = self.claims.claim_sends(&ids, &claim, self.clock.now()).await?;
            report.skipped += claimed.finished.len();
            let mine: HashSet<&MessageId> = claimed.claimed.iter().collect();
            let held: HashSet<&MessageId> = claimed.held.iter().map(|h| &h.message_id).collect();
            let (now_mine, waiting): (Vec<Pending<'_>>, Vec<Pending<'_>>) = pending
                .into_iter()
                .filter(|(r, _)| !claimed.finished.contains(&r.message_id))
                .partition(|(r, _)| mine.contains(&r.message_id));
            keeper.hold(claimed.claimed.iter().cloned(), &claim);
            if discarded {
                let reason = "template is on the discard list";
                report.dropped += self.drop_all(job, &now_mine, TraceEvent::Discarded, reason).await?;
            } else {
                match self.run_state(job.run_id()).await? {
                    RunSendState::Cancelled => {
                        report.dropped +=
                            self.drop_all(job, &now_mine, TraceEvent::Cancelled, CANCELLED_REASON).await?;
                    }
                    RunSendState::Paused => {
                        report.held += self.hold(job, &now_mine, passed_before(job, attempt), &keeper).await?;
                    }
                    RunSendState::Open => {
                        self.handle_claimed(&template, job, now_mine, attempt, &keeper, &mut report).await?;
                    }
                }
            }
            pending = waiting.into_iter().filter(|(r, _)| held.contains(&r.message_id)).collect();
            if let Some(first) = claimed.held.iter().map(|h| h.until).min() {
                tracing::info!(held = pending.len(), holder = %claimed.held[0].holder, "messages held by another handling; waiting");
                self.wait_for(first).await;
            }
        }
        Ok(report)
    }

    /// Waits until `until` (a held claim's end), at most a third of a claim's time, so a claim
    /// that ends early (its message recorded) is noticed soon.
    async fn wait_for(&self, until: chrono::DateTime<chrono::Utc>) {
        let left = (until - self.clock.now()).to_std().unwrap_or_default();
        let most = (self.claim_ttl / 3).to_std().unwrap_or_default();
        tokio::time::sleep(
            left.clamp(std::time::Duration::from_millis(50), most.max(std::time::Duration::from_millis(50))),
        )
        .await;
    }

    /// Screens, defers and sends the messages this handling claimed.
    async fn handle_claimed(
        &self,
        template: &Template,
        job: &DeliveryJob,
        claimed: Vec<Pending<'_>>,
        attempt: Attempt,
        keeper: &ClaimKeeper,
        report: &mut BatchReport,
    ) -> Result<(), StoreError> {
        let screened = self.screen(template, job, claimed, attempt).await?;
        report.deferred += self.defer(&screened.deferred, keeper).await?;
        report.dropped += screened.dropped.len();
        self.committer.commit(screened.dropped.clone()).await?;
        count_drops(&screened.dropped);
        keeper.done(screened.dropped.iter().map(|o| &o.message_id));
        let sending = self.send_all(template, job, screened.ready, attempt, keeper, report);
        let result = tokio::select! {
            result = sending => result,
            _ = keeper.keep_alive() => unreachable!("keep_alive never ends"),
        };
        result?;
        self.hand_back(job, keeper, report).await
    }

    /// Messages to retry: their claims are given up (the retry claims them afresh) and their
    /// trace says why.
    async fn hand_back(&self, job: &DeliveryJob, keeper: &ClaimKeeper, report: &BatchReport) -> Result<(), StoreError> {
        if report.retryable.is_empty() {
            return Ok(());
        }
        let ids: Vec<MessageId> = report.retryable.iter().map(|(id, _)| id.clone()).collect();
        self.claims.release_sends(&ids, keeper.token()).await?;
        keeper.done(&ids);
        let retrying: Vec<TraceEntry> = report
            .retryable
            .iter()
            .filter_map(|(id, reason)| {
                let recipient = job.batch.recipients().find(|r| &r.message_id == id)?;
                Some(TraceEntry::of(job, recipient, TraceEvent::Retrying, Some(reason.clone())))
            })
            .collect();
        self.ledger.record_trace(&retrying, self.clock.now()).await
    }

    pub(crate) async fn commit(&self, outcomes: Vec<TraceEntry>) -> Result<(), StoreError> {
        self.committer.commit(outcomes).await
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
        Ok(pending_of(job).filter(|(r, _)| !finished.contains(&r.message_id)).collect())
    }

    /// Whether the run a message belongs to may send (API messages belong to none: they may).
    pub(crate) async fn run_state(&self, run_id: Option<i64>) -> Result<RunSendState, StoreError> {
        match run_id {
            Some(run_id) => self.gate.state(run_id).await,
            None => Ok(RunSendState::Open),
        }
    }

    /// Whether a run message belongs to a resend of another run's failed messages.
    async fn is_resend(&self, run_id: Option<i64>) -> Result<bool, StoreError> {
        match run_id {
            Some(run_id) => self.gate.is_resend(run_id).await,
            None => Ok(false),
        }
    }

    /// Holds the batch's messages `ids` of a paused run until it is resumed, as they passed
    /// every screen; returns how many.
    pub(crate) async fn hold_admitted(
        &self,
        job: &DeliveryJob,
        ids: &HashSet<MessageId>,
        keeper: &ClaimKeeper,
    ) -> Result<usize, StoreError> {
        let held: Vec<Pending<'_>> = pending_of(job).filter(|(r, _)| ids.contains(&r.message_id)).collect();
        self.hold(job, &held, Screened::Fully, keeper).await
    }

    /// Holds messages of a paused run until it is resumed, with what they passed before
    /// (`screened`), and gives up their claims (the resumed handling claims them afresh);
    /// returns how many.
    async fn hold(
        &self,
        job: &DeliveryJob,
        pending: &[Pending<'_>],
        screened: Screened,
        keeper: &ClaimKeeper,
    ) -> Result<usize, StoreError> {
        let Some(run_id) = job.run_id().filter(|_| !pending.is_empty()) else { return Ok(0) };
        let now = self.clock.now();
        let held: Vec<DeferredMessage> = pending
            .iter()
            .enumerate()
            .map(|(index, (recipient, vars))| held_message(job, recipient, vars, index, now, screened))
            .collect();
        self.deferred.hold_for_pause(run_id, &held, now).await?;
        self.give_back(&held, keeper).await?;
        Ok(held.len())
    }

    /// Every pending message is dropped with `event`: the template is on the discard list, or
    /// the run was cancelled.
    async fn drop_all(
        &self,
        job: &DeliveryJob,
        pending: &[Pending<'_>],
        event: TraceEvent,
        reason: &str,
    ) -> Result<usize, StoreError> {
        let outcomes: Vec<TraceEntry> =
            pending.iter().map(|(r, _)| TraceEntry::of(job, r, event, Some(reason.into()))).collect();
        let count = outcomes.len();
        self.committer.commit(outcomes.clone()).await?;
        count_drops(&outcomes);
        Ok(count)
    }

    /// Test mode, the suppression list, quiet hours, render and dedup for each pending message.
    async fn screen(
        &self,
        template: &Template,
        job: &DeliveryJob,
        pending: Vec<Pending<'_>>,
        attempt: Attempt,
    ) -> Result<Screening, StoreError> {
        let now = self.clock.now();
        let passed = Screened::of(job);
        let resend = self.is_resend(job.run_id()).await?;
        let suppressed = self.suppressed(template, &pending).await?;
        let mut screened = Screening { ready: Vec::with_capacity(pending.len()), ..Default::default() };
        for (index, (recipient, vars)) in pending.into_iter().enumerate() {
            if let Some(test) = &template.spec.test_mode
                && !test.lets_through(&recipient.receiver)
            {
                let reason = Some(TEST_SKIP_REASON.to_string());
                screened.dropped.push(TraceEntry::of(job, recipient, TraceEvent::TestSkipped, reason));
                continue;
            }
            // Asked on every handling, released and retried messages too: an opt-out counts
            // from the moment it is recorded.
            if suppressed.contains(&index) {
                let reason = Some(SUPPRESSED_REASON.to_string());
                screened.dropped.push(TraceEntry::of(job, recipient, TraceEvent::Suppressed, reason));
                continue;
            }
            // Released messages already waited out their quiet hours.
            if passed < Screened::QuietHours {
                match quiet_verdict(template, vars, now, &self.defaults) {
                    Verdict::Send => {}
                    Verdict::Drop { event, reason } => {
                        screened.dropped.push(TraceEntry::of(job, recipient, event, Some(reason)));
                        continue;
                    }
                    Verdict::Defer { release_at } => {
                        let deferred = held_message(job, recipient, vars, index, release_at, Screened::QuietHours);
                        screened.deferred.push(deferred);
                        continue;
                    }
                }
            }
            let message = prepare(template, job, recipient, vars);
            // Dedup counts on a batch's first delivery only: a retried message was admitted
            // then, and must not be refused now (a redelivery errs toward sending); a message
            // held after it was admitted is not counted again either, nor one a resend run
            // sends again (it was counted when its failed send was admitted).
            if message.fault.is_none() && attempt.number <= 1 && passed < Screened::Fully && !resend {
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

    /// The positions in `pending` of receivers who may not be sent this template's kind of
    /// message on its channel: one query per batch, each receiver spelled as the list spells it
    /// once.
    async fn suppressed(&self, template: &Template, pending: &[Pending<'_>]) -> Result<HashSet<usize>, StoreError> {
        let keys: Vec<String> = pending.iter().map(|(r, _)| receiver_key(&r.receiver)).collect();
        let mut asked = keys.clone();
        asked.sort_unstable();
        asked.dedup();
        let kind = MessageKind::of_msg_type(template.spec.msg_type);
        let found: HashSet<String> =
            self.suppressions.suppressed_among(&asked, template.spec.channel, kind).await?.into_iter().collect();
        Ok(keys.iter().enumerate().filter(|(_, key)| found.contains(*key)).map(|(index, _)| index).collect())
    }

    /// Holds messages for the end of their quiet hours and gives up their claims (the release
    /// claims them afresh); returns how many.
    async fn defer(&self, deferred: &[DeferredMessage], keeper: &ClaimKeeper) -> Result<usize, StoreError> {
        if !deferred.is_empty() {
            self.deferred.defer_messages(deferred, self.clock.now()).await?;
            self.give_back(deferred, keeper).await?;
        }
        Ok(deferred.len())
    }

    /// Gives up the claims of messages now held (their release claims them afresh).
    async fn give_back(&self, held: &[DeferredMessage], keeper: &ClaimKeeper) -> Result<(), StoreError> {
        let ids: Vec<MessageId> = held.iter().map(|d| d.message_id.clone()).collect();
        self.claims.release_sends(&ids, keeper.token()).await?;
        keeper.done(&ids);
        Ok(())
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

/// Every recipient of the batch with the variables of its item, in batch order.
fn pending_of(job: &DeliveryJob) -> impl Iterator<Item = Pending<'_>> {
    job.batch.items.iter().flat_map(|item| item.recipients.iter().map(move |r| (r, &item.variables)))
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

/// A message held for the end of its quiet hours or its run's pause, in the order it was to be
/// sent, with what it passed.
fn held_message(
    job: &DeliveryJob,
    recipient: &Recipient,
    vars: &BTreeMap<String, String>,
    index: usize,
    release_at: chrono::DateTime<chrono::Utc>,
    screened: Screened,
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
        screened,
    }
}

/// What a batch's unfinished messages passed before this handling: a redelivered batch's were
/// screened on its first delivery (which is why dedup does not count them again).
fn passed_before(job: &DeliveryJob, attempt: Attempt) -> Screened {
    if attempt.number > 1 { Screened::Fully } else { Screened::of(job) }
}

/// Counts messages a policy dropped, by the event that names the policy.
fn count_drops(dropped: &[TraceEntry]) {
    for entry in dropped {
        metrics::counter!("herald_policy_drops_total", "reason" => entry.event.as_str()).increment(1);
    }
}
