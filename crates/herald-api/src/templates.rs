//! Template administration: create, read, list, update, delete, start, stop and run-now.
//! A template is checked on its own and against its crowd file's columns before it is stored.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::filters;
use crate::json::JsonBody;
use crate::paging::PageOf;
use crate::paging::{DEFAULT_LIMIT, PageQuery};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use herald_core::{CronSchedule, TemplateSpec, TemplateStatus};
use herald_store::{FireRecord, StoreError, Template};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/templates", get(list).post(create))
        .route("/api/templates/{id}", get(read).put(update).delete(remove))
        .route("/api/templates/{id}/start", post(start))
        .route("/api/templates/{id}/stop", post(stop))
        .route("/api/templates/{id}/run", post(run_now))
        .route("/api/templates/{id}/fires", get(fires))
}

/// Checks a spec, looking up its crowd file's columns.
pub(crate) async fn validate(state: &AppState, spec: &TemplateSpec) -> Result<(), ApiError> {
    let columns = match &spec.crowd_id {
        Some(id) => match state.store.get_crowd(id).await {
            Ok(crowd) => Some(crowd.columns),
            Err(StoreError::NotFound { .. }) => {
                return Err(ApiError::field("crowdId", format!("no uploaded crowd file {id:?}")));
            }
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let mut errors = spec.validate(columns.as_deref());
    if let Some(error) = no_fire_ahead(state, spec) {
        errors.push(error);
    }
    if let Some(name) = spec.channel_account.as_deref().filter(|_| spec.channel.needs_account()) {
        match state.store.get_account_by_name(name).await {
            Ok(account) if account.channel != spec.channel => errors.push(herald_core::FieldError::new(
                "channelAccount",
                format!("{name:?} is a {} account, not {}", account.channel, spec.channel),
            )),
            Ok(_) => {}
            Err(StoreError::NotFound { .. }) => errors
                .push(herald_core::FieldError::new("channelAccount", format!("no channel account named {name:?}"))),
            Err(e) => return Err(e.into()),
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(ApiError::Invalid(errors)) }
}

/// A schedule whose years are all past parses (stored ones stay readable) but would never fire:
/// refused when a template is saved or started.
fn no_fire_ahead(state: &AppState, spec: &TemplateSpec) -> Option<herald_core::FieldError> {
    let schedule = spec.schedule.as_ref()?;
    let cron = CronSchedule::parse(&schedule.cron, &schedule.timezone).ok()?;
    let err = cron.first_fire_after(state.clock.now()).err()?;
    Some(herald_core::FieldError::new("schedule.cron", err.to_string()))
}

fn template_not_found(id: i64) -> impl FnOnce(StoreError) -> ApiError {
    move |e| match e {
        StoreError::NotFound { .. } => ApiError::TemplateNotFound(format!("template {id} not found")),
        other => other.into(),
    }
}

#[utoipa::path(post, path = "/api/templates", tag = "templates", request_body = TemplateSpec,
    responses((status = 201, description = "created", body = Template)))]
async fn create(
    State(state): State<AppState>,
    JsonBody(spec): JsonBody<TemplateSpec>,
) -> Result<(StatusCode, Json<Template>), ApiError> {
    Ok((StatusCode::CREATED, Json(create_template(&state, &spec).await?)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct TemplateQuery {
    /// Part of the name (any case), or the id.
    q: Option<String>,
    /// running or stopped.
    status: Option<String>,
    /// Only templates sending on this channel.
    channel: Option<String>,
    /// Items per page: 1 to 500, 100 when absent.
    limit: Option<i64>,
    /// Items to skip: 0 to 100,000.
    offset: Option<i64>,
}

#[utoipa::path(get, path = "/api/templates", tag = "templates", params(TemplateQuery),
    responses((status = 200, description = "a page of templates, by id", body = PageOf<Template>)))]
async fn list(State(state): State<AppState>, Query(q): Query<TemplateQuery>) -> Result<Json<Value>, ApiError> {
    let page = PageQuery::new(q.limit.unwrap_or(DEFAULT_LIMIT), q.offset).check()?;
    let filter = filters::templates(q.q.as_deref(), q.status.as_deref(), q.channel.as_deref(), page.window())?;
    let (items, next) = page.take_fetched(state.store.list_templates(&filter).await?);
    Ok(Json(page.wrap(&items, next)))
}

#[utoipa::path(get, path = "/api/templates/{id}", tag = "templates", params(("id" = i64, Path, description = "the template id")),
    responses((status = 200, description = "the template", body = Template)))]
async fn read(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<Template>, ApiError> {
    Ok(Json(get_template(&state, id).await?))
}

#[utoipa::path(put, path = "/api/templates/{id}", tag = "templates", params(("id" = i64, Path, description = "the template id")), request_body = TemplateSpec,
    responses((status = 200, description = "the template as saved", body = Template)))]
async fn update(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    JsonBody(spec): JsonBody<TemplateSpec>,
) -> Result<Json<Template>, ApiError> {
    Ok(Json(update_template(&state, id, &spec).await?))
}

/// A deleted template's answer: what deleting keeps.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct TemplateDeleted {
    id: i64,
    deleted: bool,
    kept: &'static str,
}

#[utoipa::path(delete, path = "/api/templates/{id}", tag = "templates", params(("id" = i64, Path, description = "the template id")),
    responses((status = 200, description = "deleted; its runs, traces and ledger are kept", body = TemplateDeleted)))]
async fn remove(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<TemplateDeleted>, ApiError> {
    delete_template(&state, id).await?;
    Ok(Json(TemplateDeleted { id, deleted: true, kept: DELETE_KEEPS }))
}

#[utoipa::path(post, path = "/api/templates/{id}/start", tag = "templates", params(("id" = i64, Path, description = "the template id")),
    responses((status = 200, description = "its schedule runs", body = Template)))]
async fn start(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<Template>, ApiError> {
    Ok(Json(start_template(&state, id).await?))
}

#[utoipa::path(post, path = "/api/templates/{id}/stop", tag = "templates", params(("id" = i64, Path, description = "the template id")),
    responses((status = 200, description = "its schedule is stopped", body = Template)))]
async fn stop(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<Template>, ApiError> {
    Ok(Json(stop_template(&state, id).await?))
}

/// A run started now.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RunStarted {
    run_id: i64,
}

#[utoipa::path(post, path = "/api/templates/{id}/run", tag = "templates", params(("id" = i64, Path, description = "the template id")),
    responses((status = 202, description = "a run started now", body = RunStarted)))]
async fn run_now(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<RunStarted>), ApiError> {
    let run_id = run_template_now(&state, id).await?;
    Ok((StatusCode::ACCEPTED, Json(RunStarted { run_id })))
}

/// Newest first.
#[utoipa::path(get, path = "/api/templates/{id}/fires", tag = "templates", params(("id" = i64, Path, description = "the template id"), PageQuery),
    responses((status = 200, description = "its fires, newest first", body = PageOf<FireRecord>)))]
async fn fires(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(page): Query<PageQuery>,
) -> Result<Json<Value>, ApiError> {
    let page = page.check()?;
    Ok(Json(page.answer(template_fires(&state, id, page.fetch()).await?)))
}

// The operations themselves, shared by the REST handlers above and the admin console, so both
// apply the same rules and refuse the same input with the same message.

pub(crate) async fn get_template(state: &AppState, id: i64) -> Result<Template, ApiError> {
    state.store.get_template(id).await.map_err(template_not_found(id))
}

pub(crate) async fn create_template(state: &AppState, spec: &TemplateSpec) -> Result<Template, ApiError> {
    validate(state, spec).await?;
    let template = state.store.create_template(spec, state.clock.now()).await?;
    tracing::info!(template_id = template.id, name = ?template.spec.name, "template created");
    Ok(template)
}

pub(crate) async fn update_template(state: &AppState, id: i64, spec: &TemplateSpec) -> Result<Template, ApiError> {
    validate(state, spec).await?;
    let template = state.store.update_template(id, spec, state.clock.now()).await.map_err(template_not_found(id))?;
    if template.status == TemplateStatus::Running && template.spec.schedule.is_none() {
        return Ok(state.store.set_template_status(id, TemplateStatus::Stopped, state.clock.now()).await?);
    }
    Ok(template)
}

/// What deleting a template leaves, as the API and the console say it.
pub(crate) const DELETE_KEEPS: &str =
    "its runs, fire history, message traces and delivery ledger are kept; its id is never reused";

pub(crate) async fn delete_template(state: &AppState, id: i64) -> Result<(), ApiError> {
    state.store.delete_template(id, state.clock.now()).await.map_err(template_not_found(id))?;
    tracing::info!(template_id = id, "template deleted");
    Ok(())
}

pub(crate) async fn start_template(state: &AppState, id: i64) -> Result<Template, ApiError> {
    let template = get_template(state, id).await?;
    if template.spec.schedule.is_none() {
        return Err(ApiError::field(
            "schedule",
            "the template has no schedule to start; use run-now for a one-off send",
        ));
    }
    if let Some(error) = no_fire_ahead(state, &template.spec) {
        return Err(ApiError::Invalid(vec![error]));
    }
    let template = state.store.set_template_status(id, TemplateStatus::Running, state.clock.now()).await?;
    tracing::info!(template_id = id, next_fire_at = ?template.next_fire_at, "template started");
    Ok(template)
}

pub(crate) async fn stop_template(state: &AppState, id: i64) -> Result<Template, ApiError> {
    let template = state
        .store
        .set_template_status(id, TemplateStatus::Stopped, state.clock.now())
        .await
        .map_err(template_not_found(id))?;
    tracing::info!(template_id = id, "template stopped");
    Ok(template)
}

pub(crate) async fn run_template_now(state: &AppState, id: i64) -> Result<i64, ApiError> {
    let run_id = state.store.create_run(id, state.clock.now()).await.map_err(template_not_found(id))?;
    tracing::info!(template_id = id, run_id, "run started by hand");
    Ok(run_id)
}

pub(crate) async fn template_fires(state: &AppState, id: i64, limit: i64) -> Result<Vec<FireRecord>, ApiError> {
    get_template(state, id).await?;
    Ok(match state.store.schedule_id_of(id).await? {
        Some(schedule_id) => state.store.list_fires(schedule_id, limit).await?,
        None => Vec::new(),
    })
}
