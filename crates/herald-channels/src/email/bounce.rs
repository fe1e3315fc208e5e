//! Hard bounces: when an SMTP server answers that the address does not exist (enhanced status
//! 5.1.1, "bad destination mailbox address"), the address goes on the suppression list for
//! every kind of mail, so herald stops knocking on a door that is not there.

use herald_core::listing::clip;
use herald_core::{ChannelKind, Clock, MessageKind, Suppression, SuppressionSource};
use herald_store::SuppressionRepo;
use lettre::transport::smtp::Error as SmtpError;
use std::error::Error as _;
use std::sync::Arc;

/// How much of the server's reply an entry's note keeps.
const NOTE_REPLY_CHARS: usize = 200;

/// Where hard bounces are written, and the clock that dates them.
#[derive(Clone)]
pub struct Bounces {
    pub list: Arc<dyn SuppressionRepo>,
    pub clock: Arc<dyn Clock>,
}

impl Bounces {
    /// Suppresses `receiver` on email for every kind when `error` says it does not exist.
    pub(crate) async fn record_if_unknown(&self, receiver: &str, error: &SmtpError) {
        let Some(code) = error.status().filter(|_| error.is_permanent()) else { return };
        let reply = error.source().map(|s| s.to_string()).unwrap_or_default();
        if !names_unknown_address(&code.to_string(), &reply) {
            return;
        }
        let note = format!("hard bounce: {code} {}", clip(reply.trim(), NOTE_REPLY_CHARS));
        let kinds = MessageKind::ALL;
        let entry =
            Suppression::new(receiver, Some(ChannelKind::Email), Some(&kinds), SuppressionSource::Bounce, Some(&note));
        let domain = receiver.rsplit_once('@').map_or("", |(_, d)| d);
        match entry {
            Ok(entry) => match self.list.suppress(&[entry], self.clock.now()).await {
                Ok(_) => tracing::info!(%domain, "hard bounce: the address does not exist; no more mail to it"),
                Err(e) => tracing::warn!(%domain, error = %e, "a hard bounce could not be recorded"),
            },
            Err(_) => tracing::debug!(%domain, "a hard bounce for a receiver the list cannot hold"),
        }
    }
}

/// Whether a permanent reply says the mailbox does not exist: enhanced status 5.1.1, or a 550
/// that says so in words. A bare 550 is not enough: servers also use it for policy refusals.
pub(crate) fn names_unknown_address(code: &str, reply: &str) -> bool {
    let reply = reply.to_ascii_lowercase();
    let enhanced = reply.split(|c: char| c.is_whitespace() || c == ',' || c == ';').any(|word| word == "5.1.1");
    let in_words = ["user unknown", "unknown user", "no such user", "does not exist", "recipient not found"]
        .iter()
        .any(|phrase| reply.contains(phrase));
    code.starts_with('5') && (enhanced || (code == "550" && in_words))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_reply_that_the_mailbox_does_not_exist_is_a_hard_bounce() {
        assert!(names_unknown_address("550", "5.1.1 <nobody@example.org>: mailbox unavailable"));
        assert!(names_unknown_address("550", "5.1.1 The email account that you tried to reach does not exist."));
        assert!(names_unknown_address("550", "Requested action not taken: user unknown"));
        assert!(names_unknown_address("551", "5.1.1 unknown"));
        assert!(!names_unknown_address("550", "mailbox unavailable"), "a policy refusal reads the same");
        assert!(!names_unknown_address("550", "5.7.1 message refused as spam"));
        assert!(!names_unknown_address("554", "5.1.10 null MX"));
        assert!(!names_unknown_address("451", "4.1.1 try again, 5.1.1 later"));
        assert!(!names_unknown_address("552", "mailbox full; user unknown to quota"));
    }
}
