//! What a form asks for each channel's account: every configuration field by its place in the
//! config JSON (a JSON pointer), with a label, a line of help, and whether it is a secret, a
//! number, a choice or a list. The config structs beside each channel stay the rule (they
//! refuse what does not fit); this only says how to ask for it. Building and reading the JSON
//! by these pointers is here too, so a form and the API see the same config.

use herald_core::ChannelKind;
use serde_json::{Map, Value};

/// How a field's value is typed in and stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    Integer,
    Choice(&'static [&'static str]),
    /// Comma-separated in the form, a JSON array of strings in the config.
    List,
}

/// One configuration field of a channel's account.
#[derive(Debug, Clone, Copy)]
pub struct FormField {
    /// Where it sits in the config JSON, e.g. `/corpSecret` or `/suppliers/0/provider`.
    pub pointer: &'static str,
    pub label: &'static str,
    pub help: &'static str,
    pub kind: FieldKind,
    pub required: bool,
}

/// The API base URL field of a channel whose provider's is `$default`.
macro_rules! base_url {
    ($default:literal) => {
        field(
            "/baseUrl",
            "API base URL",
            concat!($default, " when empty; set it for a proxy or a private deployment"),
            Text,
            false,
        )
    };
}

pub(crate) const fn field(
    pointer: &'static str,
    label: &'static str,
    help: &'static str,
    kind: FieldKind,
    required: bool,
) -> FormField {
    FormField { pointer, label, help, kind, required }
}

use FieldKind::{Choice, Integer, List, Text};

const EMAIL: &[FormField] = &[
    field("/host", "SMTP host", "e.g. smtp.exmail.qq.com", Text, true),
    field("/port", "Port", "587 for STARTTLS, 465 for TLS; the security's usual port when empty", Integer, false),
    field(
        "/security",
        "Security",
        "starttls (port 587), tls (465) or plain (local relays only)",
        Choice(&["starttls", "tls", "plain"]),
        false,
    ),
    field("/username", "User name", "when the server asks for a login", Text, false),
    field("/password", "Password", "the mailbox's password or app password", Text, false),
    field("/from", "From", "the sender: `Name <addr@example.com>` or a bare address", Text, true),
    field("/timeoutMs", "Timeout (ms)", "per message; 30000 when empty", Integer, false),
];

const SMS: &[FormField] = &[
    field(
        "/suppliers/0/provider",
        "Provider",
        "the first supplier tried; add more in the JSON below",
        Choice(&["tencent", "aliyun"]),
        true,
    ),
    field("/suppliers/0/signName", "Signature", "the approved signature, e.g. 腾讯云", Text, true),
    field("/suppliers/0/secretId", "SecretId (Tencent)", "the API key's SecretId", Text, false),
    field("/suppliers/0/secretKey", "SecretKey (Tencent)", "the API key's SecretKey", Text, false),
    field("/suppliers/0/sdkAppId", "SmsSdkAppId (Tencent)", "e.g. 1400006666", Text, false),
    field("/suppliers/0/templateId", "Template id (Tencent)", "the approved template's id", Text, false),
    field(
        "/suppliers/0/paramOrder",
        "Parameter order (Tencent)",
        "names in content.params, in the order of {1}, {2}, ...: code,minutes",
        List,
        false,
    ),
    field("/suppliers/0/region", "Region (Tencent)", "ap-guangzhou when empty", Text, false),
    field("/suppliers/0/accessKeyId", "AccessKey id (Aliyun)", "the RAM user's AccessKey id", Text, false),
    field("/suppliers/0/accessKeySecret", "AccessKey secret (Aliyun)", "the RAM user's AccessKey secret", Text, false),
    field("/suppliers/0/templateCode", "Template code (Aliyun)", "e.g. SMS_154950909", Text, false),
    field("/suppliers/0/endpoint", "API endpoint", "the provider's own when empty; set it for a proxy", Text, false),
];

const DINGTALK_ROBOT: &[FormField] = &[
    field("/accessToken", "Access token", "the access_token in the robot's webhook URL", Text, true),
    field("/secret", "Signing secret", "SEC...; empty when the robot checks keywords or IPs instead", Text, false),
    base_url!("https://oapi.dingtalk.com"),
];

const DINGTALK_WORK_NOTICE: &[FormField] = &[
    field("/appKey", "AppKey", "the internal app's AppKey", Text, true),
    field("/appSecret", "AppSecret", "the internal app's AppSecret", Text, true),
    field("/agentId", "AgentId", "the app's AgentId", Integer, true),
    base_url!("https://oapi.dingtalk.com"),
];

const WECOM_ROBOT: &[FormField] = &[
    field("/key", "Webhook key", "the key in the group robot's webhook URL", Text, true),
    base_url!("https://qyapi.weixin.qq.com"),
];

const WECOM_APP: &[FormField] = &[
    field("/corpId", "Corp id", "the company's CorpID (My company > Company info)", Text, true),
    field("/corpSecret", "App secret", "the self-built app's Secret", Text, true),
    field("/agentId", "AgentId", "the self-built app's AgentId", Integer, true),
    base_url!("https://qyapi.weixin.qq.com"),
];

const FEISHU_BOT: &[FormField] = &[
    field(
        "/webhookUrl",
        "Webhook URL",
        "https://open.feishu.cn/open-apis/bot/v2/hook/...; its id is the credential",
        Text,
        true,
    ),
    field("/secret", "Signing secret", "when the bot has signature verification on", Text, false),
];

const FEISHU_APP: &[FormField] = &[
    field("/appId", "App ID", "the self-built app's App ID (cli_...), its bot ability on", Text, true),
    field("/appSecret", "App secret", "the self-built app's App Secret", Text, true),
    field("/receiveIdType", "Receiver id type", "open_id when empty; union_id, user_id, email or chat_id", Text, false),
    base_url!("https://open.feishu.cn"),
];

const GETUI_PUSH: &[FormField] = &[
    field("/appId", "AppID", "from the Getui console's app settings", Text, true),
    field("/appKey", "AppKey", "from the Getui console's app settings", Text, true),
    field("/masterSecret", "MasterSecret", "from the Getui console's app settings", Text, true),
    base_url!("https://restapi.getui.com"),
];

const WEBHOOK: &[FormField] = &[
    field("/signingSecret", "Signing secret", "signs every request (HMAC) when set", Text, false),
    field("/timeoutMs", "Timeout (ms)", "per request", Integer, false),
    field("/attempts", "Attempts", "within one delivery, before the worker's own retry", Integer, false),
    field("/backoffMs", "Backoff (ms)", "wait before the second attempt; doubled each time", Integer, false),
];

/// The fields a form asks for to configure an account of `kind` (none for the outbox).
pub fn account_fields(kind: ChannelKind) -> &'static [FormField] {
    match kind {
        ChannelKind::Outbox => &[],
        ChannelKind::Webhook => WEBHOOK,
        ChannelKind::Email => EMAIL,
        ChannelKind::Sms => SMS,
        ChannelKind::DingTalkRobot => DINGTALK_ROBOT,
        ChannelKind::DingTalkWorkNotice => DINGTALK_WORK_NOTICE,
        ChannelKind::WeComRobot => WECOM_ROBOT,
        ChannelKind::WeComApp => WECOM_APP,
        ChannelKind::FeishuBot => FEISHU_BOT,
        ChannelKind::FeishuApp => FEISHU_APP,
        ChannelKind::GetuiPush => GETUI_PUSH,
    }
}

impl FormField {
    /// Whether the value is a secret: written only, shown masked, and a masked value sent back
    /// keeps the stored one. The API's masking rule decides, by the field's name.
    pub fn is_secret(&self) -> bool {
        crate::sealing::is_secret_field(self.pointer.rsplit('/').next().unwrap_or_default())
    }

    /// The field's value in `config` as a form shows it (a list comma-separated); empty when unset.
    pub fn shown(&self, config: &Value) -> String {
        match config.pointer(self.pointer) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| i.as_str().map(str::to_string).unwrap_or_else(|| i.to_string()))
                .collect::<Vec<_>>()
                .join(","),
            Some(other) => other.to_string(),
        }
    }

    /// The JSON value typed in as `text`; None when blank. An integer field that is not one is
    /// refused with the field's label.
    pub fn value_of(&self, text: &str) -> Result<Option<Value>, String> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        Ok(Some(match self.kind {
            Integer => {
                Value::from(text.parse::<i64>().map_err(|_| format!("{}: {text:?} is not a whole number", self.label))?)
            }
            List => Value::Array(
                text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| Value::String(s.into())).collect(),
            ),
            Choice(choices) if !choices.contains(&text) => {
                return Err(format!("{}: {text:?} is not one of {}", self.label, choices.join(", ")));
            }
            _ => Value::String(text.to_string()),
        }))
    }
}

/// The config the fields of `kind` make of `typed` (each field's text by pointer), or the first
/// field refused, by label.
pub fn config_of(kind: ChannelKind, typed: impl Fn(&str) -> Option<String>) -> Result<Value, String> {
    let mut config = Value::Object(Map::new());
    for f in account_fields(kind) {
        if let Some(value) = f.value_of(&typed(f.pointer).unwrap_or_default())? {
            set_at(&mut config, f.pointer, value);
        }
    }
    Ok(config)
}

/// Whether the fields of `kind` hold all of `config`: a form of them loses nothing when saved
/// (a second SMS supplier, say, needs the JSON instead).
pub fn fields_hold(kind: ChannelKind, config: &Value) -> bool {
    let fields = account_fields(kind);
    let rebuilt = config_of(kind, |p| fields.iter().find(|f| f.pointer == p).map(|f| f.shown(config)));
    rebuilt.is_ok_and(|r| r == *config)
}

/// Puts `value` at `pointer` in `config`, making the objects and arrays on the way.
pub fn set_at(config: &mut Value, pointer: &str, value: Value) {
    let mut at = config;
    for part in pointer.trim_start_matches('/').split('/') {
        at = match part.parse::<usize>() {
            Ok(index) => {
                if !at.is_array() {
                    *at = Value::Array(Vec::new());
                }
                let items = at.as_array_mut().expect("made an array");
                while items.len() <= index {
                    items.push(Value::Object(Map::new()));
                }
                &mut items[index]
            }
            Err(_) => {
                if !at.is_object() {
                    *at = Value::Object(Map::new());
                }
                at.as_object_mut().expect("made an object").entry(part).or_insert(Value::Null)
            }
        };
    }
    *at = value;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_build_the_config_and_read_it_back() {
        let mut config = json!({});
        for (pointer, text) in [("/suppliers/0/provider", "tencent"), ("/suppliers/0/paramOrder", "code, minutes")] {
            let f = SMS.iter().find(|f| f.pointer == pointer).unwrap();
            set_at(&mut config, pointer, f.value_of(text).unwrap().unwrap());
        }
        assert_eq!(config, json!({"suppliers": [{"provider": "tencent", "paramOrder": ["code", "minutes"]}]}));
        let order = SMS.iter().find(|f| f.pointer == "/suppliers/0/paramOrder").unwrap();
        assert_eq!(order.shown(&config), "code,minutes");
        let agent = WECOM_APP.iter().find(|f| f.pointer == "/agentId").unwrap();
        assert_eq!(agent.value_of(" 1000002 ").unwrap(), Some(json!(1000002)));
        assert!(agent.value_of("x").unwrap_err().starts_with("AgentId"));
        assert_eq!(agent.value_of("  ").unwrap(), None);
        let security = EMAIL.iter().find(|f| f.pointer == "/security").unwrap();
        assert!(security.value_of("ssl").is_err());
        let wecom = json!({"corpId": "ww1", "corpSecret": "****cdef", "agentId": 1000002});
        assert!(fields_hold(ChannelKind::WeComApp, &wecom));
        let two = json!({"suppliers": [{"provider": "tencent"}, {"provider": "aliyun"}]});
        assert!(!fields_hold(ChannelKind::Sms, &two), "a second supplier is beyond the form");
    }

    #[test]
    fn every_account_channel_asks_for_something_and_its_credentials_are_secret() {
        for kind in ChannelKind::ALL.into_iter().filter(|k| k.needs_account()) {
            assert!(!account_fields(kind).is_empty(), "{kind}");
        }
        let secret = |kind: ChannelKind, pointer: &str| {
            account_fields(kind).iter().find(|f| f.pointer == pointer).unwrap().is_secret()
        };
        assert!(secret(ChannelKind::WeComApp, "/corpSecret") && !secret(ChannelKind::WeComApp, "/corpId"));
        assert!(secret(ChannelKind::Email, "/password") && secret(ChannelKind::FeishuBot, "/webhookUrl"));
        assert!(
            secret(ChannelKind::Sms, "/suppliers/0/secretKey") && !secret(ChannelKind::Sms, "/suppliers/0/signName")
        );
    }
}
