//! Aliyun Dysms: the RPC-style `SendSms` (version 2017-05-25), a GET whose query is signed with
//! HMAC-SHA1 (POP signature version 1.0), and the mapping of its answer codes onto [`Attempt`].

use super::{Attempt, Sms, Supplier, parse_endpoint, require, snippet, transport_failure};
use crate::account::{BuildContext, BuildError};
use crate::http::OutboundHttp;
use async_trait::async_trait;
use base64::Engine;
use herald_core::Clock;
use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha1::Sha1;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Arc;

pub const DEFAULT_ENDPOINT: &str = "https://dysmsapi.aliyuncs.com";
const VERSION: &str = "2017-05-25";

/// One Aliyun SMS supplier (`"provider": "aliyun"`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AliyunConfig {
    pub access_key_id: String,
    pub access_key_secret: SecretString,
    /// The approved signature, e.g. `阿里云短信测试`.
    pub sign_name: String,
    /// e.g. `SMS_154950909`.
    pub template_code: String,
    #[serde(default = "default_endpoint")]
    pub endpoint: String,
}

fn default_endpoint() -> String {
    DEFAULT_ENDPOINT.into()
}

/// POP percent-encoding: RFC 3986 over UTF-8, everything but `A-Za-z0-9-_.~` escaped as `%XX`
/// (so a space is `%20`, `*` is `%2A`, and `~` stays).
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// The parameters, sorted by name, as `name=value` pairs joined by `&`, both percent-encoded.
pub fn canonical_query(params: &BTreeMap<String, String>) -> String {
    params.iter().map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v))).collect::<Vec<_>>().join("&")
}

/// `base64(HMAC-SHA1(secret + "&", METHOD + "&%2F&" + percentEncode(canonical query)))`.
pub fn signature(method: &str, canonical_query: &str, access_key_secret: &str) -> String {
    let string_to_sign = format!("{method}&%2F&{}", percent_encode(canonical_query));
    let mut mac = Hmac::<Sha1>::new_from_slice(format!("{access_key_secret}&").as_bytes()).expect("any key length");
    mac.update(string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

pub struct AliyunSms {
    name: String,
    config: AliyunConfig,
    url: String,
    http: OutboundHttp,
    clock: Arc<dyn Clock>,
}

impl AliyunSms {
    /// Validates `config`; `field` is its place in the account config, for errors.
    pub fn new(name: String, config: AliyunConfig, ctx: &BuildContext, field: &str) -> Result<Self, BuildError> {
        require(field, "accessKeyId", &config.access_key_id)?;
        require(field, "accessKeySecret", config.access_key_secret.expose_secret())?;
        require(field, "signName", &config.sign_name)?;
        require(field, "templateCode", &config.template_code)?;
        let url = parse_endpoint(field, &config.endpoint)?;
        Ok(Self { name, url: url.to_string(), config, http: ctx.http.clone(), clock: ctx.clock.clone() })
    }

    /// The signed request URL for one SMS.
    fn request_url(&self, sms: Sms<'_>) -> String {
        let mut params = BTreeMap::new();
        let mut put = |k: &str, v: &str| params.insert(k.to_string(), v.to_string());
        put("Action", "SendSms");
        put("PhoneNumbers", sms.phone);
        put("SignName", &self.config.sign_name);
        put("TemplateCode", sms.template.aliyun_code.as_deref().unwrap_or(&self.config.template_code));
        if !sms.params.is_empty() {
            put("TemplateParam", &serde_json::Value::Object(sms.params.clone()).to_string());
        }
        put("OutId", sms.message_id);
        self.signed_url(params)
    }

    /// The URL of an RPC call with these parameters (`Action` among them), the common ones
    /// added and the whole signed.
    pub(crate) fn signed_url(&self, mut params: BTreeMap<String, String>) -> String {
        let mut put = |k: &str, v: &str| params.insert(k.to_string(), v.to_string());
        put("AccessKeyId", &self.config.access_key_id);
        put("Format", "JSON");
        put("SignatureMethod", "HMAC-SHA1");
        put("SignatureNonce", &uuid::Uuid::new_v4().to_string());
        put("SignatureVersion", "1.0");
        put("Timestamp", &self.clock.now().format("%Y-%m-%dT%H:%M:%SZ").to_string());
        put("Version", VERSION);
        let query = canonical_query(&params);
        let signature = signature("GET", &query, self.config.access_key_secret.expose_secret());
        format!("{}?Signature={}&{query}", self.url, percent_encode(&signature))
    }

    /// GETs a signed RPC call.
    pub(crate) async fn call(
        &self,
        params: BTreeMap<String, String>,
    ) -> Result<crate::http::HttpResponse, crate::http::HttpError> {
        self.http.send(Method::GET, &self.signed_url(params), |r| r).await
    }
}

#[async_trait]
impl Supplier for AliyunSms {
    fn name(&self) -> &str {
        &self.name
    }

    fn endpoint(&self) -> &str {
        &self.url
    }

    async fn send(&self, sms: Sms<'_>) -> Attempt {
        let url = self.request_url(sms);
        match self.http.send(Method::GET, &url, |r| r).await {
            Ok(response) => classify(&self.name, response.status, &response.body),
            Err(e) => transport_failure(&self.name, e),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Answer {
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    biz_id: String,
    #[serde(default)]
    request_id: String,
}

/// Maps a `SendSms` response (or a POP gateway error) onto an attempt.
pub fn classify(name: &str, status: StatusCode, body: &[u8]) -> Attempt {
    let passing_status = status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS;
    let answer: Answer = match serde_json::from_slice(body) {
        Ok(answer) => answer,
        Err(_) => {
            let reason = format!("{name}: HTTP {}: {}", status.as_u16(), snippet(body));
            return if passing_status {
                Attempt::Retryable { reason, after: None }
            } else {
                Attempt::SupplierFault { reason }
            };
        }
    };
    if answer.code == "OK" {
        return Attempt::Sent { id: answer.biz_id };
    }
    let reason = format!("{name}: {}: {} (request {})", answer.code, answer.message, answer.request_id);
    match answer.code.as_str() {
        "isv.MOBILE_NUMBER_ILLEGAL" | "isv.PHONE_NUMBER_ILLEGAL" => Attempt::ReceiverFault { reason },
        code if is_passing(code) || passing_status => Attempt::Retryable { reason, after: None },
        // Credentials, signature name, template, balance, account state, parameters.
        _ => Attempt::SupplierFault { reason },
    }
}

/// Flow control, quotas and Aliyun-side system errors.
fn is_passing(code: &str) -> bool {
    matches!(
        code,
        "isv.BUSINESS_LIMIT_CONTROL"
            | "isv.DAY_LIMIT_CONTROL"
            | "isp.SYSTEM_ERROR"
            | "isp.GATEWAY_ERROR"
            | "isp.UNKNOWN"
            | "ServiceUnavailable"
            | "InternalError"
            | "SignatureNonceUsed"
    ) || code.starts_with("Throttling")
        || code.starts_with("isv.BUSINESS_LIMIT")
        || code.starts_with("BUSINESS_LIMIT_CONTROL")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn signature_matches_the_documented_example() {
        // Aliyun's RPC signature page: DescribeRegions with AccessKeyId testid, secret testsecret.
        let params: BTreeMap<String, String> = [
            ("AccessKeyId", "testid"),
            ("Action", "DescribeRegions"),
            ("Format", "XML"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
            ("SignatureVersion", "1.0"),
            ("Timestamp", "2016-02-23T12:46:24Z"),
            ("Version", "2014-05-26"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let query = canonical_query(&params);
        assert!(query.contains("Timestamp=2016-02-23T12%3A46%3A24Z"), "{query}");
        assert_eq!(signature("GET", &query, "testsecret"), "OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
    }

    #[test]
    fn pop_encoding() {
        assert_eq!(percent_encode("a b*c~d+e/f"), "a%20b%2Ac~d%2Be%2Ff");
        assert_eq!(percent_encode("阿里"), "%E9%98%BF%E9%87%8C");
        assert_eq!(percent_encode(r#"{"code":"1"}"#), "%7B%22code%22%3A%221%22%7D");
    }

    #[test]
    fn codes_are_classified() {
        let answer = |code: &str| json!({"Code": code, "Message": "m", "RequestId": "r1"}).to_string().into_bytes();
        let ok = json!({"Code": "OK", "Message": "OK", "BizId": "9006197469364984^0", "RequestId": "r1"});
        assert_eq!(
            classify("aliyun", StatusCode::OK, ok.to_string().as_bytes()),
            Attempt::Sent { id: "9006197469364984^0".into() }
        );
        let kind = |status: StatusCode, body: Vec<u8>| match classify("aliyun", status, &body) {
            Attempt::Retryable { .. } => "retry",
            Attempt::SupplierFault { .. } => "supplier",
            Attempt::ReceiverFault { .. } => "receiver",
            Attempt::Sent { .. } => "sent",
        };
        assert_eq!(kind(StatusCode::OK, answer("isv.BUSINESS_LIMIT_CONTROL")), "retry");
        assert_eq!(kind(StatusCode::OK, answer("isv.MOBILE_NUMBER_ILLEGAL")), "receiver");
        assert_eq!(kind(StatusCode::OK, answer("isv.AMOUNT_NOT_ENOUGH")), "supplier");
        assert_eq!(kind(StatusCode::OK, answer("isv.SMS_SIGNATURE_ILLEGAL")), "supplier");
        assert_eq!(kind(StatusCode::BAD_REQUEST, answer("SignatureDoesNotMatch")), "supplier");
        assert_eq!(kind(StatusCode::BAD_REQUEST, answer("Throttling.User")), "retry");
        assert_eq!(kind(StatusCode::SERVICE_UNAVAILABLE, answer("ServiceUnavailable")), "retry");
        assert_eq!(kind(StatusCode::BAD_GATEWAY, b"<html>".to_vec()), "retry");
        match classify("aliyun", StatusCode::OK, &answer("isv.SMS_TEMPLATE_ILLEGAL")) {
            Attempt::SupplierFault { reason } => assert_eq!(reason, "aliyun: isv.SMS_TEMPLATE_ILLEGAL: m (request r1)"),
            other => panic!("{other:?}"),
        }
    }
}
