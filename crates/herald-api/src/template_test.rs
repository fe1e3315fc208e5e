//! A template's test send (austin's most used button): its content rendered for one receiver,
//! with the variables given or else the crowd's first valid row's, and sent once through the
//! template's channel now, outside any run, answering what the provider said and what was sent.

use crate::AppState;
use crate::accounts::{TestOutcome, send_once, test_message_id};
use crate::error::ApiError;
use crate::extract::Path;
use crate::json::JsonBody;
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use herald_channels::OutgoingMessage;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/templates/{id}/test", post(test))
}

/// Whom to send the test to, and with what.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct TemplateTest {
    /// The receiver, as the template's channel names one (a phone number, user id, address...).
    pub receiver: String,
    /// The placeholders' values; the crowd's first valid row's when absent.
    #[serde(default)]
    pub variables: Option<BTreeMap<String, String>>,
}

/// What the test sent and what the provider answered.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TemplateTested {
    #[serde(flatten)]
    pub outcome: TestOutcome,
    /// The content as rendered for the receiver.
    pub content: Value,
}

#[utoipa::path(post, path = "/api/templates/{id}/test", tag = "templates", params(("id" = i64, Path, description = "the template id")), request_body = TemplateTest,
    responses((status = 200, description = "sent once, now; what the provider answered", body = TemplateTested)))]
async fn test(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<TemplateTest>,
) -> Result<Json<TemplateTested>, ApiError> {
    Ok(Json(send_template_test(&state, id, body).await?))
}

pub(crate) async fn send_template_test(
    state: &AppState,
    id: i64,
    body: TemplateTest,
) -> Result<TemplateTested, ApiError> {
    let template = crate::templates::get_template(state, id).await?;
    let receiver = body.receiver.trim();
    if receiver.is_empty() {
        return Err(ApiError::field("receiver", "must not be empty"));
    }
    let variables = match body.variables {
        Some(given) => given,
        None => first_row_variables(state, template.spec.crowd_id.as_deref()).await?,
    };
    let content = herald_core::placeholders::render(&template.spec.content, &variables)
        .map_err(|e| ApiError::field("variables", format!("{e}: give it in variables")))?;
    let channel = state
        .channels
        .resolve(template.spec.channel, template.spec.channel_account.as_deref())
        .await
        .map_err(ApiError::Conflict)?;
    let message = OutgoingMessage {
        message_id: test_message_id(),
        template_id: id,
        run_id: None,
        receiver: receiver.to_string(),
        msg_type: template.spec.msg_type,
        content: content.clone(),
    };
    tracing::info!(template_id = id, "test send of a template");
    Ok(TemplateTested { outcome: send_once(&*channel, message).await, content })
}

/// The variables of the crowd's first valid row; none without a crowd.
async fn first_row_variables(state: &AppState, crowd_id: Option<&str>) -> Result<BTreeMap<String, String>, ApiError> {
    let Some(crowd_id) = crowd_id else {
        return Ok(BTreeMap::new());
    };
    let crowd = state.store.get_crowd(crowd_id).await?;
    Ok(crate::crowds::first_valid_row(state, &crowd).await?.map(|row| row.variables).unwrap_or_default())
}
