//! Channel accounts and what building a channel from one needs and gives. An account names a
//! provider and holds its settings and secrets (decrypted here; encrypted at rest by the
//! store). The provider modules build from these types; `crate::build` picks the provider.

use crate::Channel;
use crate::http::OutboundHttp;
use crate::tokens::{TokenSource, Tokens};
use futures::future::BoxFuture;
use herald_core::{ChannelKind, Clock};
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// A provider account, secrets included. Its Debug output hides `config`.
#[derive(Clone)]
pub struct ChannelAccount {
    pub id: i64,
    pub name: String,
    pub channel: ChannelKind,
    /// Provider settings and secrets, as JSON.
    pub config: serde_json::Value,
}

impl std::fmt::Debug for ChannelAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelAccount")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("channel", &self.channel)
            .field("config", &"<redacted>")
            .finish()
    }
}

/// What building a channel needs from the node.
#[derive(Clone)]
pub struct BuildContext {
    pub http: OutboundHttp,
    pub tokens: Tokens,
    pub clock: Arc<dyn Clock>,
}

pub type Healthcheck = BoxFuture<'static, Result<(), String>>;

/// A built channel.
pub struct Built {
    pub channel: Arc<dyn Channel>,
    /// Checks the account can reach its provider (fetches a token, connects to SMTP, ...).
    pub healthcheck: Healthcheck,
    /// The account's access-token source, for providers that use one.
    pub token_source: Option<Arc<dyn TokenSource>>,
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("config.{field}: {message}")]
    Config { field: String, message: String },
    #[error("channel {0} cannot be built from an account")]
    NotAccountBased(ChannelKind),
}

/// A provider's base URL from an account's `field`: http or https without a query, kept
/// without its trailing slash.
pub(crate) fn base_url(value: &str, field: &str) -> Result<String, BuildError> {
    let invalid = |message: String| BuildError::Config { field: field.into(), message };
    let parsed = url::Url::parse(value).map_err(|e| invalid(format!("not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.query().is_some() {
        return Err(invalid("must be an http or https URL without a query".into()));
    }
    Ok(value.trim_end_matches('/').to_string())
}

/// Reads an account's config as `T`, naming the field at fault.
pub fn parse_config<T: DeserializeOwned>(account: &ChannelAccount) -> Result<T, BuildError> {
    serde_path_to_error::deserialize(&account.config).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        // serde reports a missing field at its parent; name the field itself.
        match message.strip_prefix("missing field `").and_then(|m| m.split_once('`')) {
            Some((name, _)) if path == "." => {
                BuildError::Config { field: name.to_string(), message: "is required".into() }
            }
            Some((name, _)) => BuildError::Config { field: format!("{path}.{name}"), message: "is required".into() },
            None => BuildError::Config { field: path, message },
        }
    })
}

/// How often housekeeping refreshes an account's access token, for token-based channels:
/// hourly for DingTalk, WeCom and Feishu apps (tokens last 2 h), every 12 h for Getui (about
/// 24 h).
pub fn token_refresh_cron(kind: ChannelKind) -> Option<&'static str> {
    match kind {
        ChannelKind::DingTalkWorkNotice | ChannelKind::WeComApp | ChannelKind::FeishuApp => Some("0 0 * * * ?"),
        ChannelKind::GetuiPush => Some("0 0 0/12 * * ?"),
        _ => None,
    }
}
