//! The austin-compatible send API. `POST /send` takes one `messageParam`, `POST /batchSend` a
//! `messageParamList`; each param names at most 100 comma-separated receivers. Messages are
//! published on the same bus the crowd runs use and answered with their message ids.
//! `/batchSend` takes at most [`MAX_PARAMS_PER_REQUEST`] params.

use crate::AppState;
use crate::error::{ApiError, codes};
use crate::json::JsonBody;
use crate::send_params::{MessageParam, to_item};
use axum::routing::post;
use axum::{Json, Router, extract::State};
use herald_bus::MAX_PAYLOAD_BYTES;
use herald_core::{Batch, DeliveryJob, JobOrigin, TraceEvent, topic_for};
use herald_store::{Outcome, StoreError, Template};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The most params one `/batchSend` takes. Each param becomes its own bus message and up to
/// 100 trace rows; austin's batch send is meant for a small list of distinct contents (a
/// crowd goes through a template's crowd file), and 100 params of 100 receivers is already
/// 10,000 messages from one request.
pub const MAX_PARAMS_PER_REQUEST: usize = 100;

pub fn router() -> Router<AppState> {
    Router::new().route("/send", post(send)).route("/batchSend", post(batch_send))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SendRequest {
    code: String,
    message_template_id: Option<i64>,
    message_param: Option<MessageParam>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BatchSendRequest {
    code: String,
    message_template_id: Option<i64>,
    message_param_list: Option<Vec<MessageParam>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SentMessage {
    biz_id: Option<String>,
    message_id: String,
    business_id: i64,
    receiver: String,
}

async fn send(state: State<AppState>, JsonBody(req): JsonBody<SendRequest>) -> Result<Json<Value>, ApiError> {
    let param = req.message_param.ok_or_else(|| ApiError::field("messageParam", "is required"))?;
    accept(&state, &req.code, req.message_template_id, vec![param], true).await
}

async fn batch_send(
    state: State<AppState>,
    JsonBody(req): JsonBody<BatchSendRequest>,
) -> Result<Json<Value>, ApiError> {
    let params = req.message_param_list.ok_or_else(|| ApiError::field("messageParamList", "is required"))?;
    if params.is_empty() {
        return Err(ApiError::field("messageParamList", "must not be empty"));
    }
    if params.len() > MAX_PARAMS_PER_REQUEST {
        return Err(ApiError::field(
            "messageParamList",
            format!("{} params; at most {MAX_PARAMS_PER_REQUEST} per request", params.len()),
        ));
    }
    accept(&state, &req.code, req.message_template_id, params, false).await
}

async fn accept(
    state: &AppState,
    code: &str,
    template_id: Option<i64>,
    params: Vec<MessageParam>,
    single: bool,
) -> Result<Json<Value>, ApiError> {
    if code != "send" {
        return Err(ApiError::field("code", format!("{code:?} is not supported; use \"send\"")));
    }
    let template_id = template_id.ok_or_else(|| ApiError::field("messageTemplateId", "is required"))?;
    let template = state.store.get_template(template_id).await.map_err(|e| match e {
        StoreError::NotFound { .. } => {
            ApiError::TemplateNotFound(format!("template {template_id} not found or deleted"))
        }
        other => other.into(),
    })?;
    let request_id = uuid::Uuid::new_v4().simple().to_string();
    let mut jobs = Vec::with_capacity(params.len());
    let mut sent = Vec::new();
    let business_id = business_id(&template, state.clock.now());
    for (index, param) in params.iter().enumerate() {
        let item = to_item(&template, &request_id, index, param, &param_prefix(single, index))?;
        sent.extend(item.recipients.iter().map(|r| SentMessage {
            biz_id: param.biz_id.clone(),
            message_id: r.message_id.to_string(),
            business_id,
            receiver: r.receiver.clone(),
        }));
        jobs.push(DeliveryJob {
            template_id,
            origin: JobOrigin::Api { request_id: request_id.clone() },
            batch: Batch { items: vec![item] },
            released: false,
        });
    }
    let topic = topic_for(template.spec.channel);
    // Every payload is checked before anything is traced or published, so a refused request
    // leaves nothing behind and a retry duplicates nothing.
    let mut payloads = Vec::with_capacity(jobs.len());
    for (index, job) in jobs.iter().enumerate() {
        let payload = serde_json::to_vec(job).map_err(|e| ApiError::Internal(e.to_string()))?;
        if payload.len() > MAX_PAYLOAD_BYTES {
            return Err(ApiError::PayloadTooLarge(format!(
                "{}: the message is {} bytes, more than the {MAX_PAYLOAD_BYTES}-byte limit of one message",
                param_prefix(single, index),
                payload.len()
            )));
        }
        payloads.push(payload);
    }
    // Traced before publishing, so `accepted` always precedes what a worker records.
    let detail = &format!("send API request {request_id}");
    let accepted: Vec<Outcome> = jobs
        .iter()
        .flat_map(|job| {
            job.batch.recipients().map(move |r| Outcome::of(job, r, TraceEvent::Accepted, Some(detail.clone())))
        })
        .collect();
    state.store.record_trace(&accepted, state.clock.now()).await?;
    for (job, payload) in jobs.iter().zip(&payloads) {
        state.bus.publish(&topic, &job.key(), payload).await?;
    }
    tracing::info!(template_id, request_id = %request_id, messages = sent.len(), "send API accepted");
    Ok(Json(json!({ "code": codes::SUCCESS, "msg": "操作成功", "data": sent })))
}

fn param_prefix(single: bool, index: usize) -> String {
    if single { "messageParam".to_string() } else { format!("messageParamList[{index}]") }
}

/// austin's business id: message type and template id, then the day.
fn business_id(template: &Template, now: chrono::DateTime<chrono::Utc>) -> i64 {
    let prefix = i64::from(template.spec.msg_type) * 1_000_000 + template.id;
    format!("{prefix}{}", now.format("%Y%m%d")).parse().unwrap_or(prefix)
}
