//! The template fields both backends keep together in one `policy_json` column.

use herald_core::TemplateSpec;
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TemplatePolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedup: Option<herald_core::dedup::DedupRules>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quiet_window: Option<herald_core::QuietWindow>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_mode: Option<herald_core::TestMode>,
}

/// The column's value for `spec`; None when the template sets no policy of its own.
pub(crate) fn policy_json(spec: &TemplateSpec) -> Option<String> {
    let policy =
        TemplatePolicy { dedup: spec.dedup, quiet_window: spec.quiet_window, test_mode: spec.test_mode.clone() };
    (policy.dedup.is_some() || policy.quiet_window.is_some() || policy.test_mode.is_some())
        .then(|| serde_json::to_string(&policy).unwrap_or_default())
}

pub(crate) fn parse_policy(json: Option<&str>) -> Result<TemplatePolicy, crate::StoreError> {
    match json {
        Some(json) => serde_json::from_str(json).map_err(|e| crate::StoreError::Corrupt(e.to_string())),
        None => Ok(TemplatePolicy::default()),
    }
}
