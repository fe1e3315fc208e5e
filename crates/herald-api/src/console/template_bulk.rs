//! Acting on many templates at once from the list: start, stop or delete the ticked ones (a
//! delete asks first and says what it keeps). Each goes through the operation its own button
//! uses, and the list reports what was done and, by name, what was refused and why.

use super::confirm::Confirm;
use super::dashboard::{name_in, names_of};
use super::form::Form;
use super::language::{text, text_with};
use super::render::{Chrome, PageResult, html, ok};
use super::session::Session;
use super::templates_page::{ListQuery, list_page};
use crate::AppState;
use crate::error::ApiError;
use crate::templates as ops;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Extension, Router};
use herald_core::listing::name_some;

/// The most templates one bulk action takes (two pages of the list).
const MAX_TICKED: usize = 100;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/templates/bulk", post(bulk))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Start,
    Stop,
    Delete,
}

impl Action {
    fn parse(name: &str) -> Option<Self> {
        match name {
            "start" => Some(Self::Start),
            "stop" => Some(Self::Stop),
            "delete" => Some(Self::Delete),
            _ => None,
        }
    }

    /// The action's past tense, for the log.
    fn done(self) -> &'static str {
        match self {
            Self::Start => "Started",
            Self::Stop => "Stopped",
            Self::Delete => "Deleted",
        }
    }

    /// What the list says was done: how many, and which.
    fn done_notice(self, count: usize, names: &str) -> String {
        let key = match self {
            Self::Start => "tpl-bulk-started",
            Self::Stop => "tpl-bulk-stopped",
            Self::Delete => "tpl-bulk-deleted",
        };
        text_with(key, &[("count", &count), ("names", &names)])
    }

    async fn apply(self, state: &AppState, id: i64) -> Result<(), ApiError> {
        match self {
            Self::Start => ops::start_template(state, id).await.map(drop),
            Self::Stop => ops::stop_template(state, id).await.map(drop),
            Self::Delete => ops::delete_template(state, id).await,
        }
    }
}

async fn bulk(State(state): State<AppState>, Extension(session): Extension<Session>, form: Form) -> PageResult {
    let mut ids: Vec<i64> = form.all("id").iter().filter_map(|v| v.trim().parse().ok()).collect();
    ids.sort_unstable();
    ids.dedup();
    let Some(action) = Action::parse(&form.text("action")) else {
        let notice = text("tpl-bulk-choose");
        return Ok(html(
            StatusCode::UNPROCESSABLE_ENTITY,
            &list_page(&state, &session, ListQuery::default(), Some(notice)).await?,
        ));
    };
    if ids.is_empty() || ids.len() > MAX_TICKED {
        let notice = text_with("tpl-bulk-tick", &[("max", &MAX_TICKED)]);
        return Ok(html(
            StatusCode::UNPROCESSABLE_ENTITY,
            &list_page(&state, &session, ListQuery::default(), Some(notice)).await?,
        ));
    }
    let names = names_of(&state, ids.iter().copied()).await?;
    let name = |id: i64| name_in(&names, id);
    if action == Action::Delete && !Confirm::given(&form) {
        let mut fields: Vec<(String, String)> = ids.iter().map(|id| ("id".to_string(), id.to_string())).collect();
        fields.push(("action".into(), "delete".into()));
        return Ok(ok(&Confirm {
            chrome: Chrome::new(&session, "/templates"),
            title: text_with("tpl-bulk-delete-title", &[("count", &ids.len())]),
            text: text_with("tpl-bulk-delete-text", &[("names", &name_some(ids.iter().map(|&id| name(id))))]),
            action: "/templates/bulk".into(),
            fields,
            yes: text_with("tpl-bulk-delete-yes", &[("count", &ids.len())]),
            back: "/templates".into(),
        }));
    }
    let (mut done, mut refused) = (Vec::new(), Vec::new());
    for &id in &ids {
        match action.apply(&state, id).await {
            Ok(()) => done.push(name(id)),
            Err(
                e @ (ApiError::Invalid(_)
                | ApiError::Conflict(_)
                | ApiError::NotFound(_)
                | ApiError::TemplateNotFound(_)),
            ) => refused.push(format!("{} ({e})", name(id))),
            Err(e) => return Err(e.into()),
        }
    }
    tracing::info!(action = action.done(), done = done.len(), refused = refused.len(), "templates changed in bulk");
    let mut notice = action.done_notice(done.len(), &name_some(&done));
    if !refused.is_empty() {
        notice.push(' ');
        notice.push_str(&text_with("tpl-bulk-refused", &[("count", &refused.len()), ("names", &name_some(&refused))]));
    }
    if action == Action::Delete && !done.is_empty() {
        notice.push(' ');
        notice.push_str(&text("tpl-bulk-deleted-keeps"));
    }
    Ok(ok(&list_page(&state, &session, ListQuery::default(), Some(notice)).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notices_say_what_a_delete_keeps_as_the_api_does() {
        let mut keeps = ops::DELETE_KEEPS.chars();
        let sentence: String = keeps.next().unwrap().to_uppercase().chain(keeps).collect();
        assert_eq!(text("tpl-bulk-deleted-keeps"), format!("{sentence}."));
        assert_eq!(text("tpl-delete-keeps"), ops::DELETE_KEEPS);
        assert_eq!(Action::Start.done_notice(2, "Daily, Weekly"), "Started 2: Daily, Weekly.");
        assert!(
            text_with("tpl-bulk-delete-text", &[("names", &"A, B")]).ends_with(&format!("; {}.", ops::DELETE_KEEPS))
        );
    }
}
