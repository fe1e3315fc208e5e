//! Email over SMTP with lettre: the account names the server, how to secure the connection and
//! the sender; each message goes to one receiver address.
//!
//! Account config: `{"host": "smtp.example.com", "port": 587, "security": "starttls" | "tls" |
//! "plain", "username": "...", "password": "...", "from": "Herald <noreply@example.com>",
//! "timeoutMs": 10000}`. `port` defaults by security (587, 465, 25), `security` to `starttls`,
//! `timeoutMs` to 10 s; `username` and `password` go together or not at all.
//!
//! Content read from [`OutgoingMessage::content`](crate::OutgoingMessage):
//! - `subject`: string, required.
//! - `html` and/or `text`: the body, at least one; with both the mail is `multipart/alternative`.
//!
//! Marketing mail (any `msgType` but 10 notice and 30 verification) carries RFC 8058
//! one-click unsubscribe headers when the node has a public address (see [`unsubscribe`]); a
//! reply that the address does not exist (5.1.1) suppresses it for every kind (see [`bounce`]).
//!
//! Results: accepted → `Sent` with the server's reply (usually its queue id); a 4xx reply,
//! timeout or connection/TLS failure → `Retryable`; a 5xx reply (e.g. 550 mailbox unavailable,
//! 535 bad credentials) → `Permanent` with the code. The healthcheck connects and sends NOOP.

pub mod bounce;
mod message;
mod relay;
mod smtp;
pub mod unsubscribe;

pub use message::{EmailContent, build_message};
pub use smtp::{EmailChannel, classify};
pub use unsubscribe::UnsubscribeLinks;

use crate::account::{BuildContext, BuildError, Built, ChannelAccount, parse_config};
use crate::build::BuildExtras;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EmailConfig {
    pub host: String,
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default)]
    pub security: Security,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<SecretString>,
    /// The sender mailbox, `Name <addr>` or a bare address.
    pub from: String,
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Plain connection upgraded with STARTTLS, which must succeed (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption (port 25; local relays and tests).
    Plain,
}

impl Security {
    fn default_port(self) -> u16 {
        match self {
            Self::Starttls => 587,
            Self::Tls => 465,
            Self::Plain => 25,
        }
    }
}

fn default_timeout_ms() -> u64 {
    10_000
}

fn config_error(field: &str, message: impl Into<String>) -> BuildError {
    BuildError::Config { field: field.into(), message: message.into() }
}

/// How long one whole SMTP transaction may take: each step has `timeoutMs`, the whole
/// transaction (about six round trips) four times that.
pub fn transaction_deadline(config: &EmailConfig) -> Duration {
    Duration::from_millis(config.timeout_ms.saturating_mul(4))
}

/// Builds the SMTP transport and sender from a validated config; connecting to `pinned` when
/// given (an address the policy allowed), while TLS still verifies the configured host name.
pub fn transport(
    config: &EmailConfig,
    pinned: Option<std::net::IpAddr>,
) -> Result<(AsyncSmtpTransport<Tokio1Executor>, Mailbox), BuildError> {
    use lettre::transport::smtp::client::{Tls, TlsParameters};
    let host = config.host.trim();
    if host.is_empty() {
        return Err(config_error("host", "must not be empty"));
    }
    let from: Mailbox = config.from.parse().map_err(|e| config_error("from", format!("not a mailbox: {e}")))?;
    if config.timeout_ms == 0 {
        return Err(config_error("timeoutMs", "must be more than 0"));
    }
    let builder = match (pinned, config.security) {
        (None, Security::Starttls) => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host),
        (None, Security::Tls) => AsyncSmtpTransport::<Tokio1Executor>::relay(host),
        (None, Security::Plain) => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)),
        (Some(ip), security) => {
            let tls = || TlsParameters::new(host.to_string()).map_err(|e| config_error("host", e.to_string()));
            let tls = match security {
                Security::Starttls => Tls::Required(tls()?),
                Security::Tls => Tls::Wrapper(tls()?),
                Security::Plain => Tls::None,
            };
            Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(ip.to_string()).tls(tls))
        }
    };
    let mut builder = builder
        .map_err(|e| config_error("host", e.to_string()))?
        .port(config.port.unwrap_or(config.security.default_port()))
        .timeout(Some(Duration::from_millis(config.timeout_ms)));
    match (&config.username, &config.password) {
        (Some(username), Some(password)) => {
            if username.trim().is_empty() {
                return Err(config_error("username", "must not be empty"));
            }
            builder = builder.credentials(Credentials::new(username.clone(), password.expose_secret().to_string()));
        }
        (Some(_), None) => return Err(config_error("password", "is required with username")),
        (None, Some(_)) => return Err(config_error("username", "is required with password")),
        (None, None) => {}
    }
    Ok((builder.build(), from))
}

pub fn build(account: &ChannelAccount, ctx: &BuildContext) -> Result<Built, BuildError> {
    build_with(account, ctx, &BuildExtras::default())
}

/// As [`build`]; marketing mail carries the extras' unsubscribe links, and hard bounces go to
/// their suppression list.
pub fn build_with(account: &ChannelAccount, ctx: &BuildContext, extras: &BuildExtras) -> Result<Built, BuildError> {
    let config: EmailConfig = parse_config(account)?;
    let (_, from) = transport(&config, None)?;
    let deadline = transaction_deadline(&config);
    let relay = Arc::new(relay::Relay::new(config, ctx.http.settings().allow_private_networks));
    let probe = relay.clone();
    let healthcheck = Box::pin(async move {
        let transport = probe.transport().await?;
        match tokio::time::timeout(deadline, transport.test_connection()).await {
            Ok(Ok(true)) => Ok(()),
            Ok(Ok(false)) => Err("the SMTP server did not answer NOOP".to_string()),
            Ok(Err(e)) => Err(format!("SMTP connection failed: {e}")),
            Err(_) => Err(format!("the SMTP server did not answer within {} ms", deadline.as_millis())),
        }
    });
    let bounces = extras.suppressions.clone().map(|list| bounce::Bounces { list, clock: ctx.clock.clone() });
    let channel = Arc::new(
        EmailChannel::new(relay, from, deadline).with_unsubscribe(extras.unsubscribe.clone()).with_bounces(bounces),
    );
    Ok(Built { channel, healthcheck, token_source: None })
}
