//! SMS replies as the providers push them: Tencent Cloud's reply callback (回复短信回调, one
//! JSON object, answered `{"result":0,"errmsg":"OK"}`) and Aliyun's `SmsUp` HTTP batch push
//! (上行短信, a JSON array, answered `{"code":0,"msg":"接收成功"}`). Neither provider signs
//! its pushes, so each SMS account has its own callback URLs, whose token (the account id,
//! signed for this purpose) only herald can make. A reply that means stop (`TD`, `退订`, ...)
//! suppresses marketing SMS to the number; any other is counted and dropped. The same token
//! opens the account's receipt pushes (`sms_receipts`).

use super::masked_receiver;
use crate::AppState;
use crate::error::ApiError;
use crate::extract::Path;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use herald_channels::sealing::{Sealer, TokenPurpose};
use herald_core::listing::clip;
use herald_core::suppression::{is_opt_out_reply, phone_key};
use herald_core::{ChannelKind, Suppression, SuppressionSource};
use herald_store::{AccountRecord, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub(crate) const TENCENT_PREFIX: &str = "/inbound/sms/tencent/";
pub(crate) const ALIYUN_PREFIX: &str = "/inbound/sms/aliyun/";
/// One reply and its envelope.
const MAX_TENCENT_BODY: usize = 16 * 1024;
/// A batch of replies: thousands of entries.
const MAX_ALIYUN_BODY: usize = 1024 * 1024;
const MAX_PHONE_CHARS: usize = 32;
/// How much of a reply an entry's note and a debug log keep.
const QUOTED_REPLY_CHARS: usize = 40;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/inbound/sms/tencent/{token}", post(tencent).layer(DefaultBodyLimit::max(MAX_TENCENT_BODY)))
        .route("/inbound/sms/aliyun/{token}", post(aliyun).layer(DefaultBodyLimit::max(MAX_ALIYUN_BODY)))
}

/// Where an account's providers push replies and receipts (SMS: replies and status reports;
/// Getui: receipts); the token in them is the account's own.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ReplyCallbacks {
    /// Tencent Cloud SMS console, reply callback (回复短信回调) URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tencent: Option<String>,
    /// Aliyun SMS console, SmsUp (上行消息) HTTP batch push URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aliyun: Option<String>,
    /// Tencent Cloud SMS console, status callback (短信下发状态回调) URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tencent_status: Option<String>,
    /// Aliyun SMS console, SmsReport (状态报告) HTTP batch push URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aliyun_report: Option<String>,
    /// Getui console, message receipt (消息回执) callback URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub getui_receipt: Option<String>,
}

/// An account's callback URLs: absolute under `server.public_url` when set, else paths to put
/// after herald's public address. None for channels whose providers push nothing back.
pub(crate) fn reply_callbacks(state: &AppState, record: &AccountRecord) -> Option<ReplyCallbacks> {
    let token = callback_token(state.accounts.sealer(), record.id);
    let base = state.accounts.public_url().unwrap_or_default();
    let url = |path: String| Some(format!("{base}{path}"));
    match record.channel {
        ChannelKind::Sms => Some(ReplyCallbacks {
            tencent: url(format!("{TENCENT_PREFIX}{token}")),
            aliyun: url(format!("{ALIYUN_PREFIX}{token}")),
            tencent_status: url(format!("{TENCENT_PREFIX}{token}{}", super::sms_receipts::TENCENT_SUFFIX)),
            aliyun_report: url(format!("{ALIYUN_PREFIX}{token}{}", super::sms_receipts::ALIYUN_SUFFIX)),
            getui_receipt: None,
        }),
        ChannelKind::GetuiPush => Some(ReplyCallbacks {
            tencent: None,
            aliyun: None,
            tencent_status: None,
            aliyun_report: None,
            getui_receipt: url(super::getui_receipts::callback_path(&token)),
        }),
        _ => None,
    }
}

fn callback_token(sealer: &Sealer, account_id: i64) -> String {
    sealer.sign_token(TokenPurpose::SmsReplyCallback, &account_id.to_string())
}

/// Tencent Cloud's reply callback body (https://cloud.tencent.com/document/api/382/59179):
/// `{"extend", "mobile", "nationcode", "sign", "text", "time"}`; the fields read here.
#[derive(Debug, Deserialize)]
struct TencentReply {
    mobile: String,
    nationcode: String,
    text: String,
}

/// One entry of Aliyun's SmsUp HTTP batch push
/// (https://help.aliyun.com/zh/sms/developer-reference/smsup-http): `{"phone_number",
/// "send_time", "content", "sign_name", "dest_code", "sequence_id"}`; the fields read here.
#[derive(Debug, Deserialize)]
struct AliyunReply {
    phone_number: String,
    content: String,
}

/// A reply: the number (as the suppression list spells it) and what it said.
struct Reply {
    phone: String,
    text: String,
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Provider {
    Tencent,
    Aliyun,
}

impl Provider {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Tencent => "tencent",
            Self::Aliyun => "aliyun",
        }
    }

    /// The answer in the provider's documented shape: success, or the problem.
    pub(super) fn answer(self, status: StatusCode, problem: Option<&str>) -> Response {
        let failed = i32::from(problem.is_some());
        let body = match self {
            Self::Tencent => json!({"result": failed, "errmsg": problem.unwrap_or("OK")}),
            Self::Aliyun => json!({"code": failed, "msg": problem.unwrap_or("接收成功")}),
        };
        (status, Json(body)).into_response()
    }
}

/// Why a push was not taken.
pub(super) enum Refusal {
    /// The token is not one herald made for an SMS account that still exists.
    UnknownToken,
    /// The body is not what the provider documents.
    BadBody(StatusCode, String),
    Failed(ApiError),
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Self {
        Self::Failed(e.into())
    }
}

async fn tencent(State(state): State<AppState>, Path(token): Path<String>, request: Request) -> Response {
    answer(&state, &token, request, Provider::Tencent).await
}

async fn aliyun(State(state): State<AppState>, Path(token): Path<String>, request: Request) -> Response {
    answer(&state, &token, request, Provider::Aliyun).await
}

async fn answer(state: &AppState, token: &str, request: Request, provider: Provider) -> Response {
    provider.answer_to(receive(state, token, request, provider).await)
}

impl Provider {
    /// A push's answer: the provider's success shape, its problem shape for a bad body, 404 for
    /// a token herald did not make.
    pub(super) fn answer_to(self, received: Result<(), Refusal>) -> Response {
        match received {
            Ok(()) => self.answer(StatusCode::OK, None),
            Err(Refusal::UnknownToken) => ApiError::NotFound("not found".into()).into_response(),
            Err(Refusal::BadBody(status, problem)) => self.answer(status, Some(&problem)),
            Err(Refusal::Failed(e)) => e.into_response(),
        }
    }
}

/// Checks the token before reading the body, so a wrong token learns nothing of the route.
async fn receive(state: &AppState, token: &str, request: Request, provider: Provider) -> Result<(), Refusal> {
    let account = account_of(state, token).await?;
    let body = body_of(request).await?;
    let replies = match provider {
        Provider::Tencent => vec![tencent_reply(&body)?],
        Provider::Aliyun => aliyun_replies(&body)?,
    };
    record(state, account.id, provider, &replies).await
}

/// The body of a push, within its route's limit.
pub(super) async fn body_of(request: Request) -> Result<Bytes, Refusal> {
    Bytes::from_request(request, &()).await.map_err(|e| {
        let status = if e.status() == StatusCode::PAYLOAD_TOO_LARGE { e.status() } else { StatusCode::BAD_REQUEST };
        Refusal::BadBody(status, format!("could not read the body: {}", e.body_text()))
    })
}

/// The SMS account a callback token names.
pub(super) async fn account_of(state: &AppState, token: &str) -> Result<AccountRecord, Refusal> {
    account_of_channel(state, token, ChannelKind::Sms).await
}

/// The account of `channel` a callback token names.
pub(super) async fn account_of_channel(
    state: &AppState,
    token: &str,
    channel: ChannelKind,
) -> Result<AccountRecord, Refusal> {
    let id: i64 = state
        .accounts
        .sealer()
        .verify_token(TokenPurpose::SmsReplyCallback, token)
        .and_then(|data| data.parse().ok())
        .ok_or(Refusal::UnknownToken)?;
    match state.store.get_account(id).await {
        Ok(record) if record.channel == channel => Ok(record),
        Ok(_) | Err(StoreError::NotFound { .. }) => Err(Refusal::UnknownToken),
        Err(e) => Err(e.into()),
    }
}

fn bad_body(provider: Provider, problem: impl std::fmt::Display) -> Refusal {
    let what = match provider {
        Provider::Tencent => "Tencent Cloud's SMS reply callback (an object with mobile, nationcode and text)",
        Provider::Aliyun => "Aliyun's SmsUp push (an array of objects with phone_number and content)",
    };
    Refusal::BadBody(StatusCode::BAD_REQUEST, clip(&format!("the body is not {what}: {problem}"), 500))
}

fn tencent_reply(body: &[u8]) -> Result<Reply, Refusal> {
    let reply: TencentReply = crate::json::parse(body).map_err(|e| bad_body(Provider::Tencent, e))?;
    let code = reply.nationcode.trim().trim_start_matches('+');
    if code.is_empty() || code.len() > 4 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad_body(Provider::Tencent, "nationcode must be a country code such as 86"));
    }
    check_phone(&reply.mobile, "mobile").map_err(|e| bad_body(Provider::Tencent, e))?;
    Ok(Reply { phone: phone_key(Some(code), &reply.mobile), text: reply.text })
}

fn aliyun_replies(body: &[u8]) -> Result<Vec<Reply>, Refusal> {
    let replies: Vec<AliyunReply> = crate::json::parse(body).map_err(|e| bad_body(Provider::Aliyun, e))?;
    replies
        .into_iter()
        .enumerate()
        .map(|(i, reply)| {
            check_phone(&reply.phone_number, &format!("[{i}].phone_number"))
                .map_err(|e| bad_body(Provider::Aliyun, e))?;
            Ok(Reply { phone: phone_key(None, &reply.phone_number), text: reply.content })
        })
        .collect()
}

/// A phone number: digits, with a leading `+`, spaces and dashes allowed.
fn check_phone(phone: &str, field: &str) -> Result<(), String> {
    let phone = phone.trim();
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    let allowed =
        phone.chars().enumerate().all(|(i, c)| c.is_ascii_digit() || c == ' ' || c == '-' || (i == 0 && c == '+'));
    if digits == 0 || !allowed || phone.chars().count() > MAX_PHONE_CHARS {
        return Err(format!("{field} must be a phone number of at most {MAX_PHONE_CHARS} characters"));
    }
    Ok(())
}

/// Suppresses marketing SMS to every number whose reply means stop; counts the others.
async fn record(state: &AppState, account_id: i64, provider: Provider, replies: &[Reply]) -> Result<(), Refusal> {
    let mut entries = Vec::new();
    for reply in replies {
        if is_opt_out_reply(&reply.text) {
            entries.push(opt_out(reply, account_id, provider)?);
        } else {
            count(provider, "ignored");
            tracing::debug!(account_id, provider = provider.as_str(), phone = %masked_receiver(&reply.phone),
                reply = ?clip(&reply.text, QUOTED_REPLY_CHARS), "an SMS reply that is not an opt-out: ignored");
        }
    }
    if entries.is_empty() {
        return Ok(());
    }
    state.store.suppress(&entries, state.clock.now()).await?;
    for entry in &entries {
        count(provider, "opt_out");
        tracing::info!(account_id, provider = provider.as_str(), phone = %masked_receiver(&entry.receiver),
            "SMS opt-out by reply: no more marketing SMS to this number");
    }
    Ok(())
}

fn opt_out(reply: &Reply, account_id: i64, provider: Provider) -> Result<Suppression, Refusal> {
    let note = format!(
        "replied {:?} (via {}, account {account_id})",
        clip(reply.text.trim(), QUOTED_REPLY_CHARS),
        provider.as_str()
    );
    Suppression::new(&reply.phone, Some(ChannelKind::Sms), None, SuppressionSource::SmsReply, Some(&note)).map_err(
        |problems| {
            let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
            bad_body(provider, text.join("; "))
        },
    )
}

fn count(provider: Provider, outcome: &'static str) {
    metrics::counter!("herald_sms_replies_total", "provider" => provider.as_str(), "outcome" => outcome).increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tencent_reply_reads_as_the_number_the_list_compares() {
        let body =
            br#"{"extend":"","mobile":"13800000000","nationcode":"86","sign":"herald","text":"TD","time":1457336869}"#;
        let reply = tencent_reply(body).ok().unwrap();
        assert_eq!((reply.phone.as_str(), reply.text.as_str()), ("13800000000", "TD"));
        let abroad = br#"{"mobile":"2025550100","nationcode":"1","text":"STOP"}"#;
        assert_eq!(tencent_reply(abroad).ok().unwrap().phone, "+12025550100");
        for bad in [&br#"{"mobile":"138","text":"TD"}"#[..], br#"{"mobile":"x1","nationcode":"86","text":"TD"}"#, b"[]"]
        {
            assert!(matches!(tencent_reply(bad), Err(Refusal::BadBody(StatusCode::BAD_REQUEST, _))));
        }
    }

    #[test]
    fn an_aliyun_push_reads_every_entry_and_names_a_bad_one() {
        let body = r#"[{"phone_number":"13800000001","send_time":"2017-09-01 00:00:00","content":"退订","sign_name":"签名","dest_code":"1234","sequence_id":1234567890},
                      {"phone_number":"13800000002","content":"thanks","sequence_id":"1234567891"}]"#;
        let replies = aliyun_replies(body.as_bytes()).ok().unwrap();
        assert_eq!(replies.len(), 2);
        assert_eq!((replies[0].phone.as_str(), replies[0].text.as_str()), ("13800000001", "退订"));
        let Err(Refusal::BadBody(_, problem)) = aliyun_replies(br#"[{"phone_number":"","content":"TD"}]"#) else {
            panic!("an empty number is refused")
        };
        assert!(problem.contains("[0].phone_number"), "{problem}");
        let Err(Refusal::BadBody(_, problem)) = aliyun_replies(br#"{"phone_number":"1","content":"TD"}"#) else {
            panic!("an object is not a batch")
        };
        assert!(problem.starts_with("the body is not Aliyun's SmsUp push"), "{problem}");
    }

    async fn body(response: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(response.into_body(), 1024).await.unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn answers_follow_each_providers_shape() {
        assert_eq!(body(Provider::Tencent.answer(StatusCode::OK, None)).await, json!({"result": 0, "errmsg": "OK"}));
        assert_eq!(body(Provider::Aliyun.answer(StatusCode::OK, None)).await, json!({"code": 0, "msg": "接收成功"}));
        let refused = Provider::Tencent.answer(StatusCode::BAD_REQUEST, Some("x"));
        assert_eq!(body(refused).await, json!({"result": 1, "errmsg": "x"}));
    }
}
