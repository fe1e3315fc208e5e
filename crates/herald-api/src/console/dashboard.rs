//! The dashboard: messages per hour by final state over the last day or week (counted by the
//! database, drawn by Chart.js), totals, and the newest runs.

use super::language::filters;
use super::language::text_with;
use super::render::{Chrome, PageResult, ok, shown_at, thousands};
use super::runs_page::status_word;
use super::session::Session;
use super::trace_page::state_word;
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Extension, Router};
use chrono::{DateTime, Duration, DurationRound, Timelike, Utc};
use chrono_tz::Tz;
use herald_core::{RunProgress, TemplateStatus, TraceEvent};
use herald_store::HourlyCount;
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;

/// Final states in the order the chart stacks them.
const STATES: [TraceEvent; TraceEvent::TERMINAL.len()] = TraceEvent::TERMINAL;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/", get(page))
}

#[derive(Debug, Deserialize)]
struct RangeQuery {
    range: Option<String>,
}

#[derive(Template)]
#[template(path = "console/dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    week: bool,
    /// The chart's data as JSON: `{hours: [...], labels: [...], states: [{state, label, counts}]}`.
    series: String,
    /// Each final state: its value, its word and its total.
    totals: Vec<(String, String, String)>,
    running_templates: i64,
    templates: i64,
    runs: Vec<RunRow>,
}

pub(crate) struct RunRow {
    pub id: i64,
    pub template_id: i64,
    /// Its template's name, or "template N (deleted)".
    pub template_name: String,
    /// The shown status as a value (the badge's class).
    pub status: &'static str,
    /// The shown status in words.
    pub status_label: String,
    pub percent: i64,
    pub delivered: String,
    pub failed: String,
    pub created_at: String,
}

/// The names of the templates `ids` refer to, for lists that name the template of each row;
/// a deleted template's name says so.
pub(crate) async fn names_of(
    state: &AppState,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, String>, crate::error::ApiError> {
    let mut ids: Vec<i64> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    let names = state.store.template_names(&ids).await?;
    Ok(names
        .into_iter()
        .map(|t| {
            let name = if t.deleted { text_with("dash-template-deleted", &[("name", &t.name)]) } else { t.name };
            (t.id, name)
        })
        .collect())
}

/// The template's name out of [`names_of`], or `template N` for one it did not find.
pub(crate) fn name_in(names: &HashMap<i64, String>, id: i64) -> String {
    names.get(&id).cloned().unwrap_or_else(|| text_with("dash-template-id", &[("id", &id)]))
}

impl RunRow {
    pub fn of(run: &RunProgress, names: &HashMap<i64, String>) -> Self {
        Self {
            id: run.id,
            template_id: run.template_id,
            template_name: names
                .get(&run.template_id)
                .cloned()
                .unwrap_or_else(|| text_with("dash-template-id-deleted", &[("id", &run.template_id)])),
            status: run.shown_status(),
            status_label: status_word(run.shown_status()),
            percent: (run.fraction_done() * 100.0).floor() as i64,
            delivered: thousands(run.delivered),
            failed: thousands(run.failed),
            created_at: shown_at(run.created_at),
        }
    }
}

/// Every hour of `[from, to)` with the counts of each state (zero where none), so the chart's
/// axis has no holes.
pub(crate) fn series(counts: &[HourlyCount], from: DateTime<Utc>, to: DateTime<Utc>, zone: Tz) -> serde_json::Value {
    let hours: Vec<DateTime<Utc>> =
        std::iter::successors(Some(from), |h| Some(*h + Duration::hours(1))).take_while(|h| *h < to).collect();
    let mut states: Vec<String> = STATES.iter().map(|s| s.as_str().to_string()).collect();
    for c in counts {
        if !states.contains(&c.state) {
            states.push(c.state.clone());
        }
    }
    let states: Vec<_> = states
        .iter()
        .map(|state| {
            let counts: Vec<i64> = hours
                .iter()
                .map(|h| counts.iter().filter(|c| c.hour == *h && &c.state == state).map(|c| c.count).sum())
                .collect();
            json!({ "state": state, "label": state_word(state), "counts": counts })
        })
        .collect();
    let week = hours.len() > 48;
    json!({ "hours": hours, "labels": hour_labels(&hours, week, zone), "states": states })
}

/// Each hour as the reader's clock shows it: `15:00`, with the day (`5/4 00:00`) at midnight,
/// and on every bar of a week.
fn hour_labels(hours: &[DateTime<Utc>], week: bool, zone: Tz) -> Vec<String> {
    hours
        .iter()
        .map(|h| {
            let local = h.with_timezone(&zone);
            if week || (local.hour() == 0 && local.minute() == 0) {
                local.format("%-m/%-d %H:%M").to_string()
            } else {
                local.format("%H:%M").to_string()
            }
        })
        .collect()
}

async fn page(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Query(q): Query<RangeQuery>,
) -> PageResult {
    let week = q.range.as_deref() == Some("week");
    let now = state.clock.now();
    let to = now.duration_trunc(Duration::hours(1)).unwrap_or(now) + Duration::hours(1);
    let from = to - if week { Duration::days(7) } else { Duration::days(1) };
    let counts = state.store.hourly_outcomes(from, to).await?;
    let series = series(&counts, from, to, session.zone);
    let totals = STATES
        .iter()
        .map(|s| s.as_str())
        .map(|s| {
            (s.to_string(), state_word(s), thousands(counts.iter().filter(|c| c.state == s).map(|c| c.count).sum()))
        })
        .collect();
    let by_status = state.store.count_templates_by_status().await?;
    let count_of =
        |status: TemplateStatus| by_status.iter().filter(|(s, _)| s == status.as_str()).map(|(_, n)| *n).sum();
    let runs = state.store.list_runs(&herald_store::RunFilter::newest(10)).await?;
    let names = names_of(&state, runs.iter().map(|r| r.template_id)).await?;
    Ok(ok(&DashboardPage {
        chrome: Chrome::new(&session, "/"),
        week,
        series: series.to_string(),
        totals,
        running_templates: count_of(TemplateStatus::Running),
        templates: by_status.iter().map(|(_, n)| n).sum(),
        runs: runs.iter().map(|r| RunRow::of(r, &names)).collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_series_has_every_hour_and_every_state() {
        let from = Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap();
        let count = |h: i64, state: &str, count: i64| HourlyCount {
            hour: from + Duration::hours(h),
            state: state.into(),
            count,
        };
        let s = series(
            &[count(0, "sent", 3), count(2, "failed", 1), count(2, "odd", 4)],
            from,
            from + Duration::hours(3),
            Tz::UTC,
        );
        assert_eq!(s["hours"].as_array().unwrap().len(), 3);
        assert_eq!(s["labels"], json!(["5/1 00:00", "01:00", "02:00"]), "midnight shows its day");
        let shanghai = series(&[], from, from + Duration::hours(2), chrono_tz::Asia::Shanghai);
        assert_eq!(shanghai["labels"], json!(["08:00", "09:00"]), "in the reader's zone");
        assert_eq!(s["states"][0], json!({"state": "sent", "label": "sent", "counts": [3, 0, 0]}));
        assert_eq!(s["states"][1], json!({"state": "failed", "label": "failed", "counts": [0, 0, 1]}));
        assert_eq!(
            s["states"][STATES.len()],
            json!({"state": "odd", "label": "odd", "counts": [0, 0, 4]}),
            "unknown states last, named as they are"
        );
    }
}
