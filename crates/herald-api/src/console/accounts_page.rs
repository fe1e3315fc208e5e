//! Channel accounts: the list (search and channel, paged), create and edit (secrets are write-only: shown masked, and a masked
//! value sent back keeps the stored secret), send a test message, refresh the access token,
//! delete. Every write goes through the operations the REST handlers use.

use super::language::filters;
use super::confirm::Confirm;
use super::form::{FieldErrors, Form};
use super::pager::Pager;
use super::render::{Chrome, PageResult, html, ok, shown_at};
use super::session::Session;
use crate::AppState;
use crate::accounts::{self as ops, AccountBody, TestBody};
use crate::error::ApiError;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Extension, Router};
use herald_channels::account_form::{FieldKind, account_fields, config_of, fields_hold};
use herald_core::ChannelKind;
use serde::Deserialize;
use serde_json::{Value, json};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/accounts", get(list).post(create))
        .route("/accounts/new", get(new_form))
        .route("/accounts/fields", get(fields_fragment))
        .route("/accounts/{id}", get(edit_form).post(update))
        .route("/accounts/{id}/test", post(test_send))
        .route("/accounts/{id}/refresh-token", post(refresh))
        .route("/accounts/{id}/delete", post(delete))
}

struct AccountRow {
    id: i64,
    name: String,
    channel: String,
    rate: String,
    updated_at: String,
}

#[derive(Template)]
#[template(path = "console/accounts_list.html")]
struct ListPage {
    chrome: Chrome,
    q: String,
    channel: String,
    channels: Vec<&'static str>,
    /// Why the filter was refused, shown above the list.
    error: Option<String>,
    accounts: Vec<AccountRow>,
    pager: Pager,
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    q: Option<String>,
    channel: Option<String>,
    page: Option<i64>,
}

async fn list(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let (search, channel) = (q.q.unwrap_or_default(), q.channel.unwrap_or_default());
    let page = Pager::page_of(q.page);
    let (mut records, error) = match crate::filters::accounts(Some(&search), Some(&channel), Pager::window(page)) {
        Ok(filter) => (state.store.list_accounts(&filter).await?, None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    let pager = Pager::of("/accounts", &[("q", &search), ("channel", &channel)], page, &mut records);
    let accounts = records
        .into_iter()
        .map(|a| AccountRow {
            id: a.id,
            name: a.name,
            channel: a.channel.to_string(),
            rate: a.rate_per_second.map(|r| format!("{r}/s")).unwrap_or_else(|| "unlimited".into()),
            updated_at: shown_at(a.updated_at),
        })
        .collect();
    Ok(ok(&ListPage {
        chrome: Chrome::new(&session, "/accounts"),
        q: search,
        channel,
        channels: ChannelKind::ALL.iter().map(|c| c.as_str()).collect(),
        error,
        accounts,
        pager,
    }))
}

#[derive(Debug, Clone, Default)]
struct AccountForm {
    name: String,
    channel: String,
    /// The whole config as JSON, when typed: it replaces the fields.
    config: String,
    /// The channel's config fields as typed, by JSON pointer.
    fields: Vec<(String, String)>,
    rate: String,
}

/// The form name of the config field at `pointer`.
const FIELD_PREFIX: &str = "cfg:";

/// One config field of the form, as the page shows it.
pub(crate) struct FieldRow {
    id: String,
    name: String,
    label: &'static str,
    help: &'static str,
    value: String,
    choices: &'static [&'static str],
    required: bool,
    secret: bool,
}

impl AccountForm {
    fn from_form(form: &Form) -> Self {
        let fields = form
            .0
            .iter()
            .filter_map(|(k, v)| k.strip_prefix(FIELD_PREFIX).map(|p| (p.to_string(), v.clone())))
            .collect();
        Self {
            name: form.get("name").unwrap_or_default().to_string(),
            channel: form.text("channel"),
            config: form.get("config").unwrap_or_default().to_string(),
            fields,
            rate: form.text("ratePerSecond"),
        }
    }

    fn typed(&self, pointer: &str) -> Option<String> {
        self.fields.iter().find(|(p, _)| p == pointer).map(|(_, v)| v.clone())
    }

    /// The config fields of its channel, with the values typed or stored.
    fn field_rows(&self) -> Vec<FieldRow> {
        let Some(kind) = ChannelKind::parse(&self.channel) else {
            return Vec::new();
        };
        account_fields(kind)
            .iter()
            .map(|f| FieldRow {
                id: format!("cfg{}", f.pointer.replace('/', "-")),
                name: format!("{FIELD_PREFIX}{}", f.pointer),
                label: f.label,
                help: f.help,
                value: self.typed(f.pointer).unwrap_or_default(),
                choices: match f.kind {
                    FieldKind::Choice(choices) => choices,
                    _ => &[],
                },
                required: f.required,
                secret: f.is_secret(),
            })
            .collect()
    }

    /// The config: the JSON when typed, else what the channel's fields make.
    fn config_value(&self) -> Result<Value, ApiError> {
        if !self.config.trim().is_empty() {
            return serde_json::from_str(&self.config)
                .map_err(|e| ApiError::field("config", format!("is not valid JSON: {e}")));
        }
        match ChannelKind::parse(&self.channel) {
            Some(kind) => config_of(kind, |p| self.typed(p)).map_err(|e| ApiError::field("config", e)),
            None => Ok(json!({})),
        }
    }

    /// The form of a stored (masked) config: its fields filled, and the JSON too when the
    /// fields cannot hold all of it.
    fn with_config(mut self, config: &Value) -> Self {
        if let Some(kind) = ChannelKind::parse(&self.channel) {
            self.fields = account_fields(kind).iter().map(|f| (f.pointer.to_string(), f.shown(config))).collect();
            if !fields_hold(kind, config) {
                self.config = serde_json::to_string_pretty(config).unwrap_or_default();
            }
        }
        self
    }

    /// The body the REST API would get, read by the same parser.
    fn to_body(&self) -> Result<AccountBody, ApiError> {
        let config = self.config_value()?;
        let rate = match self.rate.parse::<f64>() {
            _ if self.rate.is_empty() => Value::Null,
            Ok(r) => json!(r),
            Err(_) => json!(self.rate),
        };
        let body = json!({ "name": self.name, "channel": self.channel, "config": config, "ratePerSecond": rate });
        crate::json::parse(&serde_json::to_vec(&body).map_err(|e| ApiError::Internal(e.to_string()))?)
    }
}

fn field_of(api_field: &str) -> Option<&'static str> {
    match api_field.split('.').next().unwrap_or(api_field) {
        "name" => Some("name"),
        "channel" => Some("channel"),
        "config" => Some("config"),
        "ratePerSecond" => Some("ratePerSecond"),
        _ => None,
    }
}

#[derive(Template)]
#[template(path = "console/account_fields.html")]
struct FieldsFragment {
    rows: Vec<FieldRow>,
}

#[derive(Debug, Deserialize)]
struct FieldsQuery {
    channel: Option<String>,
}

/// The config fields of the channel picked, for the form to swap in when the channel changes.
async fn fields_fragment(Query(q): Query<FieldsQuery>) -> PageResult {
    let form = AccountForm { channel: q.channel.unwrap_or_default(), ..AccountForm::default() };
    Ok(ok(&FieldsFragment { rows: form.field_rows() }))
}

#[derive(Template)]
#[template(path = "console/account_edit.html")]
struct EditPage {
    chrome: Chrome,
    id: Option<i64>,
    form: AccountForm,
    errors: FieldErrors,
    notice: Option<String>,
    channels: Vec<&'static str>,
}

fn edit_page(session: &Session, id: Option<i64>, form: AccountForm, errors: FieldErrors) -> EditPage {
    EditPage {
        chrome: Chrome::new(session, "/accounts"),
        id,
        form,
        errors,
        notice: None,
        channels: ChannelKind::ALL.iter().filter(|c| c.needs_account()).map(|c| c.as_str()).collect(),
    }
}

async fn new_form(Extension(session): Extension<Session>) -> PageResult {
    let form = AccountForm { channel: "dingtalk_robot".into(), ..Default::default() };
    Ok(ok(&edit_page(&session, None, form, FieldErrors::default())))
}

#[derive(Debug, Deserialize)]
struct DoneQuery {
    done: Option<String>,
}

async fn edit_form(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<i64>,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    let record = state.store.get_account(id).await.map_err(ops::not_found(id))?;
    let shown = ops::shown(&state, &record)?;
    let form = AccountForm {
        name: record.name,
        channel: record.channel.to_string(),
        rate: record.rate_per_second.map(|r| r.to_string()).unwrap_or_default(),
        ..AccountForm::default()
    }
    .with_config(&shown.config);
    let mut page = edit_page(&session, Some(id), form, FieldErrors::default());
    page.notice = match q.done.as_deref() {
        Some("created") => Some("Account created.".into()),
        Some("saved") => Some("Saved.".into()),
        _ => None,
    };
    Ok(ok(&page))
}

async fn refused(session: &Session, id: Option<i64>, form: AccountForm, error: ApiError) -> PageResult {
    let errors = FieldErrors::from_api(error, field_of)?;
    Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &edit_page(session, id, form, errors)))
}

async fn create(State(state): State<AppState>, Extension(session): Extension<Session>, form: Form) -> PageResult {
    let form = AccountForm::from_form(&form);
    let result = match form.to_body() {
        Ok(body) => ops::create_account(&state, &body).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(record) => Ok(Redirect::to(&format!("/accounts/{}?done=created", record.id)).into_response()),
        Err(e) => refused(&session, None, form, e).await,
    }
}

async fn update(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<i64>,
    form: Form,
) -> PageResult {
    state.store.get_account(id).await.map_err(ops::not_found(id))?;
    let form = AccountForm::from_form(&form);
    let result = match form.to_body() {
        Ok(body) => ops::update_account(&state, id, body).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/accounts/{id}?done=saved")).into_response()),
        Err(e) => refused(&session, Some(id), form, e).await,
    }
}

async fn delete(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<i64>,
    form: Form,
) -> PageResult {
    if !Confirm::given(&form) {
        let account = state.store.get_account(id).await.map_err(ApiError::from)?;
        return Ok(ok(&Confirm {
            chrome: Chrome::new(&session, "/accounts"),
            title: format!("Delete channel account “{}”?", account.name),
            text: "Its configuration, secrets and token refresh schedule go. It is refused while a template sends \
                   through it; messages already sent keep their traces."
                .into(),
            action: format!("/accounts/{id}/delete"),
            fields: Vec::new(),
            yes: "Yes, delete it".into(),
            back: format!("/accounts/{id}"),
        }));
    }
    ops::delete_account(&state, id).await?;
    Ok(Redirect::to("/accounts").into_response())
}

#[derive(Template)]
#[template(path = "console/account_result.html")]
struct ResultFragment {
    ok: bool,
    title: String,
    detail: String,
}

/// How a test send or token refresh went, as a fragment: 200 when it was tried, 4xx when the
/// request itself was refused.
/// A button's answer as a fragment: a title (success or not) and a detail; a refusal's status.
pub(crate) fn result(outcome: Result<(bool, String, String), ApiError>) -> PageResult {
    match outcome {
        Ok((ok_, title, detail)) => Ok(ok(&ResultFragment { ok: ok_, title, detail })),
        Err(e @ ApiError::Internal(_)) => Err(e.into()),
        Err(e) => {
            let status = e.status_and_code().0;
            Ok(html(status, &ResultFragment { ok: false, title: "Refused".into(), detail: e.to_string() }))
        }
    }
}

async fn test_send(State(state): State<AppState>, Path(id): Path<i64>, form: Form) -> PageResult {
    let content = form.text("content");
    let outcome = async {
        let content = if content.is_empty() {
            None
        } else {
            Some(
                serde_json::from_str::<Value>(&content)
                    .map_err(|e| ApiError::field("content", format!("is not valid JSON: {e}")))?,
            )
        };
        let answer = ops::send_test(&state, id, TestBody { receiver: form.text("receiver"), content }).await?;
        Ok((
            answer.outcome == "sent",
            format!("{} (message {})", answer.outcome, answer.message_id),
            answer.detail.unwrap_or_default(),
        ))
    }
    .await;
    result(outcome)
}

async fn refresh(State(state): State<AppState>, Path(id): Path<i64>) -> PageResult {
    let outcome = ops::refresh_account_token(&state, id)
        .await
        .map(|answer| (true, "Token refreshed".to_string(), format!("expires at {}", answer.expires_at.to_rfc3339())));
    result(outcome)
}
