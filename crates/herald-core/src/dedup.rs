//! Dedup rules, as austin has them: content dedup (the same content to the same receiver at
//! most N times in T seconds; austin: 1 per 300 s) and frequency dedup (at most N messages per
//! receiver per channel per day; austin: 5). The counting itself is atomic and lives in the
//! store; here are the rules and the keys they count under.

use crate::channel::ChannelKind;
use crate::field::FieldError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContentDedup {
    pub limit: u32,
    pub window_secs: i64,
}

impl Default for ContentDedup {
    fn default() -> Self {
        Self { limit: 1, window_secs: 300 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FrequencyDedup {
    pub limit_per_day: u32,
}

impl Default for FrequencyDedup {
    fn default() -> Self {
        Self { limit_per_day: 5 }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DedupRules {
    #[serde(default)]
    pub content: Option<ContentDedup>,
    #[serde(default)]
    pub frequency: Option<FrequencyDedup>,
}

impl DedupRules {
    /// austin's defaults: both rules on.
    pub fn austin() -> Self {
        Self { content: Some(ContentDedup::default()), frequency: Some(FrequencyDedup::default()) }
    }

    pub fn is_empty(&self) -> bool {
        self.content.is_none() && self.frequency.is_none()
    }

    pub fn validate(&self, errors: &mut Vec<FieldError>) {
        if let Some(c) = self.content {
            if c.limit == 0 {
                errors.push(FieldError::new("dedup.content.limit", "must be at least 1"));
            }
            if !(1..=86_400 * 31).contains(&c.window_secs) {
                errors.push(FieldError::new("dedup.content.windowSecs", "must be 1 s to 31 days"));
            }
        }
        if let Some(f) = self.frequency
            && f.limit_per_day == 0
        {
            errors.push(FieldError::new("dedup.frequency.limitPerDay", "must be at least 1"));
        }
    }
}

/// The key content dedup counts under: template, receiver and the rendered content.
pub fn content_key(template_id: i64, receiver: &str, content: &Value) -> String {
    let mut hasher = Sha256::new();
    hasher.update(template_id.to_le_bytes());
    hasher.update(receiver.as_bytes());
    hasher.update([0]);
    hasher.update(content.to_string().as_bytes());
    format!("content:{}", hex::encode(&hasher.finalize()[..16]))
}

/// The key frequency dedup counts under: the receiver on one channel.
pub fn frequency_key(channel: ChannelKind, receiver: &str) -> String {
    format!("frequency:{channel}:{receiver}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_separate_what_they_should() {
        let a = content_key(1, "r", &json!({"t": "x"}));
        assert_eq!(a, content_key(1, "r", &json!({"t": "x"})));
        assert_ne!(a, content_key(2, "r", &json!({"t": "x"})));
        assert_ne!(a, content_key(1, "s", &json!({"t": "x"})));
        assert_ne!(a, content_key(1, "r", &json!({"t": "y"})));
        assert_eq!(frequency_key(ChannelKind::Sms, "138"), "frequency:sms:138");
    }

    #[test]
    fn austins_defaults() {
        let rules = DedupRules::austin();
        assert_eq!(rules.content, Some(ContentDedup { limit: 1, window_secs: 300 }));
        assert_eq!(rules.frequency, Some(FrequencyDedup { limit_per_day: 5 }));
    }

    #[test]
    fn rules_validate_and_read_camel_case() {
        let rules: DedupRules = serde_json::from_value(json!({"content": {"limit": 2, "windowSecs": 60}})).unwrap();
        assert_eq!(rules.content, Some(ContentDedup { limit: 2, window_secs: 60 }));
        let mut errors = Vec::new();
        DedupRules { content: Some(ContentDedup { limit: 0, window_secs: 0 }), frequency: None }.validate(&mut errors);
        assert_eq!(errors.len(), 2);
    }
}
