//! Channel accounts: the list (search and channel, paged), create and edit (secrets are write-only: shown masked, and a masked
//! value sent back keeps the stored secret), send a test message, refresh the access token,
//! delete. Every write goes through the operations the REST handlers use. The channels' own
//! form fields (account configuration and template content) are shown in the page's language
//! from the catalogue: see [`account_field_text`] and [`content_field_text`].

use super::confirm::Confirm;
use super::form::{FieldErrors, Form};
use super::language::filters;
use super::language::{text, text_with};
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
use herald_channels::account_form::{FieldKind, FormField, account_fields, config_of, fields_hold};
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
            rate: a
                .rate_per_second
                .map(|r| text_with("acct-rate", &[("rate", &r)]))
                .unwrap_or_else(|| text("acct-rate-unlimited")),
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
    label: String,
    help: String,
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
            .map(|f| {
                let FieldText { label, help } = account_field_text(kind, f);
                FieldRow {
                    id: format!("cfg{}", f.pointer.replace('/', "-")),
                    name: format!("{FIELD_PREFIX}{}", f.pointer),
                    label,
                    help,
                    value: self.typed(f.pointer).unwrap_or_default(),
                    choices: match f.kind {
                        FieldKind::Choice(choices) => choices,
                        _ => &[],
                    },
                    required: f.required,
                    secret: f.is_secret(),
                }
            })
            .collect()
    }

    /// The config: the JSON when typed, else what the channel's fields make.
    fn config_value(&self) -> Result<Value, ApiError> {
        if !self.config.trim().is_empty() {
            return serde_json::from_str(&self.config).map_err(|e| ApiError::field("config", not_json(&e)));
        }
        let Some(kind) = ChannelKind::parse(&self.channel) else {
            return Ok(json!({}));
        };
        // The channel's own check decides; the refusal is worded here, naming the field as the
        // page shows it.
        for f in account_fields(kind) {
            let typed = self.typed(f.pointer).unwrap_or_default();
            if let Err(refusal) = f.value_of(&typed) {
                return Err(ApiError::field("config", field_refusal(kind, f, typed.trim()).unwrap_or(refusal)));
            }
        }
        config_of(kind, |p| self.typed(p)).map_err(|e| ApiError::field("config", e))
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

/// Why `typed` does not fit the field `f`, in the page's language; None for a refusal the console
/// does not word.
fn field_refusal(kind: ChannelKind, f: &FormField, typed: &str) -> Option<String> {
    let label = account_field_text(kind, f).label;
    let value = format!("{typed:?}");
    match f.kind {
        FieldKind::Integer => Some(text_with("acct-field-not-whole", &[("label", &label), ("value", &value)])),
        FieldKind::Choice(choices) => Some(text_with(
            "acct-field-not-choice",
            &[("label", &label), ("value", &value), ("choices", &choices.join(", "))],
        )),
        _ => None,
    }
}

fn not_json(error: &serde_json::Error) -> String {
    text_with("acct-not-json", &[("error", error)])
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
        Some("created") => Some(text("acct-created")),
        Some("saved") => Some(text("acct-saved")),
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
            title: text_with("acct-delete-title", &[("name", &account.name)]),
            text: text("acct-delete-text"),
            action: format!("/accounts/{id}/delete"),
            fields: Vec::new(),
            yes: text("acct-delete-yes"),
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
            Ok(html(status, &ResultFragment { ok: false, title: text("acct-refused"), detail: e.to_string() }))
        }
    }
}

async fn test_send(State(state): State<AppState>, Path(id): Path<i64>, form: Form) -> PageResult {
    let content = form.text("content");
    let outcome = async {
        let content = if content.is_empty() {
            None
        } else {
            Some(serde_json::from_str::<Value>(&content).map_err(|e| ApiError::field("content", not_json(&e)))?)
        };
        let answer = ops::send_test(&state, id, TestBody { receiver: form.text("receiver"), content }).await?;
        Ok((
            answer.outcome == "sent",
            text_with(
                "acct-test-title",
                &[("outcome", &test_outcome_label(answer.outcome)), ("message", &answer.message_id)],
            ),
            answer.detail.unwrap_or_default(),
        ))
    }
    .await;
    result(outcome)
}

async fn refresh(State(state): State<AppState>, Path(id): Path<i64>) -> PageResult {
    let outcome = ops::refresh_account_token(&state, id).await.map(|answer| {
        let expires = answer.expires_at.to_rfc3339();
        (true, text("acct-token-refreshed"), text_with("acct-token-expires", &[("at", &expires)]))
    });
    result(outcome)
}

/// A test send's outcome as the page words it; one the console does not know is shown as it is.
fn test_outcome_label(outcome: &str) -> String {
    match outcome {
        "sent" => text("acct-test-sent"),
        "retryable" => text("acct-test-retryable"),
        "permanent" => text("acct-test-permanent"),
        other => other.to_string(),
    }
}

/// A channel form field's label and line of help, as the page shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldText {
    pub label: String,
    pub help: String,
}

// The channels crate words each form field in English; the console shows it from the catalogue
// (`locales/*/fields.ftl`) under a key made of the channel and the field's JSON pointer:
// `field-<channel>-<slug>` for an account's configuration field, `field-<channel>-content-<slug>`
// for a template's content field, each with a `-help` key beside it.

/// The label and help of an account configuration field of `kind` (one of
/// `account_fields(kind)`), in the request's language.
pub(crate) fn account_field_text(kind: ChannelKind, field: &FormField) -> FieldText {
    field_text(&account_field_key(kind, field))
}

/// The label and help of a template content field of `kind` (one of
/// `content_fields(kind)`), in the request's language.
pub(crate) fn content_field_text(kind: ChannelKind, field: &FormField) -> FieldText {
    field_text(&content_field_key(kind, field))
}

fn field_text(key: &str) -> FieldText {
    FieldText { label: text(key), help: text(&format!("{key}-help")) }
}

fn account_field_key(kind: ChannelKind, field: &FormField) -> String {
    format!("field-{}-{}", channel_slug(kind), pointer_slug(field.pointer))
}

fn content_field_key(kind: ChannelKind, field: &FormField) -> String {
    format!("field-{}-content-{}", channel_slug(kind), pointer_slug(field.pointer))
}

fn channel_slug(kind: ChannelKind) -> String {
    kind.as_str().replace('_', "-")
}

/// A JSON pointer as a key part: `/suppliers/0/accessKeyId` is `suppliers-0-access-key-id`,
/// `/singleURL` is `single-url`.
fn pointer_slug(pointer: &str) -> String {
    let mut out = String::with_capacity(pointer.len() + 4);
    let mut after_capital = false;
    for c in pointer.trim_start_matches('/').chars() {
        match c {
            'A'..='Z' => {
                if !out.is_empty() && !out.ends_with('-') && !after_capital {
                    out.push('-');
                }
                out.push(c.to_ascii_lowercase());
            }
            'a'..='z' | '0'..='9' => out.push(c),
            _ if !out.ends_with('-') => out.push('-'),
            _ => {}
        }
        after_capital = c.is_ascii_uppercase();
    }
    out.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::super::catalogue_check::keys_of;
    use super::super::language::{Language, speaking};
    use super::*;
    use herald_channels::content_form::content_fields;

    /// Every channel's account and content fields, with the key each is shown under.
    fn every_field() -> Vec<(String, &'static FormField)> {
        let mut all = Vec::new();
        for kind in ChannelKind::ALL {
            all.extend(account_fields(kind).iter().map(|f| (account_field_key(kind, f), f)));
            all.extend(content_fields(kind).iter().map(|f| (content_field_key(kind, f), f)));
        }
        all
    }

    #[test]
    fn pointers_make_kebab_case_keys() {
        assert_eq!(pointer_slug("/suppliers/0/accessKeyId"), "suppliers-0-access-key-id");
        assert_eq!(pointer_slug("/timeoutMs"), "timeout-ms");
        assert_eq!(pointer_slug("/subject"), "subject");
        assert_eq!(channel_slug(ChannelKind::DingTalkWorkNotice), "dingtalk-work-notice");
    }

    #[test]
    fn every_channel_field_has_its_label_and_help_in_both_catalogues() {
        let fields = every_field();
        assert!(fields.len() > 40, "{} fields", fields.len());
        let mut missing = Vec::new();
        for language in Language::ALL {
            let keys = keys_of(language);
            for (key, _) in &fields {
                for key in [key.clone(), format!("{key}-help")] {
                    if !keys.contains(&key) {
                        missing.push(format!("{key} in {}", language.tag()));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "missing: {missing:?}");
    }

    #[tokio::test]
    async fn the_english_field_texts_are_the_channels_own_words() {
        for (key, f) in every_field() {
            assert_eq!(field_text(&key), FieldText { label: f.label.into(), help: f.help.into() }, "{key}");
        }
        let email = &content_fields(ChannelKind::Email)[0];
        assert_eq!(content_field_text(ChannelKind::Email, email).label, "Subject");
        let sms = &account_fields(ChannelKind::Sms)[0];
        let chinese = speaking(Language::Chinese, async { account_field_text(ChannelKind::Sms, sms) }).await;
        assert_ne!(chinese.label, sms.label, "read in the request's language");
    }

    #[tokio::test]
    async fn a_field_refused_is_named_as_the_page_shows_it() {
        let form = AccountForm {
            channel: "wecom_app".into(),
            fields: vec![("/agentId".into(), " abc ".into())],
            ..AccountForm::default()
        };
        let english = form.config_value().unwrap_err().to_string();
        assert!(english.contains(r#"AgentId: "abc" is not a whole number"#), "{english}");
        let form = AccountForm {
            channel: "email".into(),
            fields: vec![("/security".into(), "ssl".into())],
            ..AccountForm::default()
        };
        let chinese = speaking(Language::Chinese, async { form.config_value().unwrap_err().to_string() }).await;
        assert!(chinese.contains("加密方式") && chinese.contains("\"ssl\""), "{chinese}");
    }
}
