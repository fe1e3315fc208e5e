//! Tencent Cloud SMS: API 3.0 `SendSms` (version 2021-01-11), a JSON POST signed with
//! TC3-HMAC-SHA256, and the mapping of its answer codes onto [`Attempt`].

use super::{Attempt, Sms, Supplier, parse_endpoint, require, snippet, transport_failure};
use crate::account::{BuildContext, BuildError};
use crate::http::OutboundHttp;
use async_trait::async_trait;
use herald_core::Clock;
use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::sync::Arc;

pub const DEFAULT_ENDPOINT: &str = "https://sms.tencentcloudapi.com";
pub const DEFAULT_REGION: &str = "ap-guangzhou";
const SERVICE: &str = "sms";
const ACTION: &str = "SendSms";
const VERSION: &str = "2021-01-11";
const CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// One Tencent Cloud SMS supplier (`"provider": "tencent"`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TencentConfig {
    pub secret_id: String,
    pub secret_key: SecretString,
    /// `SmsSdkAppId`, e.g. `1400006666`.
    pub sdk_app_id: String,
    /// The approved signature's content, e.g. `腾讯云`.
    pub sign_name: String,
    pub template_id: String,
    #[serde(default = "default_region")]
    pub region: String,
    #[serde(default = "default_endpoint")]
    pub endpoint: String,
    /// Names in `content.params`, in the order of the template's `{1}`, `{2}`, ...
    #[serde(default)]
    pub param_order: Vec<String>,
}

fn default_region() -> String {
    DEFAULT_REGION.into()
}

fn default_endpoint() -> String {
    DEFAULT_ENDPOINT.into()
}

/// TC3-HMAC-SHA256 request signing for one service.
pub struct Tc3Signer<'a> {
    pub secret_id: &'a str,
    pub secret_key: &'a str,
    pub service: &'a str,
}

impl Tc3Signer<'_> {
    /// The `Authorization` header for a POST to `/` with these headers (lower-case names, in
    /// the order given, which must be sorted) and body, at `timestamp` (Unix seconds).
    pub fn authorization(&self, timestamp: i64, headers: &[(&str, &str)], payload: &[u8]) -> String {
        let canonical_headers: String =
            headers.iter().map(|(name, value)| format!("{name}:{}\n", value.trim().to_lowercase())).collect();
        let signed_headers = headers.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(";");
        let canonical_request =
            format!("POST\n/\n\n{canonical_headers}\n{signed_headers}\n{}", hex::encode(Sha256::digest(payload)));
        let date = chrono::DateTime::from_timestamp(timestamp, 0).unwrap_or_default().format("%Y-%m-%d").to_string();
        let scope = format!("{date}/{}/tc3_request", self.service);
        let string_to_sign =
            format!("TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{}", hex::encode(Sha256::digest(canonical_request)));
        let key = hmac_sha256(format!("TC3{}", self.secret_key).as_bytes(), date.as_bytes());
        let key = hmac_sha256(&key, self.service.as_bytes());
        let key = hmac_sha256(&key, b"tc3_request");
        let signature = hex::encode(hmac_sha256(&key, string_to_sign.as_bytes()));
        format!(
            "TC3-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
            self.secret_id
        )
    }
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

pub struct TencentSms {
    name: String,
    config: TencentConfig,
    url: String,
    /// `Host` as sent: the endpoint's host, with its port when not the scheme's default.
    host: String,
    http: OutboundHttp,
    clock: Arc<dyn Clock>,
}

impl TencentSms {
    /// Validates `config`; `field` is its place in the account config, for errors.
    pub fn new(name: String, config: TencentConfig, ctx: &BuildContext, field: &str) -> Result<Self, BuildError> {
        require(field, "secretId", &config.secret_id)?;
        require(field, "secretKey", config.secret_key.expose_secret())?;
        require(field, "sdkAppId", &config.sdk_app_id)?;
        require(field, "signName", &config.sign_name)?;
        require(field, "templateId", &config.template_id)?;
        require(field, "region", &config.region)?;
        for (i, param) in config.param_order.iter().enumerate() {
            require(field, &format!("paramOrder[{i}]"), param)?;
        }
        let url = parse_endpoint(field, &config.endpoint)?;
        let mut host = url.host_str().unwrap_or_default().to_string();
        if let Some(port) = url.port() {
            host = format!("{host}:{port}");
        }
        Ok(Self { name, url: url.to_string(), host, config, http: ctx.http.clone(), clock: ctx.clock.clone() })
    }

    /// The supplier's `SmsSdkAppId`.
    pub(crate) fn sdk_app_id(&self) -> &str {
        &self.config.sdk_app_id
    }

    /// POSTs `body` as API 3.0 `action` (version 2021-01-11), signed with TC3-HMAC-SHA256.
    pub(crate) async fn call(
        &self,
        action: &str,
        body: &Value,
    ) -> Result<crate::http::HttpResponse, crate::http::HttpError> {
        let payload = serde_json::to_vec(body).expect("JSON values serialize");
        let timestamp = self.clock.now().timestamp();
        let signer = Tc3Signer {
            secret_id: &self.config.secret_id,
            secret_key: self.config.secret_key.expose_secret(),
            service: SERVICE,
        };
        let headers = [("content-type", CONTENT_TYPE), ("host", self.host.as_str()), ("x-tc-action", action)];
        let authorization = signer.authorization(timestamp, &headers, &payload);
        self.http
            .send(Method::POST, &self.url, |r| {
                r.header("Authorization", authorization)
                    .header("Content-Type", CONTENT_TYPE)
                    .header("X-TC-Action", action)
                    .header("X-TC-Version", VERSION)
                    .header("X-TC-Timestamp", timestamp.to_string())
                    .header("X-TC-Region", &self.config.region)
                    .body(payload)
            })
            .await
    }

    /// `TemplateParamSet`: the params named by `paramOrder` (the message template's own, else
    /// the supplier's), in that order.
    fn ordered_params(&self, sms: Sms<'_>) -> Result<Vec<String>, String> {
        let (order, params) =
            (sms.template.tencent_param_order.as_ref().unwrap_or(&self.config.param_order), sms.params);
        order
            .iter()
            .map(|name| match params.get(name).and_then(Value::as_str) {
                Some(value) => Ok(value.to_string()),
                None => Err(format!("{}: content.params has no `{name}`, which paramOrder names", self.name)),
            })
            .collect()
    }
}

#[async_trait]
impl Supplier for TencentSms {
    fn name(&self) -> &str {
        &self.name
    }

    fn endpoint(&self) -> &str {
        &self.url
    }

    async fn send(&self, sms: Sms<'_>) -> Attempt {
        let template_params = match self.ordered_params(sms) {
            Ok(params) => params,
            Err(reason) => return Attempt::SupplierFault { reason },
        };
        let body = json!({
            "PhoneNumberSet": [sms.phone],
            "SmsSdkAppId": self.config.sdk_app_id,
            "SignName": self.config.sign_name,
            "TemplateId": sms.template.tencent_id.as_deref().unwrap_or(&self.config.template_id),
            "TemplateParamSet": template_params,
            "SessionContext": sms.message_id,
        });
        let response = self.call(ACTION, &body).await;
        match response {
            Ok(response) => classify(&self.name, response.status, &response.body),
            Err(e) => transport_failure(&self.name, e),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Envelope {
    response: ResponseBody,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ResponseBody {
    error: Option<ApiError>,
    #[serde(default)]
    send_status_set: Vec<SendStatus>,
    #[serde(default)]
    request_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ApiError {
    code: String,
    #[serde(default)]
    message: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SendStatus {
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    serial_no: String,
}

/// Maps a `SendSms` response for one number onto an attempt.
pub fn classify(name: &str, status: StatusCode, body: &[u8]) -> Attempt {
    let envelope: Envelope = match serde_json::from_slice(body) {
        Ok(envelope) => envelope,
        Err(_) => {
            let reason = format!("{name}: HTTP {}: {}", status.as_u16(), snippet(body));
            return if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
                Attempt::Retryable { reason, after: None }
            } else {
                Attempt::SupplierFault { reason }
            };
        }
    };
    let response = envelope.response;
    let (code, message) = if let Some(error) = response.error {
        (error.code, error.message)
    } else if let Some(sent) = response.send_status_set.into_iter().next() {
        if sent.code == "Ok" {
            return Attempt::Sent { id: sent.serial_no };
        }
        (sent.code, sent.message)
    } else {
        return Attempt::SupplierFault { reason: format!("{name}: response has neither Error nor SendStatusSet") };
    };
    let reason = format!("{name}: {code}: {message} (request {})", response.request_id);
    match fault_of(&code) {
        Fault::Passing => Attempt::Retryable { reason, after: None },
        Fault::Supplier => Attempt::SupplierFault { reason },
        Fault::Receiver => Attempt::ReceiverFault { reason },
    }
}

enum Fault {
    Passing,
    Supplier,
    Receiver,
}

/// Whose fault a Tencent error code is.
fn fault_of(code: &str) -> Fault {
    match code {
        "InvalidParameterValue.IncorrectPhoneNumber"
        | "FailedOperation.PhoneNumberParseFail"
        | "FailedOperation.PhoneNumberInBlacklist"
        | "MissingParameter.EmptyPhoneNumberSet" => Fault::Receiver,
        // Quotas and frequency limits lift with time.
        "LimitExceeded.PhoneNumberCountLimit" | "LimitExceeded.AppCountryOrRegionInBlacklist" => Fault::Supplier,
        c if c.starts_with("LimitExceeded.") || c.starts_with("RequestLimitExceeded") => Fault::Passing,
        // Marketing SMS may only go out between 8:00 and 22:00.
        "FailedOperation.MarketingSendTimeConstraint" => Fault::Passing,
        "InternalError"
        | "InternalError.Timeout"
        | "InternalError.SendAndRecvFail"
        | "InternalError.OtherError"
        | "InternalError.UnknownError"
        | "InternalError.ParseBackendResponseFail"
        | "ServiceUnavailable" => Fault::Passing,
        c if c.starts_with("ResourceUnavailable") => Fault::Passing,
        // Credentials, SdkAppId, signature, template, balance, permissions, parameters.
        _ => Fault::Supplier,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_the_documented_example() {
        // Tencent Cloud's "Signature v3" page: DescribeInstances on cvm, POST, at 1551113065.
        let signer = Tc3Signer {
            secret_id: "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
            secret_key: "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
            service: "cvm",
        };
        let payload = br#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;
        let headers = [("content-type", "application/json; charset=utf-8"), ("host", "cvm.tencentcloudapi.com")];
        assert_eq!(
            signer.authorization(1551113065, &headers, payload),
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, \
             SignedHeaders=content-type;host, \
             Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
        );
    }

    fn status_body(code: &str) -> Vec<u8> {
        json!({"Response": {"SendStatusSet": [{"SerialNo": "", "PhoneNumber": "+8613800000000", "Fee": 0,
            "SessionContext": "m1", "Code": code, "Message": "m", "IsoCode": "CN"}], "RequestId": "r1"}})
        .to_string()
        .into_bytes()
    }

    fn error_body(code: &str) -> Vec<u8> {
        json!({"Response": {"Error": {"Code": code, "Message": "m"}, "RequestId": "r1"}}).to_string().into_bytes()
    }

    #[test]
    fn codes_are_classified() {
        let ok = json!({"Response": {"SendStatusSet": [{"SerialNo": "2028:f825e6b16e23f73f4123", "Code": "Ok",
            "Message": "send success", "PhoneNumber": "+8613800000000"}], "RequestId": "r1"}});
        assert_eq!(
            classify("tencent", StatusCode::OK, ok.to_string().as_bytes()),
            Attempt::Sent { id: "2028:f825e6b16e23f73f4123".into() }
        );
        let kind = |body: Vec<u8>| match classify("tencent", StatusCode::OK, &body) {
            Attempt::Retryable { .. } => "retry",
            Attempt::SupplierFault { .. } => "supplier",
            Attempt::ReceiverFault { .. } => "receiver",
            Attempt::Sent { .. } => "sent",
        };
        assert_eq!(kind(status_body("LimitExceeded.PhoneNumberDailyLimit")), "retry");
        assert_eq!(kind(status_body("FailedOperation.InsufficientBalanceInSmsPackage")), "supplier");
        assert_eq!(kind(status_body("InvalidParameterValue.IncorrectPhoneNumber")), "receiver");
        assert_eq!(kind(error_body("AuthFailure.SignatureFailure")), "supplier");
        assert_eq!(kind(error_body("RequestLimitExceeded")), "retry");
        assert_eq!(kind(error_body("InternalError.Timeout")), "retry");
        assert_eq!(kind(error_body("FailedOperation.TemplateIncorrectOrUnapproved")), "supplier");
        let reason = match classify("tencent", StatusCode::OK, &error_body("AuthFailure.SecretIdNotFound")) {
            Attempt::SupplierFault { reason } => reason,
            other => panic!("{other:?}"),
        };
        assert_eq!(reason, "tencent: AuthFailure.SecretIdNotFound: m (request r1)");
        assert!(matches!(classify("t", StatusCode::BAD_GATEWAY, b"<html>"), Attempt::Retryable { .. }));
        assert!(matches!(classify("t", StatusCode::NOT_FOUND, b"<html>"), Attempt::SupplierFault { .. }));
    }
}
