//! The email channel: sends each message through the account's SMTP transport and reads the
//! server's answer as a retry decision. Marketing mail offers one-click unsubscribe when the
//! node has a public address to serve the links; an address the server says does not exist
//! is suppressed (a hard bounce) when the node gives the channel its suppression list.

use super::bounce::Bounces;
use super::message::{EmailContent, build_message};
use super::relay::Relay;
use super::unsubscribe::UnsubscribeLinks;
use crate::{Channel, OutgoingMessage, SendResult};
use async_trait::async_trait;
use herald_core::{ChannelKind, MessageKind};
use lettre::message::Mailbox;
use lettre::transport::smtp::Error as SmtpError;
use lettre::{Address, AsyncTransport};
use std::error::Error as _;
use std::sync::Arc;
use std::time::Duration;

pub struct EmailChannel {
    relay: Arc<Relay>,
    from: Mailbox,
    /// The whole SMTP transaction (connect, greeting, TLS, login, envelope, data) must end
    /// within this: lettre's own timeout does not cover a server that accepts and then says
    /// nothing, which would hold a worker forever.
    deadline: Duration,
    /// Makes marketing mail's unsubscribe links; None: marketing mail offers none.
    unsubscribe: Option<UnsubscribeLinks>,
    /// Where hard bounces go; None: they are only reported.
    bounces: Option<Bounces>,
}

impl EmailChannel {
    pub fn new(relay: Arc<Relay>, from: Mailbox, deadline: Duration) -> Self {
        Self { relay, from, deadline, unsubscribe: None, bounces: None }
    }

    /// Addresses a server says do not exist are suppressed through `bounces`.
    pub fn with_bounces(mut self, bounces: Option<Bounces>) -> Self {
        self.bounces = bounces;
        self
    }

    /// Marketing mail carries `List-Unsubscribe` links made by `links`.
    pub fn with_unsubscribe(mut self, links: Option<UnsubscribeLinks>) -> Self {
        self.unsubscribe = links;
        self
    }

    /// The message's unsubscribe link: marketing mail only (any type but notice and
    /// verification, as the suppression list reads it).
    fn unsubscribe_link(&self, message: &OutgoingMessage) -> Option<String> {
        let marketing = MessageKind::of_msg_type(message.msg_type) == MessageKind::Marketing;
        self.unsubscribe.as_ref().filter(|_| marketing).map(|links| links.link(&message.receiver))
    }
}

#[async_trait]
impl Channel for EmailChannel {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Email
    }

    async fn send(&self, message: &OutgoingMessage) -> SendResult {
        let to: Address = match message.receiver.trim().parse() {
            Ok(address) => address,
            Err(e) => return SendResult::Permanent { reason: format!("receiver is not an email address: {e}") },
        };
        let content = match EmailContent::from_content(&message.content) {
            Ok(content) => content,
            Err(reason) => return SendResult::Permanent { reason },
        };
        let link = self.unsubscribe_link(message);
        let mail =
            match build_message(&self.from, Mailbox::new(None, to), &content, &message.message_id.0, link.as_deref()) {
                Ok(mail) => mail,
                Err(reason) => return SendResult::Permanent { reason },
            };
        let transport = match self.relay.transport().await {
            Ok(transport) => transport,
            Err(reason) => return SendResult::Permanent { reason },
        };
        let sending = tokio::time::timeout(self.deadline, transport.send(mail)).await;
        let Ok(sent) = sending else {
            let reason = format!("smtp timed out: no answer within {} ms", self.deadline.as_millis());
            return SendResult::Retryable { reason, after: None };
        };
        match sent {
            Ok(response) => {
                let text = response.message().collect::<Vec<_>>().join(" ");
                SendResult::Sent { detail: Some(format!("{} {text}", response.code()).trim_end().to_string()) }
            }
            Err(e) => {
                if let Some(bounces) = &self.bounces {
                    bounces.record_if_unknown(&message.receiver, &e).await;
                }
                classify(&e)
            }
        }
    }
}

/// 4xx replies and connection faults may pass; 5xx replies and client-side faults will not.
pub fn classify(e: &SmtpError) -> SendResult {
    // The source holds the server's reply text (never our credentials).
    let detail = e.source().map(|s| s.to_string()).unwrap_or_else(|| e.to_string());
    if let Some(code) = e.status() {
        let reason = format!("smtp {code}: {detail}");
        return if e.is_permanent() {
            SendResult::Permanent { reason }
        } else {
            SendResult::Retryable { reason, after: None }
        };
    }
    if e.is_client() {
        return SendResult::Permanent { reason: format!("smtp client error: {detail}") };
    }
    let what = if e.is_timeout() { "timed out" } else { "connection failed" };
    SendResult::Retryable { reason: format!("smtp {what}: {e}"), after: None }
}
