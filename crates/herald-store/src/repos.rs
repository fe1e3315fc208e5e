//! The repository traits. Each backend (SQLite now, PostgreSQL in cluster mode) implements
//! all of them; callers hold an `Arc<dyn Store>`. Times are arguments, never read inside.

use crate::error::Result;
use crate::listing::*;
use crate::model::*;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use herald_core::scheduled_job::JobSpec;
use herald_core::{ChannelKind, Installation, MessageId, RunProgress, RunSendState, TemplateSpec, TemplateStatus};

#[async_trait]
pub trait TemplateRepo: Send + Sync {
    async fn create_template(&self, spec: &TemplateSpec, now: DateTime<Utc>) -> Result<Template>;
    async fn get_template(&self, id: i64) -> Result<Template>;
    /// A window of the templates the filter matches, by id.
    async fn list_templates(&self, filter: &TemplateFilter) -> Result<Vec<Template>>;
    /// The names of these templates, deleted ones included.
    async fn template_names(&self, ids: &[i64]) -> Result<Vec<TemplateName>>;
    /// How many templates there are in each status (`running`, `stopped`).
    async fn count_templates_by_status(&self) -> Result<Vec<(String, i64)>>;
    /// Replaces the spec; a running template's schedule is re-planned from `now`.
    async fn update_template(&self, id: i64, spec: &TemplateSpec, now: DateTime<Utc>) -> Result<Template>;
    /// Deletes softly: the template is gone for every reader and its schedule disarmed, while its
    /// runs, fires, traces and ledger stay, and its id is never handed out again.
    async fn delete_template(&self, id: i64, now: DateTime<Utc>) -> Result<()>;
    /// Running arms the schedule (next fire after `now`), stopped disarms it.
    async fn set_template_status(&self, id: i64, status: TemplateStatus, now: DateTime<Utc>) -> Result<Template>;
}

#[async_trait]
pub trait CrowdRepo: Send + Sync {
    /// Records a crowd file with the bad rows its upload listed (a JSON array, kept as given).
    async fn insert_crowd(&self, crowd: &Crowd, bad_rows_json: &str) -> Result<()>;
    /// A crowd that is not deleted.
    async fn get_crowd(&self, id: &str) -> Result<Crowd>;
    /// The bad rows its upload listed, as recorded; None for crowds recorded without them.
    async fn crowd_bad_rows(&self, id: &str) -> Result<Option<String>>;
    /// Renames it (the name shown; the file keeps its id).
    async fn rename_crowd(&self, id: &str, name: &str) -> Result<Crowd>;
    /// Deletes softly: gone for every reader, while the runs that sent to it keep referring to
    /// it. Refused with a conflict, naming them, while a template uses it or a run still reads
    /// its file (pending or streaming). The caller removes the file after.
    async fn delete_crowd(&self, id: &str, now: DateTime<Utc>) -> Result<()>;
    /// A window of the crowds the filter matches, newest first.
    async fn list_crowds(&self, filter: &CrowdFilter) -> Result<Vec<Crowd>>;
}

#[async_trait]
pub trait ScheduleRepo: Send + Sync {
    /// Claims up to `limit` due fires: each is written to the fire ledger (unique on schedule
    /// and fire time), its schedule advanced, and for a template a run created, all in one
    /// transaction. What each fire does is `herald_core::fire::decide`'s call.
    async fn claim_due_fires(
        &self,
        claimer: &str,
        now: DateTime<Utc>,
        grace: Duration,
        limit: i64,
    ) -> Result<Vec<ClaimedFire>>;
    /// The soonest next fire of any enabled schedule, due or not; None when none has one. The
    /// claimer wakes for it instead of waiting out its poll.
    async fn soonest_fire_at(&self) -> Result<Option<DateTime<Utc>>>;
    async fn list_fires(&self, schedule_id: i64, limit: i64) -> Result<Vec<FireRecord>>;
    async fn schedule_id_of(&self, template_id: i64) -> Result<Option<i64>>;
    /// A window of the schedules the filter matches (templates' and housekeeping alike), by
    /// id, each with its last fire and the name of what it belongs to.
    async fn list_schedules(&self, filter: &ScheduleFilter) -> Result<Vec<ScheduleRecord>>;
    /// Records how a housekeeping fire went; a failure brings the schedule's next fire
    /// forward to `retry_at` (when that is sooner), so it is retried.
    async fn complete_fire(&self, fire_id: i64, error: Option<&str>, retry_at: Option<DateTime<Utc>>) -> Result<()>;
    /// Creates the node-wide housekeeping schedule of `kind` (UTC cron), or gives the existing
    /// one this cron when the configuration changed it (its next fire from `now`); the same
    /// cron leaves it as it is.
    async fn ensure_housekeeping(&self, kind: &str, cron: &str, now: DateTime<Utc>) -> Result<()>;
    /// Removes the node-wide housekeeping schedule of `kind`, its fires and its run log with
    /// it (what the configuration turned off); nothing when there is none.
    async fn remove_housekeeping(&self, kind: &str) -> Result<()>;
}

/// Scheduled jobs and their run log.
#[async_trait]
pub trait JobRepo: Send + Sync {
    /// Saves a new job with its schedule, enabled; a Conflict when its name is taken.
    async fn create_job(&self, spec: &JobSpec, now: DateTime<Utc>) -> Result<JobRecord>;
    /// Replaces a job's spec; its schedule starts over from `now` and keeps its paused state.
    async fn update_job(&self, id: i64, spec: &JobSpec, now: DateTime<Utc>) -> Result<JobRecord>;
    async fn get_job(&self, id: i64) -> Result<JobRecord>;
    /// The id of the job named so.
    async fn job_id_named(&self, name: &str) -> Result<i64>;
    /// Jobs by id.
    async fn list_jobs(&self, window: Window) -> Result<Vec<JobRecord>>;
    /// Deletes a job with its schedule, fires' link and run log.
    async fn delete_job(&self, id: i64) -> Result<()>;
    /// Pauses (no scheduled fire) or resumes (the first fire after `now`) a job.
    async fn set_job_enabled(&self, id: i64, enabled: bool, now: DateTime<Utc>) -> Result<JobRecord>;
    /// Asks for a fire at `now` with `param`, which the next claim takes whether or not the
    /// job is paused (a fire asked for and not yet claimed is asked for once, with the latest
    /// param).
    async fn trigger_job(&self, id: i64, now: DateTime<Utc>, param: Option<&str>) -> Result<()>;
}

/// The run log of scheduled jobs, and a job fire's end.
#[async_trait]
pub trait JobRunRepo: Send + Sync {
    /// Writes an attempt's start to the run log; its id.
    async fn start_job_run(&self, run: &JobRunStart<'_>) -> Result<i64>;
    /// Writes an attempt's start only while fewer than `limit` of the job's fires are running
    /// (on any node; the shards of one fire count once); None when the limit was reached.
    async fn start_job_run_within(&self, run: &JobRunStart<'_>, limit: u32) -> Result<Option<i64>>;
    /// Writes how an attempt ended, unless it ended already (a replaced run).
    async fn finish_job_run(&self, run_id: i64, end: &JobRunEnd<'_>) -> Result<()>;
    /// The job's attempts still running, oldest first.
    async fn running_job_runs(&self, job_id: i64) -> Result<Vec<JobRunRecord>>;
    /// Asks the node running `run_id` to stop it; false when it is no longer running.
    async fn ask_job_run_stop(&self, run_id: i64) -> Result<bool>;
    /// Whether a stop was asked for `run_id`.
    async fn job_run_stop_asked(&self, run_id: i64) -> Result<bool>;
    async fn list_job_runs(&self, filter: &JobRunFilter) -> Result<Vec<JobRunRecord>>;
    /// Writes the start of a housekeeping schedule's run (a token refresh, the quiet-hours
    /// release, retention, a receipt pull) to the run log; its id, ended with `finish_job_run`.
    async fn start_housekeeping_run(
        &self,
        schedule_id: i64,
        fire_id: i64,
        node: &str,
        at: DateTime<Utc>,
    ) -> Result<i64>;
    /// A window of a schedule's runs (a job's or housekeeping's), newest first.
    async fn list_schedule_runs(
        &self,
        schedule_id: i64,
        outcome: Option<JobRunOutcome>,
        window: Window,
    ) -> Result<Vec<JobRunRecord>>;
    /// Writes a job fire's outcome to the ledger and, for a fixed delay, its next fire from
    /// the run's end (`ended`).
    async fn complete_job_fire(&self, fire_id: i64, error: Option<&str>, ended: DateTime<Utc>) -> Result<()>;
}

/// Sharded and broadcast jobs' shards, and the nodes that run jobs.
#[async_trait]
pub trait JobShardRepo: Send + Sync {
    /// Says `node` runs jobs as of `now`; nodes not seen for a day are forgotten.
    async fn heartbeat_node(&self, node: &str, now: DateTime<Utc>) -> Result<()>;
    /// The nodes seen since `since`, by name.
    async fn live_nodes(&self, since: DateTime<Utc>) -> Result<Vec<String>>;
    /// Writes a fire's shards, pending; those written already stay as they are.
    async fn plan_job_shards(&self, fire: &ShardedFire<'_>) -> Result<()>;
    /// Takes one shard for `node` under a lease of `lease`: its own broadcast shard, one for any
    /// node (or for a node not seen since `seen_since`) while it holds fewer of that fire's
    /// shards than its share, or one whose holder's lease lapsed (that holder's running
    /// attempt is marked abandoned).
    async fn claim_job_shard(
        &self,
        node: &str,
        now: DateTime<Utc>,
        lease: Duration,
        seen_since: DateTime<Utc>,
    ) -> Result<Option<ClaimedJobShard>>;
    /// Extends `node`'s lease on a shard; false when the lease was lost.
    async fn renew_job_shard(&self, id: i64, node: &str, until: DateTime<Utc>) -> Result<bool>;
    /// Ends a shard `node` holds; the fire's end when it was the last open one (told to one
    /// node only), None when others are open or the lease was lost.
    async fn end_job_shard(&self, id: i64, node: &str, end: &JobShardEnd<'_>) -> Result<Option<ShardedFireEnd>>;
}

/// Raised alarm rules per schedule (a job's, or a housekeeping one's), shared by every node.
#[async_trait]
pub trait AlarmRepo: Send + Sync {
    /// Raises `rule` for the schedule; true when this raise is to send an alarm (none was sent
    /// for the rule within `quiet` of `now`, on any node), false when it is kept quiet.
    async fn raise_alarm(&self, schedule_id: i64, rule: &str, now: DateTime<Utc>, quiet: Duration) -> Result<bool>;
    /// Clears a raised `rule`; true when it was raised (a recovery is due), once across nodes.
    async fn recover_alarm(&self, schedule_id: i64, rule: &str) -> Result<bool>;
    /// The schedule's fires that ended since `since`, and how many of them failed.
    async fn fire_counts(&self, schedule_id: i64, since: DateTime<Utc>) -> Result<(u64, u64)>;
    /// The schedule's rules raised now, by rule.
    async fn raised_alarms(&self, schedule_id: i64) -> Result<Vec<RaisedAlarm>>;
    /// A window of the rules raised now on every schedule (jobs' and housekeeping's), by
    /// schedule and rule.
    async fn list_raised_alarms(&self, window: Window) -> Result<Vec<RaisedAlarmRecord>>;
}

#[async_trait]
pub trait AccountRepo: Send + Sync {
    /// Creates the account and its housekeeping schedules (armed from `now`) in one transaction.
    async fn create_account(&self, account: &AccountWrite, now: DateTime<Utc>) -> Result<AccountRecord>;
    async fn get_account(&self, id: i64) -> Result<AccountRecord>;
    async fn get_account_by_name(&self, name: &str) -> Result<AccountRecord>;
    /// A window of the accounts the filter matches, by id.
    async fn list_accounts(&self, filter: &AccountFilter) -> Result<Vec<AccountRecord>>;
    async fn update_account(&self, id: i64, account: &AccountWrite, now: DateTime<Utc>) -> Result<AccountRecord>;
    /// Refused with a conflict while a template sends through it.
    async fn delete_account(&self, id: i64) -> Result<()>;
}

#[async_trait]
pub trait RunRepo: Send + Sync {
    /// Creates a run of the template's crowd now, outside any schedule (run-now).
    async fn create_run(&self, template_id: i64, now: DateTime<Utc>) -> Result<i64>;
    /// Leases one pending run to plan (split into shards): a run no one holds, or whose
    /// planner's lease lapsed, and whose `not_before` has come.
    async fn lease_run(&self, owner: &str, now: DateTime<Utc>, lease: Duration) -> Result<Option<RunLease>>;
    /// Stores the shards of a run planned under `lease` and opens them to streamers; false when
    /// the lease was lost (another planner's shards stand).
    async fn plan_run(&self, lease: &RunLease, shards: &[ShardPlan], now: DateTime<Utc>) -> Result<bool>;
    /// Gives a planning lease back without planning (clean shutdown).
    async fn release_run(&self, lease: &RunLease) -> Result<()>;
    async fn fail_run(&self, run_id: i64, error: &str, now: DateTime<Utc>) -> Result<()>;
    /// Leases one shard of a streaming run that no one holds or whose lease lapsed, oldest run
    /// first.
    async fn lease_shard(&self, owner: &str, now: DateTime<Utc>, lease: Duration) -> Result<Option<ShardLease>>;
    /// Records a shard's progress (and its run's) and extends the lease; false when the lease
    /// was lost or the run is no longer streaming (a cancelled run's last window is still
    /// counted: it was published).
    async fn checkpoint_shard(
        &self,
        lease: &ShardLease,
        step: &StreamStep,
        now: DateTime<Utc>,
        lease_for: Duration,
    ) -> Result<bool>;
    /// Every batch of the shard is published. The last shard to finish marks the run
    /// published; the run completes once every row is final.
    async fn finish_shard(&self, lease: &ShardLease, now: DateTime<Utc>) -> Result<()>;
    /// Gives a shard back without finishing (clean shutdown), so another streamer goes on at once.
    async fn release_shard(&self, lease: &ShardLease) -> Result<()>;
    async fn list_shards(&self, run_id: i64) -> Result<Vec<ShardRecord>>;
    async fn get_run(&self, run_id: i64) -> Result<RunProgress>;
    /// Whether the run's messages may be sent now, cheap enough to ask before each send.
    async fn run_send_state(&self, run_id: i64) -> Result<RunSendState>;
    /// An operator stops a run: it turns `cancelled` at once (a conflict when it has already
    /// ended), then its messages deferred for quiet hours or held for a pause end as
    /// `cancelled`. Streamers stop at their next checkpoint; workers check the state before
    /// each send.
    async fn cancel_run(&self, run_id: i64, now: DateTime<Utc>) -> Result<()>;
    /// An operator holds a run: streamers stop at their next checkpoint (keeping their place)
    /// and workers hold its messages instead of sending them. A conflict when it has ended or
    /// is paused already.
    async fn pause_run(&self, run_id: i64, now: DateTime<Utc>) -> Result<()>;
    /// Ends a pause: streamers go on from their place, the held messages turn due in pages
    /// and the quiet-hours release is brought forward to publish them. A conflict when the run
    /// has ended or is not paused.
    async fn resume_run(&self, run_id: i64, now: DateTime<Utc>) -> Result<()>;
    /// Calls `visit` with each message of the run that failed, in no order, streaming from the
    /// ledger (which keeps them for its retention time); returns how many.
    async fn visit_failed_messages(&self, run_id: i64, visit: &mut (dyn FnMut(MessageId) + Send)) -> Result<u64>;
    /// Creates a pending run of `parent`'s template over `crowd_id` (`rows` rows: the parent's
    /// failed messages), marked as the parent's resend. A conflict when the parent was resent
    /// already (naming that run) or its template was deleted.
    async fn create_resend_run(&self, parent: i64, crowd_id: &str, rows: i64, now: DateTime<Utc>) -> Result<i64>;
    /// The run whose failed messages `run_id` resends; None for a template's own run. It never
    /// changes, so callers may keep the answer.
    async fn resend_of_run(&self, run_id: i64) -> Result<Option<i64>>;
    /// Runs matching `filter`, newest first.
    async fn list_runs(&self, filter: &RunFilter) -> Result<Vec<RunProgress>>;
    /// How many runs are in each stored status (`pending`, `streaming`, ...), for metrics.
    async fn count_runs_by_status(&self) -> Result<Vec<(String, i64)>>;
}

#[async_trait]
pub trait LedgerRepo: Send + Sync {
    /// The ids among `ids` that already reached a final state.
    async fn finished_messages(&self, ids: &[MessageId]) -> Result<Vec<MessageId>>;
    /// Writes final states to the ledger and trace, once per message id; counts each into
    /// its run exactly once. Returns how many were new.
    async fn record_outcomes(&self, outcomes: &[TraceEntry], now: DateTime<Utc>) -> Result<u64>;
    /// Trace events that are not final (accepted, retrying). `accepted` is recorded once per
    /// message however often it is written, so callers write it before publishing.
    async fn record_trace(&self, outcome: &[TraceEntry], now: DateTime<Utc>) -> Result<()>;
    /// A run's published window recorded as accepted: one row for all its messages instead of
    /// a trace row each, written before publishing as `record_trace` is. Recorded again (a
    /// window read again after a crash) it keeps the first time and the longer span.
    async fn record_accepted_rows(&self, rows: &AcceptedRows, now: DateTime<Utc>) -> Result<()>;
    /// A message's trace, oldest first; a run message's `accepted` read from its window.
    async fn trace_of(&self, message_id: &str) -> Result<Vec<TraceRecord>>;
    /// The outbox channel's write, one transaction for all: idempotent on message id.
    async fn insert_outbox(&self, entries: &[OutboxEntry]) -> Result<()>;
    async fn list_outbox(&self, filter: &OutboxFilter) -> Result<Vec<OutboxEntry>>;
    async fn count_outbox(&self, template_id: Option<i64>, run_id: Option<i64>) -> Result<i64>;
}

/// Send claims: who is sending which message right now (see `sql/claims.rs`).
#[async_trait]
pub trait ClaimRepo: Send + Sync {
    /// Claims every id of `ids` that is neither final nor held by a live claim of another
    /// handling, all in one transaction.
    async fn claim_sends(&self, ids: &[MessageId], claim: &SendClaim, now: DateTime<Utc>) -> Result<ClaimOutcome>;
    /// Extends the claims `token` still holds on `ids` to `until`; returns those it holds.
    async fn extend_sends(&self, ids: &[MessageId], token: i64, until: DateTime<Utc>) -> Result<Vec<MessageId>>;
    /// Gives up the claims `token` holds on `ids` (messages handed back for a retry).
    async fn release_sends(&self, ids: &[MessageId], token: i64) -> Result<()>;
}

/// The installation's own id, the prefix of its message ids.
#[async_trait]
pub trait InstallationRepo: Send + Sync {
    async fn installation(&self) -> Result<Installation>;
}

/// Send API requests by business id.
#[async_trait]
pub trait SendRequestRepo: Send + Sync {
    /// Records each send unless a record for its (template, bizId, receiver) made since
    /// `window_start` stands; returns, in order, the message id that stands for each.
    async fn remember_sends(
        &self,
        sends: &[RequestedSend],
        window_start: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>>;
}

#[async_trait]
pub trait ApiKeyRepo: Send + Sync {
    /// Every key ever made, revoked ones too (a database with none gets one at first start).
    async fn count_api_keys(&self) -> Result<i64>;
    /// Stores a new key (its hash, and its first characters to tell it by); returns its id.
    async fn insert_api_key(&self, key: &NewApiKey<'_>, now: DateTime<Utc>) -> Result<i64>;
    /// The key with this hash, revoked or not.
    async fn find_api_key(&self, key_hash: &str) -> Result<Option<ApiKeyRecord>>;
    /// Notes a use of the key, unless one was noted since `unless_since` (one write a minute).
    async fn touch_api_key(&self, id: i64, now: DateTime<Utc>, unless_since: DateTime<Utc>) -> Result<()>;
    /// Keys, oldest first, `limit` of them from `offset`.
    async fn list_api_keys(&self, limit: i64, offset: i64) -> Result<Vec<ApiKeyRecord>>;
    /// Revokes a key, unless it is the last usable admin key.
    async fn revoke_api_key(&self, id: i64, now: DateTime<Utc>) -> Result<Revoked>;
}

/// Send-time policy settings an operator changes at runtime.
#[async_trait]
pub trait PolicyRepo: Send + Sync {
    async fn discard_template(&self, template_id: i64, reason: Option<&str>, now: DateTime<Utc>) -> Result<()>;
    async fn undiscard_template(&self, template_id: i64) -> Result<()>;
    async fn discarded(&self) -> Result<Vec<DiscardEntry>>;
    async fn is_discarded(&self, template_id: i64) -> Result<bool>;

    async fn set_channel_rate(&self, channel: ChannelKind, rate: Option<f64>, now: DateTime<Utc>) -> Result<()>;
    async fn channel_rates(&self) -> Result<Vec<ChannelRate>>;
}

/// Messages held by quiet hours until their release.
#[async_trait]
pub trait DeferredRepo: Send + Sync {
    /// Holds messages for release; traces each as deferred. Idempotent on message id.
    async fn defer_messages(&self, messages: &[DeferredMessage], now: DateTime<Utc>) -> Result<()>;
    /// Holds messages of a paused run until it is resumed; traces each as paused. Decided
    /// under the run row's lock, so a resume is never missed: when the run was resumed
    /// meanwhile, they are due at once. Idempotent on message id.
    async fn hold_for_pause(&self, run_id: i64, messages: &[DeferredMessage], now: DateTime<Utc>) -> Result<()>;
    /// Deferred messages due at `now`: by release time, then run and row order.
    async fn due_deferred(&self, now: DateTime<Utc>, limit: i64) -> Result<Vec<DeferredMessage>>;
    /// Claims up to `limit` due messages that no release holds (or whose holder's lease
    /// lapsed) for `lease`, in release order: two releases never publish the same message.
    async fn claim_deferred(&self, now: DateTime<Utc>, limit: i64, lease: Duration) -> Result<Vec<DeferredMessage>>;
    /// Forgets released messages (after they were published).
    async fn remove_deferred(&self, seqs: &[i64]) -> Result<()>;
}

/// Reports over final message states.
#[async_trait]
pub trait ReportRepo: Send + Sync {
    /// Final states of messages matching `filter`, newest first.
    async fn message_states(&self, filter: &MessageFilter) -> Result<Vec<MessageState>>;
    /// The messages of `scope` counted by state: final states, and `deferred` / `paused` for
    /// those held; in state order.
    async fn state_counts(&self, scope: DeliveryScope) -> Result<Vec<(String, i64)>>;
    /// A run's messages counted by state, as [`ReportRepo::state_counts`].
    async fn run_state_counts(&self, run_id: i64) -> Result<Vec<(String, i64)>> {
        self.state_counts(DeliveryScope::Run(run_id)).await
    }
    /// The failed messages of `scope` counted by reason, the most frequent first (ties by
    /// reason), at most `limit` reasons.
    async fn failure_reasons(&self, scope: DeliveryScope, limit: i64) -> Result<Vec<(String, i64)>>;
    /// The sent messages of `scope` by what their receipts said.
    async fn receipt_counts(&self, scope: DeliveryScope) -> Result<herald_core::funnel::ReceiptCounts>;
}

/// Deleting what is past retention.
#[async_trait]
pub trait RetentionRepo: Send + Sync {
    /// Deletes trace, ledger and outbox rows older than `before`, status events of states that
    /// old still waiting for their endpoint, send requests, job runs and shards, and fires no
    /// run, job run, shard or schedule names any more, at most `batch` rows per statement;
    /// returns the rows deleted.
    async fn purge_before(&self, before: DateTime<Utc>, batch: i64) -> Result<u64>;
    /// Deletes the run log of each job that keeps its own past its days, in batches; the rows
    /// deleted.
    async fn purge_kept_job_runs(&self, now: DateTime<Utc>, batch: i64) -> Result<u64>;
}

#[async_trait]
pub trait SuppressionRepo: Send + Sync {
    /// Adds entries, one per receiver and channel. An entry that exists already keeps its
    /// source and time, covers the kinds of both (an opt-out never narrows one) and takes the
    /// new note when one is given. Returns how many entries were written.
    async fn suppress(&self, entries: &[herald_core::Suppression], now: DateTime<Utc>) -> Result<u64>;
    /// Removes the entry for `receiver` (as `receiver_key` spells it) on `channel` (None: the
    /// entry covering every channel); not found when there is none.
    async fn unsuppress(&self, receiver: &str, channel: Option<ChannelKind>) -> Result<()>;
    /// The entry for `receiver` (as `receiver_key` spells it) on `channel`; not found when none.
    async fn get_suppression(&self, receiver: &str, channel: Option<ChannelKind>) -> Result<SuppressionEntry>;
    /// A window of the entries the filter matches, newest first.
    async fn list_suppressions(&self, filter: &SuppressionFilter) -> Result<Vec<SuppressionEntry>>;
    /// Which of `receivers` (as `receiver_key` spells them) may not be sent a message of `kind`
    /// on `channel`: an entry for that channel or for every channel covering the kind.
    async fn suppressed_among(
        &self,
        receivers: &[String],
        channel: ChannelKind,
        kind: herald_core::MessageKind,
    ) -> Result<Vec<String>>;
}

/// What a recall of a whole template looks for, a page at a time in message id order.
#[async_trait]
pub trait RecallRepo: Send + Sync {
    /// The template's messages sent at or after `since` and not recalled yet, after
    /// `after` (a message id; "" for the first page).
    async fn sent_not_recalled(
        &self,
        template_id: i64,
        since: DateTime<Utc>,
        after: &str,
        limit: i64,
    ) -> Result<Vec<TraceRecord>>;
    /// The template's send API messages accepted at or after `since` that have no final state
    /// yet (queued, deferred or held), after `after`; each as its `accepted` event.
    async fn unsent_requests(
        &self,
        template_id: i64,
        since: DateTime<Utc>,
        after: &str,
        limit: i64,
    ) -> Result<Vec<TraceRecord>>;
}

/// Delivery receipts from providers.
#[async_trait]
pub trait ReceiptRepo: Send + Sync {
    /// Records each receipt in its sent message's trace (once per message and state) or, when it
    /// names no sent message, in the unmatched list; one transaction.
    async fn record_receipts(
        &self,
        receipts: &[herald_core::receipt::Receipt],
        now: DateTime<Utc>,
    ) -> Result<herald_core::receipt::ReceiptTally>;
    /// A window of the receipts that named no sent message, newest first.
    async fn unmatched_receipts(&self, offset: i64, limit: i64) -> Result<Vec<UnmatchedReceipt>>;
    /// Sent messages waiting for a receipt, as a pull asks for them, each as its `sent` event,
    /// in (sent at, message id) order.
    async fn awaiting_receipts(&self, query: &AwaitingReceipts) -> Result<Vec<TraceRecord>>;
}

/// Everything a herald node needs from its state.
pub trait Store:
    TemplateRepo
    + JobRepo
    + JobRunRepo
    + JobShardRepo
    + AlarmRepo
    + CrowdRepo
    + ScheduleRepo
    + RunRepo
    + LedgerRepo
    + ClaimRepo
    + InstallationRepo
    + SendRequestRepo
    + ApiKeyRepo
    + AccountRepo
    + PolicyRepo
    + DeferredRepo
    + ReportRepo
    + RetentionRepo
    + SuppressionRepo
    + RecallRepo
    + ReceiptRepo
    + crate::status_events::StatusEventRepo
    + crate::console::UserRepo
    + crate::console::ConsoleRepo
{
}

impl<T> Store for T where
    T: TemplateRepo
        + JobRepo
        + JobRunRepo
        + JobShardRepo
        + AlarmRepo
        + CrowdRepo
        + ScheduleRepo
        + RunRepo
        + LedgerRepo
        + ClaimRepo
        + InstallationRepo
        + SendRequestRepo
        + ClaimRepo
        + InstallationRepo
        + SendRequestRepo
        + ApiKeyRepo
        + AccountRepo
        + PolicyRepo
        + DeferredRepo
        + ReportRepo
        + RetentionRepo
        + SuppressionRepo
        + RecallRepo
        + ReceiptRepo
        + crate::status_events::StatusEventRepo
        + crate::console::UserRepo
        + crate::console::ConsoleRepo
{
}
