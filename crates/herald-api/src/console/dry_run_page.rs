//! A template's dry run from its page: the *Dry run* button counts where the crowd's rows would
//! go (the API's dry run, judged now) and shows the counts as a table with a few rendered
//! samples; to htmx as a fragment under the button, else as a page of its own.

use super::language::filters;
use super::language::{text, text_with};
use super::render::{Chrome, PageResult, html, shown_at, thousands};
use super::session::Session;
use crate::AppState;
use crate::dry_run::{DryRun, DryRunAsk, dry_run_template};
use crate::error::ApiError;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Extension, Router};

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/templates/{id}/dry-run", post(dry_run))
}

/// One line of the counts table: its element id, what it counts, and how many.
struct CountRow {
    id: &'static str,
    label: String,
    count: String,
}

struct SampleRow {
    row: String,
    receiver: String,
    content: String,
}

/// What the dry run found, as the page shows it.
struct Report {
    at: String,
    elapsed: String,
    counts: Vec<CountRow>,
    samples: Vec<SampleRow>,
    exact: bool,
}

impl Report {
    fn of(d: &DryRun) -> Self {
        let rows: [(&'static str, &str, u64); 10] = [
            ("dry-run-rows", "dry-run-count-rows", d.rows),
            ("dry-run-invalid", "dry-run-count-invalid", d.invalid_rows),
            ("dry-run-discarded", "dry-run-count-discarded", d.discarded),
            ("dry-run-test-skipped", "dry-run-count-test-skipped", d.test_skipped),
            ("dry-run-suppressed", "dry-run-count-suppressed", d.suppressed),
            ("dry-run-quiet-dropped", "dry-run-count-quiet-dropped", d.quiet_hours.dropped),
            ("dry-run-quiet-deferred", "dry-run-count-quiet-deferred", d.quiet_hours.deferred),
            ("dry-run-render-failed", "dry-run-count-render-failed", d.render_failed),
            ("dry-run-dedup-dropped", "dry-run-count-dedup-dropped", d.dedup_dropped),
            ("dry-run-would-send", "dry-run-count-would-send", d.would_send),
        ];
        Self {
            at: shown_at(d.at),
            elapsed: text_with("dry-run-elapsed", &[("ms", &thousands(d.elapsed_ms as i64))]),
            counts: rows
                .into_iter()
                .map(|(id, key, n)| CountRow { id, label: text(key), count: thousands(n as i64) })
                .collect(),
            samples: d
                .samples
                .iter()
                .map(|s| SampleRow {
                    row: thousands(s.row as i64),
                    receiver: s.receiver.clone(),
                    content: s.content.to_string(),
                })
                .collect(),
            exact: d.repeats_exact,
        }
    }
}

#[derive(Template)]
#[template(path = "console/dry_run_result.html")]
struct Fragment {
    report: Option<Report>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "console/dry_run.html")]
struct Page {
    chrome: Chrome,
    id: i64,
    name: String,
    report: Option<Report>,
    error: Option<String>,
}

async fn dry_run(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> PageResult {
    let template = crate::templates::get_template(&state, id).await?;
    let (status, report, error) = match dry_run_template(&state, id, DryRunAsk::default()).await {
        Ok(answer) => (StatusCode::OK, Some(Report::of(&answer)), None),
        Err(e @ ApiError::Internal(_)) => return Err(e.into()),
        Err(e) => (e.status_and_code().0, None, Some(e.to_string())),
    };
    if headers.contains_key("hx-request") {
        return Ok(html(status, &Fragment { report, error }));
    }
    let page = Page { chrome: Chrome::new(&session, "/templates"), id, name: template.spec.name, report, error };
    Ok(html(status, &page))
}
