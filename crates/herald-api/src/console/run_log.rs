//! A run log as the console pages show it, a job's attempts or a housekeeping schedule's runs
//! alike: a page of them newest first, filtered by outcome (an unknown one refused in words),
//! with the share of the page's ended runs that succeeded. `templates/console/run_log.html`
//! draws it.

use super::jobs_page::{SuccessShare, outcome_word};
use super::language::text_with;
use super::pager::Pager;
use super::render::{shown_at, thousands};
use crate::AppState;
use crate::error::ApiError;
use herald_store::{JobRunFilter, JobRunOutcome, JobRunRecord};

/// Whose runs a log reads.
#[derive(Debug, Clone, Copy)]
pub(crate) enum RunsOf {
    Job(i64),
    Schedule(i64),
}

/// One page of a run log, with its filter.
pub(crate) struct RunLog {
    /// The page it is on (the filter's form posts here).
    pub path: String,
    /// The filter: an outcome's value, empty for any.
    pub outcome: String,
    /// Each outcome: its value and its word.
    pub outcomes: Vec<(&'static str, String)>,
    /// Why the filter was refused, shown above the log.
    pub error: Option<String>,
    pub runs: Vec<RunRow>,
    /// Over the page's rows.
    pub share: SuccessShare,
}

impl RunLog {
    /// Page `page` of the runs of `of` that ended `outcome` (any when empty), and its pager.
    pub async fn read(
        state: &AppState,
        of: RunsOf,
        path: String,
        outcome: Option<String>,
        page: Option<i64>,
    ) -> Result<(Self, Pager), ApiError> {
        let outcome = outcome.unwrap_or_default().trim().to_string();
        let page = Pager::page_of(page);
        let window = Pager::window(page);
        let (mut runs, error) = match checked_outcome(&outcome) {
            Ok(picked) => {
                let runs = match of {
                    RunsOf::Job(job_id) => {
                        state.store.list_job_runs(&JobRunFilter { job_id, outcome: picked, window }).await?
                    }
                    RunsOf::Schedule(id) => state.store.list_schedule_runs(id, picked, window).await?,
                };
                (runs, None)
            }
            Err(why) => (Vec::new(), Some(why)),
        };
        let pager = Pager::of(&path, &[("outcome", &outcome)], page, &mut runs);
        let log = Self {
            path,
            outcome,
            outcomes: JobRunOutcome::ALL.iter().map(|o| (o.as_str(), outcome_word(*o))).collect(),
            error,
            share: SuccessShare::of(&runs, usize::MAX),
            runs: runs.into_iter().map(RunRow::of).collect(),
        };
        Ok((log, pager))
    }
}

/// The outcome the filter names; None for any; refused in words when it names none.
fn checked_outcome(outcome: &str) -> Result<Option<JobRunOutcome>, String> {
    if outcome.is_empty() {
        return Ok(None);
    }
    JobRunOutcome::parse(outcome).map(Some).ok_or_else(|| {
        let value = format!("{:?}", herald_core::listing::clip(outcome, herald_core::listing::QUOTED_CHARS));
        text_with("job-filter-outcome-unknown", &[("value", &value)])
    })
}

pub(crate) struct RunRow {
    pub id: i64,
    pub started: String,
    pub duration: String,
    pub node: String,
    pub attempt: i32,
    /// "2/4" for a shard of a sharded or broadcast fire.
    pub shard: Option<String>,
    /// The outcome as a value (the badge's class).
    pub outcome: &'static str,
    pub outcome_label: String,
    pub status: String,
    pub error: Option<String>,
    pub output: Option<String>,
}

impl RunRow {
    fn of(run: JobRunRecord) -> Self {
        Self {
            id: run.id,
            started: shown_at(run.started_at),
            duration: run
                .duration_ms
                .map(|ms| text_with("job-ms", &[("n", &thousands(ms))]))
                .unwrap_or_else(|| "—".into()),
            node: run.node,
            attempt: run.attempt,
            shard: run.shard.zip(run.shards).map(|(shard, of)| format!("{shard}/{of}")),
            outcome: run.outcome.as_str(),
            outcome_label: outcome_word(run.outcome),
            status: run.status_code.map(|s| s.to_string()).unwrap_or_else(|| "—".into()),
            error: run.error,
            output: run.output.filter(|o| !o.is_empty()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outcome_filter_takes_the_run_logs_values() {
        assert_eq!(checked_outcome(""), Ok(None));
        assert_eq!(checked_outcome("timed_out"), Ok(Some(JobRunOutcome::TimedOut)));
        assert_eq!(checked_outcome("ok<b>").unwrap_err(), r#""ok<b>" is not an outcome"#);
    }
}
