//! DingTalk: the custom group robot and work notices (corp conversation messages sent with an
//! app's access token). Both read the same content fields (see `content`) and share DingTalk's
//! `{errcode, errmsg}` answer vocabulary (see `reply`).

pub(crate) mod content;
pub(crate) mod receipts;
mod reply;
pub mod robot;
pub mod token;
pub mod work_notice;

use crate::account::BuildError;
use secrecy::{ExposeSecret, SecretString};

/// DingTalk's classic server API.
pub const DEFAULT_BASE_URL: &str = "https://oapi.dingtalk.com";

/// A secret the account must carry, present and not blank.
pub(crate) fn required_secret(value: Option<SecretString>, field: &str) -> Result<SecretString, BuildError> {
    match value {
        Some(secret) if !secret.expose_secret().trim().is_empty() => Ok(secret),
        _ => Err(BuildError::Config { field: field.into(), message: "is required".into() }),
    }
}
