//! Reading a Getui answer: every call answers `{code, msg, data}`, with HTTP 400 for
//! parameter errors and 401 for token errors, so the code decides, not the HTTP status.

use crate::SendResult;
use crate::http::{HttpError, HttpResponse};
use serde::Deserialize;
use serde_json::Value;
use std::time::Duration;

/// 服务正在启动 (service starting): wait.
pub const SERVICE_STARTING: i64 = 2;
/// token错误/失效: fetch a token again.
pub const TOKEN_INVALID: i64 = 10001;
/// 每分钟鉴权频率超限.
pub const AUTH_RATE_LIMIT: i64 = 10003;
/// 每分钟调用频率超限.
pub const CALL_RATE_LIMIT: i64 = 10005;

#[derive(Debug, Deserialize)]
pub struct Reply {
    pub code: i64,
    #[serde(default)]
    pub msg: String,
    #[serde(default)]
    pub data: Value,
}

pub enum Verdict {
    Ok(Value),
    TokenRejected(String),
    Failed(SendResult),
}

pub fn is_passing(code: i64) -> bool {
    matches!(code, SERVICE_STARTING | AUTH_RATE_LIMIT | CALL_RATE_LIMIT)
}

/// Reads an answer as `Reply`, or says why it is not one (and whether that may pass).
pub fn parse(response: Result<HttpResponse, HttpError>) -> Result<Reply, (String, bool)> {
    let response = response.map_err(|e| (format!("getui request failed: {e}"), e.is_retryable()))?;
    let status = response.status;
    let passing_status = status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS;
    match serde_json::from_slice::<Reply>(&response.body) {
        Ok(reply) if !passing_status => Ok(reply),
        Ok(reply) => Err((format!("getui answered HTTP {}: code {} {}", status.as_u16(), reply.code, reply.msg), true)),
        Err(_) => Err((format!("getui answered HTTP {} without a JSON reply", status.as_u16()), passing_status)),
    }
}

/// Classifies a call's outcome; `token` is scrubbed from any reason.
pub fn read(response: Result<HttpResponse, HttpError>, token: &str) -> Verdict {
    let reply = match parse(response) {
        Ok(reply) => reply,
        Err((reason, true)) => return Verdict::Failed(SendResult::Retryable { reason, after: None }),
        Err((reason, false)) => return Verdict::Failed(SendResult::Permanent { reason }),
    };
    let mut reason = format!("getui code {}: {}", reply.code, reply.msg);
    if !token.is_empty() {
        reason = reason.replace(token, "<redacted>");
    }
    match reply.code {
        0 => Verdict::Ok(reply.data),
        TOKEN_INVALID => Verdict::TokenRejected(reason),
        CALL_RATE_LIMIT | AUTH_RATE_LIMIT => {
            Verdict::Failed(SendResult::Retryable { reason, after: Some(Duration::from_secs(60)) })
        }
        SERVICE_STARTING => Verdict::Failed(SendResult::Retryable { reason, after: None }),
        _ => Verdict::Failed(SendResult::Permanent { reason }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;

    fn answer(status: u16, body: &str) -> Verdict {
        read(Ok(HttpResponse { status: StatusCode::from_u16(status).unwrap(), body: body.as_bytes().to_vec() }), "tok")
    }

    #[test]
    fn codes_are_classified() {
        assert!(matches!(answer(200, r#"{"code":0,"msg":"","data":{}}"#), Verdict::Ok(_)));
        assert!(matches!(answer(401, r#"{"code":10001,"msg":"token expired"}"#), Verdict::TokenRejected(_)));
        assert!(matches!(
            answer(401, r#"{"code":10005,"msg":"rate"}"#),
            Verdict::Failed(SendResult::Retryable { after: Some(_), .. })
        ));
        assert!(matches!(answer(503, "down"), Verdict::Failed(SendResult::Retryable { .. })));
        assert!(matches!(answer(500, r#"{"code":1,"msg":"x"}"#), Verdict::Failed(SendResult::Retryable { .. })));
        match answer(400, r#"{"code":20001,"msg":"target user is invalid tok"}"#) {
            Verdict::Failed(SendResult::Permanent { reason }) => {
                assert_eq!(reason, "getui code 20001: target user is invalid <redacted>")
            }
            _ => panic!("20001 is permanent"),
        }
        assert!(matches!(answer(404, "<html>"), Verdict::Failed(SendResult::Permanent { .. })));
    }
}
