//! SMS through Tencent Cloud (`SendSms` 2021-01-11) and Aliyun Dysms (`SendSms` 2017-05-25), with
//! suppliers tried in order.
//!
//! Account config: `{"suppliers": [{"provider": "tencent", ...}, {"provider": "aliyun", ...}]}`,
//! one supplier or more; see [`tencent::TencentConfig`] and [`aliyun::AliyunConfig`].
//!
//! Content read from [`OutgoingMessage::content`](crate::OutgoingMessage):
//! - `params`: an object of template variables, e.g. `{"params": {"code": "1234", "minutes": "5"}}`.
//!   Values are strings (numbers and booleans are turned into strings). Optional: a template
//!   without variables needs none.
//!   - Aliyun sends the whole object as `TemplateParam`.
//!   - Tencent's templates take positional parameters, so each Tencent supplier lists the names in
//!     its `paramOrder` config (`["code", "minutes"]` → `TemplateParamSet: ["1234", "5"]`).
//!
//! - `templateCode` (Aliyun) and `templateId` (Tencent): the template's own SMS template at each
//!   provider, overriding the supplier's configured one, so one account serves many templates;
//!   `paramOrder` (Tencent) likewise overrides the supplier's parameter order. All optional.
//!
//! The receiver is the phone number, passed to the provider as given (both take `+86…` and bare
//! mainland numbers).
//!
//! Fallback rule: each supplier's answer is one of sent, retryable (timeouts, connect errors, 5xx,
//! throttling and quota codes), a supplier-side failure (credentials, signature name, template,
//! balance, permissions: another supplier may well succeed) or a receiver-side failure (the number
//! is malformed or opted out: no supplier can help). A receiver-side failure ends the send as
//! `Permanent` at once; a retryable or supplier-side failure moves on to the next supplier. When
//! every supplier failed the send is `Retryable` if any of them was retryable, else `Permanent`;
//! the reason lists each supplier's answer.

pub mod aliyun;
pub mod fallback;
pub(crate) mod receipts;
pub mod tencent;

use crate::account::{BuildContext, BuildError, Built, ChannelAccount, parse_config};
use crate::{Channel, OutgoingMessage, SendResult};
use async_trait::async_trait;
use fallback::SupplierChain;
use herald_core::ChannelKind;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SmsConfig {
    /// Tried in order.
    pub suppliers: Vec<SupplierConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "provider", rename_all = "lowercase")]
pub enum SupplierConfig {
    Tencent(tencent::TencentConfig),
    Aliyun(aliyun::AliyunConfig),
}

/// One SMS to one number, as every supplier sees it.
#[derive(Debug, Clone, Copy)]
pub struct Sms<'a> {
    pub message_id: &'a str,
    pub phone: &'a str,
    /// Template variables, all strings.
    pub params: &'a Map<String, Value>,
    /// The message template's own provider templates, where it names them.
    pub template: &'a ProviderTemplates,
}

/// A message template's own SMS templates at the providers, read from its content; each None
/// keeps the supplier's configured one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProviderTemplates {
    /// Aliyun's `TemplateCode` (`SMS_…`).
    pub aliyun_code: Option<String>,
    /// Tencent's `TemplateId`.
    pub tencent_id: Option<String>,
    /// Tencent's parameter order for that template.
    pub tencent_param_order: Option<Vec<String>>,
}

impl ProviderTemplates {
    /// Reads `templateCode`, `templateId` and `paramOrder` from the content.
    pub fn of(content: &Value) -> Result<Self, String> {
        let text = |field: &str| match content.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.trim().to_string())),
            Some(_) => Err(format!("content.{field} must be a non-empty string")),
        };
        let order = match content.get("paramOrder") {
            None | Some(Value::Null) => None,
            Some(Value::Array(names)) => Some(
                names
                    .iter()
                    .map(|n| n.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
                    .ok_or("content.paramOrder must be a list of parameter names")?,
            ),
            Some(_) => return Err("content.paramOrder must be a list of parameter names".into()),
        };
        Ok(Self { aliyun_code: text("templateCode")?, tencent_id: text("templateId")?, tencent_param_order: order })
    }
}

/// What one supplier made of one SMS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// Accepted; `id` is the provider's serial or biz id.
    Sent { id: String },
    /// A passing fault: this supplier may take it later.
    Retryable { reason: String, after: Option<Duration> },
    /// This supplier cannot send it (account, signature, template, balance); another may.
    SupplierFault { reason: String },
    /// No supplier can send it (malformed or blocked number).
    ReceiverFault { reason: String },
}

/// An SMS provider account.
#[async_trait]
pub trait Supplier: Send + Sync {
    /// Short name for reasons and logs, e.g. `tencent` or `aliyun#2`.
    fn name(&self) -> &str;
    async fn send(&self, sms: Sms<'_>) -> Attempt;
    /// The endpoint, for the healthcheck.
    fn endpoint(&self) -> &str;
}

pub struct SmsChannel {
    chain: SupplierChain,
}

impl SmsChannel {
    pub fn new(suppliers: Vec<Arc<dyn Supplier>>) -> Self {
        Self { chain: SupplierChain::new(suppliers) }
    }
}

#[async_trait]
impl Channel for SmsChannel {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Sms
    }

    async fn send(&self, message: &OutgoingMessage) -> SendResult {
        let phone = message.receiver.trim();
        if phone.is_empty() {
            return SendResult::Permanent { reason: "receiver has no phone number".into() };
        }
        let params = match template_params(&message.content) {
            Ok(params) => params,
            Err(reason) => return SendResult::Permanent { reason },
        };
        let template = match ProviderTemplates::of(&message.content) {
            Ok(template) => template,
            Err(reason) => return SendResult::Permanent { reason },
        };
        let sms = Sms { message_id: &message.message_id.0, phone, params: &params, template: &template };
        self.chain.send(sms).await
    }
}

/// Reads `content.params` into an object of strings.
pub fn template_params(content: &Value) -> Result<Map<String, Value>, String> {
    let params = match content {
        Value::Object(fields) => match fields.get("params") {
            None | Some(Value::Null) => return Ok(Map::new()),
            Some(Value::Object(params)) => params,
            Some(_) => return Err("content.params must be an object of template variables".into()),
        },
        _ => return Err("content must be an object".into()),
    };
    let mut out = Map::with_capacity(params.len());
    for (name, value) in params {
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => return Err(format!("content.params.{name} must be a string")),
        };
        out.insert(name.clone(), Value::String(text));
    }
    Ok(out)
}

/// A supplier as built, by provider: receipt pulls speak each provider's own API.
pub(crate) enum BuiltSupplier {
    Tencent(Arc<tencent::TencentSms>),
    Aliyun(Arc<aliyun::AliyunSms>),
}

/// The account's suppliers, in order, each validated.
pub(crate) fn suppliers(account: &ChannelAccount, ctx: &BuildContext) -> Result<Vec<BuiltSupplier>, BuildError> {
    let config: SmsConfig = parse_config(account)?;
    if config.suppliers.is_empty() {
        return Err(config_error("suppliers", "at least one supplier is required"));
    }
    let mut suppliers = Vec::with_capacity(config.suppliers.len());
    for (index, supplier) in config.suppliers.into_iter().enumerate() {
        let field = format!("suppliers[{index}]");
        suppliers.push(match supplier {
            SupplierConfig::Tencent(c) => BuiltSupplier::Tencent(Arc::new(tencent::TencentSms::new(
                supplier_name("tencent", index),
                c,
                ctx,
                &field,
            )?)),
            SupplierConfig::Aliyun(c) => {
                BuiltSupplier::Aliyun(Arc::new(aliyun::AliyunSms::new(supplier_name("aliyun", index), c, ctx, &field)?))
            }
        });
    }
    Ok(suppliers)
}

pub fn build(account: &ChannelAccount, ctx: &BuildContext) -> Result<Built, BuildError> {
    let suppliers: Vec<Arc<dyn Supplier>> = suppliers(account, ctx)?
        .into_iter()
        .map(|supplier| -> Arc<dyn Supplier> {
            match supplier {
                BuiltSupplier::Tencent(s) => s,
                BuiltSupplier::Aliyun(s) => s,
            }
        })
        .collect();
    let endpoints: Vec<String> = suppliers.iter().map(|s| s.endpoint().to_string()).collect();
    let http = ctx.http.clone();
    let healthcheck = Box::pin(async move {
        // No provider has a free, side-effect-free call with these credentials; check that each
        // endpoint resolves and passes the outbound policy.
        for endpoint in endpoints {
            http.check_url(&endpoint).await.map_err(|e| e.to_string())?;
        }
        Ok(())
    });
    Ok(Built { channel: Arc::new(SmsChannel::new(suppliers)), healthcheck, token_source: None })
}

/// The names the account's suppliers of `provider` send under (`tencent`, `tencent#3`), read
/// from its configuration: a receipt naming the provider's id is matched under these.
pub fn supplier_names(config: &Value, provider: &str) -> Vec<String> {
    let suppliers = config.get("suppliers").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    suppliers
        .iter()
        .enumerate()
        .filter(|(_, supplier)| supplier.get("provider").and_then(Value::as_str) == Some(provider))
        .map(|(index, _)| supplier_name(provider, index))
        .collect()
}

/// `tencent` for the first supplier, `tencent#2` for the second, and so on.
fn supplier_name(provider: &str, index: usize) -> String {
    if index == 0 { provider.to_string() } else { format!("{provider}#{}", index + 1) }
}

pub(crate) fn config_error(field: impl Into<String>, message: impl Into<String>) -> BuildError {
    BuildError::Config { field: field.into(), message: message.into() }
}

/// Checks a required text field is not blank.
pub(crate) fn require(field: &str, name: &str, value: &str) -> Result<(), BuildError> {
    if value.trim().is_empty() { Err(config_error(format!("{field}.{name}"), "must not be empty")) } else { Ok(()) }
}

/// Parses an endpoint URL (http or https, no query).
pub(crate) fn parse_endpoint(field: &str, endpoint: &str) -> Result<url::Url, BuildError> {
    let field = format!("{field}.endpoint");
    let url = url::Url::parse(endpoint).map_err(|e| config_error(&field, e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(config_error(field, "must be an http or https URL with a host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(config_error(field, "must not have a query or fragment"));
    }
    Ok(url)
}

/// A request that got no answer: timeouts and connect errors pass; a refused URL or an
/// oversized answer is this supplier's problem.
pub(crate) fn transport_failure(name: &str, e: crate::http::HttpError) -> Attempt {
    let reason = format!("{name}: {e}");
    if e.is_retryable() { Attempt::Retryable { reason, after: None } } else { Attempt::SupplierFault { reason } }
}

/// The first characters of a response body, for reasons.
pub(crate) fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out: String = text.chars().take(200).collect();
    if text.chars().count() > 200 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn params_become_strings() {
        let params = template_params(&json!({"params": {"code": "1234", "minutes": 5, "vip": true}})).unwrap();
        assert_eq!(Value::Object(params), json!({"code": "1234", "minutes": "5", "vip": "true"}));
        assert!(template_params(&json!({})).unwrap().is_empty());
        assert!(template_params(&json!({"params": {"x": [1]}})).unwrap_err().contains("content.params.x"));
        assert!(template_params(&json!({"params": "x"})).is_err());
        assert!(template_params(&json!("text")).is_err());
    }

    #[test]
    fn endpoints_are_checked() {
        assert!(parse_endpoint("s", "https://sms.tencentcloudapi.com").is_ok());
        for bad in ["ftp://x", "not a url", "https://x/?a=1"] {
            let e = parse_endpoint("suppliers[0]", bad).unwrap_err().to_string();
            assert!(e.contains("suppliers[0].endpoint"), "{e}");
        }
    }
}
