//! Send-time policies applied to each message before its channel sees it: quiet hours
//! (drop, or defer to the window's end, read in the recipient's own time zone when the crowd
//! has a time-zone column, else the template's) and dedup (content and frequency, counted
//! atomically by the store). Each returns a verdict; the pipeline records it. The rules
//! themselves live in [`herald_core::policies`], which the API's dry run reads too.

use chrono::{DateTime, Utc};
use herald_core::policies::{DedupChecks, Rendered};
pub use herald_core::policies::{PolicyDefaults, Verdict};
use herald_store::{DedupStore, StoreError, Template};
use serde_json::Value;
use std::collections::BTreeMap;

/// Quiet hours for one recipient.
pub fn quiet_verdict(
    template: &Template,
    variables: &BTreeMap<String, String>,
    now: DateTime<Utc>,
    defaults: &PolicyDefaults,
) -> Verdict {
    herald_core::policies::quiet_verdict(&template.spec, variables, now, defaults)
}

/// Dedup for one rendered message; counts it when admitted.
pub async fn dedup_verdict(
    store: &dyn DedupStore,
    template: &Template,
    receiver: &str,
    content: &Value,
    now: DateTime<Utc>,
    defaults: &PolicyDefaults,
) -> Result<Verdict, StoreError> {
    let message = Rendered { template_id: template.id, spec: &template.spec, receiver, content };
    let DedupChecks { content, frequency } = defaults.dedup_checks(&message, now);
    if let Some(check) = content
        && !store.admit_sliding(&check.key, check.limit, check.window(), now).await?
    {
        return Ok(check.refusal());
    }
    if let Some(check) = frequency
        && !store.admit_fixed(&check.key, &check.bucket, check.limit, check.expires_at, now).await?
    {
        return Ok(check.refusal());
    }
    Ok(Verdict::Send)
}
