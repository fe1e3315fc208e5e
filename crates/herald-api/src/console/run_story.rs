//! The story of one run on its page: what started it and when, how long it took (or has been
//! going), where its messages went (the funnel), the messages that failed with their reasons (a
//! page at a time, each linking to its trace) and the shards its crowd is streamed in with their
//! holders.

use super::funnel_view::FunnelView;
use super::language::{text, text_with};
use super::render::{shown_at, shown_at_opt, thousands};
use crate::AppState;
use crate::error::ApiError;
use chrono::{DateTime, Utc};
use herald_core::{RunProgress, TraceEvent};
use herald_store::{MessageFilter, ShardRecord};

/// Failed messages shown per page.
pub(crate) const FAILURES_PER_PAGE: i64 = 20;

pub(crate) struct Story {
    /// "by its schedule, the fire due …" or "by hand (run now)".
    pub started: String,
    /// "took 12.4 s" or "running for 3 min 5 s".
    pub duration: String,
    pub failures: Vec<Failure>,
    pub failures_page: i64,
    pub more_failures: bool,
    pub shards: Vec<ShardRow>,
    /// Where its messages went, stage by stage.
    pub funnel: FunnelView,
}

pub(crate) struct Failure {
    pub message_id: String,
    pub receiver: String,
    pub reason: String,
    pub at: String,
}

pub(crate) struct ShardRow {
    pub no: i64,
    pub status: String,
    pub rows_read: String,
    pub batches: String,
    pub holder: String,
    pub until: String,
}

impl Story {
    /// The run's story, with page `failures_page` (from 0) of its failed messages.
    pub async fn of(state: &AppState, run: &RunProgress, failures_page: i64) -> Result<Self, ApiError> {
        let filter = MessageFilter {
            run_id: Some(run.id),
            state: Some(TraceEvent::Failed.as_str().into()),
            offset: failures_page * FAILURES_PER_PAGE,
            limit: FAILURES_PER_PAGE + 1,
            ..Default::default()
        };
        let mut failed = state.store.message_states(&filter).await?;
        let more_failures = failed.len() as i64 > FAILURES_PER_PAGE;
        failed.truncate(FAILURES_PER_PAGE as usize);
        let shards = state.store.list_shards(run.id).await?;
        let funnel = FunnelView::of(&crate::funnel::of_run(state, run.id).await?);
        Ok(Self {
            started: started(run),
            duration: duration(run, state.clock.now()),
            failures: failed
                .into_iter()
                .map(|m| Failure {
                    message_id: m.message_id,
                    receiver: m.receiver,
                    reason: m.detail.unwrap_or_default(),
                    at: shown_at(m.at),
                })
                .collect(),
            failures_page,
            more_failures,
            shards: shards.iter().map(ShardRow::of).collect(),
            funnel,
        })
    }
}

impl ShardRow {
    fn of(shard: &ShardRecord) -> Self {
        Self {
            no: shard.shard_no,
            status: shard_status_word(&shard.status),
            rows_read: thousands(shard.rows_read),
            batches: thousands(shard.batches),
            holder: shard.lease_owner.clone().unwrap_or_else(|| "—".into()),
            until: shown_at_opt(shard.lease_until),
        }
    }
}

/// A shard's status in the reader's words; an unknown one as it is.
fn shard_status_word(status: &str) -> String {
    match status {
        "pending" => text("run-shard-pending"),
        "streaming" => text("run-shard-streaming"),
        "done" => text("run-shard-done"),
        other => other.to_string(),
    }
}

fn started(run: &RunProgress) -> String {
    match run.fire_time {
        Some(due) => text_with("run-started-schedule", &[("at", &shown_at(due))]),
        None => text("run-started-by-hand"),
    }
}

/// How long the run took, or has been going as of `now`.
fn duration(run: &RunProgress, now: DateTime<Utc>) -> String {
    let end = run.finished_at.unwrap_or(now);
    let took = span((end - run.created_at).num_milliseconds().max(0));
    if run.status.is_finished() {
        text_with("run-took", &[("span", &took)])
    } else {
        text_with("run-running-for", &[("span", &took)])
    }
}

/// Milliseconds as people read them: "850 ms", "12.4 s", "3 min 5 s", "2 h 7 min".
fn span(ms: i64) -> String {
    match ms {
        ..1_000 => text_with("run-span-ms", &[("ms", &ms)]),
        1_000..60_000 => text_with("run-span-s", &[("s", &format!("{:.1}", ms as f64 / 1_000.0))]),
        60_000..3_600_000 => text_with("run-span-min", &[("min", &(ms / 60_000)), ("s", &(ms % 60_000 / 1_000))]),
        _ => text_with("run-span-h", &[("h", &(ms / 3_600_000)), ("min", &(ms % 3_600_000 / 60_000))]),
    }
}

#[cfg(test)]
mod tests {
    use super::span;

    #[test]
    fn spans_read_as_people_say_them() {
        assert_eq!(span(850), "850 ms");
        assert_eq!(span(12_400), "12.4 s");
        assert_eq!(span(185_000), "3 min 5 s");
        assert_eq!(span(7_620_000), "2 h 7 min");
    }
}
