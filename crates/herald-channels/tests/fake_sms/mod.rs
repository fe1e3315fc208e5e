//! Fake Tencent Cloud and Aliyun SMS endpoints for the SMS tests: small axum servers on
//! 127.0.0.1 that check requests the way the providers document them (recomputing the
//! TC3-HMAC-SHA256 and POP HMAC-SHA1 signatures with their own copy of the secret, written here
//! independently of the crate's signing code) and answer in the providers' documented shapes.
#![allow(dead_code)]

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use herald_channels::http::{HttpSettings, OutboundHttp};
use herald_channels::tokens::Tokens;
use herald_channels::{BuildContext, Built, ChannelAccount, OutgoingMessage};
use herald_core::{ChannelKind, MessageId, SystemClock};
use herald_testkit::fake::{FakeServer, Faults, Shared, lock};
use hmac::{Hmac, Mac};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;

pub const TENCENT_ID: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
pub const TENCENT_KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";
pub const ALIYUN_ID: &str = "LTAI4FakeAccessKeyId";
pub const ALIYUN_SECRET: &str = "FakeAccessKeySecretForHeraldTests";

/// What the fake answers to the next request that passes its checks.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Accepted.
    Ok,
    /// Tencent: a `SendStatusSet` entry with this code. Aliyun: `{"Code": code}` with HTTP 200.
    Fail(&'static str),
    /// Tencent: `Response.Error` with this code. Aliyun: a gateway error, HTTP 400.
    Error(&'static str),
    /// This status with an HTML body.
    Http(u16),
}

/// What the fake has seen, and the replies it was told to give.
#[derive(Default)]
pub struct FakeState {
    replies: Faults<Reply>,
    /// Requests that passed the checks: Tencent bodies, Aliyun query parameters.
    accepted: Vec<Value>,
    /// Every request that arrived, passing or not.
    arrived: u32,
    nonces: HashSet<String>,
    ids: u64,
    /// Tencent: status reports not pulled yet, as `PullSmsSendStatusSet` entries, oldest first.
    pub tencent_reports: VecDeque<Value>,
    /// Aliyun: the `SmsSendDetailDTO` each `BizId` is answered with (none: an empty page).
    pub aliyun_details: HashMap<String, Value>,
    /// Receipt questions that passed the checks: Tencent pull bodies, Aliyun query parameters.
    pub receipt_queries: Vec<Value>,
}

impl herald_testkit::fake::FakeState for FakeState {
    type Fault = Reply;
    fn faults(&mut self) -> &mut Faults<Reply> {
        &mut self.replies
    }
}

/// A fake SMS provider on the testkit's scaffold, at `url`.
pub struct Fake {
    pub url: String,
    server: FakeServer<FakeState>,
}

impl Fake {
    async fn start(routes: impl FnOnce(Shared<FakeState>) -> Router) -> Self {
        let server = FakeServer::start(FakeState::default(), routes).await;
        Self { url: server.base_url.clone(), server }
    }

    /// Answers the next requests that pass the checks with `replies`, then with `Reply::Ok`.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        replies.into_iter().for_each(|reply| self.server.fail_next(reply));
    }

    pub fn accepted(&self) -> Vec<Value> {
        self.server.state().accepted.clone()
    }

    pub fn arrived(&self) -> u32 {
        self.server.state().arrived
    }

    /// The fake's state, to set the receipts it holds and read the questions it was asked.
    pub fn state(&self) -> std::sync::MutexGuard<'_, FakeState> {
        self.server.state()
    }
}

/// The scripted reply for a request that passed, and the serial number of this send.
fn next_reply(state: &mut FakeState) -> (Reply, u64) {
    let reply = state.replies.take_next().unwrap_or(Reply::Ok);
    state.ids += 1;
    (reply, state.ids)
}

fn html(status: u16) -> Response {
    (StatusCode::from_u16(status).unwrap(), "<html><body>upstream unavailable</body></html>").into_response()
}

// ---------------------------------------------------------------- Tencent Cloud SendSms

pub async fn tencent() -> Fake {
    Fake::start(|state| Router::new().route("/", post(tencent_send)).with_state(state)).await
}

fn tencent_error(code: &str, message: &str) -> Response {
    let body = json!({"Response": {"Error": {"Code": code, "Message": message}, "RequestId": uuid::Uuid::new_v4().to_string()}});
    (StatusCode::OK, axum::Json(body)).into_response()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn hmac256(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// Checks the TC3-HMAC-SHA256 `Authorization` of a request, as Tencent Cloud documents it.
fn tencent_check_signature(headers: &HeaderMap, body: &[u8]) -> Result<(), (&'static str, String)> {
    let invalid = |m: &str| ("AuthFailure.InvalidAuthorization", m.to_string());
    let auth = header(headers, "authorization").ok_or_else(|| invalid("Authorization header is missing"))?;
    let rest = auth.strip_prefix("TC3-HMAC-SHA256 ").ok_or_else(|| invalid("algorithm must be TC3-HMAC-SHA256"))?;
    let mut parts = BTreeMap::new();
    for part in rest.split(", ") {
        let (k, v) = part.split_once('=').ok_or_else(|| invalid("malformed Authorization"))?;
        parts.insert(k, v);
    }
    let (credential, signed, signature) =
        match (parts.get("Credential"), parts.get("SignedHeaders"), parts.get("Signature")) {
            (Some(c), Some(s), Some(sig)) => (*c, *s, *sig),
            _ => return Err(invalid("Authorization needs Credential, SignedHeaders and Signature")),
        };
    let scope: Vec<&str> = credential.split('/').collect();
    let [secret_id, date, service, "tc3_request"] = scope[..] else {
        return Err(invalid("Credential must be SecretId/Date/service/tc3_request"));
    };
    if secret_id != TENCENT_ID {
        return Err(("AuthFailure.SecretIdNotFound", "The SecretId is not found.".into()));
    }
    let timestamp: i64 = header(headers, "x-tc-timestamp")
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| ("MissingParameter", "X-TC-Timestamp is missing".to_string()))?;
    if (chrono::Utc::now().timestamp() - timestamp).abs() > 300 {
        return Err(("AuthFailure.SignatureExpire", "Signature expired.".into()));
    }
    let expected_date = chrono::DateTime::from_timestamp(timestamp, 0).unwrap().format("%Y-%m-%d").to_string();
    if date != expected_date || service != "sms" {
        return Err(invalid("credential scope does not match the timestamp or service"));
    }
    let names: Vec<&str> = signed.split(';').collect();
    if !names.contains(&"content-type") || !names.contains(&"host") {
        return Err(invalid("content-type and host must be signed"));
    }
    let mut canonical_headers = String::new();
    for name in &names {
        let value = header(headers, name).ok_or_else(|| invalid("a signed header is missing"))?;
        canonical_headers.push_str(&format!("{name}:{}\n", value.trim().to_lowercase()));
    }
    let canonical_request = format!("POST\n/\n\n{canonical_headers}\n{signed}\n{}", hex::encode(Sha256::digest(body)));
    let string_to_sign = format!(
        "TC3-HMAC-SHA256\n{timestamp}\n{date}/{service}/tc3_request\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let key = hmac256(format!("TC3{TENCENT_KEY}").as_bytes(), date);
    let key = hmac256(&key, service);
    let key = hmac256(&key, "tc3_request");
    if hex::encode(hmac256(&key, &string_to_sign)) != signature {
        return Err((
            "AuthFailure.SignatureFailure",
            "The provided credentials could not be validated. Please check your signature is correct.".into(),
        ));
    }
    Ok(())
}

async fn tencent_send(State(shared): State<Shared<FakeState>>, headers: HeaderMap, body: Bytes) -> Response {
    lock(&shared).arrived += 1;
    if !header(&headers, "content-type").is_some_and(|t| t.starts_with("application/json")) {
        return tencent_error("InvalidParameter", "Content-Type must be application/json");
    }
    let action = header(&headers, "x-tc-action").unwrap_or_default().to_string();
    if action != "SendSms" && action != "PullSmsSendStatus" {
        return tencent_error("InvalidAction", "The action is not supported.");
    }
    if header(&headers, "x-tc-version") != Some("2021-01-11") {
        return tencent_error("NoSuchVersion", "The API version does not exist.");
    }
    if header(&headers, "x-tc-region").is_none_or(str::is_empty) {
        return tencent_error("MissingParameter", "X-TC-Region is missing");
    }
    if let Err((code, message)) = tencent_check_signature(&headers, &body) {
        return tencent_error(code, &message);
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return tencent_error("FailedOperation.JsonParseFail", "Failed to parse the request body.");
    };
    if action == "PullSmsSendStatus" {
        return tencent_pull(&shared, &request);
    }
    for field in ["SmsSdkAppId", "SignName", "TemplateId"] {
        if request[field].as_str().is_none_or(str::is_empty) {
            return tencent_error("MissingParameter", &format!("{field} is missing"));
        }
    }
    let phones: Vec<String> = match request["PhoneNumberSet"].as_array() {
        Some(set) if !set.is_empty() && set.iter().all(Value::is_string) => {
            set.iter().map(|p| p.as_str().unwrap().to_string()).collect()
        }
        _ => return tencent_error("MissingParameter.EmptyPhoneNumberSet", "PhoneNumberSet is empty"),
    };
    if let Some(params) = request.get("TemplateParamSet")
        && !params.as_array().is_some_and(|a| a.iter().all(Value::is_string))
    {
        return tencent_error("InvalidParameterValue.TemplateParameterFormatError", "TemplateParamSet");
    }
    let (reply, id) = {
        let mut state = lock(&shared);
        state.accepted.push(request.clone());
        next_reply(&mut state)
    };
    let status = |code: &str, serial: String, message: &str| {
        let statuses: Vec<Value> = phones
            .iter()
            .map(|phone| {
                json!({"SerialNo": serial, "PhoneNumber": phone, "Fee": if code == "Ok" { 1 } else { 0 },
                    "SessionContext": request["SessionContext"], "Code": code, "Message": message, "IsoCode": "CN"})
            })
            .collect();
        let body = json!({"Response": {"SendStatusSet": statuses, "RequestId": uuid::Uuid::new_v4().to_string()}});
        (StatusCode::OK, axum::Json(body)).into_response()
    };
    match reply {
        Reply::Ok => status("Ok", format!("2028:{id:020}"), "send success"),
        Reply::Fail(code) => status(code, String::new(), "failed by the fake"),
        Reply::Error(code) => tencent_error(code, "failed by the fake"),
        Reply::Http(code) => html(code),
    }
}

/// `PullSmsSendStatus` (2021-01-11): `{Limit 0..=100, SmsSdkAppId}` hands over the oldest
/// `Limit` reports not pulled yet, each once; a scripted fault answers instead, keeping them.
fn tencent_pull(shared: &Shared<FakeState>, request: &Value) -> Response {
    if request["SmsSdkAppId"].as_str().is_none_or(str::is_empty) {
        return tencent_error("MissingParameter", "SmsSdkAppId is missing");
    }
    let Some(limit) = request["Limit"].as_u64().filter(|l| *l <= 100) else {
        return tencent_error("InvalidParameterValue", "Limit must be an integer from 0 to 100");
    };
    let mut state = lock(shared);
    state.receipt_queries.push(request.clone());
    match state.replies.take_next() {
        None | Some(Reply::Ok) => {}
        Some(Reply::Http(code)) => return html(code),
        Some(Reply::Fail(code) | Reply::Error(code)) => return tencent_error(code, "failed by the fake"),
    }
    let take = usize::try_from(limit).unwrap_or(0).min(state.tencent_reports.len());
    let set: Vec<Value> = state.tencent_reports.drain(..take).collect();
    let body = json!({"Response": {"PullSmsSendStatusSet": set, "RequestId": uuid::Uuid::new_v4().to_string()}});
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// One `PullSmsSendStatusSet` entry as Tencent Cloud documents it.
pub fn tencent_report(serial_no: &str, success: bool, description: &str) -> Value {
    json!({"UserReceiveTime": "2026-05-01 11:00:05", "CountryCode": "86", "SubscriberNumber": "13800000000",
        "PhoneNumber": "+8613800000000", "SerialNo": serial_no, "ReportStatus": if success { "SUCCESS" } else { "FAIL" },
        "Description": description, "SessionContext": ""})
}

// ---------------------------------------------------------------- Aliyun Dysms SendSms

pub async fn aliyun() -> Fake {
    Fake::start(|state| Router::new().route("/", get(aliyun_send)).with_state(state)).await
}

fn aliyun_answer(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({"RequestId": uuid::Uuid::new_v4().to_string(), "HostId": "dysmsapi.aliyuncs.com", "Code": code,
        "Message": message, "Recommend": "https://api.aliyun.com/troubleshoot"});
    (status, axum::Json(body)).into_response()
}

/// POP percent-encoding, written independently of the crate's.
fn pop_encode(text: &str) -> String {
    let form: String = url::form_urlencoded::byte_serialize(text.as_bytes()).collect();
    form.replace('+', "%20").replace('*', "%2A").replace("%7E", "~")
}

async fn aliyun_send(State(shared): State<Shared<FakeState>>, RawQuery(query): RawQuery) -> Response {
    lock(&shared).arrived += 1;
    let query = query.unwrap_or_default();
    let mut params: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        params.insert(k.into_owned(), v.into_owned());
    }
    let bad = StatusCode::BAD_REQUEST;
    let query_details = params.get("Action").map(String::as_str) == Some("QuerySendDetails");
    let action_params: &[&str] = if query_details {
        &["PhoneNumber", "SendDate", "PageSize", "CurrentPage"]
    } else {
        &["PhoneNumbers", "SignName", "TemplateCode"]
    };
    for name in action_params.iter().copied().chain([
        "AccessKeyId",
        "Action",
        "Format",
        "SignatureMethod",
        "SignatureNonce",
        "SignatureVersion",
        "Timestamp",
        "Version",
        "Signature",
    ]) {
        if params.get(name).is_none_or(String::is_empty) {
            let message = format!(
                "The input parameter \"{name}\" that is mandatory for processing this request is not supplied."
            );
            return aliyun_answer(bad, &format!("Missing{name}"), &message);
        }
    }
    if !matches!(params["Action"].as_str(), "SendSms" | "QuerySendDetails") || params["Version"] != "2017-05-25" {
        return aliyun_answer(StatusCode::NOT_FOUND, "InvalidAction.NotFound", "Specified api is not found.");
    }
    if params["SignatureMethod"] != "HMAC-SHA1" || params["SignatureVersion"] != "1.0" || params["Format"] != "JSON" {
        return aliyun_answer(bad, "InvalidParameter", "SignatureMethod, SignatureVersion or Format is invalid.");
    }
    let Ok(timestamp) = chrono::NaiveDateTime::parse_from_str(&params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ") else {
        return aliyun_answer(bad, "InvalidTimeStamp.Format", "Specified time stamp is not valid.");
    };
    if (chrono::Utc::now().naive_utc() - timestamp).num_seconds().abs() > 900 {
        return aliyun_answer(bad, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.");
    }
    if params["AccessKeyId"] != ALIYUN_ID {
        return aliyun_answer(
            StatusCode::NOT_FOUND,
            "InvalidAccessKeyId.NotFound",
            "Specified access key is not found.",
        );
    }
    let signature = params.remove("Signature").unwrap();
    let canonical: Vec<String> = params.iter().map(|(k, v)| format!("{}={}", pop_encode(k), pop_encode(v))).collect();
    let string_to_sign = format!("GET&%2F&{}", pop_encode(&canonical.join("&")));
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(format!("{ALIYUN_SECRET}&").as_bytes()).unwrap();
    mac.update(string_to_sign.as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    if expected != signature {
        let message =
            format!("Specified signature does not match our calculation. server string to sign is:{string_to_sign}");
        return aliyun_answer(bad, "SignatureDoesNotMatch", &message);
    }
    if !lock(&shared).nonces.insert(params["SignatureNonce"].clone()) {
        return aliyun_answer(bad, "SignatureNonceUsed", "Specified signature nonce was used already.");
    }
    if query_details {
        return aliyun_query(&shared, &params);
    }
    if let Some(template_param) = params.get("TemplateParam") {
        let valid =
            serde_json::from_str::<Map<String, Value>>(template_param).is_ok_and(|m| m.values().all(Value::is_string));
        if !valid {
            return aliyun_answer(StatusCode::OK, "isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值");
        }
    }
    let (reply, id) = {
        let mut state = lock(&shared);
        state.accepted.push(serde_json::to_value(&params).unwrap());
        next_reply(&mut state)
    };
    match reply {
        Reply::Ok => {
            let body = json!({"Message": "OK", "RequestId": uuid::Uuid::new_v4().to_string(), "BizId": format!("{id:015}^0"), "Code": "OK"});
            (StatusCode::OK, axum::Json(body)).into_response()
        }
        Reply::Fail(code) => aliyun_answer(StatusCode::OK, code, "failed by the fake"),
        Reply::Error(code) => aliyun_answer(bad, code, "failed by the fake"),
        Reply::Http(code) => html(code),
    }
}

/// `QuerySendDetails` (2017-05-25): `SendDate` yyyyMMdd within 30 days, `PageSize` 1..=50,
/// `CurrentPage` from 1, `BizId` naming the send; answers its `SmsSendDetailDTO` (an empty page
/// for an id it has none for). A scripted fault answers instead.
fn aliyun_query(shared: &Shared<FakeState>, params: &BTreeMap<String, String>) -> Response {
    let bad = StatusCode::BAD_REQUEST;
    let date = chrono::NaiveDate::parse_from_str(&params["SendDate"], "%Y%m%d");
    if params["SendDate"].len() != 8 || date.is_err() {
        return aliyun_answer(bad, "isv.INVALID_PARAMETERS", "SendDate must be yyyyMMdd");
    }
    if !params["PageSize"].parse::<u32>().is_ok_and(|n| (1..=50).contains(&n)) {
        return aliyun_answer(bad, "isv.INVALID_PARAMETERS", "PageSize must be 1 to 50");
    }
    if !params["CurrentPage"].parse::<u32>().is_ok_and(|n| n >= 1) {
        return aliyun_answer(bad, "isv.INVALID_PARAMETERS", "CurrentPage must be at least 1");
    }
    let mut state = lock(shared);
    state.receipt_queries.push(serde_json::to_value(params).unwrap());
    match state.replies.take_next() {
        None | Some(Reply::Ok) => {}
        Some(Reply::Http(code)) => return html(code),
        Some(Reply::Fail(code)) => return aliyun_answer(StatusCode::OK, code, "failed by the fake"),
        Some(Reply::Error(code)) => return aliyun_answer(bad, code, "failed by the fake"),
    }
    let found: Vec<Value> =
        params.get("BizId").and_then(|id| state.aliyun_details.get(id)).cloned().into_iter().collect();
    let body = json!({"Code": "OK", "Message": "OK", "RequestId": uuid::Uuid::new_v4().to_string(),
        "TotalCount": found.len(), "SmsSendDetailDTOs": {"SmsSendDetailDTO": found}});
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// One `SmsSendDetailDTO` as Aliyun documents it: `SendStatus` 1 waiting, 2 failed, 3 delivered.
pub fn aliyun_detail(phone: &str, send_status: u8, err_code: &str, out_id: &str) -> Value {
    json!({"ErrCode": err_code, "TemplateCode": "SMS_154950909", "OutId": out_id, "ReceiveDate": "2026-05-01 11:00:04",
        "SendDate": "2026-05-01 11:00:00", "PhoneNum": phone, "Content": "【阿里云短信测试】您的验证码为1234", "SendStatus": send_status})
}

// ---------------------------------------------------------------- helpers

pub fn context() -> BuildContext {
    let http =
        OutboundHttp::new(HttpSettings { allow_private_networks: true, timeout_ms: 3_000, ..HttpSettings::default() })
            .unwrap();
    let clock = Arc::new(SystemClock);
    BuildContext { http, tokens: Tokens::in_memory(clock.clone()), clock }
}

pub fn account(config: Value) -> ChannelAccount {
    ChannelAccount { id: 7, name: "sms".into(), channel: ChannelKind::Sms, config }
}

pub fn build(config: Value) -> Built {
    herald_channels::build(&account(config), &context()).expect("channel builds")
}

pub fn tencent_supplier(fake_url: &str) -> Value {
    json!({"provider": "tencent", "secretId": TENCENT_ID, "secretKey": TENCENT_KEY, "sdkAppId": "1400006666",
        "signName": "腾讯云", "templateId": "1110", "region": "ap-guangzhou", "endpoint": fake_url,
        "paramOrder": ["code", "minutes"]})
}

pub fn aliyun_supplier(fake_url: &str) -> Value {
    json!({"provider": "aliyun", "accessKeyId": ALIYUN_ID, "accessKeySecret": ALIYUN_SECRET,
        "signName": "阿里云短信测试", "templateCode": "SMS_154950909", "endpoint": fake_url})
}

pub fn sms(phone: &str) -> OutgoingMessage {
    OutgoingMessage {
        message_id: MessageId("r1-7".into()),
        template_id: 1,
        run_id: Some(1),
        receiver: phone.into(),
        msg_type: 10,
        content: json!({"params": {"code": "1234", "minutes": 5}}),
    }
}
