//! Public endpoints that providers and mail readers call, outside the API key: SMS replies
//! (Tencent Cloud's reply callback, Aliyun's `SmsUp` push), where `TD` or `退订` opts the
//! number out, delivery receipts (Tencent's SMS status callback, Aliyun's `SmsReport`, Getui's
//! receipt callback), and marketing mail's one-click unsubscribe (RFC 8058). Each is reached
//! through a token herald made for that purpose alone; a token that does not open answers 404, as an
//! unknown path does.

mod getui_receipts;
mod sms_receipts;
mod sms_replies;
mod unsubscribe;

pub(crate) use sms_replies::{ReplyCallbacks, reply_callbacks};

use crate::AppState;
use axum::Router;

/// Every inbound route; none needs an API key.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .merge(sms_replies::router())
        .merge(sms_receipts::router())
        .merge(getui_receipts::router())
        .merge(unsubscribe::router())
}

/// The path prefixes whose next segment is a token, for logs that must not hold it.
pub(crate) const TOKEN_PREFIXES: [&str; 4] = [
    sms_replies::TENCENT_PREFIX,
    sms_replies::ALIYUN_PREFIX,
    getui_receipts::GETUI_PREFIX,
    herald_channels::email::unsubscribe::UNSUBSCRIBE_PATH,
];

/// A phone number or address as logs and pages show it: enough to tell two apart, not
/// enough to write to. `13800001234` → `***1234`; `li.lei@example.com` → `l***@example.com`.
pub(crate) fn masked_receiver(receiver: &str) -> String {
    if let Some((local, domain)) = receiver.rsplit_once('@') {
        let first: String = local.chars().take(1).collect();
        return format!("{first}***@{domain}");
    }
    let chars: Vec<char> = receiver.chars().collect();
    let tail: String = chars[chars.len().saturating_sub(4)..].iter().collect();
    if chars.len() > 6 { format!("***{tail}") } else { "***".to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receivers_are_masked_for_logs_and_pages() {
        assert_eq!(masked_receiver("13800001234"), "***1234");
        assert_eq!(masked_receiver("+12025550100"), "***0100");
        assert_eq!(masked_receiver("12345"), "***");
        assert_eq!(masked_receiver("li.lei@example.com"), "l***@example.com");
        assert_eq!(masked_receiver("@x"), "***@x");
    }
}
