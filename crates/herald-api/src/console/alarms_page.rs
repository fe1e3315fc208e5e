//! Alarms across herald: every rule raised now, on jobs and housekeeping alike (paged, each
//! linked to its job or housekeeping page), and who each job's alarms tell through which
//! template.

use super::housekeeping_page::housekeeping_label;
use super::job_page::{alarm_rules_words, last_alarm_words};
use super::language::filters;
use super::pager::Pager;
use super::render::{Chrome, PageResult, ok};
use super::session::Session;
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Extension, Router};
use herald_store::{RaisedAlarmRecord, Window};
use serde::Deserialize;

/// Jobs read for the "who is told" table.
const JOBS_READ: i64 = 500;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/alarms", get(page))
}

struct RaisedRow {
    /// The job's or the housekeeping's page.
    href: String,
    name: String,
    rule: String,
    last_sent: String,
    quieted: i64,
}

impl RaisedRow {
    fn of(raised: RaisedAlarmRecord) -> Self {
        let (href, name) = match (raised.job_id, raised.job_name) {
            (Some(id), Some(name)) => (format!("/jobs/{id}"), name),
            _ => {
                let name = housekeeping_label(&raised.kind, raised.account_name.as_deref(), raised.account_id);
                (format!("/housekeeping/{}", raised.schedule_id), name)
            }
        };
        Self {
            href,
            name,
            rule: raised.rule,
            last_sent: last_alarm_words(raised.last_sent_at),
            quieted: raised.quieted,
        }
    }
}

/// A job with alarms, and who they tell.
struct ToldRow {
    job_id: i64,
    name: String,
    template_id: i64,
    receivers: String,
    rules: Vec<String>,
}

#[derive(Template)]
#[template(path = "console/alarms.html")]
struct AlarmsPage {
    chrome: Chrome,
    raised: Vec<RaisedRow>,
    pager: Pager,
    told: Vec<ToldRow>,
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
    let page = Pager::page_of(q.page);
    let mut raised = state.store.list_raised_alarms(Pager::window(page)).await?;
    let pager = Pager::of("/alarms", &[], page, &mut raised);
    let told = state
        .store
        .list_jobs(Window::first(JOBS_READ))
        .await?
        .into_iter()
        .filter_map(|job| {
            let spec = job.spec.alarms?;
            Some(ToldRow {
                job_id: job.id,
                name: job.spec.name,
                template_id: spec.template_id,
                receivers: spec.receivers.join(", "),
                rules: alarm_rules_words(&spec),
            })
        })
        .collect();
    Ok(ok(&AlarmsPage {
        chrome: Chrome::new(&session, "/jobs"),
        raised: raised.into_iter().map(RaisedRow::of).collect(),
        pager,
        told,
    }))
}
