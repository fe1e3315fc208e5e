//! austin's recall API: `POST /recall` with `{"code": "recall", "messageTemplateId": ..,
//! "recallMessageIds": [..]}` takes messages of a template back, each answering on its own:
//!
//! - not sent yet (queued, deferred for quiet hours, held by a pause): claimed as a worker claims
//!   a send, then ended `cancelled` in the ledger, so no worker sends it: `recalled`;
//! - being sent by a worker right now (its claim is live): `too_late`;
//! - sent, on a channel whose provider recalls (DingTalk work notices, WeCom app messages and
//!   Feishu app-bot messages, within 24 hours): the provider's recall, traced `recalled` when it worked, else `too_late`,
//!   `not_recallable` or `failed` (a passing fault: ask again);
//! - sent on any other channel, or ended without a send (failed, dropped): `not_recallable`;
//! - not a message of that template: `not_found`.
//!
//! Asking again is harmless: a message recalled before answers `recalled` without a second
//! provider call. Without ids, austin recalls a whole template: see `recall_template`.

use crate::AppState;
use crate::error::{ApiError, codes};
use crate::json::JsonBody;
use axum::routing::post;
use axum::{Json, Router, extract::State};
use herald_channels::{RecallResult, SentMessage};
use herald_core::listing::{QUOTED_CHARS, clip};
use herald_core::recall::{MAX_RECALL_IDS, RECALLED_BEFORE_SENDING, RecallOutcome};
use herald_core::{MessageId, TraceEvent};
use herald_store::{SendClaim, TraceEntry, TraceRecord};
use serde::{Deserialize, Serialize};

/// The longest message id asked about (herald's are about 30 characters).
const MAX_MESSAGE_ID_CHARS: usize = 128;
/// How long recall holds a message's claim while it ends it.
const CLAIM_FOR: chrono::Duration = chrono::Duration::seconds(30);

pub fn router() -> Router<AppState> {
    Router::new().route("/recall", post(recall))
}

/// austin's `/recall` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RecallRequest {
    /// Always `recall`.
    code: String,
    message_template_id: Option<i64>,
    /// The message ids to take back (as `/send` answered them, or a run's), 1 to 100; left
    /// out, the whole template.
    recall_message_ids: Option<Vec<String>>,
}

/// How one message's recall went.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Recalled {
    message_id: String,
    outcome: RecallOutcome,
    /// Why, in words (the provider's answer, the state it ended in).
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
}

/// austin's answer: code `0` and one entry per message, in the order asked (or, for a whole
/// template, in message id order).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RecallAnswer {
    code: &'static str,
    msg: &'static str,
    data: Vec<Recalled>,
    /// A whole template's recall: the runs it cancelled.
    #[serde(skip_serializing_if = "Option::is_none")]
    cancelled_runs: Option<Vec<i64>>,
    /// A whole template's recall: more messages are left; ask again (what was recalled is not
    /// asked twice).
    #[serde(skip_serializing_if = "Option::is_none")]
    more: Option<bool>,
}

impl Recalled {
    pub(crate) fn new(message_id: String, (outcome, detail): Answer) -> Self {
        Self { message_id, outcome, detail }
    }
}

#[utoipa::path(post, path = "/recall", tag = "send", request_body = RecallRequest,
    responses((status = 200, description = "each message's outcome: recalled (not sent and never will be, or taken \
        back by the provider), not_recallable, too_late (being sent now, or past the provider's 24 hours), failed \
        (ask again) or not_found. Without `recallMessageIds` the whole template: its runs that have not ended are \
        cancelled (`cancelledRuns`), its send API messages not yet sent are stopped, and, when its channel recalls, \
        its messages sent in the last 24 hours are recalled, up to 1,000 a request (`more`: ask again)", body = RecallAnswer),
        (status = 404, description = "no such template")))]
async fn recall(
    State(state): State<AppState>,
    JsonBody(req): JsonBody<RecallRequest>,
) -> Result<Json<RecallAnswer>, ApiError> {
    let (template_id, ids) = req.checked()?;
    let template = state.store.get_template(template_id).await.map_err(|e| match e {
        herald_store::StoreError::NotFound { .. } => {
            ApiError::TemplateNotFound(format!("template {template_id} not found"))
        }
        other => other.into(),
    })?;
    let Some(ids) = ids else {
        let whole = crate::recall_template::recall_template(&state, &template).await?;
        let (data, cancelled_runs, more) = (whole.messages, Some(whole.cancelled_runs), Some(whole.more));
        return Ok(Json(RecallAnswer { code: codes::SUCCESS, msg: "操作成功", data, cancelled_runs, more }));
    };
    let mut data = Vec::with_capacity(ids.len());
    for id in ids {
        let answer = recall_message(&state, &template, &id).await?;
        data.push(Recalled::new(id, answer));
    }
    Ok(Json(RecallAnswer { code: codes::SUCCESS, msg: "操作成功", data, cancelled_runs: None, more: None }))
}

impl RecallRequest {
    /// The template and the distinct ids, in the order asked (None: the whole template), or a
    /// refusal naming the field.
    fn checked(self) -> Result<(i64, Option<Vec<String>>), ApiError> {
        if self.code != "recall" {
            let code = clip(&self.code, QUOTED_CHARS);
            return Err(ApiError::field("code", format!("{code:?} is not supported; use \"recall\"")));
        }
        let template_id =
            self.message_template_id.ok_or_else(|| ApiError::field("messageTemplateId", "is required"))?;
        // Absent means the whole template; an empty list is more likely a mistake than that.
        let Some(ids) = self.recall_message_ids else {
            return Ok((template_id, None));
        };
        if ids.is_empty() {
            let why = "must not be empty (leave it out to recall the whole template)";
            return Err(ApiError::field("recallMessageIds", why));
        }
        if let Some(long) = ids.iter().find(|id| id.chars().count() > MAX_MESSAGE_ID_CHARS) {
            let why = format!("{:?} is longer than {MAX_MESSAGE_ID_CHARS} characters", clip(long, QUOTED_CHARS));
            return Err(ApiError::field("recallMessageIds", why));
        }
        if ids.len() > MAX_RECALL_IDS {
            return Err(ApiError::field(
                "recallMessageIds",
                format!("names {} ids; at most {MAX_RECALL_IDS}", ids.len()),
            ));
        }
        let mut distinct = Vec::with_capacity(ids.len());
        for id in ids {
            if !distinct.contains(&id) {
                distinct.push(id);
            }
        }
        Ok((template_id, Some(distinct)))
    }
}

/// How one message's recall went, and why in words.
pub(crate) type Answer = (RecallOutcome, Option<String>);

/// Recalls message `id` of whichever template sent it (the console's trace page).
pub(crate) async fn recall_any(state: &AppState, id: &str) -> Result<Answer, ApiError> {
    let Some(first) = state.store.trace_of(id).await?.into_iter().next() else {
        return Ok((RecallOutcome::NotFound, Some(format!("no message {}", clip(id, 80)))));
    };
    match state.store.get_template(first.template_id).await {
        Ok(template) => recall_message(state, &template, id).await,
        Err(herald_store::StoreError::NotFound { .. }) => {
            Ok((RecallOutcome::NotRecallable, Some(format!("its template {} was deleted", first.template_id))))
        }
        Err(e) => Err(e.into()),
    }
}

/// Recalls message `id` of `template`, as the module describes.
async fn recall_message(state: &AppState, template: &herald_store::Template, id: &str) -> Result<Answer, ApiError> {
    let answer = recall_traced(state, template, id).await?;
    tracing::info!(message_id = %clip(id, 80), template_id = template.id, outcome = answer.0.as_str(), "recall");
    Ok(answer)
}

async fn recall_traced(state: &AppState, template: &herald_store::Template, id: &str) -> Result<Answer, ApiError> {
    let trace = state.store.trace_of(id).await?;
    let Some(first) = trace.first().filter(|t| t.template_id == template.id) else {
        return Ok((RecallOutcome::NotFound, Some(format!("no message {} of template {}", clip(id, 80), template.id))));
    };
    if trace.iter().any(|t| t.event == TraceEvent::Recalled.as_str()) {
        return Ok((RecallOutcome::Recalled, Some("recalled before".into())));
    }
    let ended = match final_event(&trace) {
        Some(ended) => ended.clone(),
        None => match stop_unsent(state, first).await? {
            Some(answer) => return Ok(answer),
            // It ended between reading its trace and claiming it.
            None => final_event(&state.store.trace_of(id).await?).cloned().ok_or_else(|| {
                ApiError::Internal(format!("message {id} is final in the ledger without a final trace event"))
            })?,
        },
    };
    if ended.event != TraceEvent::Sent.as_str() {
        let detail = format!("it was not sent: it ended {}", ended.event);
        return Ok((RecallOutcome::NotRecallable, Some(detail)));
    }
    recall_sent(state, template, &ended).await
}

/// The message's final event, if it has one.
fn final_event(trace: &[TraceRecord]) -> Option<&TraceRecord> {
    trace.iter().rev().find(|t| TraceEvent::terminal(&t.event).is_some())
}

/// Ends a message no worker has sent as `cancelled`, under a claim so that no worker is sending
/// it at the same time; None when it turned final meanwhile.
pub(crate) async fn stop_unsent(state: &AppState, message: &TraceRecord) -> Result<Option<Answer>, ApiError> {
    let now = state.clock.now();
    let claim = SendClaim { holder: "recall".into(), token: rand::random(), until: now + CLAIM_FOR };
    let id = MessageId(message.message_id.clone());
    let claimed = state.store.claim_sends(std::slice::from_ref(&id), &claim, now).await?;
    if let Some(held) = claimed.held.first() {
        let detail = format!("{} is sending it now", held.holder);
        return Ok(Some((RecallOutcome::TooLate, Some(detail))));
    }
    if claimed.claimed.is_empty() {
        return Ok(None);
    }
    let cancelled = TraceEntry {
        message_id: id,
        template_id: message.template_id,
        run_id: message.run_id,
        receiver: message.receiver.clone(),
        event: TraceEvent::Cancelled,
        detail: Some(RECALLED_BEFORE_SENDING.into()),
    };
    state.store.record_outcomes(&[cancelled], now).await?;
    Ok(Some((RecallOutcome::Recalled, Some(RECALLED_BEFORE_SENDING.into()))))
}

/// Asks the template's channel to take a sent message back; traces `recalled` when it did.
async fn recall_sent(
    state: &AppState,
    template: &herald_store::Template,
    sent: &TraceRecord,
) -> Result<Answer, ApiError> {
    let spec = &template.spec;
    match state.channels.resolve(spec.channel, spec.channel_account.as_deref()).await {
        Ok(channel) => recall_through(state, channel.as_ref(), sent).await,
        Err(why) => Ok((RecallOutcome::Failed, Some(why))),
    }
}

/// Asks `channel` to take a sent message back; traces `recalled` when it did.
pub(crate) async fn recall_through(
    state: &AppState,
    channel: &dyn herald_channels::Channel,
    sent: &TraceRecord,
) -> Result<Answer, ApiError> {
    let message = SentMessage {
        message_id: sent.message_id.clone(),
        receiver: sent.receiver.clone(),
        detail: sent.detail.clone(),
        sent_at: sent.at,
    };
    Ok(match channel.recall(&message, state.clock.now()).await {
        RecallResult::Recalled => {
            let recalled = TraceEntry {
                message_id: MessageId(sent.message_id.clone()),
                template_id: sent.template_id,
                run_id: sent.run_id,
                receiver: sent.receiver.clone(),
                event: TraceEvent::Recalled,
                detail: None,
            };
            state.store.record_trace(&[recalled], state.clock.now()).await?;
            (RecallOutcome::Recalled, None)
        }
        RecallResult::NotRecallable { reason } => (RecallOutcome::NotRecallable, Some(reason)),
        RecallResult::TooLate { reason } => (RecallOutcome::TooLate, Some(reason)),
        RecallResult::Failed { reason } => (RecallOutcome::Failed, Some(reason)),
    })
}
