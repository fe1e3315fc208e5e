//! One-click unsubscribe for marketing mail (RFC 8058): the link a mail carries in
//! `List-Unsubscribe`, with `List-Unsubscribe-Post: List-Unsubscribe=One-Click`. The link's
//! token seals the receiver for this purpose alone, so only herald can make one and it does
//! not show the address; herald's API serves the link.

use crate::sealing::{Sealer, TokenPurpose};
use herald_core::suppression::receiver_key;
use lettre::message::header::{HeaderName, HeaderValue};

/// Where herald serves the links, under its public address.
pub const UNSUBSCRIBE_PATH: &str = "/unsubscribe/";

/// Makes each receiver's unsubscribe link under herald's public address.
#[derive(Clone, Debug)]
pub struct UnsubscribeLinks {
    /// The public address without a trailing `/`, e.g. `https://herald.example.com`.
    base: String,
    sealer: Sealer,
}

impl UnsubscribeLinks {
    /// Links under `public_url`, herald's address as mail readers reach it.
    pub fn new(public_url: &str, sealer: Sealer) -> Self {
        Self { base: public_url.trim().trim_end_matches('/').to_string(), sealer }
    }

    /// The receiver's link: `{public_url}/unsubscribe/{token}`.
    pub fn link(&self, receiver: &str) -> String {
        format!("{}{UNSUBSCRIBE_PATH}{}", self.base, token(&self.sealer, receiver))
    }
}

/// The receiver's token (a new one each call; every one stays valid).
pub fn token(sealer: &Sealer, receiver: &str) -> String {
    sealer.seal_token(TokenPurpose::EmailUnsubscribe, receiver_key(receiver).as_bytes())
}

/// The receiver an unsubscribe token names (as `receiver_key` spells it); None for a token
/// herald did not make for this purpose.
pub fn receiver_of(sealer: &Sealer, token: &str) -> Option<String> {
    let plain = sealer.unseal_token(TokenPurpose::EmailUnsubscribe, token).ok()?;
    String::from_utf8(plain).ok().filter(|r| !r.is_empty())
}

/// The two header fields RFC 8058 asks of a mail that offers one-click unsubscribe.
pub(crate) fn one_click_headers(link: &str) -> [HeaderValue; 2] {
    [
        HeaderValue::new(HeaderName::new_from_ascii_str("List-Unsubscribe"), format!("<{link}>")),
        HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
            "List-Unsubscribe=One-Click".to_string(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn sealer(byte: u8) -> Sealer {
        Sealer::from_base64(&base64::engine::general_purpose::STANDARD.encode([byte; 32])).unwrap()
    }

    #[test]
    fn a_link_names_its_receiver_sealed_under_the_public_address() {
        let links = UnsubscribeLinks::new("https://herald.example.com/mail/", sealer(1));
        let link = links.link(" Li.Lei@Example.com ");
        let token = link.strip_prefix("https://herald.example.com/mail/unsubscribe/").expect(&link);
        assert!(!link.to_lowercase().contains("li.lei"), "{link}");
        assert_eq!(receiver_of(&sealer(1), token).as_deref(), Some("li.lei@example.com"));
        assert_eq!(receiver_of(&sealer(2), token), None, "another key");
        let callback = sealer(1).sign_token(TokenPurpose::SmsReplyCallback, "1");
        assert_eq!(receiver_of(&sealer(1), &callback), None, "another purpose");
        let other = sealer(1).seal_token(TokenPurpose::SmsReplyCallback, b"li.lei@example.com");
        assert_eq!(receiver_of(&sealer(1), &other), None, "sealed for another purpose");
    }
}
