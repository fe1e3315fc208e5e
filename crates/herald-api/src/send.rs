//! The austin-compatible send API. `POST /send` takes one `messageParam`, `POST /batchSend` a
//! `messageParamList`; each param names at most 100 comma-separated receivers. Messages are
//! published on the same bus the crowd runs use and answered with their message ids.
//! `/batchSend` takes at most [`MAX_PARAMS_PER_REQUEST`] params.
//!
//! A request is accepted or refused whole: every param is checked, and every job encoded for the
//! bus, before anything is written. A param with a `bizId` that repeats an earlier request's
//! (same template, bizId and receiver) within [`BIZ_ID_WINDOW`] keeps that request's message id:
//! the answer carries it, and the job goes out again under it, so a client retry after a lost
//! answer is delivered once (the delivery ledger drops the repeat) and never lost.

use crate::AppState;
use crate::error::{ApiError, codes};
use crate::intake::{Refusal, Request};
use crate::json::JsonBody;
use crate::send_params::{MessageParam, RequestIds, to_item};
use axum::routing::post;
use axum::{Json, Router, extract::State};
use herald_bus::{EncodedJobs, JobTooLarge};
use herald_core::listing::{QUOTED_CHARS, clip};
use herald_core::{Batch, DeliveryJob, JobOrigin};
use herald_store::{RequestedSend, StoreError, Template};
use serde::{Deserialize, Serialize};

/// The most params one `/batchSend` takes. Each param becomes its own bus message and up to
/// 100 trace rows; austin's batch send is meant for a small list of distinct contents (a
/// crowd goes through a template's crowd file), and 100 params of 100 receivers is already
/// 10,000 messages from one request.
pub const MAX_PARAMS_PER_REQUEST: usize = 100;

/// How long a (template, bizId, receiver) keeps its first message id.
pub const BIZ_ID_WINDOW: chrono::Duration = chrono::Duration::hours(24);

pub fn router() -> Router<AppState> {
    Router::new().route("/send", post(send)).route("/batchSend", post(batch_send))
}

/// austin's `/send` body: one param, its receivers separated by commas (at most 100).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SendRequest {
    /// Always `send`.
    code: String,
    message_template_id: Option<i64>,
    message_param: Option<MessageParam>,
}

/// austin's `/batchSend` body: up to 100 params, each with its own receivers and variables.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BatchSendRequest {
    /// Always `send`.
    code: String,
    message_template_id: Option<i64>,
    message_param_list: Option<Vec<MessageParam>>,
}

/// One message a send request made.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SentMessage {
    biz_id: Option<String>,
    message_id: String,
    business_id: i64,
    receiver: String,
}

/// austin's answer to an accepted send: code `0` and the messages made.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct SendAnswer {
    code: &'static str,
    msg: &'static str,
    data: Vec<SentMessage>,
}

#[utoipa::path(post, path = "/send", tag = "send", request_body = SendRequest,
    responses((status = 200, description = "accepted whole and durable: every message will be sent", body = SendAnswer)))]
async fn send(state: State<AppState>, JsonBody(req): JsonBody<SendRequest>) -> Result<Json<SendAnswer>, ApiError> {
    let (template_id, params) = req.checked()?;
    accept(&state, template_id, params, true).await
}

#[utoipa::path(post, path = "/batchSend", tag = "send", request_body = BatchSendRequest,
    responses((status = 200, description = "accepted whole and durable: every message will be sent", body = SendAnswer)))]
async fn batch_send(
    state: State<AppState>,
    JsonBody(req): JsonBody<BatchSendRequest>,
) -> Result<Json<SendAnswer>, ApiError> {
    let (template_id, params) = req.checked()?;
    accept(&state, template_id, params, false).await
}

impl SendRequest {
    /// The template id and the one param, or a refusal naming the field.
    fn checked(self) -> Result<(i64, Vec<MessageParam>), ApiError> {
        let template_id = check_request(&self.code, self.message_template_id)?;
        let param = self.message_param.ok_or_else(|| ApiError::field("messageParam", "is required"))?;
        Ok((template_id, vec![param]))
    }
}

impl BatchSendRequest {
    fn checked(self) -> Result<(i64, Vec<MessageParam>), ApiError> {
        let template_id = check_request(&self.code, self.message_template_id)?;
        Ok((template_id, check_param_list(self.message_param_list)?))
    }
}

/// The request's `code` and template id.
fn check_request(code: &str, template_id: Option<i64>) -> Result<i64, ApiError> {
    if code != "send" {
        return Err(ApiError::field("code", format!("{:?} is not supported; use \"send\"", clip(code, QUOTED_CHARS))));
    }
    template_id.ok_or_else(|| ApiError::field("messageTemplateId", "is required"))
}

/// A `/batchSend` list: present, not empty, not longer than [`MAX_PARAMS_PER_REQUEST`].
fn check_param_list(params: Option<Vec<MessageParam>>) -> Result<Vec<MessageParam>, ApiError> {
    let params = params.ok_or_else(|| ApiError::field("messageParamList", "is required"))?;
    if params.is_empty() {
        return Err(ApiError::field("messageParamList", "must not be empty"));
    }
    if params.len() > MAX_PARAMS_PER_REQUEST {
        return Err(ApiError::field(
            "messageParamList",
            format!("{} params; at most {MAX_PARAMS_PER_REQUEST} per request", params.len()),
        ));
    }
    Ok(params)
}

async fn accept(
    state: &AppState,
    template_id: i64,
    params: Vec<MessageParam>,
    single: bool,
) -> Result<Json<SendAnswer>, ApiError> {
    let template = state.store.get_template(template_id).await.map_err(|e| match e {
        StoreError::NotFound { .. } => {
            ApiError::TemplateNotFound(format!("template {template_id} not found or deleted"))
        }
        other => other.into(),
    })?;
    let request_id = uuid::Uuid::new_v4().simple().to_string();
    let ids = RequestIds { installation: &state.installation, request_id: &request_id };
    let mut plan = plan(&template, &params, single, &ids, state.clock.now())?;
    let request = Request {
        channel: template.spec.channel,
        sends: requested_sends(&template, &params, &plan.jobs),
        jobs: plan.jobs,
        encoded: plan.encoded,
        detail: format!("send API request {request_id}"),
    };
    let first_ids = state.intake.accept(request).await.map_err(|refusal| match refusal {
        Refusal::TooLarge(e) => too_large(e, single),
        Refusal::Failed(reason) => ApiError::Internal(reason),
    })?;
    for sent in &mut plan.sent {
        if let Some(first) = first_ids.get(&sent.message_id) {
            sent.message_id = first.clone();
        }
    }
    tracing::info!(template_id, request_id = %request_id, messages = plan.sent.len(), "send API accepted");
    Ok(Json(SendAnswer { code: codes::SUCCESS, msg: "操作成功", data: plan.sent }))
}

/// What a request will publish, checked whole before anything is traced or published, so a
/// refused request leaves nothing behind and a retry duplicates nothing.
struct Plan {
    jobs: Vec<DeliveryJob>,
    encoded: EncodedJobs,
    sent: Vec<SentMessage>,
}

/// Checks every param against the template and the bus's payload limit. No IO.
fn plan(
    template: &Template,
    params: &[MessageParam],
    single: bool,
    ids: &RequestIds<'_>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Plan, ApiError> {
    let business_id = business_id(template, now);
    let (mut jobs, mut sent) = (Vec::new(), Vec::new());
    for (index, param) in params.iter().enumerate() {
        let item = to_item(template, ids, index, param, &param_prefix(single, index))?;
        sent.extend(item.recipients.iter().map(|r| SentMessage {
            biz_id: param.biz_id.clone(),
            message_id: r.message_id.to_string(),
            business_id,
            receiver: r.receiver.clone(),
        }));
        jobs.push(DeliveryJob {
            template_id: template.id,
            origin: JobOrigin::Api { request_id: ids.request_id.to_string() },
            batch: Batch { items: vec![item] },
            released: false,
            admitted: false,
        });
    }
    // Refused whole when one job is too large for the bus.
    let encoded = EncodedJobs::encode(template.spec.channel, &jobs).map_err(|e| too_large(e, single))?;
    Ok(Plan { jobs, encoded, sent })
}

/// The sends of params with a `bizId`: the intake records them, and a repeat of an earlier
/// request's within the window takes that request's message id, in the jobs and the answer.
fn requested_sends(template: &Template, params: &[MessageParam], jobs: &[DeliveryJob]) -> Vec<RequestedSend> {
    let mut sends = Vec::new();
    for (param, job) in params.iter().zip(jobs) {
        let Some(biz_id) = &param.biz_id else { continue };
        sends.extend(job.batch.recipients().map(|r| RequestedSend {
            template_id: template.id,
            biz_id: biz_id.clone(),
            receiver: r.receiver.clone(),
            message_id: r.message_id.to_string(),
        }));
    }
    sends
}

fn too_large(e: JobTooLarge, single: bool) -> ApiError {
    ApiError::PayloadTooLarge(format!(
        "{}: the message is {} bytes, more than the {}-byte limit of one message",
        param_prefix(single, e.index),
        e.size,
        e.max
    ))
}

fn param_prefix(single: bool, index: usize) -> String {
    if single { "messageParam".to_string() } else { format!("messageParamList[{index}]") }
}

/// austin's business id: message type and template id, then the day.
fn business_id(template: &Template, now: chrono::DateTime<chrono::Utc>) -> i64 {
    let prefix = i64::from(template.spec.msg_type) * 1_000_000 + template.id;
    format!("{prefix}{}", now.format("%Y%m%d")).parse().unwrap_or(prefix)
}

#[cfg(test)]
#[path = "send_props.rs"]
mod props;
