//! Getui push (个推) REST API v2, by cid. One message goes through `push/single/cid`; a batch
//! whose messages render to the same notification is one task (`push/list/message`) pushed to
//! up to 1000 cids at a time (`push/list/cid`, synchronous so each cid gets its status).
//! Every call carries the app's auth token (see `token`), which lasts about a day.
//!
//! Content fields read: `title` (required), `body` (or austin's `content`; required) and `url`
//! (optional: tapping the notification opens it; without it a tap does nothing). The receiver
//! is the device's cid.
//!
//! Codes follow Getui's return-code table (docs.getui.com/getui/server/rest_v2/code): 0 is
//! success; 10001 (token wrong or expired) means fetch a token and retry once; 2 (service
//! starting), 10003 (auth rate limit) and 10005 (per-minute call limit), like HTTP 5xx and
//! 429, are passing faults; everything else (20001 bad parameter or invalid cid, 3xxxx plan
//! limits, ...) is permanent.
//!
//! Receipts come back as Getui pushes them (see `receipt`), matched by the task and cid the
//! send recorded.

mod push;
pub mod receipt;
mod reply;
mod token;

pub use push::{GetuiPush, MAX_LIST_CIDS, SENT_STATUSES, notification, request_id, sent_detail};
pub use token::GetuiTokenSource;

use crate::account::{BuildContext, BuildError, Built, ChannelAccount};
use crate::tokens::TokenSource;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::sync::Arc;

/// Where Getui's REST API lives; accounts may point `baseUrl` elsewhere (tests, proxies).
pub const DEFAULT_BASE_URL: &str = "https://restapi.getui.com";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GetuiConfig {
    pub app_id: String,
    pub app_key: String,
    pub master_secret: SecretString,
    #[serde(default = "default_base_url")]
    pub base_url: String,
}

fn default_base_url() -> String {
    DEFAULT_BASE_URL.to_string()
}

pub fn build(account: &ChannelAccount, ctx: &BuildContext) -> Result<Built, BuildError> {
    let config: GetuiConfig = parse(account)?;
    let app_id = config.app_id.trim();
    if app_id.is_empty() {
        return Err(config_error("appId", "must not be empty"));
    }
    // The appId is a path segment of every call.
    if !app_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return Err(config_error("appId", "must hold only letters, digits, '-' and '_'"));
    }
    if config.app_key.trim().is_empty() {
        return Err(config_error("appKey", "must not be empty"));
    }
    if config.master_secret.expose_secret().trim().is_empty() {
        return Err(config_error("masterSecret", "must not be empty"));
    }
    let api_url = format!("{}/v2/{app_id}", check_base_url(&config.base_url)?);
    let source = Arc::new(GetuiTokenSource {
        http: ctx.http.clone(),
        api_url: api_url.clone(),
        app_id: app_id.to_string(),
        app_key: config.app_key.trim().to_string(),
        master_secret: config.master_secret,
    });
    let channel =
        Arc::new(GetuiPush { http: ctx.http.clone(), api_url, tokens: ctx.tokens.clone(), source: source.clone() });
    let (tokens, probe) = (ctx.tokens.clone(), source.clone());
    let healthcheck =
        Box::pin(async move { tokens.refresh(probe.as_ref()).await.map(|_| ()).map_err(|e| e.to_string()) });
    Ok(Built { channel, healthcheck, token_source: Some(source as Arc<dyn TokenSource>) })
}

/// `parse_config`, with a missing field named as the field at fault rather than the root.
fn parse(account: &ChannelAccount) -> Result<GetuiConfig, BuildError> {
    crate::account::parse_config(account).map_err(|e| match e {
        BuildError::Config { field, message } => {
            let missing = message.strip_prefix("missing field `").and_then(|rest| rest.split_once('`'));
            match missing {
                Some((name, _)) => config_error(name, "is required"),
                None => BuildError::Config { field, message },
            }
        }
        other => other,
    })
}

fn config_error(field: &str, message: &str) -> BuildError {
    BuildError::Config { field: field.into(), message: message.into() }
}

fn check_base_url(base_url: &str) -> Result<String, BuildError> {
    let parsed = url::Url::parse(base_url).map_err(|e| config_error("baseUrl", &e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() || parsed.query().is_some() {
        return Err(config_error("baseUrl", "must be an http or https URL without a query"));
    }
    Ok(base_url.trim_end_matches('/').to_string())
}
