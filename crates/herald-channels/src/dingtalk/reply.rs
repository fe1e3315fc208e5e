//! What a DingTalk answer means. Every oapi endpoint answers `{errcode, errmsg, ...}`, with
//! HTTP 200 for most faults, so the errcode decides: 0 is success; a token the provider no
//! longer accepts asks for one refresh; busy and flow-control codes are worth trying again;
//! everything else is permanent.
//!
//! Codes (DingTalk server API error-code list and the custom robot's FAQ):
//! - token: 40014 invalid access_token, 42001 access_token expired;
//! - passing: -1 system busy, 130101 robot "send too fast, exceed 20 times per minute",
//!   410100 robot flow control, 90002/90005/90006/90018 API call-rate limits and temporary
//!   bans, 41047/41048 per-minute message quotas;
//! - permanent, e.g. 310000 robot security check (sign not match, invalid timestamp, keywords
//!   not in content, ip not in whitelist), 300001 robot token is not exist, 40089 invalid
//!   appkey or appsecret, 40056 invalid agentid.

use crate::SendResult;
use crate::http::{HttpError, HttpResponse};
use crate::tokens::{TokenError, TokenOutcome};
use serde_json::Value;

pub(crate) const INVALID_TOKEN: i64 = 40014;
pub(crate) const EXPIRED_TOKEN: i64 = 42001;
const PASSING: &[i64] = &[-1, 130101, 410100, 90002, 90005, 90006, 90018, 41047, 41048];

/// Provider text kept in a reason, at most.
const MAX_ERRMSG_CHARS: usize = 200;

/// Why a DingTalk call did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fault {
    Retryable(String),
    Permanent(String),
    /// The access token is invalid or expired: refresh it and try once more.
    TokenRejected(String),
}

impl Fault {
    pub(crate) fn reason(&self) -> &str {
        match self {
            Fault::Retryable(reason) | Fault::Permanent(reason) | Fault::TokenRejected(reason) => reason,
        }
    }

    pub(crate) fn into_send_result(self) -> SendResult {
        match self {
            Fault::Retryable(reason) => SendResult::Retryable { reason, after: None },
            Fault::Permanent(reason) | Fault::TokenRejected(reason) => SendResult::Permanent { reason },
        }
    }

    pub(crate) fn into_token_error(self) -> TokenError {
        match self {
            Fault::Retryable(reason) => TokenError { reason, retryable: true },
            Fault::Permanent(reason) | Fault::TokenRejected(reason) => TokenError { reason, retryable: false },
        }
    }
}

/// A call made with a token answers its body or its fault.
impl TokenOutcome for Result<Value, Fault> {
    fn token_failed(e: TokenError) -> Self {
        Err(if e.retryable { Fault::Retryable(e.reason) } else { Fault::Permanent(e.reason) })
    }

    fn rejected_again(reason: String) -> Self {
        Err(Fault::Permanent(format!("token rejected again after a refresh: {reason}")))
    }
}

/// Reads a DingTalk answer: the body when errcode is 0, else the fault. `api` names the call in
/// reasons ("dingtalk", "dingtalk gettoken").
pub(crate) fn check(result: Result<HttpResponse, HttpError>, api: &str) -> Result<Value, Fault> {
    let response = match result {
        Ok(response) => response,
        Err(e) if e.is_retryable() => return Err(Fault::Retryable(format!("{api}: {e}"))),
        Err(e) => return Err(Fault::Permanent(format!("{api}: {e}"))),
    };
    let status = response.status;
    if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        return Err(Fault::Retryable(format!("{api}: HTTP {}", status.as_u16())));
    }
    let body = response.json().ok();
    let Some(code) = body.as_ref().and_then(|b| b.get("errcode")).and_then(Value::as_i64) else {
        return Err(Fault::Permanent(if status.is_success() {
            format!("{api}: HTTP {} without an errcode", status.as_u16())
        } else {
            format!("{api}: HTTP {}", status.as_u16())
        }));
    };
    let body = body.unwrap_or_default();
    if code == 0 {
        return Ok(body);
    }
    let errmsg: String =
        body.get("errmsg").and_then(Value::as_str).unwrap_or("").chars().take(MAX_ERRMSG_CHARS).collect();
    let reason = format!("{api} errcode {code}: {errmsg}");
    Err(match code {
        INVALID_TOKEN | EXPIRED_TOKEN => Fault::TokenRejected(reason),
        c if PASSING.contains(&c) => Fault::Retryable(reason),
        _ => Fault::Permanent(reason),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;

    fn answer(status: u16, body: &str) -> Result<HttpResponse, HttpError> {
        Ok(HttpResponse { status: StatusCode::from_u16(status).unwrap(), body: body.as_bytes().to_vec() })
    }

    #[test]
    fn errcodes_are_classified() {
        assert!(check(answer(200, r#"{"errcode":0,"errmsg":"ok"}"#), "dingtalk").is_ok());
        assert_eq!(
            check(answer(200, r#"{"errcode":310000,"errmsg":"sign not match"}"#), "dingtalk"),
            Err(Fault::Permanent("dingtalk errcode 310000: sign not match".into()))
        );
        for code in [-1, 130101, 90018] {
            let body = format!(r#"{{"errcode":{code},"errmsg":"busy"}}"#);
            assert!(matches!(check(answer(200, &body), "dingtalk"), Err(Fault::Retryable(_))), "{code}");
        }
        for code in [40014, 42001] {
            let body = format!(r#"{{"errcode":{code},"errmsg":"token"}}"#);
            assert!(matches!(check(answer(200, &body), "dingtalk"), Err(Fault::TokenRejected(_))), "{code}");
        }
    }

    #[test]
    fn http_faults_are_classified() {
        assert!(matches!(check(answer(503, "down"), "dingtalk"), Err(Fault::Retryable(_))));
        assert!(matches!(check(answer(429, ""), "dingtalk"), Err(Fault::Retryable(_))));
        assert_eq!(check(answer(404, "nope"), "dingtalk"), Err(Fault::Permanent("dingtalk: HTTP 404".into())));
        assert!(matches!(check(answer(200, "<html>"), "dingtalk"), Err(Fault::Permanent(_))));
        assert!(matches!(check(Err(HttpError::Timeout), "dingtalk"), Err(Fault::Retryable(_))));
    }

    #[test]
    fn long_provider_text_is_cut() {
        let body = format!(r#"{{"errcode":1,"errmsg":"{}"}}"#, "x".repeat(5000));
        let Err(Fault::Permanent(reason)) = check(answer(200, &body), "dingtalk") else { panic!() };
        assert!(reason.len() < 300);
    }
}
