//! A dry run of a template's crowd: the crowd file streamed through the screens a worker
//! applies, in the worker's order (discard list, test mode, suppression list, quiet hours,
//! render, dedup), counting each row under the first screen that stops it, with a few rendered
//! samples of what would be sent. Nothing is written and nothing is sent: the dedup windows are
//! read with the store's peeks, never counted, and the rules are the workers' own
//! ([`herald_core::policies`]), judged with the node's policy defaults.

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::Path;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use chrono::{DateTime, Datelike, Utc};
use herald_core::dry_run::{CrowdRepeats, Stored};
use herald_core::placeholders::render;
use herald_core::policies::{DedupChecks, Rendered, Verdict, quiet_verdict};
use herald_core::suppression::receiver_key;
use herald_core::{ChannelKind, CrowdRow, MessageKind};
use herald_crowd::{Checkpoint, CrowdFormat, CrowdReader, ReadSeek, RowOutcome};
use herald_store::{StoreError, Template};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, mpsc};

/// Rows screened together: one suppression query and one read of each dedup window a chunk.
const CHUNK_ROWS: usize = 1_000;
/// Chunks the reading thread may be ahead of the screening.
const CHUNKS_AHEAD: usize = 2;
const DEFAULT_SAMPLES: u32 = 3;
const MAX_SAMPLES: u32 = 10;
/// Dry runs under way at once on a node: each reads a whole crowd file and queries the store
/// two or three times per thousand rows.
const MAX_DRY_RUNS: usize = 2;
static DRY_RUNS: Semaphore = Semaphore::const_new(MAX_DRY_RUNS);
/// How long a dry run waits for one under way to end before it is refused with a 429.
const TURN_WAIT: Duration = Duration::from_secs(30);

pub fn router() -> Router<AppState> {
    Router::new().route("/api/templates/{id}/dry-run", post(dry_run))
}

/// When to judge, and how much to show.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct DryRunAsk {
    /// The instant (RFC 3339, in the years 1970 to 9999) at which quiet hours and dedup windows
    /// are judged; now when absent.
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
    /// How many rendered messages to show, 0 to 10; 3 when absent.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 10)]
    pub samples: Option<u32>,
}

/// Where the rows of a crowd would go, each counted once: `rows` is the sum of every other
/// count.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DryRun {
    pub template_id: i64,
    pub crowd_id: String,
    pub channel: ChannelKind,
    /// When quiet hours and dedup were judged.
    pub at: DateTime<Utc>,
    /// Data rows read, valid and invalid.
    pub rows: u64,
    /// Rows a run skips as invalid (the crowd upload's bad rows).
    pub invalid_rows: u64,
    /// Every valid row, when the template is on the discard list; else 0.
    pub discarded: u64,
    /// Receivers the template's test mode does not list.
    pub test_skipped: u64,
    /// Receivers on the suppression list for this channel and kind of message.
    pub suppressed: u64,
    pub quiet_hours: QuietHoursCount,
    /// Rows whose variables leave a placeholder without a value (a run fails these).
    pub render_failed: u64,
    /// Dropped by a content or frequency dedup rule, counting what the dedup windows hold at
    /// `at` and the crowd's own earlier rows.
    pub dedup_dropped: u64,
    /// Rows that pass every screen: what a run started at `at` would send.
    pub would_send: u64,
    /// The first rendered messages that would be sent, in crowd order.
    pub samples: Vec<Sample>,
    /// False when the crowd has more distinct dedup keys than a dry run remembers (100,000):
    /// repeats of a receiver beyond those were not counted, so `wouldSend` may be too high.
    pub repeats_exact: bool,
    pub elapsed_ms: u64,
}

/// Rows inside the quiet window at `at`.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct QuietHoursCount {
    /// Dropped (the template's policy is `drop`).
    pub dropped: u64,
    /// Held until the window ends and judged then (the policy is `defer`); not in `wouldSend`.
    pub deferred: u64,
}

/// One message a run would send.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Sample {
    /// 1-based index among the crowd's data rows.
    pub row: u64,
    pub receiver: String,
    /// The content as rendered for the receiver.
    pub content: Value,
}

/// Streams the template's crowd through the screens a worker applies and counts where each row
/// would stop; sends nothing and writes nothing (no run, no trace, no dedup count). Each row is
/// counted under the first screen that stops it, in the worker's order: discard list, test
/// mode, suppression list, quiet hours, render, dedup. Quiet hours and dedup are judged at
/// `at`, with the template's rules or else the node's defaults; a crowd's own repeats (the same
/// receiver twice against a content or frequency rule) count as they would in a run, for up to
/// 100,000 distinct dedup keys, beyond which `repeatsExact` is false. Two dry runs at most run
/// at once on a node.
#[utoipa::path(post, path = "/api/templates/{id}/dry-run", tag = "templates",
    params(("id" = i64, Path, description = "the template id")),
    request_body(content = Option<DryRunAsk>, description = "optional: when to judge and how many samples; an empty body (or `null`) takes the defaults"),
    responses((status = 200, description = "where the crowd's rows would go", body = DryRun),
        (status = 404, description = "no such template", body = ErrorBody),
        (status = 409, description = "the template has no crowd, or its crowd file is gone or unreadable", body = ErrorBody),
        (status = 422, description = "`at` or `samples` is not valid; the field is named", body = ErrorBody),
        (status = 429, description = "two dry runs are under way on this node; ask again when one ends", body = ErrorBody)))]
async fn dry_run(State(state): State<AppState>, Path(id): Path<i64>, body: Bytes) -> Result<Json<DryRun>, ApiError> {
    // The body is optional: an empty one, or `null`, takes the defaults.
    let ask = if body.iter().all(u8::is_ascii_whitespace) {
        DryRunAsk::default()
    } else {
        crate::json::parse::<Option<DryRunAsk>>(&body)?.unwrap_or_default()
    };
    Ok(Json(dry_run_template(&state, id, ask).await?))
}

/// The dry run of template `id`'s crowd, for the API and the console alike.
pub(crate) async fn dry_run_template(state: &AppState, id: i64, ask: DryRunAsk) -> Result<DryRun, ApiError> {
    let samples = ask.samples.unwrap_or(DEFAULT_SAMPLES);
    if samples > MAX_SAMPLES {
        return Err(ApiError::field("samples", format!("{samples} is more than {MAX_SAMPLES}")));
    }
    let at = ask.at.unwrap_or_else(|| state.clock.now());
    // Far enough from chrono's limits that the rules' date arithmetic (the next midnight, the
    // quiet window's release) cannot overflow.
    if !(1970..=9999).contains(&at.year()) {
        return Err(ApiError::field("at", format!("{at} is not in the years 1970 to 9999")));
    }
    let template = crate::templates::get_template(state, id).await?;
    let (crowd_id, file, format) = open_crowd(state, &template).await?;
    let discarded = state.store.is_discarded(id).await?;
    let _turn = match tokio::time::timeout(TURN_WAIT, DRY_RUNS.acquire()).await {
        Ok(permit) => permit.map_err(|e| ApiError::Internal(e.to_string()))?,
        Err(_) => {
            let busy = format!("{MAX_DRY_RUNS} dry runs are under way on this node; ask again when one ends");
            return Err(ApiError::TooManyRequests(busy));
        }
    };
    let started = Instant::now();
    let mut screen = Screen::new(state, &template, at, samples as usize, discarded);
    let (tx, mut rx) = mpsc::channel(CHUNKS_AHEAD);
    let reading = tokio::task::spawn_blocking(read_chunks(file, format, tx));
    while let Some(chunk) = rx.recv().await {
        let chunk = chunk.map_err(|e| ApiError::Conflict(format!("crowd file {crowd_id} is unreadable: {e}")))?;
        screen.chunk(chunk).await?;
    }
    reading.await.map_err(|e| ApiError::Internal(format!("crowd reader of {crowd_id}: {e}")))?;
    let answer = screen.answer(crowd_id, started.elapsed());
    tracing::info!(
        template_id = id,
        rows = answer.rows,
        would_send = answer.would_send,
        elapsed_ms = answer.elapsed_ms,
        "dry run of a template's crowd"
    );
    Ok(answer)
}

/// The template's crowd file, opened; a 409 when the template has none or it is gone.
async fn open_crowd(
    state: &AppState,
    template: &Template,
) -> Result<(String, Box<dyn ReadSeek + Send>, CrowdFormat), ApiError> {
    let id = template.id;
    let Some(crowd_id) = template.spec.crowd_id.clone() else {
        return Err(ApiError::Conflict(format!("template {id} has no crowd: a dry run reads the crowd a run would")));
    };
    let crowd = match state.store.get_crowd(&crowd_id).await {
        Ok(crowd) => crowd,
        Err(StoreError::NotFound { .. }) => {
            return Err(ApiError::Conflict(format!("the crowd {crowd_id} of template {id} was deleted")));
        }
        Err(e) => return Err(e.into()),
    };
    let file = match state.crowds.open(&crowd_id).await {
        Ok(file) => file,
        Err(herald_crowd::StoreError::NotFound { .. }) => {
            return Err(ApiError::Conflict(format!("the file of crowd {crowd_id} of template {id} is gone")));
        }
        Err(e) => return Err(ApiError::Internal(format!("opening crowd {crowd_id}: {e}"))),
    };
    let format = CrowdFormat::with_receiver_column(crowd.receiver_column);
    Ok((crowd_id, file, format))
}

/// Valid rows read together, and how many invalid rows were read among them.
#[derive(Debug, Default)]
struct Chunk {
    rows: Vec<CrowdRow>,
    invalid: u64,
}

/// The blocking half: reads the file from its first row and hands the rows on a chunk at a time.
/// Stops quietly when the screening hangs up.
fn read_chunks(
    file: Box<dyn ReadSeek + Send>,
    format: CrowdFormat,
    tx: mpsc::Sender<Result<Chunk, String>>,
) -> impl FnOnce() + Send + 'static {
    move || {
        let reader = match CrowdReader::open(file, &format, Checkpoint::default()) {
            Ok(reader) => reader,
            Err(e) => {
                let _ = tx.blocking_send(Err(e.to_string()));
                return;
            }
        };
        let mut chunk = Chunk::default();
        for outcome in reader {
            match outcome {
                Ok(RowOutcome::Valid(row)) => chunk.rows.push(row),
                Ok(RowOutcome::Invalid(_)) => chunk.invalid += 1,
                Err(e) => {
                    let _ = tx.blocking_send(Err(e.to_string()));
                    return;
                }
            }
            if chunk.rows.len() >= CHUNK_ROWS && tx.blocking_send(Ok(std::mem::take(&mut chunk))).is_err() {
                return;
            }
        }
        if !chunk.rows.is_empty() || chunk.invalid > 0 {
            let _ = tx.blocking_send(Ok(chunk));
        }
    }
}

/// A row that passed every screen before dedup, rendered.
struct Candidate {
    row: CrowdRow,
    content: Value,
    checks: DedupChecks,
}

/// The screening of one dry run: the counts so far, the samples, and the crowd's own dedup
/// counts.
struct Screen<'a> {
    state: &'a AppState,
    template: &'a Template,
    kind: MessageKind,
    discarded: bool,
    at: DateTime<Utc>,
    samples_wanted: usize,
    answer: DryRun,
    repeats: CrowdRepeats,
}

impl<'a> Screen<'a> {
    fn new(state: &'a AppState, template: &'a Template, at: DateTime<Utc>, samples: usize, discarded: bool) -> Self {
        let answer = DryRun {
            template_id: template.id,
            crowd_id: String::new(),
            channel: template.spec.channel,
            at,
            rows: 0,
            invalid_rows: 0,
            discarded: 0,
            test_skipped: 0,
            suppressed: 0,
            quiet_hours: QuietHoursCount::default(),
            render_failed: 0,
            dedup_dropped: 0,
            would_send: 0,
            samples: Vec::with_capacity(samples),
            repeats_exact: true,
            elapsed_ms: 0,
        };
        let kind = MessageKind::of_msg_type(template.spec.msg_type);
        Self { state, template, kind, discarded, at, samples_wanted: samples, answer, repeats: CrowdRepeats::default() }
    }

    fn answer(mut self, crowd_id: String, elapsed: Duration) -> DryRun {
        self.answer.crowd_id = crowd_id;
        self.answer.repeats_exact = self.repeats.exact();
        self.answer.elapsed_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
        self.answer
    }

    async fn chunk(&mut self, chunk: Chunk) -> Result<(), ApiError> {
        let count = &mut self.answer;
        count.rows += chunk.rows.len() as u64 + chunk.invalid;
        count.invalid_rows += chunk.invalid;
        if self.discarded {
            count.discarded += chunk.rows.len() as u64;
            return Ok(());
        }
        let spec = &self.template.spec;
        let mut rows = Vec::with_capacity(chunk.rows.len());
        for row in chunk.rows {
            match &spec.test_mode {
                Some(test) if !test.lets_through(&row.receiver) => count.test_skipped += 1,
                _ => rows.push(row),
            }
        }
        let keys: Vec<String> = rows.iter().map(|row| receiver_key(&row.receiver)).collect();
        let suppressed = self.suppressed(&keys).await?;
        let count = &mut self.answer;
        let defaults = &self.state.policy_defaults;
        let mut candidates = Vec::with_capacity(rows.len());
        for (row, key) in rows.into_iter().zip(&keys) {
            if suppressed.contains(key) {
                count.suppressed += 1;
                continue;
            }
            match quiet_verdict(spec, &row.variables, self.at, defaults) {
                Verdict::Send => {}
                Verdict::Drop { .. } => {
                    count.quiet_hours.dropped += 1;
                    continue;
                }
                Verdict::Defer { .. } => {
                    count.quiet_hours.deferred += 1;
                    continue;
                }
            }
            let Ok(content) = render(&spec.content, &row.variables) else {
                count.render_failed += 1;
                continue;
            };
            let message = Rendered { template_id: self.template.id, spec, receiver: &row.receiver, content: &content };
            let checks = defaults.dedup_checks(&message, self.at);
            candidates.push(Candidate { row, content, checks });
        }
        let stored = self.stored(&candidates).await?;
        for (candidate, stored) in candidates.into_iter().zip(stored) {
            if !self.repeats.admit(&candidate.checks, stored) {
                self.answer.dedup_dropped += 1;
                continue;
            }
            self.answer.would_send += 1;
            if self.answer.samples.len() < self.samples_wanted {
                let Candidate { row, content, .. } = candidate;
                self.answer.samples.push(Sample { row: row.row, receiver: row.receiver, content });
            }
        }
        Ok(())
    }

    /// The receivers (as `receiver_key` spells them) the suppression list stops: one query.
    async fn suppressed(&self, keys: &[String]) -> Result<HashSet<String>, ApiError> {
        let mut asked = keys.to_vec();
        asked.sort_unstable();
        asked.dedup();
        let channel = self.template.spec.channel;
        Ok(self.state.store.suppressed_among(&asked, channel, self.kind).await?.into_iter().collect())
    }

    /// What the dedup windows hold for each candidate's checks: one read of each kind of window
    /// (of each content window length, of which a template has one).
    async fn stored(&self, candidates: &[Candidate]) -> Result<Vec<Stored>, ApiError> {
        let mut sliding: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        let mut fixed: Vec<(String, String)> = Vec::new();
        // Each key is asked once, and stands for one window: a content key names the template,
        // so one rule; a frequency key has one bucket at `at`. Content and frequency keys differ
        // in their prefix.
        let mut seen: HashSet<&str> = HashSet::new();
        for c in candidates {
            if let Some(check) = &c.checks.content
                && seen.insert(&check.key)
            {
                sliding.entry(check.window_secs).or_default().push(check.key.clone());
            }
            if let Some(check) = &c.checks.frequency
                && seen.insert(&check.key)
            {
                fixed.push((check.key.clone(), check.bucket.clone()));
            }
        }
        let dedup = self.state.dedup.as_ref();
        let mut held: HashMap<String, u64> = HashMap::new();
        for (window_secs, keys) in sliding {
            let window = chrono::Duration::seconds(window_secs);
            held.extend(keys.iter().cloned().zip(dedup.peek_sliding(&keys, window, self.at).await?));
        }
        if !fixed.is_empty() {
            let counts = dedup.peek_fixed(&fixed, self.at).await?;
            held.extend(fixed.into_iter().map(|(key, _)| key).zip(counts));
        }
        let of = |key: Option<&String>| key.and_then(|k| held.get(k)).copied().unwrap_or(0);
        Ok(candidates
            .iter()
            .map(|c| Stored {
                content: of(c.checks.content.as_ref().map(|check| &check.key)),
                frequency: of(c.checks.frequency.as_ref().map(|check| &check.key)),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The operation's description states the bounds in words: they must be the code's.
    #[test]
    fn the_description_states_the_bounds_the_code_keeps() {
        assert_eq!((herald_core::dry_run::MAX_TRACKED_KEYS, MAX_DRY_RUNS, MAX_SAMPLES), (100_000, 2, 10));
        let doc = crate::openapi::document();
        let operation = &doc["paths"]["/api/templates/{id}/dry-run"]["post"];
        let text = operation.to_string();
        assert!(text.contains("100,000 distinct dedup keys") && text.contains("Two dry runs at most"), "{text}");
        for status in ["200", "404", "409", "422", "429", "default"] {
            assert!(operation["responses"][status].is_object(), "{status} is described");
        }
        assert_eq!(doc["components"]["schemas"]["DryRunAsk"]["properties"]["samples"]["maximum"], 10);
    }
}
