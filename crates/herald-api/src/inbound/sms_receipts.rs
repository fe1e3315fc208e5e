//! SMS delivery receipts as the providers push them, under the account's reply-callback token:
//! Tencent Cloud's status callback (短信下发状态回调, a JSON array of `{user_receive_time,
//! nationcode, mobile, report_status, errmsg, description, sid}`, answered `{"result":0,
//! "errmsg":"OK"}`), which names a message by its `sid` (the `SerialNo` the send recorded), and
//! Aliyun's `SmsReport` HTTP batch push (a JSON array of `{phone_number, send_time,
//! report_time, success, err_code, err_msg, sms_size, biz_id, out_id}`, answered `{"code":0,
//! "msg":"接收成功"}`), which names it by `out_id` (herald's message id, handed over at send).
//! Each lands in its message's trace as `delivered` or `undelivered` (with the provider's
//! code), once; a receipt naming no sent message is kept in the unmatched list.

use super::sms_replies::{ALIYUN_PREFIX, Provider, Refusal, TENCENT_PREFIX, account_of, body_of};
use crate::AppState;
use crate::extract::Path;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use herald_channels::sms::supplier_names;
use herald_core::listing::clip;
use herald_core::receipt::{Receipt, ReceiptKey, ReceiptState};
use herald_store::AccountRecord;
use serde::Deserialize;

/// After the account's reply-callback URL: where its status reports go.
pub(crate) const TENCENT_SUFFIX: &str = "/status";
pub(crate) const ALIYUN_SUFFIX: &str = "/report";
/// A push of thousands of reports.
const MAX_BODY: usize = 1024 * 1024;
/// The longest id or code kept from a report.
const MAX_FIELD_CHARS: usize = 128;

pub(crate) fn router() -> Router<AppState> {
    let tencent = format!("{TENCENT_PREFIX}{{token}}{TENCENT_SUFFIX}");
    let aliyun = format!("{ALIYUN_PREFIX}{{token}}{ALIYUN_SUFFIX}");
    Router::new()
        .route(&tencent, post(tencent_status).layer(DefaultBodyLimit::max(MAX_BODY)))
        .route(&aliyun, post(aliyun_report).layer(DefaultBodyLimit::max(MAX_BODY)))
}

/// One report of Tencent Cloud's status callback (https://cloud.tencent.com/document/product/382/59178);
/// the fields read here.
#[derive(Debug, Deserialize)]
struct TencentStatus {
    report_status: String,
    #[serde(default)]
    errmsg: Option<String>,
    sid: String,
}

/// One report of Aliyun's SmsReport push
/// (https://help.aliyun.com/zh/sms/developer-reference/smsreport-2); the fields read here.
#[derive(Debug, Deserialize)]
struct AliyunReport {
    success: bool,
    #[serde(default)]
    err_code: Option<String>,
    #[serde(default)]
    biz_id: Option<String>,
    #[serde(default)]
    out_id: Option<String>,
}

async fn tencent_status(State(state): State<AppState>, Path(token): Path<String>, request: Request) -> Response {
    Provider::Tencent.answer_to(receive(&state, &token, request, Provider::Tencent).await)
}

async fn aliyun_report(State(state): State<AppState>, Path(token): Path<String>, request: Request) -> Response {
    Provider::Aliyun.answer_to(receive(&state, &token, request, Provider::Aliyun).await)
}

/// Checks the token before reading the body, as the reply callbacks do.
async fn receive(state: &AppState, token: &str, request: Request, provider: Provider) -> Result<(), Refusal> {
    let account = account_of(state, token).await?;
    let body = body_of(request).await?;
    let suppliers = suppliers_of(state, &account, provider)?;
    let receipts = match provider {
        Provider::Tencent => tencent_receipts(&body, suppliers)?,
        Provider::Aliyun => aliyun_receipts(&body, suppliers)?,
    };
    let tally = state.store.record_receipts(&receipts, state.clock.now()).await?;
    metrics::counter!("herald_receipts_total", "provider" => provider.as_str(), "outcome" => "recorded")
        .increment(tally.recorded);
    metrics::counter!("herald_receipts_total", "provider" => provider.as_str(), "outcome" => "unmatched")
        .increment(tally.unmatched);
    tracing::info!(
        account_id = account.id,
        provider = provider.as_str(),
        recorded = tally.recorded,
        repeated = tally.repeated,
        unmatched = tally.unmatched,
        "sms receipts"
    );
    Ok(())
}

/// The names the account's suppliers of `provider` send under.
fn suppliers_of(state: &AppState, account: &AccountRecord, provider: Provider) -> Result<Vec<String>, Refusal> {
    let config = state
        .accounts
        .sealer()
        .unseal_json(&account.config_sealed)
        .map_err(|e| Refusal::Failed(crate::error::ApiError::Internal(e.to_string())))?;
    Ok(supplier_names(&config, provider.as_str()))
}

fn bad_body(provider: Provider, problem: impl std::fmt::Display) -> Refusal {
    let what = match provider {
        Provider::Tencent => "Tencent Cloud's SMS status callback (an array of objects with report_status and sid)",
        Provider::Aliyun => "Aliyun's SmsReport push (an array of objects with success and out_id or biz_id)",
    };
    Refusal::BadBody(StatusCode::BAD_REQUEST, clip(&format!("the body is not {what}: {problem}"), 500))
}

/// A report's id or code, bounded; an empty one is none.
fn field(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).map(|v| clip(&v, MAX_FIELD_CHARS))
}

fn tencent_receipts(body: &[u8], suppliers: Vec<String>) -> Result<Vec<Receipt>, Refusal> {
    let reports: Vec<TencentStatus> = crate::json::parse(body).map_err(|e| bad_body(Provider::Tencent, e))?;
    reports
        .into_iter()
        .map(|report| {
            let state = match report.report_status.as_str() {
                "SUCCESS" => ReceiptState::Delivered,
                "FAIL" => ReceiptState::Undelivered,
                other => {
                    return Err(bad_body(
                        Provider::Tencent,
                        format!("report_status {:?} is not SUCCESS or FAIL", clip(other, 40)),
                    ));
                }
            };
            let id = field(Some(report.sid)).ok_or_else(|| bad_body(Provider::Tencent, "a report has no sid"))?;
            let key = ReceiptKey::Provider { suppliers: suppliers.clone(), id };
            Ok(Receipt { provider: "tencent".into(), key, state, code: field(report.errmsg) })
        })
        .collect()
}

fn aliyun_receipts(body: &[u8], suppliers: Vec<String>) -> Result<Vec<Receipt>, Refusal> {
    let reports: Vec<AliyunReport> = crate::json::parse(body).map_err(|e| bad_body(Provider::Aliyun, e))?;
    reports
        .into_iter()
        .map(|report| {
            let key = match (field(report.out_id), field(report.biz_id)) {
                (Some(message_id), _) => ReceiptKey::Message(message_id),
                (None, Some(id)) => ReceiptKey::Provider { suppliers: suppliers.clone(), id },
                (None, None) => return Err(bad_body(Provider::Aliyun, "a report has neither out_id nor biz_id")),
            };
            let state = if report.success { ReceiptState::Delivered } else { ReceiptState::Undelivered };
            Ok(Receipt { provider: "aliyun".into(), key, state, code: field(report.err_code) })
        })
        .collect()
}
