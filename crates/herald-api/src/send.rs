//! The austin-compatible send API. `POST /send` takes one `messageParam`, `POST /batchSend` a
//! `messageParamList`; each param names at most 100 comma-separated receivers. Messages are
//! published on the same bus the crowd runs use and answered with their message ids.

use crate::AppState;
use crate::error::{ApiError, codes};
use crate::json::JsonBody;
use axum::routing::post;
use axum::{Json, Router, extract::State};
use herald_core::placeholders::placeholder_names;
use herald_core::{
    Batch, BatchItem, DeliveryJob, JobOrigin, MAX_RECEIVERS_PER_BATCH, Recipient, TraceEvent, topic_for,
};
use herald_store::{StoreError, Template, TraceEntry};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;

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

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MessageParam {
    biz_id: Option<String>,
    receiver: String,
    #[serde(default)]
    variables: BTreeMap<String, Value>,
    #[serde(default)]
    #[allow(dead_code)]
    extra: Option<Value>,
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
        let prefix = if single { "messageParam".to_string() } else { format!("messageParamList[{index}]") };
        let ids = RequestIds { installation: &state.installation, request_id: &request_id };
        let item = to_item(&template, &ids, index, param, &prefix)?;
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
    let payloads = jobs
        .iter()
        .map(|job| serde_json::to_vec(job).map_err(|e| ApiError::Internal(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    // Traced before publishing, so `accepted` always precedes what a worker records.
    let detail = &format!("send API request {request_id}");
    let accepted: Vec<TraceEntry> = jobs
        .iter()
        .flat_map(|job| {
            job.batch.recipients().map(move |r| TraceEntry::of(job, r, TraceEvent::Accepted, Some(detail.clone())))
        })
        .collect();
    state.store.record_trace(&accepted, state.clock.now()).await?;
    for (job, payload) in jobs.iter().zip(&payloads) {
        state.bus.publish(&topic, &job.key(), payload).await?;
    }
    tracing::info!(template_id, request_id = %request_id, messages = sent.len(), "send API accepted");
    Ok(Json(json!({ "code": codes::SUCCESS, "msg": "操作成功", "data": sent })))
}

/// One param as a batch item: receivers split on commas, trimmed and de-duplicated (as
/// austin does), variables stringified, every placeholder present.
/// Where a request's message ids come from.
struct RequestIds<'a> {
    installation: &'a herald_core::Installation,
    request_id: &'a str,
}

fn to_item(
    template: &Template,
    ids: &RequestIds<'_>,
    index: usize,
    param: &MessageParam,
    prefix: &str,
) -> Result<BatchItem, ApiError> {
    let field = |name: &str| format!("{prefix}.{name}");
    let mut receivers: Vec<&str> = Vec::new();
    for r in param.receiver.split(',').map(str::trim).filter(|r| !r.is_empty()) {
        if !receivers.contains(&r) {
            receivers.push(r);
        }
    }
    if receivers.is_empty() {
        return Err(ApiError::field(&field("receiver"), "names no receiver"));
    }
    if receivers.len() > MAX_RECEIVERS_PER_BATCH {
        return Err(ApiError::TooManyReceivers(format!(
            "{}: {} receivers; at most {MAX_RECEIVERS_PER_BATCH} per param",
            field("receiver"),
            receivers.len()
        )));
    }
    let variables: BTreeMap<String, String> = param
        .variables
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())))
        .collect();
    let missing: Vec<String> =
        placeholder_names(&template.spec.content).into_iter().filter(|n| !variables.contains_key(n)).collect();
    if !missing.is_empty() {
        return Err(ApiError::field(
            &field("variables"),
            format!(
                "missing {} used by the template",
                missing.iter().map(|n| format!("{{${n}}}")).collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    let recipients = receivers
        .iter()
        .map(|r| Recipient { receiver: r.to_string(), message_id: ids.installation.request(ids.request_id, index, r) })
        .collect();
    Ok(BatchItem { variables, recipients })
}

/// austin's business id: message type and template id, then the day.
fn business_id(template: &Template, now: chrono::DateTime<chrono::Utc>) -> i64 {
    let prefix = i64::from(template.spec.msg_type) * 1_000_000 + template.id;
    format!("{prefix}{}", now.format("%Y%m%d")).parse().unwrap_or(prefix)
}
