//! What a Feishu custom bot's answer means. The bot answers `{code, msg, data}` (older hooks:
//! `{StatusCode, StatusMessage}`), with HTTP 200 for most faults and 400 for malformed or
//! throttled requests.
//!
//! Codes (Feishu custom bot guide and its FAQ): 0 success; 11232 "frequency limited" (the
//! 100/min, 5/s per-bot limit, or system pressure on the hour and half hour) and 9499 when its
//! msg is "too many request" are retryable; 9499 "Bad Request", 19001 invalid hook token,
//! 19002 invalid params, 19007 bot not enabled, 19021 sign match fail or timestamp not within
//! one hour, 19022 IP not allowed, 19024 keywords not found and the rest are permanent.

use crate::SendResult;
use crate::http::HttpResponse;
use serde_json::Value;

const FREQUENCY_LIMITED: i64 = 11232;
const BAD_REQUEST: i64 = 9499;

/// Provider text kept in a reason, at most.
const MAX_MSG_CHARS: usize = 200;

pub(crate) fn classify(response: &HttpResponse) -> SendResult {
    let status = response.status;
    if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        return SendResult::Retryable { reason: format!("feishu: HTTP {}", status.as_u16()), after: None };
    }
    let body = response.json().unwrap_or_default();
    let code = body.get("code").or_else(|| body.get("StatusCode")).and_then(Value::as_i64);
    let Some(code) = code else {
        return SendResult::Permanent { reason: format!("feishu: HTTP {} without a code", status.as_u16()) };
    };
    if code == 0 {
        return SendResult::Sent { detail: None };
    }
    let msg: String = body
        .get("msg")
        .or_else(|| body.get("StatusMessage"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .chars()
        .take(MAX_MSG_CHARS)
        .collect();
    let reason = format!("feishu code {code}: {msg}");
    let throttled =
        code == FREQUENCY_LIMITED || (code == BAD_REQUEST && msg.to_lowercase().contains("too many request"));
    if throttled { SendResult::Retryable { reason, after: None } } else { SendResult::Permanent { reason } }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;

    fn classify_answer(status: u16, body: &str) -> SendResult {
        classify(&HttpResponse { status: StatusCode::from_u16(status).unwrap(), body: body.as_bytes().to_vec() })
    }

    #[test]
    fn codes_are_classified() {
        assert!(matches!(classify_answer(200, r#"{"code":0,"data":{},"msg":"success"}"#), SendResult::Sent { .. }));
        assert!(matches!(
            classify_answer(200, r#"{"StatusCode":0,"StatusMessage":"success"}"#),
            SendResult::Sent { .. }
        ));
        assert!(matches!(
            classify_answer(200, r#"{"code":11232,"msg":"frequency limited"}"#),
            SendResult::Retryable { .. }
        ));
        assert!(matches!(
            classify_answer(400, r#"{"code":9499,"msg":"too many request"}"#),
            SendResult::Retryable { .. }
        ));
        assert_eq!(
            classify_answer(400, r#"{"code":9499,"msg":"Bad Request","data":{}}"#),
            SendResult::Permanent { reason: "feishu code 9499: Bad Request".into() }
        );
        assert!(matches!(
            classify_answer(200, r#"{"code":19021,"msg":"sign match fail"}"#),
            SendResult::Permanent { .. }
        ));
    }

    #[test]
    fn http_faults_are_classified() {
        assert!(matches!(classify_answer(502, "bad gateway"), SendResult::Retryable { .. }));
        assert!(matches!(classify_answer(429, ""), SendResult::Retryable { .. }));
        assert!(matches!(classify_answer(404, "not found"), SendResult::Permanent { .. }));
        assert!(matches!(classify_answer(200, "{}"), SendResult::Permanent { .. }));
    }
}
