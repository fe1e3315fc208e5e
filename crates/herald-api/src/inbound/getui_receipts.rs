//! Getui receipts as Getui pushes them (消息回执), under the account's callback token: lines
//! of JSON receipts, each signed `md5(appid + cid + taskid + msgid + masterSecret)` (read by
//! `herald_channels::getui::receipt`). A callback with a line whose sign does not match is
//! refused with 401, one naming another app with 403, and nothing of it is recorded; the
//! receipts of a good one land in their messages' traces (found by the task and cid the send
//! recorded), once each, or in the unmatched list.

use super::sms_replies::{Refusal, account_of_channel, body_of};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::Path;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use herald_channels::getui::receipt::{CallbackError, read_for_account};
use herald_core::ChannelKind;
use herald_core::listing::clip;
use serde_json::json;

pub(crate) const GETUI_PREFIX: &str = "/inbound/getui/";
const SUFFIX: &str = "/receipt";
/// A callback of a few thousand receipts.
const MAX_BODY: usize = 1024 * 1024;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route(&callback_path("{token}"), post(receipt).layer(DefaultBodyLimit::max(MAX_BODY)))
}

/// The callback's path for an account's token.
pub(crate) fn callback_path(token: &str) -> String {
    format!("{GETUI_PREFIX}{token}{SUFFIX}")
}

async fn receipt(State(state): State<AppState>, Path(token): Path<String>, request: Request) -> Response {
    match receive(&state, &token, request).await {
        Ok(()) => answer(StatusCode::OK, None),
        Err(Refusal::UnknownToken) => ApiError::NotFound("not found".into()).into_response(),
        Err(Refusal::BadBody(status, problem)) => answer(status, Some(&problem)),
        Err(Refusal::Failed(e)) => e.into_response(),
    }
}

/// `{"code": 0, "msg": "ok"}`, or 1 and the problem. Getui does not read the answer beyond its
/// arrival, but an operator replaying a callback does.
fn answer(status: StatusCode, problem: Option<&str>) -> Response {
    (status, Json(json!({"code": i32::from(problem.is_some()), "msg": problem.unwrap_or("ok")}))).into_response()
}

/// Checks the token before reading the body, as the SMS callbacks do.
async fn receive(state: &AppState, token: &str, request: Request) -> Result<(), Refusal> {
    let account = account_of_channel(state, token, ChannelKind::GetuiPush).await?;
    let body = body_of(request).await?;
    let failed = |e: String| Refusal::Failed(ApiError::Internal(e));
    let config = state.accounts.sealer().unseal_json(&account.config_sealed).map_err(|e| failed(e.to_string()))?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| Refusal::BadBody(StatusCode::BAD_REQUEST, "the body is not UTF-8 text".into()))?;
    let receipts = read_for_account(text, &config).map_err(|e| {
        let status = match e {
            CallbackError::Account(e) => return failed(e),
            CallbackError::BadSign { .. } => StatusCode::UNAUTHORIZED,
            CallbackError::OtherApp { .. } => StatusCode::FORBIDDEN,
            CallbackError::BadLine { .. } | CallbackError::TooMany => StatusCode::BAD_REQUEST,
        };
        tracing::warn!(account_id = account.id, error = %e, "a Getui receipt callback was refused");
        Refusal::BadBody(status, clip(&format!("the body is not Getui receipts of this app: {e}"), 500))
    })?;
    let tally = state.store.record_receipts(&receipts, state.clock.now()).await?;
    metrics::counter!("herald_receipts_total", "provider" => "getui", "outcome" => "recorded")
        .increment(tally.recorded);
    metrics::counter!("herald_receipts_total", "provider" => "getui", "outcome" => "unmatched")
        .increment(tally.unmatched);
    tracing::info!(
        account_id = account.id,
        recorded = tally.recorded,
        repeated = tally.repeated,
        unmatched = tally.unmatched,
        "getui receipts"
    );
    Ok(())
}
