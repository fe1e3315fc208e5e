//! Scheduled jobs, paged: each with its schedule in words, paused or not, its next fire in the
//! schedule's zone, its overlap rule, timeout and retries, and how many of its last ended
//! attempts succeeded. A job's own page is `job_page.rs`; the words both pages use are here.

use super::language::filters;
use super::language::{text, text_with};
use super::pager::Pager;
use super::render::{Chrome, PageResult, ok, shown_at, shown_at_opt, thousands, time_in};
use super::session::Session;
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Extension, Router};
use herald_core::cron::CronSchedule;
use herald_core::scheduled_job::{JobSchedule, Overlap, RetryPolicy};
use herald_store::{JobRecord, JobRunFilter, JobRunOutcome, JobRunRecord, Window};
use serde::Deserialize;

/// The ended attempts a job's success share on the list counts: its newest ones.
pub(crate) const RATE_OF: usize = 50;
/// Attempts read beyond those, for the ones still running among the newest: a job runs one fire
/// at a time under every overlap rule and a fire's attempts one after another, so only a few
/// run at once, and one read per job is enough.
pub(crate) const RUNNING_SLACK: i64 = 10;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/jobs", get(list))
}

/// A job's schedule as both pages show it.
pub(crate) struct ScheduleShown {
    /// The type as a value (`cron`, `fixed_rate`, ...).
    pub kind: &'static str,
    pub kind_label: String,
    /// A cron's expression and zone; empty for the other types.
    pub cron: String,
    pub timezone: String,
    /// A cron in words, the period, or the time.
    pub detail: String,
    /// The next fire: in a cron's zone, else in the reader's; a dash while paused or none is due.
    pub next_fire: String,
}

impl ScheduleShown {
    pub fn of(job: &JobRecord) -> Self {
        let (kind, kind_key) = match &job.spec.schedule {
            JobSchedule::Cron(_) => ("cron", "job-type-cron"),
            JobSchedule::FixedRate(_) => ("fixed_rate", "job-type-fixed-rate"),
            JobSchedule::FixedDelay(_) => ("fixed_delay", "job-type-fixed-delay"),
            JobSchedule::Once(_) => ("once", "job-type-once"),
            JobSchedule::Api => ("api", "job-type-api"),
        };
        let mut shown = Self {
            kind,
            kind_label: text(kind_key),
            cron: String::new(),
            timezone: String::new(),
            detail: String::new(),
            next_fire: shown_at_opt(job.next_fire_at),
        };
        match &job.spec.schedule {
            JobSchedule::Cron(spec) => {
                let parsed = CronSchedule::parse(&spec.cron, &spec.timezone).ok();
                if let Some(p) = &parsed {
                    shown.detail = p.describe();
                    if let Some(at) = job.next_fire_at {
                        shown.next_fire = time_in(at, p.timezone());
                    }
                }
                shown.cron.clone_from(&spec.cron);
                shown.timezone.clone_from(&spec.timezone);
            }
            JobSchedule::FixedRate(rate) => {
                shown.detail = text_with("job-every", &[("period", &period_words(rate.every_secs))]);
            }
            JobSchedule::FixedDelay(delay) => {
                shown.detail = text_with("job-after-delay", &[("period", &period_words(delay.delay_secs))]);
            }
            JobSchedule::Once(once) => shown.detail = text_with("job-once-at", &[("at", &shown_at(once.at))]),
            JobSchedule::Api => shown.detail = text("job-api-only"),
        }
        shown
    }
}

/// A length of time in its largest whole unit: `15 minutes`, `90 seconds`.
pub(crate) fn period_words(secs: u64) -> String {
    let (n, key) = match secs {
        0 => (0, "job-period-seconds"),
        s if s % 86_400 == 0 => (s / 86_400, "job-period-days"),
        s if s % 3_600 == 0 => (s / 3_600, "job-period-hours"),
        s if s % 60 == 0 => (s / 60, "job-period-minutes"),
        s => (s, "job-period-seconds"),
    };
    text_with(key, &[("n", &n)])
}

/// Milliseconds as a period when whole seconds, else as milliseconds: `1 minute`, `1,500 ms`.
pub(crate) fn millis_words(ms: u64) -> String {
    if ms >= 1_000 && ms.is_multiple_of(1_000) {
        period_words(ms / 1_000)
    } else {
        text_with("job-ms", &[("n", &thousands(i64::try_from(ms).unwrap_or(i64::MAX)))])
    }
}

pub(crate) fn overlap_word(overlap: Overlap) -> String {
    match overlap {
        Overlap::Serial => text("job-overlap-serial"),
        Overlap::Discard => text("job-overlap-discard"),
        Overlap::Replace => text("job-overlap-replace"),
    }
}

pub(crate) fn retries_words(retries: &RetryPolicy) -> String {
    if retries.max == 0 {
        return text("job-no-retries");
    }
    text_with("job-retries", &[("n", &retries.max), ("backoff", &millis_words(retries.backoff_ms))])
}

pub(crate) fn outcome_word(outcome: JobRunOutcome) -> String {
    match outcome {
        JobRunOutcome::Running => text("job-outcome-running"),
        JobRunOutcome::Succeeded => text("job-outcome-succeeded"),
        JobRunOutcome::Failed => text("job-outcome-failed"),
        JobRunOutcome::TimedOut => text("job-outcome-timed-out"),
        JobRunOutcome::Discarded => text("job-outcome-discarded"),
        JobRunOutcome::Replaced => text("job-outcome-replaced"),
        JobRunOutcome::Abandoned => text("job-outcome-abandoned"),
    }
}

/// How many of some ended attempts succeeded (running ones are not counted).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SuccessShare {
    pub succeeded: usize,
    pub ended: usize,
}

impl SuccessShare {
    /// Over the first `limit` ended attempts of `runs`.
    pub fn of(runs: &[JobRunRecord], limit: usize) -> Self {
        let ended = runs.iter().filter(|r| r.outcome != JobRunOutcome::Running).take(limit);
        ended.fold(Self::default(), |share, r| Self {
            succeeded: share.succeeded + usize::from(r.outcome == JobRunOutcome::Succeeded),
            ended: share.ended + 1,
        })
    }

    /// `48/50 succeeded`, or that none has ended.
    pub fn words(&self) -> String {
        if self.ended == 0 {
            return text("job-rate-none");
        }
        text_with("job-rate", &[("succeeded", &self.succeeded), ("ended", &self.ended)])
    }
}

struct JobRow {
    id: i64,
    name: String,
    enabled: bool,
    schedule: ScheduleShown,
    overlap: &'static str,
    overlap_label: String,
    timeout: String,
    retries: String,
    share: SuccessShare,
}

#[derive(Template)]
#[template(path = "console/jobs.html")]
struct ListPage {
    chrome: Chrome,
    /// Set after a job was deleted.
    deleted: bool,
    rate_of: usize,
    rows: Vec<JobRow>,
    pager: Pager,
    /// Token refreshes, the quiet-hours release, retention and receipt pulls.
    housekeeping: Vec<super::housekeeping_page::HousekeepingRow>,
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    page: Option<i64>,
    done: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let page = Pager::page_of(q.page);
    let mut jobs = state.store.list_jobs(Pager::window(page)).await?;
    let pager = Pager::of("/jobs", &[], page, &mut jobs);
    let mut rows = Vec::with_capacity(jobs.len());
    for job in jobs {
        let newest =
            JobRunFilter { job_id: job.id, outcome: None, window: Window::first(RATE_OF as i64 + RUNNING_SLACK) };
        let runs = state.store.list_job_runs(&newest).await?;
        rows.push(JobRow {
            id: job.id,
            schedule: ScheduleShown::of(&job),
            enabled: job.enabled,
            overlap: job.spec.overlap.as_str(),
            overlap_label: overlap_word(job.spec.overlap),
            timeout: millis_words(job.spec.timeout_ms),
            retries: retries_words(&job.spec.retries),
            share: SuccessShare::of(&runs, RATE_OF),
            name: job.spec.name,
        });
    }
    let deleted = q.done.as_deref() == Some("deleted");
    let housekeeping = super::housekeeping_page::rows(&state).await?;
    Ok(ok(&ListPage { chrome: Chrome::new(&session, "/jobs"), deleted, rate_of: RATE_OF, rows, pager, housekeeping }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn attempt(outcome: JobRunOutcome) -> JobRunRecord {
        JobRunRecord {
            id: 0,
            job_id: Some(1),
            schedule_id: None,
            fire_id: None,
            attempt: 1,
            node: "n".into(),
            outcome,
            started_at: Utc::now(),
            ended_at: None,
            duration_ms: None,
            status_code: None,
            output: None,
            error: None,
            shard: None,
            shards: None,
        }
    }

    #[test]
    fn the_share_counts_ended_attempts_only_up_to_its_limit() {
        use JobRunOutcome::*;
        let runs: Vec<_> = [Running, Succeeded, Failed, Succeeded, Discarded, Succeeded].map(attempt).into();
        assert_eq!(SuccessShare::of(&runs, 50), SuccessShare { succeeded: 3, ended: 5 });
        assert_eq!(SuccessShare::of(&runs, 2), SuccessShare { succeeded: 1, ended: 2 }, "the newest two ended");
        assert_eq!(SuccessShare::of(&[], 50).words(), "no ended run yet");
        assert_eq!(SuccessShare { succeeded: 48, ended: 50 }.words(), "48/50 succeeded");
    }

    #[test]
    fn periods_read_in_their_largest_whole_unit() {
        assert_eq!(period_words(900), "15 minutes");
        assert_eq!(period_words(90), "90 seconds");
        assert_eq!(period_words(3_600), "1 hour");
        assert_eq!(period_words(172_800), "2 days");
        assert_eq!(millis_words(60_000), "1 minute");
        assert_eq!(millis_words(1_500), "1,500 ms");
        assert_eq!(millis_words(300), "300 ms");
    }
}
