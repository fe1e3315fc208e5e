//! Calendars: every job and template schedule that has one (days it does not fire on, such as
//! holidays, times of day it does not fire in, and a window it fires within), with its excluded
//! days still to come, how many have passed, and its next fires with the calendar applied, each
//! in the schedule's own zone. They are edited where the schedule is: a job's JSON
//! (`excludeDates`, `excludeWindows`, `startAt`, `endAt`) or the template form.

use super::language::{filters, text, text_with};
use super::pager::Pager;
use super::render::{Chrome, PageResult, ok, shown_at, time_in};
use super::session::Session;
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Extension, Router};
use chrono::{DateTime, Utc};
use herald_core::ScheduleSpec;
use herald_core::scheduled_job::JobSchedule;
use herald_store::{TemplateFilter, Window};
use serde::Deserialize;

/// Jobs and templates read, each.
const READ: i64 = 1_000;
/// Next fires shown per schedule.
const NEXT_FIRES: usize = 5;
/// Excluded days to come shown per schedule; the rest are counted.
const DAYS_SHOWN: usize = 12;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/calendars", get(page))
}

struct CalendarRow {
    href: String,
    name: String,
    /// `job` or `template`, in words.
    kind: String,
    timezone: String,
    /// Its window in words; empty when it has none.
    window: String,
    /// Times of day it does not fire in: `22:00–06:00`.
    times: Vec<String>,
    /// Excluded days from today on, the first [`DAYS_SHOWN`].
    days: Vec<String>,
    /// Excluded days to come beyond those.
    more_days: usize,
    /// Excluded days already past.
    past_days: usize,
    /// The next fires with the calendar applied, in the schedule's zone.
    next_fires: Vec<String>,
}

impl CalendarRow {
    /// A cron schedule's calendar; None when it has none.
    fn of_cron(href: String, name: String, kind: String, spec: &ScheduleSpec, now: DateTime<Utc>) -> Option<Self> {
        let none = spec.exclude_dates.is_empty() && spec.exclude_windows.is_empty();
        if none && spec.start_at.is_none() && spec.end_at.is_none() {
            return None;
        }
        let tz: chrono_tz::Tz = spec.timezone.parse().ok()?;
        let today = now.with_timezone(&tz).date_naive();
        let (past, upcoming): (Vec<&chrono::NaiveDate>, Vec<_>) = spec.exclude_dates.iter().partition(|d| **d < today);
        let mut next_fires = Vec::new();
        if let (Ok(timetable), Ok(Some(first))) = (spec.timetable(), spec.first_fire_after(now)) {
            let mut at = Some(first);
            while let Some(fire) = at.filter(|_| next_fires.len() < NEXT_FIRES) {
                next_fires.push(time_in(fire, tz));
                at = timetable.next_after(fire);
            }
        }
        Some(Self {
            href,
            name,
            kind,
            timezone: spec.timezone.clone(),
            window: window_words(spec.start_at, spec.end_at),
            times: spec.exclude_windows.iter().map(|w| w.label()).collect(),
            days: upcoming.iter().take(DAYS_SHOWN).map(|d| d.to_string()).collect(),
            more_days: upcoming.len().saturating_sub(DAYS_SHOWN),
            past_days: past.len(),
            next_fires,
        })
    }
}

/// `from … until …`, `from …`, `until …`, or empty.
fn window_words(start: Option<DateTime<Utc>>, end: Option<DateTime<Utc>>) -> String {
    match (start, end) {
        (Some(s), Some(e)) => text_with("cal-window-both", &[("start", &shown_at(s)), ("end", &shown_at(e))]),
        (Some(s), None) => text_with("cal-window-from", &[("start", &shown_at(s))]),
        (None, Some(e)) => text_with("cal-window-until", &[("end", &shown_at(e))]),
        (None, None) => String::new(),
    }
}

#[derive(Template)]
#[template(path = "console/calendars.html")]
struct CalendarsPage {
    chrome: Chrome,
    rows: Vec<CalendarRow>,
    pager: Pager,
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    page: Option<i64>,
}

async fn page(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Query(q): Query<PageQuery>,
) -> PageResult {
    let now = state.clock.now();
    let mut all = Vec::new();
    for job in state.store.list_jobs(Window::first(READ)).await? {
        let JobSchedule::Cron(spec) = &job.spec.schedule else { continue };
        let row =
            CalendarRow::of_cron(format!("/jobs/{}", job.id), job.spec.name.clone(), text("cal-kind-job"), spec, now);
        all.extend(row);
    }
    let templates = TemplateFilter { window: Window::first(READ), ..TemplateFilter::default() };
    for template in state.store.list_templates(&templates).await? {
        let Some(spec) = &template.spec.schedule else { continue };
        let href = format!("/templates/{}", template.id);
        all.extend(CalendarRow::of_cron(href, template.spec.name.clone(), text("cal-kind-template"), spec, now));
    }
    let page = Pager::page_of(q.page);
    let window = Pager::window(page);
    let mut rows: Vec<CalendarRow> = all.into_iter().skip(window.offset as usize).take(window.limit as usize).collect();
    let pager = Pager::of("/calendars", &[], page, &mut rows);
    Ok(ok(&CalendarsPage { chrome: Chrome::new(&session, "/jobs"), rows, pager }))
}
