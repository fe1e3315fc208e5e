//! Template pages: the list (search, status and channel, paged), create and edit with live previews, and the
//! start, stop, run-now (confirmed for large crowds) and delete buttons. Every write goes through
//! the operations the REST handlers use.

use super::confirm::Confirm;
use super::dashboard::RunRow;
use super::form::{FieldErrors, Form};
use super::funnel_view::FunnelView;
use super::language::filters;
use super::language::{text, text_with};
use super::pager::Pager;
use super::render::{Chrome, PageResult, html, ok, shown_at, shown_at_opt, thousands};
use super::session::Session;
use super::template_form::{ContentPreview, CronPreview, TemplateForm, content_preview, cron_preview, field_of};
use crate::AppState;
use crate::error::ApiError;
use crate::templates as ops;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Extension, Router};
use herald_core::{ChannelKind, TemplateStatus};
use herald_store::{AccountFilter, Crowd, CrowdFilter, Template as StoredTemplate, Window};
use serde::Deserialize;

/// Crowds the template form's picker offers, newest first (and the template's own); the crowds
/// page finds any other and starts a template with it.
const CROWDS_OFFERED: i64 = 100;
/// Accounts the template form's picker offers.
const ACCOUNTS_OFFERED: i64 = 500;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/templates", get(list).post(create))
        .route("/templates/new", get(new_form))
        .route("/templates/{id}", get(edit_form).post(update))
        .route("/templates/{id}/start", post(start))
        .route("/templates/{id}/stop", post(stop))
        .route("/templates/{id}/run", post(run_now))
        .route("/templates/{id}/delete", post(delete))
        .route("/templates/{id}/test", post(test_send))
        .route("/preview/cron", post(cron_fragment))
        .route("/preview/content", post(content_fragment))
        .route("/preview/content-rows", post(content_rows_fragment))
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListQuery {
    q: Option<String>,
    status: Option<String>,
    channel: Option<String>,
    page: Option<i64>,
    done: Option<String>,
}

struct ListRow {
    id: i64,
    name: String,
    channel: &'static str,
    status: &'static str,
    status_label: String,
    /// How many receivers its test mode lets through; None when it sends to everyone.
    test_receivers: Option<usize>,
    schedule: String,
    next_fire: String,
}

#[derive(Template)]
#[template(path = "console/templates_list.html")]
pub(crate) struct ListPage {
    chrome: Chrome,
    notice: Option<String>,
    q: String,
    status: String,
    channel: String,
    channels: Vec<&'static str>,
    /// Why the filter was refused, shown above the list.
    error: Option<String>,
    rows: Vec<ListRow>,
    pager: Pager,
}

async fn list(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let notice = (q.done.as_deref() == Some("deleted")).then(|| text("tpl-deleted"));
    Ok(ok(&list_page(&state, &session, q, notice).await?))
}

/// The list as `q` asks for it, with a notice above it (what a button just did).
pub(crate) async fn list_page(
    state: &AppState,
    session: &Session,
    q: ListQuery,
    notice: Option<String>,
) -> Result<ListPage, ApiError> {
    let (search, status, channel) =
        (q.q.unwrap_or_default(), q.status.unwrap_or_default(), q.channel.unwrap_or_default());
    let page = Pager::page_of(q.page);
    let (mut templates, error) =
        match crate::filters::templates(Some(&search), Some(&status), Some(&channel), Pager::window(page)) {
            Ok(filter) => (state.store.list_templates(&filter).await?, None),
            Err(e) => (Vec::new(), Some(e.to_string())),
        };
    let pager =
        Pager::of("/templates", &[("q", &search), ("status", &status), ("channel", &channel)], page, &mut templates);
    Ok(ListPage {
        chrome: Chrome::new(session, "/templates"),
        notice,
        q: search,
        status,
        channel,
        channels: ChannelKind::ALL.iter().map(|c| c.as_str()).collect(),
        error,
        rows: templates.iter().map(ListRow::of).collect(),
        pager,
    })
}

impl ListRow {
    fn of(t: &StoredTemplate) -> Self {
        Self {
            id: t.id,
            name: t.spec.name.clone(),
            channel: t.spec.channel.as_str(),
            status: t.status.as_str(),
            status_label: status_label(t.status),
            test_receivers: t.spec.test_mode.as_ref().map(|m| m.receivers.len()),
            schedule: t
                .spec
                .schedule
                .as_ref()
                .map(|s| format!("{} ({})", s.cron, s.timezone))
                .unwrap_or_else(|| "—".into()),
            next_fire: shown_at_opt(t.next_fire_at),
        }
    }
}

/// A template's status as the page words it.
fn status_label(status: TemplateStatus) -> String {
    match status {
        TemplateStatus::Running => text("tpl-status-running"),
        TemplateStatus::Stopped => text("tpl-status-stopped"),
    }
}

/// A fire's outcome as the page words it; one the console does not know is shown as stored.
fn fire_outcome_label(outcome: &str) -> String {
    match outcome {
        "fired" => text("tpl-fire-fired"),
        "misfire_skipped" => text("tpl-fire-misfire-skipped"),
        "no_crowd" => text("tpl-fire-no-crowd"),
        other => other.to_string(),
    }
}

/// A test send's outcome as the page words it; one the console does not know is shown as it is.
fn test_outcome_label(outcome: &str) -> String {
    match outcome {
        "sent" => text("tpl-test-sent"),
        "retryable" => text("tpl-test-retryable"),
        "permanent" => text("tpl-test-permanent"),
        other => other.to_string(),
    }
}

/// The edit page's side panel for a stored template.
struct Stored {
    id: i64,
    status: &'static str,
    status_label: String,
    test_receivers: Option<usize>,
    running: bool,
    next_fire: String,
    crowd_rows: Option<String>,
    runs: Vec<RunRow>,
    /// Today's messages in the template's zone, stage by stage.
    funnel: FunnelView,
    zone: String,
    /// Fire time, outcome (as stored, for the badge's class), the outcome worded, and the run.
    fires: Vec<(String, String, String, Option<i64>)>,
}

#[derive(Template)]
#[template(path = "console/template_edit.html")]
struct EditPage {
    chrome: Chrome,
    stored: Option<Stored>,
    form: TemplateForm,
    errors: FieldErrors,
    notice: Option<String>,
    channels: Vec<&'static str>,
    accounts: Vec<(String, String)>,
    crowds: Vec<(String, String)>,
    timezones: Vec<&'static str>,
    cron: CronPreview,
    preview: ContentPreview,
}

fn crowd_label(c: &Crowd) -> String {
    text_with(
        "tpl-crowd-option",
        &[
            ("name", &c.original_name),
            ("rows", &thousands(c.rows)),
            ("bad", &thousands(c.bad_rows)),
            ("created", &shown_at(c.created_at)),
        ],
    )
}

async fn edit_page(
    state: &AppState,
    session: &Session,
    id: Option<i64>,
    form: TemplateForm,
    errors: FieldErrors,
) -> Result<EditPage, ApiError> {
    let stored = match id {
        Some(id) => Some(stored_panel(state, id).await?),
        None => None,
    };
    let accounts = state
        .store
        .list_accounts(&AccountFilter { window: Window::first(ACCOUNTS_OFFERED), ..AccountFilter::default() })
        .await?
        .into_iter()
        .map(|a| (a.name.clone(), format!("{} ({})", a.name, a.channel)))
        .collect();
    let newest = CrowdFilter { window: Window::first(CROWDS_OFFERED), ..CrowdFilter::default() };
    let mut crowds: Vec<(String, String)> =
        state.store.list_crowds(&newest).await?.iter().map(|c| (c.id.clone(), crowd_label(c))).collect();
    if !form.crowd_id.is_empty() && !crowds.iter().any(|(id, _)| *id == form.crowd_id) {
        let label = match state.store.get_crowd(&form.crowd_id).await {
            Ok(c) => crowd_label(&c),
            Err(_) => form.crowd_id.clone(),
        };
        crowds.insert(0, (form.crowd_id.clone(), label));
    }
    let cron = cron_preview(&form.cron, &form.timezone, state.clock.now());
    let preview = content_preview(state, &form).await?;
    Ok(EditPage {
        chrome: Chrome::new(session, "/templates"),
        stored,
        form,
        errors,
        notice: None,
        channels: ChannelKind::ALL.iter().map(|c| c.as_str()).collect(),
        accounts,
        crowds,
        timezones: chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect(),
        cron,
        preview,
    })
}

async fn stored_panel(state: &AppState, id: i64) -> Result<Stored, ApiError> {
    let t = ops::get_template(state, id).await?;
    let crowd_rows = match &t.spec.crowd_id {
        Some(c) => state.store.get_crowd(c).await.ok().map(|c| thousands(c.rows)),
        None => None,
    };
    let runs = state.store.list_runs(&herald_store::RunFilter::newest(20).of_template(id)).await?;
    let names = std::collections::HashMap::from([(id, t.spec.name.clone())]);
    let fires = ops::template_fires(state, id, 10).await?;
    let funnel = FunnelView::of(&crate::funnel::of_template_day(state, &t, None).await?);
    Ok(Stored {
        id,
        status: t.status.as_str(),
        status_label: status_label(t.status),
        test_receivers: t.spec.test_mode.as_ref().map(|m| m.receivers.len()),
        running: t.status == TemplateStatus::Running,
        next_fire: match t.next_fire_at {
            Some(at) => format!("{} ({})", super::render::time_in(at, t.spec.timezone()), shown_at(at)),
            None => "—".into(),
        },
        crowd_rows,
        runs: runs.iter().map(|r| RunRow::of(r, &names)).collect(),
        funnel,
        zone: t.spec.timezone().name().to_string(),
        fires: fires
            .iter()
            .map(|f| (shown_at(f.fire_time), f.outcome.clone(), fire_outcome_label(&f.outcome), f.run_id))
            .collect(),
    })
}

#[derive(Debug, Deserialize)]
struct NewQuery {
    crowd: Option<String>,
}

async fn new_form(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Query(q): Query<NewQuery>,
) -> PageResult {
    let page = edit_page(&state, &session, None, TemplateForm::blank(q.crowd), FieldErrors::default()).await?;
    Ok(ok(&page))
}

async fn edit_form(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<i64>,
    Query(q): Query<NoticeQuery>,
) -> PageResult {
    let t = ops::get_template(&state, id).await?;
    let mut page =
        edit_page(&state, &session, Some(id), TemplateForm::from_spec(&t.spec), FieldErrors::default()).await?;
    page.notice = q.notice();
    Ok(ok(&page))
}

#[derive(Debug, Deserialize)]
struct NoticeQuery {
    done: Option<String>,
}

impl NoticeQuery {
    fn notice(&self) -> Option<String> {
        Some(text(match self.done.as_deref()? {
            "created" => "tpl-done-created",
            "saved" => "tpl-done-saved",
            "started" => "tpl-done-started",
            "stopped" => "tpl-done-stopped",
            _ => return None,
        }))
    }
}

/// The form again, answered 422 with the API's messages next to their fields.
async fn refused(
    state: &AppState,
    session: &Session,
    id: Option<i64>,
    form: TemplateForm,
    error: ApiError,
) -> PageResult {
    let errors = FieldErrors::from_api(error, field_of)?;
    let page = edit_page(state, session, id, form, errors).await?;
    Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &page))
}

async fn create(State(state): State<AppState>, Extension(session): Extension<Session>, form: Form) -> PageResult {
    let form = TemplateForm::from_form(&form);
    let result = match form.to_spec() {
        Ok(spec) => ops::create_template(&state, &spec).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(t) => Ok(Redirect::to(&format!("/templates/{}?done=created", t.id)).into_response()),
        Err(e) => refused(&state, &session, None, form, e).await,
    }
}

async fn update(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<i64>,
    form: Form,
) -> PageResult {
    ops::get_template(&state, id).await?;
    let form = TemplateForm::from_form(&form);
    let result = match form.to_spec() {
        Ok(spec) => ops::update_template(&state, id, &spec).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/templates/{id}?done=saved")).into_response()),
        Err(e) => refused(&state, &session, Some(id), form, e).await,
    }
}

/// A button's refusal, shown above the stored template's form.
async fn action_refused(state: &AppState, session: &Session, id: i64, error: ApiError) -> PageResult {
    let t = ops::get_template(state, id).await?;
    refused(state, session, Some(id), TemplateForm::from_spec(&t.spec), error).await
}

async fn start(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<i64>,
) -> PageResult {
    match ops::start_template(&state, id).await {
        Ok(_) => Ok(Redirect::to(&format!("/templates/{id}?done=started")).into_response()),
        Err(ApiError::Invalid(e)) => action_refused(&state, &session, id, ApiError::Invalid(e)).await,
        Err(e) => Err(e.into()),
    }
}

async fn stop(State(state): State<AppState>, Path(id): Path<i64>) -> PageResult {
    ops::stop_template(&state, id).await?;
    Ok(Redirect::to(&format!("/templates/{id}?done=stopped")).into_response())
}

async fn delete(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<i64>,
    form: Form,
) -> PageResult {
    if !Confirm::given(&form) {
        let t = ops::get_template(&state, id).await?;
        return Ok(ok(&Confirm {
            chrome: Chrome::new(&session, "/templates"),
            title: text_with("tpl-delete-title", &[("name", &t.spec.name)]),
            text: text("tpl-delete-text"),
            action: format!("/templates/{id}/delete"),
            fields: Vec::new(),
            yes: text("tpl-delete-yes"),
            back: format!("/templates/{id}"),
        }));
    }
    ops::delete_template(&state, id).await?;
    Ok(Redirect::to("/templates?done=deleted").into_response())
}

#[derive(Template)]
#[template(path = "console/run_confirm.html")]
struct ConfirmPage {
    chrome: Chrome,
    id: i64,
    name: String,
    rows: String,
}

async fn run_now(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<i64>,
    form: Form,
) -> PageResult {
    let t = ops::get_template(&state, id).await?;
    if form.get("confirm") != Some("yes")
        && let Some(crowd_id) = &t.spec.crowd_id
        && let Ok(crowd) = state.store.get_crowd(crowd_id).await
        && crowd.rows >= state.console.confirm_run_rows
    {
        let page = ConfirmPage {
            chrome: Chrome::new(&session, "/templates"),
            id,
            name: t.spec.name,
            rows: thousands(crowd.rows),
        };
        return Ok(ok(&page));
    }
    match ops::run_template_now(&state, id).await {
        Ok(run_id) => Ok(Redirect::to(&format!("/runs/{run_id}")).into_response()),
        Err(e @ (ApiError::Invalid(_) | ApiError::Conflict(_) | ApiError::BadRequest(_))) => {
            action_refused(&state, &session, id, e).await
        }
        Err(e) => Err(e.into()),
    }
}

/// A test send to one receiver, answered as a fragment: the provider's answer and what was sent.
async fn test_send(State(state): State<AppState>, Path(id): Path<i64>, form: Form) -> PageResult {
    let test = crate::template_test::TemplateTest { receiver: form.text("receiver"), variables: None };
    let outcome = crate::template_test::send_template_test(&state, id, test).await.map(|answer| {
        let outcome = answer.outcome;
        let detail = match outcome.detail {
            Some(d) => text_with("tpl-test-detail", &[("detail", &d), ("content", &answer.content)]),
            None => text_with("tpl-test-content", &[("content", &answer.content)]),
        };
        let title = text_with(
            "tpl-test-title",
            &[("outcome", &test_outcome_label(outcome.outcome)), ("message", &outcome.message_id)],
        );
        (outcome.outcome == "sent", title, detail)
    });
    super::accounts_page::result(outcome)
}

#[derive(Template)]
#[template(path = "console/cron_preview.html")]
struct CronFragment {
    cron: CronPreview,
}

async fn cron_fragment(State(state): State<AppState>, form: Form) -> PageResult {
    let cron = cron_preview(&form.text("cron"), &form.text("timezone"), state.clock.now());
    Ok(ok(&CronFragment { cron }))
}

#[derive(Template)]
#[template(path = "console/content_preview.html")]
struct ContentFragment {
    preview: ContentPreview,
}

#[derive(Template)]
#[template(path = "console/content_rows.html")]
struct ContentRowsFragment {
    rows: Vec<super::template_form::ContentRow>,
}

/// The content rows for the channel picked, keeping what was typed under the same names.
async fn content_rows_fragment(form: Form) -> PageResult {
    Ok(ok(&ContentRowsFragment { rows: TemplateForm::from_form(&form).content_rows() }))
}

async fn content_fragment(State(state): State<AppState>, form: Form) -> PageResult {
    let preview = content_preview(&state, &TemplateForm::from_form(&form)).await?;
    Ok(ok(&ContentFragment { preview }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pages_say_what_a_delete_keeps_in_the_api_words() {
        assert_eq!(text("tpl-deleted"), format!("Template deleted: {}.", ops::DELETE_KEEPS));
        assert_eq!(
            text("tpl-delete-text"),
            format!("Its schedule stops and it can no longer be sent; {}.", ops::DELETE_KEEPS)
        );
        assert_eq!(status_label(TemplateStatus::Running), "running");
        assert_eq!(fire_outcome_label("misfire_skipped"), "misfire_skipped");
        assert_eq!(fire_outcome_label("succeeded"), "succeeded", "an unknown outcome is shown as stored");
    }
}
