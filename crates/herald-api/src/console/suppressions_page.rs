//! The suppression list (opt-outs): the entries (search by receiver, filter by channel and
//! source, paged, newest first), adding one by hand, removing one after asking, and importing a
//! CSV with a report of the rows it skipped. Every write goes through the REST API's operations,
//! so both refuse the same input with the same message.

use super::confirm::Confirm;
use super::form::{FieldErrors, Form};
use super::language::{filters, text, text_with};
use super::pager::Pager;
use super::render::{Chrome, PageResult, html, ok, shown_at, thousands};
use super::session::Session;
use crate::error::ApiError;
use crate::suppressions::{
    EVERY_CHANNEL, ImportReport, add_entry, channel_choice, channel_name, import_body_limit, receive_import,
    remove_entry,
};
use crate::{ApiLimits, AppState};
use askama::Template;
use axum::extract::{DefaultBodyLimit, Multipart, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Extension, Router};
use herald_core::listing::clip;
use herald_core::{ChannelKind, FieldError, Kinds, MessageKind, Suppression, SuppressionSource};
use herald_store::SuppressionEntry;
use serde::Deserialize;

/// Bad rows an import report lists; the count covers the rest.
const BAD_ROWS_SHOWN: usize = 100;

pub(crate) fn router(limits: &ApiLimits) -> Router<AppState> {
    Router::new()
        .route("/suppressions", get(page).post(add))
        .route("/suppressions/remove", post(remove))
        .route("/suppressions/import", post(import).layer(DefaultBodyLimit::max(import_body_limit(limits))))
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    q: Option<String>,
    channel: Option<String>,
    source: Option<String>,
    page: Option<i64>,
    done: Option<String>,
}

struct Row {
    receiver: String,
    channel: String,
    /// The entry's channel as the remove form names it.
    channel_value: &'static str,
    kinds: Vec<String>,
    source: String,
    note: String,
    added: String,
}

impl Row {
    fn of(e: &SuppressionEntry) -> Self {
        Self {
            receiver: e.entry.receiver.clone(),
            channel: channel_label(e.entry.channel),
            channel_value: channel_name(e.entry.channel),
            kinds: e.entry.kinds.list().into_iter().map(kind_label).collect(),
            source: source_label(e.entry.source),
            note: e.entry.note.clone().unwrap_or_default(),
            added: shown_at(e.created_at),
        }
    }
}

/// The add form as typed: kept when it is refused.
struct AddForm {
    receiver: String,
    channel: String,
    kinds: Vec<String>,
    note: String,
}

impl Default for AddForm {
    fn default() -> Self {
        Self {
            receiver: String::new(),
            channel: EVERY_CHANNEL.into(),
            kinds: vec![MessageKind::Marketing.as_str().into()],
            note: String::new(),
        }
    }
}

impl AddForm {
    fn of(form: &Form) -> Self {
        Self {
            receiver: form.text("receiver"),
            channel: form.text("channel"),
            kinds: form.all("kinds").into_iter().map(str::to_string).collect(),
            note: form.text("note"),
        }
    }

    fn ticks(&self, kind: &str) -> bool {
        self.kinds.iter().any(|k| k == kind)
    }

    /// The entry the form asks for, or every problem with it, each naming its field.
    fn entry(&self) -> Result<Suppression, ApiError> {
        let mut problems = Vec::new();
        let channel = channel_choice(Some(&self.channel)).unwrap_or_else(|e| {
            problems.extend(field_errors(e));
            None
        });
        let kinds: Vec<MessageKind> = self.kinds.iter().filter_map(|k| MessageKind::parse(k)).collect();
        let unknown = self.kinds.iter().filter(|k| MessageKind::parse(k).is_none()).map(|typed| {
            let quoted = format!("{:?}", clip(typed, 40));
            FieldError::new("kinds", text_with("supp-not-a-kind", &[("value", &quoted)]))
        });
        problems.extend(unknown);
        // An unknown kind is refused already; an empty list would only say so again.
        let given = (kinds.len() == self.kinds.len()).then_some(kinds.as_slice());
        let note = Some(self.note.as_str());
        let entry = Suppression::new(&self.receiver, channel, given, SuppressionSource::Console, note);
        match entry {
            Ok(entry) if problems.is_empty() => Ok(entry),
            Ok(_) => Err(ApiError::Invalid(problems)),
            Err(more) => Err(ApiError::Invalid([problems, more].concat())),
        }
    }
}

fn field_errors(e: ApiError) -> Vec<FieldError> {
    match e {
        ApiError::Invalid(list) => list,
        other => vec![FieldError::new("channel", other.to_string())],
    }
}

/// What an import did.
struct Report {
    rows: String,
    written: String,
    bad_count: String,
    bad_rows: Vec<(u64, String)>,
    /// More bad rows than the report lists.
    more_bad_rows: bool,
}

impl Report {
    fn of(report: &ImportReport) -> Self {
        Self {
            rows: thousands(report.rows as i64),
            written: thousands(report.written as i64),
            bad_count: thousands(report.bad_count as i64),
            bad_rows: report.bad_rows.iter().take(BAD_ROWS_SHOWN).map(|b| (b.line, b.reason.clone())).collect(),
            more_bad_rows: report.bad_count > report.bad_rows.len().min(BAD_ROWS_SHOWN) as u64,
        }
    }
}

/// What the page shows beyond the list: a notice, a refusal, the add form, an import's report.
#[derive(Default)]
struct Answer {
    notice: Option<String>,
    error: Option<String>,
    add: AddForm,
    errors: FieldErrors,
    report: Option<Report>,
    import_error: Option<String>,
}

#[derive(Template)]
#[template(path = "console/suppressions.html")]
struct SuppressionsPage {
    chrome: Chrome,
    q: String,
    channel: String,
    source: String,
    filter_error: Option<String>,
    rows: Vec<Row>,
    pager: Pager,
    answer: Answer,
    channels: Vec<&'static str>,
    kinds: Vec<(&'static str, String)>,
    sources: Vec<(&'static str, String)>,
    /// The kinds an import's rows may default to: value and label.
    kind_sets: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "console/suppression_report.html")]
struct ReportFragment {
    answer: Answer,
}

async fn suppressions_page(
    state: &AppState,
    session: &Session,
    q: ListQuery,
    answer: Answer,
) -> Result<SuppressionsPage, ApiError> {
    let (search, channel, source) =
        (q.q.unwrap_or_default(), q.channel.unwrap_or_default(), q.source.unwrap_or_default());
    let page = Pager::page_of(q.page);
    let (mut entries, filter_error) =
        match crate::filters::suppressions(Some(&search), Some(&channel), Some(&source), Pager::window(page)) {
            Ok(filter) => (state.store.list_suppressions(&filter).await?, None),
            Err(e) => (Vec::new(), Some(e.to_string())),
        };
    let filter = [("q", search.as_str()), ("channel", &channel), ("source", &source)];
    let pager = Pager::of("/suppressions", &filter, page, &mut entries);
    Ok(SuppressionsPage {
        chrome: Chrome::new(session, "/suppressions"),
        rows: entries.iter().map(Row::of).collect(),
        q: search,
        channel,
        source,
        filter_error,
        pager,
        answer,
        channels: ChannelKind::ALL.iter().map(|c| c.as_str()).collect(),
        kinds: MessageKind::ALL.into_iter().map(|k| (k.as_str(), kind_label(k))).collect(),
        sources: SuppressionSource::ALL.into_iter().map(|s| (s.as_str(), source_label(s))).collect(),
        kind_sets: kind_sets(),
    })
}

async fn page(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Query(mut q): Query<ListQuery>,
) -> PageResult {
    let notice = match q.done.take().as_deref() {
        Some("added") => Some(text("supp-added-notice")),
        Some("removed") => Some(text("supp-removed-notice")),
        _ => None,
    };
    Ok(ok(&suppressions_page(&state, &session, q, Answer { notice, ..Answer::default() }).await?))
}

/// The form field an API field error belongs to.
fn form_field(api_field: &str) -> Option<&'static str> {
    ["receiver", "channel", "kinds", "note"].into_iter().find(|f| *f == api_field)
}

async fn add(State(state): State<AppState>, Extension(session): Extension<Session>, form: Form) -> PageResult {
    let typed = AddForm::of(&form);
    let added = match typed.entry() {
        Ok(entry) => add_entry(&state, entry).await.map(|_| ()),
        Err(e) => Err(e),
    };
    let Err(e) = added else {
        tracing::info!(by = ?session.name, "suppression added from the console");
        return Ok(Redirect::to("/suppressions?done=added").into_response());
    };
    let status = e.status_and_code().0;
    let errors = FieldErrors::from_api(e, form_field)?;
    let answer = Answer { add: typed, errors, ..Answer::default() };
    Ok(html(status, &suppressions_page(&state, &session, ListQuery::default(), answer).await?))
}

/// Asks first; with the "yes", removes the entry for the receiver and channel posted.
async fn remove(State(state): State<AppState>, Extension(session): Extension<Session>, form: Form) -> PageResult {
    let (receiver, channel_name) = (form.text("receiver"), form.text("channel"));
    let removed = match channel_choice(Some(&channel_name)) {
        Ok(channel) if !Confirm::given(&form) => return Ok(ok(&remove_confirm(&session, receiver, channel))),
        Ok(channel) => remove_entry(&state, &receiver, channel).await,
        Err(e) => Err(e),
    };
    match removed {
        Ok(()) => {
            tracing::info!(by = ?session.name, "suppression removed from the console");
            Ok(Redirect::to("/suppressions?done=removed").into_response())
        }
        Err(e @ (ApiError::Invalid(_) | ApiError::NotFound(_))) => {
            let status = e.status_and_code().0;
            let answer = Answer { error: Some(e.to_string()), ..Answer::default() };
            Ok(html(status, &suppressions_page(&state, &session, ListQuery::default(), answer).await?))
        }
        Err(e) => Err(e.into()),
    }
}

fn remove_confirm(session: &Session, receiver: String, channel: Option<ChannelKind>) -> Confirm {
    let on = channel_label(channel);
    Confirm {
        chrome: Chrome::new(session, "/suppressions"),
        title: text_with("supp-remove-title", &[("receiver", &receiver)]),
        text: text_with("supp-remove-text", &[("receiver", &receiver), ("channel", &on)]),
        action: "/suppressions/remove".into(),
        fields: vec![("receiver".into(), receiver), ("channel".into(), channel_name(channel).into())],
        yes: text("supp-remove-yes"),
        back: "/suppressions".into(),
    }
}

/// Imports a CSV; answers its report (or refusal) as a fragment to htmx, else as the page.
async fn import(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    multipart: Multipart,
) -> PageResult {
    let (status, report, import_error) = match receive_import(&state, multipart, SuppressionSource::Import).await {
        Ok(report) => (StatusCode::OK, Some(Report::of(&report)), None),
        Err(e @ ApiError::Internal(_)) => return Err(e.into()),
        Err(e) => (e.status_and_code().0, None, Some(e.to_string())),
    };
    let answer = Answer { report, import_error, ..Answer::default() };
    if headers.contains_key("hx-request") {
        return Ok(html(status, &ReportFragment { answer }));
    }
    Ok(html(status, &suppressions_page(&state, &session, ListQuery::default(), answer).await?))
}

fn channel_label(channel: Option<ChannelKind>) -> String {
    channel.map_or_else(|| text("supp-every-channel"), |c| c.as_str().to_string())
}

fn kind_label(kind: MessageKind) -> String {
    match kind {
        MessageKind::Notice => text("supp-kind-notice"),
        MessageKind::Marketing => text("supp-kind-marketing"),
        MessageKind::Verification => text("supp-kind-verification"),
    }
}

fn source_label(source: SuppressionSource) -> String {
    match source {
        SuppressionSource::Api => text("supp-source-api"),
        SuppressionSource::Import => text("supp-source-import"),
        SuppressionSource::Console => text("supp-source-console"),
        SuppressionSource::SmsReply => text("supp-source-sms-reply"),
        SuppressionSource::Unsubscribe => text("supp-source-unsubscribe"),
        SuppressionSource::Bounce => text("supp-source-bounce"),
    }
}

/// Every set of kinds, marketing alone first (the default): as the import's `kinds` field
/// takes it, and as the reader reads it.
fn kind_sets() -> Vec<(String, String)> {
    let mut sets: Vec<Kinds> = (1..=Kinds::EVERY.bits()).filter_map(Kinds::from_bits).collect();
    sets.sort_by_key(|k| *k != Kinds::MARKETING);
    sets.into_iter()
        .map(|k| (k.to_string(), k.list().into_iter().map(kind_label).collect::<Vec<_>>().join(" + ")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_add_form_names_every_field_at_fault() {
        let form = Form::parse(b"receiver=+&channel=pager&kinds=spam&note=x");
        let Err(ApiError::Invalid(problems)) = AddForm::of(&form).entry() else { panic!("refused") };
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["channel", "kinds", "receiver"]);
        let form = Form::parse(b"receiver=A%40B.com&channel=all");
        let Err(ApiError::Invalid(problems)) = AddForm::of(&form).entry() else { panic!("no kind ticked") };
        assert_eq!(problems[0].field, "kinds");
    }

    #[test]
    fn the_add_form_makes_a_console_entry() {
        let form = Form::parse(b"receiver=A%40B.com&channel=sms&kinds=notice&kinds=marketing&note=asked+by+phone");
        let entry = AddForm::of(&form).entry().unwrap();
        assert_eq!((entry.receiver.as_str(), entry.channel), ("a@b.com", Some(ChannelKind::Sms)));
        assert_eq!(entry.kinds.to_string(), "notice,marketing");
        assert_eq!((entry.source, entry.note.as_deref()), (SuppressionSource::Console, Some("asked by phone")));
    }

    #[test]
    fn imports_offer_every_set_of_kinds_marketing_first() {
        let sets = kind_sets();
        assert_eq!(sets.len(), 7);
        assert_eq!(sets[0], ("marketing".to_string(), "marketing".to_string()));
        assert!(sets.iter().any(|(value, label)| value == "notice,marketing,verification"
            && label == "notice + marketing + verification code"));
    }
}
