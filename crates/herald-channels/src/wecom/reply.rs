//! Reading a WeCom answer: HTTP faults and `{errcode, errmsg}` become a verdict that both the
//! robot and the app channel act on.

use crate::SendResult;
use crate::http::{HttpError, HttpResponse};
use serde::Deserialize;
use std::time::Duration;

/// 系统繁忙 (system busy): try again shortly.
pub const SYSTEM_BUSY: i64 = -1;
/// 不合法的access_token.
pub const INVALID_ACCESS_TOKEN: i64 = 40014;
/// access_token已过期.
pub const ACCESS_TOKEN_EXPIRED: i64 = 42001;
/// api freq out of limit (a robot may send 20 messages a minute).
pub const FREQUENCY_LIMIT: i64 = 45009;
/// 接口并发调用超过限制.
pub const CONCURRENCY_LIMIT: i64 = 45033;

#[derive(Debug, Default, Deserialize)]
pub struct Reply {
    #[serde(default)]
    pub errcode: i64,
    #[serde(default)]
    pub errmsg: String,
    /// App messages: receivers WeCom did not accept, joined with `|`.
    #[serde(default)]
    pub invaliduser: String,
    /// App messages: receivers without a licence, who do not get the message.
    #[serde(default)]
    pub unlicenseduser: String,
    #[serde(default)]
    pub msgid: String,
}

pub enum Verdict {
    Ok(Reply),
    /// The provider refused the access token (invalid or expired).
    TokenRejected(String),
    Failed(SendResult),
}

/// Classifies a send's outcome. `secret` (a key or token) is scrubbed from any reason.
pub fn read(response: Result<HttpResponse, HttpError>, secret: &str) -> Verdict {
    let response = match response {
        Ok(r) => r,
        Err(e) => return Verdict::Failed(http_failure(&e)),
    };
    let status = response.status;
    if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        return Verdict::Failed(retry(format!("wecom answered HTTP {}", status.as_u16()), None));
    }
    let reply: Reply = match serde_json::from_slice(&response.body) {
        Ok(reply) => reply,
        Err(e) => {
            let reason = format!("wecom answered HTTP {} without a JSON reply: {e}", status.as_u16());
            return Verdict::Failed(SendResult::Permanent { reason });
        }
    };
    let reason = scrub(&format!("wecom errcode {}: {}", reply.errcode, reply.errmsg), secret);
    match reply.errcode {
        0 => Verdict::Ok(reply),
        INVALID_ACCESS_TOKEN | ACCESS_TOKEN_EXPIRED => Verdict::TokenRejected(reason),
        SYSTEM_BUSY | CONCURRENCY_LIMIT => Verdict::Failed(retry(reason, None)),
        FREQUENCY_LIMIT => Verdict::Failed(retry(reason, Some(Duration::from_secs(60)))),
        _ => Verdict::Failed(SendResult::Permanent { reason }),
    }
}

/// Whether an errcode is a passing fault (used for token fetches too).
pub fn is_passing(errcode: i64) -> bool {
    matches!(errcode, SYSTEM_BUSY | FREQUENCY_LIMIT | CONCURRENCY_LIMIT)
}

pub fn http_failure(e: &HttpError) -> SendResult {
    // HttpError texts already hide URL queries, where keys and tokens travel.
    let reason = format!("wecom request failed: {e}");
    if e.is_retryable() { retry(reason, None) } else { SendResult::Permanent { reason } }
}

fn retry(reason: String, after: Option<Duration>) -> SendResult {
    SendResult::Retryable { reason, after }
}

/// Replaces `secret` in provider text, in case an errmsg echoes it.
pub fn scrub(text: &str, secret: &str) -> String {
    if secret.is_empty() { text.to_string() } else { text.replace(secret, "<redacted>") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;

    fn answer(status: u16, body: &str) -> Verdict {
        read(Ok(HttpResponse { status: StatusCode::from_u16(status).unwrap(), body: body.as_bytes().to_vec() }), "k3y")
    }

    #[test]
    fn codes_are_classified() {
        assert!(matches!(answer(200, r#"{"errcode":0,"errmsg":"ok"}"#), Verdict::Ok(_)));
        assert!(matches!(answer(200, r#"{"errcode":42001,"errmsg":"expired"}"#), Verdict::TokenRejected(_)));
        assert!(matches!(
            answer(200, r#"{"errcode":45009,"errmsg":"api freq out of limit"}"#),
            Verdict::Failed(SendResult::Retryable { after: Some(_), .. })
        ));
        assert!(matches!(
            answer(200, r#"{"errcode":-1,"errmsg":"busy"}"#),
            Verdict::Failed(SendResult::Retryable { .. })
        ));
        assert!(matches!(answer(502, "bad gateway"), Verdict::Failed(SendResult::Retryable { .. })));
        match answer(200, r#"{"errcode":93000,"errmsg":"invalid webhook url k3y"}"#) {
            Verdict::Failed(SendResult::Permanent { reason }) => {
                assert_eq!(reason, "wecom errcode 93000: invalid webhook url <redacted>")
            }
            _ => panic!("93000 is permanent"),
        }
        assert!(matches!(answer(404, "<html>"), Verdict::Failed(SendResult::Permanent { .. })));
    }
}
