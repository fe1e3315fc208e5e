//! What a Feishu Open Platform answer (`/open-apis/...`, as an app calls it) means. Every API
//! answers `{code, msg, data}`: HTTP 200 with code 0 on success, and mostly HTTP 400 with a
//! non-zero code on a fault, so the code decides, not the status (a 5xx or 429 without a code
//! is a passing fault).
//!
//! Codes (Feishu's generic error codes and the message APIs' lists):
//! - token: 99991661 (no or malformed token), 99991663 (tenant_access_token invalid or
//!   expired), 99991671 (token not of the expected kind): refresh once and try again;
//! - passing: 99991400 (the API's request rate), 230020 (an operation's rate), 11232 (message
//!   rate);
//! - everything else is permanent, e.g. 230001 bad parameter, 230002 bot not in the chat,
//!   230006 bot ability off, 230013 receiver outside the bot's availability, 230009 recall
//!   window passed, 230033 read state older than 7 days, 10003/10014 bad app id or secret.

use crate::SendResult;
use crate::http::{HttpError, HttpResponse};
use crate::recall::RecallResult;
use crate::tokens::{TokenAttempt, TokenError, TokenOutcome};
use serde_json::Value;

const TOKEN_CODES: [i64; 3] = [99991661, 99991663, 99991671];
const PASSING: [i64; 3] = [99991400, 230020, 11232];
/// "Message can only be recalled within one day" (or the tenant's own limit).
pub(crate) const RECALL_TOO_LATE: i64 = 230009;

/// Provider text kept in a reason, at most.
const MAX_MSG_CHARS: usize = 200;

/// Why a call did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fault {
    Retryable(String),
    /// With Feishu's code, when it gave one.
    Permanent(String, Option<i64>),
    /// The token is invalid or expired: refresh it and try once more.
    TokenRejected(String),
}

impl Fault {
    pub(crate) fn reason(&self) -> &str {
        match self {
            Fault::Retryable(reason) | Fault::Permanent(reason, _) | Fault::TokenRejected(reason) => reason,
        }
    }

    pub(crate) fn into_send_result(self) -> SendResult {
        match self {
            Fault::Retryable(reason) => SendResult::Retryable { reason, after: None },
            Fault::Permanent(reason, _) | Fault::TokenRejected(reason) => SendResult::Permanent { reason },
        }
    }

    pub(crate) fn into_recall_result(self) -> RecallResult {
        match self {
            Fault::Retryable(reason) => RecallResult::Failed { reason },
            Fault::Permanent(reason, Some(RECALL_TOO_LATE)) => RecallResult::TooLate { reason },
            Fault::Permanent(reason, _) | Fault::TokenRejected(reason) => RecallResult::NotRecallable { reason },
        }
    }

    pub(crate) fn into_token_error(self) -> TokenError {
        let retryable = matches!(self, Fault::Retryable(_));
        TokenError { reason: self.reason().to_string(), retryable }
    }
}

/// An answer read as a call made with a token sees it.
pub(crate) type Answer = Result<Value, Fault>;

impl TokenOutcome for Answer {
    fn token_failed(e: TokenError) -> Self {
        Err(if e.retryable { Fault::Retryable(e.reason) } else { Fault::Permanent(e.reason, None) })
    }

    fn rejected_again(reason: String) -> Self {
        Err(Fault::Permanent(format!("token rejected again after a refresh: {reason}"), None))
    }
}

/// The answer as a token attempt: a rejected token asks for a refresh.
pub(crate) fn attempt(answer: Answer) -> TokenAttempt<Answer> {
    match answer {
        Err(Fault::TokenRejected(reason)) => TokenAttempt::TokenRejected(reason),
        other => TokenAttempt::Done(other),
    }
}

/// Reads an answer: the whole body when code is 0, else the fault. `api` names the call in
/// reasons ("feishu send", "feishu tenant_access_token").
pub(crate) fn check(result: Result<HttpResponse, HttpError>, api: &str) -> Answer {
    let response = match result {
        Ok(response) => response,
        Err(e) if e.is_retryable() => return Err(Fault::Retryable(format!("{api}: {e}"))),
        Err(e) => return Err(Fault::Permanent(format!("{api}: {e}"), None)),
    };
    let status = response.status;
    let body = response.json().ok();
    let Some(code) = body.as_ref().and_then(|b| b.get("code")).and_then(Value::as_i64) else {
        let reason = format!("{api}: HTTP {} without a code", status.as_u16());
        let passing = status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS;
        return Err(if passing { Fault::Retryable(reason) } else { Fault::Permanent(reason, None) });
    };
    let body = body.unwrap_or_default();
    if code == 0 {
        return Ok(body);
    }
    let msg: String = body.get("msg").and_then(Value::as_str).unwrap_or("").chars().take(MAX_MSG_CHARS).collect();
    let reason = format!("{api} code {code}: {msg}");
    Err(match code {
        c if TOKEN_CODES.contains(&c) => Fault::TokenRejected(reason),
        c if PASSING.contains(&c) => Fault::Retryable(reason),
        c => Fault::Permanent(reason, Some(c)),
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
    fn codes_decide_not_the_status() {
        let ok = check(answer(200, r#"{"code":0,"msg":"success","data":{"message_id":"om_1"}}"#), "feishu send");
        assert_eq!(ok.unwrap()["data"]["message_id"], "om_1");
        assert_eq!(
            check(answer(400, r#"{"code":230013,"msg":"Bot has NO availability to this user."}"#), "feishu send"),
            Err(Fault::Permanent(
                "feishu send code 230013: Bot has NO availability to this user.".into(),
                Some(230013)
            ))
        );
        for code in [99991661, 99991663] {
            let body = format!(r#"{{"code":{code},"msg":"Invalid access token for authorization."}}"#);
            assert!(matches!(check(answer(400, &body), "x"), Err(Fault::TokenRejected(_))), "{code}");
        }
        assert!(matches!(check(answer(400, r#"{"code":99991400,"msg":"rate"}"#), "x"), Err(Fault::Retryable(_))));
        assert!(matches!(check(answer(502, "<html>"), "x"), Err(Fault::Retryable(_))));
        assert!(matches!(check(answer(404, "404 page not found"), "x"), Err(Fault::Permanent(_, None))));
    }

    #[test]
    fn a_recall_past_the_window_is_too_late() {
        let fault = Fault::Permanent("feishu recall code 230009: too old".into(), Some(RECALL_TOO_LATE));
        assert!(matches!(fault.into_recall_result(), RecallResult::TooLate { .. }));
        assert!(matches!(Fault::Retryable("busy".into()).into_recall_result(), RecallResult::Failed { .. }));
        let other = Fault::Permanent("feishu recall code 230026: not the bot's".into(), Some(230026));
        assert!(matches!(other.into_recall_result(), RecallResult::NotRecallable { .. }));
    }
}
