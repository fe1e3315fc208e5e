//! Records the store hands out and the inputs of its multi-field writes.

use chrono::{DateTime, Utc};
use herald_core::{ChannelKind, DeliveryJob, MessageId, Recipient, TemplateSpec, TemplateStatus, TraceEvent};
use serde::{Deserialize, Serialize};

/// How a claimed fire ended; decided in herald-core, kept importable from here.
pub use herald_core::FireOutcome;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Template {
    pub id: i64,
    #[serde(flatten)]
    pub spec: TemplateSpec,
    pub status: TemplateStatus,
    /// The next time its schedule fires, when it is running.
    pub next_fire_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Crowd {
    pub id: String,
    pub original_name: String,
    pub receiver_column: String,
    pub columns: Vec<String>,
    pub rows: i64,
    pub valid_rows: i64,
    pub bad_rows: i64,
    pub size_bytes: i64,
    pub created_at: DateTime<Utc>,
}

/// A fire the scheduler claimed and wrote to the ledger.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimedFire {
    pub fire_id: i64,
    pub schedule_id: i64,
    pub template_id: Option<i64>,
    /// The channel account of a housekeeping schedule (token refresh).
    pub account_id: Option<i64>,
    pub kind: String,
    pub fire_time: DateTime<Utc>,
    pub lateness_ms: i64,
    pub outcome: FireOutcome,
    /// The run this fire created, for template schedules that fired.
    pub run_id: Option<i64>,
    /// The scheduled job this fire runs.
    pub job_id: Option<i64>,
    /// The parameter the fire was asked with (run now, or a parent job's output).
    pub param: Option<String>,
}

/// An alarm rule raised now for a schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaisedAlarm {
    pub rule: String,
    /// The last alarm sent for it.
    pub last_sent_at: Option<DateTime<Utc>>,
    /// Raises kept quiet since.
    pub quieted: i64,
}

/// An alarm rule raised now, with the schedule it is raised for.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RaisedAlarmRecord {
    pub schedule_id: i64,
    /// The schedule's kind: `job`, or a housekeeping one (`token_refresh`, `retention`, ...).
    pub kind: String,
    pub job_id: Option<i64>,
    pub job_name: Option<String>,
    /// The channel account a token refresh or receipt pull is for.
    pub account_id: Option<i64>,
    pub account_name: Option<String>,
    /// failure, timeout, discarded, misfire, failure_rate or stuck.
    pub rule: String,
    /// The last alarm sent for it.
    pub last_sent_at: Option<DateTime<Utc>>,
    /// Raises kept quiet since.
    pub quieted: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FireRecord {
    pub id: i64,
    pub schedule_id: i64,
    pub fire_time: DateTime<Utc>,
    pub claimed_at: DateTime<Utc>,
    pub lateness_ms: i64,
    pub outcome: String,
    pub run_id: Option<i64>,
    pub error: Option<String>,
    /// The node that claimed the fire.
    pub claimed_by: Option<String>,
}

/// A pending run a streamer holds under lease while it plans the run's shards.
#[derive(Debug, Clone)]
pub struct RunLease {
    pub run_id: i64,
    pub template_id: i64,
    pub crowd_id: String,
    pub owner: String,
}

/// One shard of a run as planned: where reading starts and where the next shard begins.
#[derive(Debug, Clone, PartialEq)]
pub struct ShardPlan {
    /// Opaque to the store: the crowd reader's position at the shard's first row, as JSON.
    pub checkpoint: serde_json::Value,
    /// Where the next shard starts; `None` for the last one.
    pub end_offset: Option<i64>,
}

/// A streamer's hold on one shard of a run.
#[derive(Debug, Clone)]
pub struct ShardLease {
    pub run_id: i64,
    pub shard_no: i64,
    pub template_id: i64,
    pub crowd_id: String,
    /// Where this shard's reading resumes, as JSON.
    pub checkpoint: serde_json::Value,
    pub end_offset: Option<i64>,
    pub owner: String,
}

/// A shard's state, for progress pages.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShardRecord {
    pub shard_no: i64,
    pub status: String,
    pub rows_read: i64,
    pub batches: i64,
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
}

/// Progress a streamer made since its last checkpoint.
#[derive(Debug, Clone, Default)]
pub struct StreamStep {
    pub checkpoint: serde_json::Value,
    pub rows_read: i64,
    pub rows_invalid: i64,
    pub batches: i64,
}

/// The final state of one message, written by a worker.
#[derive(Debug, Clone)]
pub struct TraceEntry {
    pub message_id: MessageId,
    pub template_id: i64,
    pub run_id: Option<i64>,
    pub receiver: String,
    pub event: TraceEvent,
    pub detail: Option<String>,
}

impl TraceEntry {
    /// `event` for one recipient of `job`.
    pub fn of(job: &DeliveryJob, recipient: &Recipient, event: TraceEvent, detail: Option<String>) -> Self {
        Self {
            message_id: recipient.message_id.clone(),
            template_id: job.template_id,
            run_id: job.run_id(),
            receiver: recipient.receiver.clone(),
            event,
            detail,
        }
    }

    /// The `accepted` trace entries of every recipient of `jobs`: what a producer records
    /// before it publishes them (see `herald_bus::EncodedJobs`).
    pub fn accepted(jobs: &[DeliveryJob], detail: Option<&str>) -> Vec<Self> {
        jobs.iter()
            .flat_map(|job| {
                job.batch.recipients().map(move |r| Self::of(job, r, TraceEvent::Accepted, detail.map(str::to_string)))
            })
            .collect()
    }
}

/// A crowd run's published window recorded as accepted in one row instead of one trace row per
/// message: its run, the message id prefix its rows' ids share, and each message's data row and
/// receiver. The trace of one of its messages shows the `accepted` event read from it.
#[derive(Debug, Clone, PartialEq)]
pub struct AcceptedRows {
    pub template_id: i64,
    pub run_id: i64,
    /// `{installation}-r{run}-`: a message's id is this and its row.
    pub message_prefix: String,
    /// (data row, receiver) of every message of the window, in row order.
    pub rows: Vec<(u64, String)>,
}

impl AcceptedRows {
    /// The window of `jobs` when every recipient is a row of one run under one prefix (what a
    /// run's streamer publishes); None otherwise (their `accepted` is traced per message).
    pub fn of(jobs: &[DeliveryJob]) -> Option<Self> {
        let first = jobs.first()?;
        let run_id = first.run_id()?;
        let mut prefix: Option<&str> = None;
        let mut rows = Vec::new();
        for job in jobs {
            if job.template_id != first.template_id || job.run_id() != Some(run_id) {
                return None;
            }
            for recipient in job.batch.recipients() {
                let (its_prefix, its_run, row) = recipient.message_id.run_row()?;
                if its_run != run_id || prefix.is_some_and(|p| p != its_prefix) {
                    return None;
                }
                prefix = Some(its_prefix);
                rows.push((row, recipient.receiver.clone()));
            }
        }
        rows.sort_unstable_by_key(|(row, _)| *row);
        rows.dedup_by_key(|(row, _)| *row);
        Some(Self { template_id: first.template_id, run_id, message_prefix: prefix?.to_string(), rows })
    }

    /// The first and last data rows.
    pub fn span(&self) -> Option<(u64, u64)> {
        Some((self.rows.first()?.0, self.rows.last()?.0))
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutboxEntry {
    pub id: i64,
    pub message_id: String,
    pub template_id: i64,
    pub run_id: Option<i64>,
    pub receiver: String,
    pub content: serde_json::Value,
    pub delivered_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default)]
pub struct OutboxFilter {
    pub template_id: Option<i64>,
    pub run_id: Option<i64>,
    pub receiver: Option<String>,
    /// Entries with an id above this one (for paging).
    pub after_id: i64,
    pub limit: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TraceRecord {
    pub message_id: String,
    pub template_id: i64,
    pub run_id: Option<i64>,
    pub receiver: String,
    pub event: String,
    pub detail: Option<String>,
    pub at: DateTime<Utc>,
}

/// A schedule of any kind, with its last fire: what an operator sees in the schedules list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleRecord {
    pub id: i64,
    pub kind: String,
    pub template_id: Option<i64>,
    /// The template's name (kept after it is deleted).
    pub template_name: Option<String>,
    pub account_id: Option<i64>,
    /// The channel account's name, for a token refresh.
    pub account_name: Option<String>,
    /// The scheduled job it fires.
    pub job_id: Option<i64>,
    pub job_name: Option<String>,
    pub cron: String,
    pub timezone: String,
    pub enabled: bool,
    pub next_fire_at: Option<DateTime<Utc>>,
    pub last_fire: Option<FireRecord>,
}

/// A housekeeping schedule to create with its account.
#[derive(Debug, Clone)]
pub struct HousekeepingSpec {
    pub kind: String,
    pub cron: String,
}

/// A channel account as stored: its config sealed.
#[derive(Debug, Clone)]
pub struct AccountRecord {
    pub id: i64,
    pub name: String,
    pub channel: ChannelKind,
    pub config_sealed: String,
    pub rate_per_second: Option<f64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What an account is created or updated with.
#[derive(Debug, Clone)]
pub struct AccountWrite {
    pub name: String,
    pub channel: ChannelKind,
    pub config_sealed: String,
    pub rate_per_second: Option<f64>,
    /// Housekeeping schedules the account needs (token refresh); replaces the old set.
    pub housekeeping: Vec<HousekeepingSpec>,
}

/// A message held until the end of its quiet hours, or until its paused run is resumed.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeferredMessage {
    /// Release order: the order they were deferred in.
    pub seq: i64,
    pub message_id: MessageId,
    pub template_id: i64,
    pub run_id: Option<i64>,
    pub receiver: String,
    pub variables: std::collections::BTreeMap<String, String>,
    /// Its place in its run or request (the row number): release order within a run.
    pub position: i64,
    /// When it is due; a message held for a paused run is due once the run is resumed.
    pub release_at: DateTime<Utc>,
    /// What it passed before it was held: its release skips that.
    pub screened: herald_core::Screened,
}

impl DeferredMessage {
    /// The trace entry that ends this message with `event` while it is deferred (its run
    /// cancelled, its template deleted).
    pub fn ending(&self, event: TraceEvent, detail: &str) -> TraceEntry {
        TraceEntry {
            message_id: self.message_id.clone(),
            template_id: self.template_id,
            run_id: self.run_id,
            receiver: self.receiver.clone(),
            event,
            detail: Some(detail.to_string()),
        }
    }

    /// The order releases publish in: release time, then run (API messages last), row, seq.
    pub fn release_order(a: &Self, b: &Self) -> std::cmp::Ordering {
        a.release_at
            .cmp(&b.release_at)
            .then(a.run_id.is_none().cmp(&b.run_id.is_none()))
            .then(a.run_id.cmp(&b.run_id))
            .then(a.position.cmp(&b.position))
            .then(a.seq.cmp(&b.seq))
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DiscardEntry {
    pub template_id: i64,
    pub reason: Option<String>,
    pub since: DateTime<Utc>,
}

/// An entry of the suppression list, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuppressionEntry {
    pub entry: herald_core::Suppression,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChannelRate {
    pub channel: ChannelKind,
    pub rate_per_second: f64,
    pub updated_at: DateTime<Utc>,
}

/// Which runs a list is after, newest first.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    pub template_id: Option<i64>,
    /// A status as people see it (`RunProgress::shown_status`): `paused` for a paused run that
    /// has not ended, else the stored status.
    pub status: Option<String>,
    /// Created at or after.
    pub from: Option<DateTime<Utc>>,
    /// Created before.
    pub to: Option<DateTime<Utc>>,
    /// Runs to skip.
    pub offset: i64,
    pub limit: i64,
}

impl RunFilter {
    /// The newest `limit` runs of every template.
    pub fn newest(limit: i64) -> Self {
        Self { limit, ..Self::default() }
    }

    /// Only this template's runs.
    pub fn of_template(self, template_id: i64) -> Self {
        Self { template_id: Some(template_id), ..self }
    }
}

/// Which messages a report counts: one run's, or one template's accepted in `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryScope {
    Run(i64),
    TemplateBetween { template_id: i64, from: DateTime<Utc>, to: DateTime<Utc> },
}

/// Which messages a trace query is after.
#[derive(Debug, Clone, Default)]
pub struct MessageFilter {
    pub receiver: Option<String>,
    pub template_id: Option<i64>,
    pub run_id: Option<i64>,
    /// Only messages that ended in this state (`failed`, `sent`, ...).
    pub state: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Messages to skip (newest first).
    pub offset: i64,
    pub limit: i64,
}

/// A message's final state.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageState {
    pub message_id: String,
    pub template_id: i64,
    pub run_id: Option<i64>,
    pub receiver: String,
    pub state: String,
    pub detail: Option<String>,
    pub at: DateTime<Utc>,
}

/// A handling's claim on the messages it is about to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendClaim {
    /// Who holds it (node and worker), for people.
    pub holder: String,
    /// The fencing token: one per handling of a batch. A claim stands while its token does.
    pub token: i64,
    pub until: DateTime<Utc>,
}

/// A message another handling holds a live claim on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldMessage {
    pub message_id: MessageId,
    pub holder: String,
    pub until: DateTime<Utc>,
}

/// What claiming a batch's messages found, each id in one list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClaimOutcome {
    /// Now held under the caller's claim: send these.
    pub claimed: Vec<MessageId>,
    /// Already final in the ledger: skip.
    pub finished: Vec<MessageId>,
    /// Live claims of another handling: wait until they are final or lapse.
    pub held: Vec<HeldMessage>,
}

/// One receiver of a send API request with a business id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedSend {
    pub template_id: i64,
    pub biz_id: String,
    pub receiver: String,
    /// The message id this request would give it.
    pub message_id: String,
}

/// What a key may call: `admin` every route, `send` only the send API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApiKeyScope {
    Admin,
    Send,
}

impl ApiKeyScope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Send => "send",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Admin, Self::Send].into_iter().find(|scope| scope.as_str() == s)
    }
}

/// A key to store: never the key itself, only its hash and first characters.
#[derive(Debug, Clone)]
pub struct NewApiKey<'a> {
    pub key_hash: &'a str,
    pub prefix: &'a str,
    pub name: &'a str,
    pub scope: ApiKeyScope,
}

/// A stored key as it is listed: never its hash.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyRecord {
    pub id: i64,
    pub name: String,
    /// The key's first characters (`hk_` and eight more); empty for keys made before they were kept.
    pub prefix: String,
    pub scope: ApiKeyScope,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// What a revocation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    Revoked,
    /// Revoked before; nothing changed.
    Already,
    NotFound,
    /// The last usable admin key stays: without it nobody could manage keys over the API.
    LastAdmin,
}

/// What a receipt pull asks the store for: messages a channel account sent that still wait
/// for their receipt, oldest first, a page at a time.
#[derive(Debug, Clone)]
pub struct AwaitingReceipts {
    /// The channel account (by name) whose templates sent them.
    pub account: String,
    /// How what their send recorded starts (`aliyun: `, `task_id `).
    pub detail_prefix: String,
    /// Sent at or after this: older ones are past what the provider answers for.
    pub since: DateTime<Utc>,
    /// The provider reports reading after delivery (DingTalk), so a message that was delivered
    /// still waits for `read`; else delivered ends the wait as undelivered and read do.
    pub read_follows: bool,
    /// Keyset: only messages after this (sent at, message id); None for the first page.
    pub after: Option<(DateTime<Utc>, String)>,
    pub limit: i64,
}

/// A receipt that named no sent message, kept to be reported.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UnmatchedReceipt {
    pub id: i64,
    /// Who reported it (`tencent`, `aliyun`).
    pub provider: String,
    /// The message it named: herald's id or the provider's.
    pub reference: String,
    /// `delivered`, `undelivered` or `read`.
    pub state: String,
    pub code: Option<String>,
    pub received_at: DateTime<Utc>,
}

/// A scheduled job as stored, with its schedule's state.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobRecord {
    pub id: i64,
    #[serde(flatten)]
    pub spec: herald_core::scheduled_job::JobSpec,
    /// False while paused: it fires only when triggered.
    pub enabled: bool,
    /// Its next scheduled fire; null while paused, when it is fired only on demand, or ended.
    pub next_fire_at: Option<DateTime<Utc>>,
    pub schedule_id: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// How an attempt of a job's run ended, as the run log writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobRunOutcome {
    Running,
    Succeeded,
    Failed,
    TimedOut,
    /// A fire that came while the last run was going, under the discard rule.
    Discarded,
    /// Stopped by a fire under the replace rule.
    Replaced,
    /// Its node stopped answering for it: found running past the job's longest run.
    Abandoned,
}

impl JobRunOutcome {
    pub const ALL: [Self; 7] = [
        Self::Running,
        Self::Succeeded,
        Self::Failed,
        Self::TimedOut,
        Self::Discarded,
        Self::Replaced,
        Self::Abandoned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::TimedOut => "timed_out",
            Self::Discarded => "discarded",
            Self::Replaced => "replaced",
            Self::Abandoned => "abandoned",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

/// One attempt of a job's run, in the run log.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobRunRecord {
    pub id: i64,
    /// The job it ran; null for housekeeping's runs.
    pub job_id: Option<i64>,
    /// The schedule it ran for.
    pub schedule_id: Option<i64>,
    /// The fire it ran for (the fire ledger's row).
    pub fire_id: Option<i64>,
    /// 1 for the first attempt of a fire, then each retry.
    pub attempt: i32,
    /// The node that ran it.
    pub node: String,
    pub outcome: JobRunOutcome,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    /// The HTTP status it was answered with.
    pub status_code: Option<i32>,
    /// The start of the answer (at most 4 KiB).
    pub output: Option<String>,
    pub error: Option<String>,
    /// The shard it ran (from 0) of a sharded or broadcast job's fire.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<i32>,
    /// How many shards that fire has.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shards: Option<i32>,
}

/// An attempt as it starts.
#[derive(Debug, Clone)]
pub struct JobRunStart<'a> {
    pub job_id: i64,
    pub fire_id: Option<i64>,
    pub attempt: i32,
    pub node: &'a str,
    pub outcome: JobRunOutcome,
    pub at: DateTime<Utc>,
    /// The shard it runs, for a sharded or broadcast job.
    pub shard: Option<herald_core::scheduled_job::Shard>,
}

/// The shards a sharded or broadcast fire is split into, written by the node that claimed it.
#[derive(Debug, Clone)]
pub struct ShardedFire<'a> {
    pub fire_id: i64,
    pub job_id: i64,
    pub schedule_id: i64,
    pub param: Option<&'a str>,
    /// One entry per shard: the node it must run on (a broadcast's), or None for any node.
    pub nodes: Vec<Option<String>>,
    pub at: DateTime<Utc>,
}

/// A job shard a node took to run (fresh, or from a node whose lease lapsed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedJobShard {
    pub id: i64,
    pub fire_id: i64,
    pub job_id: i64,
    pub schedule_id: i64,
    pub shard: herald_core::scheduled_job::Shard,
    pub param: Option<String>,
    /// Times it was taken from a node whose lease lapsed, this time included.
    pub takeovers: i32,
}

/// How a shard ended, written by the node holding its lease.
#[derive(Debug, Clone)]
pub struct JobShardEnd<'a> {
    pub succeeded: bool,
    pub output: Option<&'a str>,
    pub error: Option<&'a str>,
}

/// A sharded fire all of whose shards ended: told to the node that ended the last one, which
/// ends the fire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardedFireEnd {
    pub total: i32,
    pub failed: i32,
    /// The first failed shard's error, named by its shard.
    pub error: Option<String>,
    /// The last shard's output, the fire's output for its children.
    pub output: Option<String>,
}

/// How an attempt ended.
#[derive(Debug, Clone)]
pub struct JobRunEnd<'a> {
    pub outcome: JobRunOutcome,
    pub at: DateTime<Utc>,
    pub status_code: Option<i32>,
    pub output: Option<&'a str>,
    pub error: Option<&'a str>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_core::{Batch, BatchItem, Installation, JobOrigin};

    fn job(run_id: i64, ids: &[(&Installation, i64, u64)]) -> DeliveryJob {
        let recipients = ids
            .iter()
            .map(|&(here, run, row)| Recipient { receiver: format!("to-{row}"), message_id: here.run_row(run, row) })
            .collect();
        DeliveryJob {
            template_id: 1,
            origin: JobOrigin::Run { run_id },
            batch: Batch { items: vec![BatchItem { variables: Default::default(), recipients }] },
            released: false,
            admitted: false,
        }
    }

    #[test]
    fn a_window_of_one_runs_rows_is_recorded_in_row_order_and_anything_else_per_message() {
        let here = Installation::new("3f9c2a1b77d0");
        let window = [job(7, &[(&here, 7, 5), (&here, 7, 2)]), job(7, &[(&here, 7, 3)])];
        let rows = AcceptedRows::of(&window).unwrap();
        assert_eq!((rows.run_id, rows.template_id, rows.message_prefix.as_str()), (7, 1, "3f9c2a1b77d0-r7-"));
        let receivers: Vec<(u64, &str)> = rows.rows.iter().map(|(row, to)| (*row, to.as_str())).collect();
        assert_eq!(receivers, [(2, "to-2"), (3, "to-3"), (5, "to-5")]);
        assert_eq!(rows.span(), Some((2, 5)));

        let elsewhere = Installation::new("a0a0a0a0a0a0");
        assert_eq!(AcceptedRows::of(&[job(7, &[(&here, 7, 1)]), job(7, &[(&elsewhere, 7, 2)])]), None);
        assert_eq!(AcceptedRows::of(&[job(7, &[(&here, 8, 1)])]), None, "another run's id");
        assert_eq!(AcceptedRows::of(&[job(7, &[(&here, 7, 1)]), job(8, &[(&here, 8, 2)])]), None);
        let mut api = job(7, &[]);
        api.origin = JobOrigin::Api { request_id: "r".into() };
        api.batch.items[0].recipients.push(Recipient { receiver: "a".into(), message_id: here.request("r", 0, "a") });
        assert_eq!(AcceptedRows::of(&[api]), None);
        assert_eq!(AcceptedRows::of(&[]), None);
    }
}
