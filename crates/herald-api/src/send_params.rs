//! One send param checked and turned into a batch item: receivers split, bounded and
//! de-duplicated in linear time, variables checked by name, every placeholder filled. Each
//! refusal names the param's field, and costs no more than the param's own size.

use crate::error::ApiError;
use herald_core::listing::{QUOTED_CHARS, clip, name_some};
use herald_core::placeholders::placeholder_names;
use herald_core::{BatchItem, Installation, MAX_RECEIVER_BYTES, MAX_RECEIVERS_PER_BATCH, Recipient};
use herald_store::Template;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};

/// The longest `bizId` accepted, in bytes: it is echoed once per receiver in the answer.
pub const MAX_BIZ_ID_BYTES: usize = 256;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageParam {
    /// The caller's id for this send (at most 256 bytes); a repeat within 24 hours to the same
    /// receiver answers the first message id instead of sending again.
    pub biz_id: Option<String>,
    /// Receivers separated by commas; at most 100 per request, repeats sent once.
    pub receiver: String,
    /// austin accepts `"variables": null` for the whole map: read as no variables.
    #[serde(default, deserialize_with = "null_as_empty")]
    #[schema(value_type = Option<HashMap<String, String>>)]
    pub variables: BTreeMap<String, Value>,
    #[serde(default)]
    #[allow(dead_code)]
    #[schema(value_type = Option<Object>)]
    pub extra: Option<Value>,
}

fn null_as_empty<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, Value>, D::Error> {
    Ok(Option::deserialize(d)?.unwrap_or_default())
}

/// Where a request's message ids come from: the installation and the request.
pub struct RequestIds<'a> {
    pub installation: &'a Installation,
    pub request_id: &'a str,
}

/// One param as a batch item, for the param at `index` of a request, whose fields are named
/// under `prefix` (`messageParam` or `messageParamList[3]`).
pub fn to_item(
    template: &Template,
    ids: &RequestIds<'_>,
    index: usize,
    param: &MessageParam,
    prefix: &str,
) -> Result<BatchItem, ApiError> {
    let field = |name: &str| format!("{prefix}.{name}");
    if let Some(biz_id) = &param.biz_id
        && biz_id.len() > MAX_BIZ_ID_BYTES
    {
        return Err(ApiError::field(&field("bizId"), format!("{} bytes; at most {MAX_BIZ_ID_BYTES}", biz_id.len())));
    }
    let receivers = receivers(&param.receiver).map_err(|e| e.into_api_error(&field("receiver")))?;
    let variables =
        variables(&param.variables).map_err(|(name, m)| ApiError::field(&field(&format!("variables.{name}")), m))?;
    let missing: Vec<String> = placeholder_names(&template.spec.content)
        .into_iter()
        .filter(|n| !variables.contains_key(n))
        .map(|n| format!("{{${n}}}"))
        .collect();
    if !missing.is_empty() {
        return Err(ApiError::field(
            &field("variables"),
            format!("missing {} used by the template", name_some(&missing)),
        ));
    }
    let recipients = receivers
        .into_iter()
        .map(|r| Recipient { receiver: r.to_string(), message_id: ids.installation.request(ids.request_id, index, r) })
        .collect();
    Ok(BatchItem { variables, recipients })
}

/// Why a receiver list was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum ReceiverError {
    None,
    /// More than the cap: how many distinct receivers the text names.
    TooMany {
        count: usize,
    },
    TooLong {
        bytes: usize,
    },
}

impl ReceiverError {
    fn into_api_error(self, field: &str) -> ApiError {
        match self {
            Self::None => ApiError::field(field, "names no receiver"),
            Self::TooMany { count } => ApiError::TooManyReceivers(format!(
                "{field}: {count} receivers; at most {MAX_RECEIVERS_PER_BATCH} per param"
            )),
            Self::TooLong { bytes } => {
                ApiError::field(field, format!("a receiver is {bytes} bytes long; at most {MAX_RECEIVER_BYTES}"))
            }
        }
    }
}

/// Receivers split on commas, trimmed and de-duplicated in first-seen order (as austin does),
/// with a hash set: linear in the text (which the body limit bounds), where a list scan was
/// quadratic. Past the cap only the count goes on, for the refusal.
pub fn receivers(text: &str) -> Result<Vec<&str>, ReceiverError> {
    let mut seen = HashSet::new();
    let mut receivers = Vec::new();
    for r in text.split(',').map(str::trim).filter(|r| !r.is_empty()) {
        if r.len() > MAX_RECEIVER_BYTES {
            return Err(ReceiverError::TooLong { bytes: r.len() });
        }
        if seen.insert(r) && receivers.len() < MAX_RECEIVERS_PER_BATCH {
            receivers.push(r);
        }
    }
    match seen.len() {
        0 => Err(ReceiverError::None),
        count if count > MAX_RECEIVERS_PER_BATCH => Err(ReceiverError::TooMany { count }),
        _ => Ok(receivers),
    }
}

/// Variables as text: strings as they are, numbers and booleans written out (austin's
/// `Map<String, String>` takes those too). A null, object or array has no text a placeholder
/// could take, so it is refused naming the variable rather than rendered as `null` or JSON.
fn variables(given: &BTreeMap<String, Value>) -> Result<BTreeMap<String, String>, (String, String)> {
    given
        .iter()
        .map(|(name, value)| {
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Null => return Err((clip(name, QUOTED_CHARS), "is null; give a string".to_string())),
                Value::Array(_) | Value::Object(_) => {
                    return Err((clip(name, QUOTED_CHARS), "is not a string, number or boolean".to_string()));
                }
            };
            Ok((name.clone(), text))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receivers_are_trimmed_and_deduplicated_in_order() {
        assert_eq!(receivers(" b,a, b,,a ,c").unwrap(), ["b", "a", "c"]);
        assert_eq!(receivers(" , ,"), Err(ReceiverError::None));
    }

    #[test]
    fn the_cap_counts_distinct_receivers_in_linear_time() {
        let hundred: Vec<String> = (0..100).map(|n| format!("r{n}")).collect();
        let with_repeats = format!("{},{}", hundred.join(","), hundred.join(","));
        assert_eq!(receivers(&with_repeats).unwrap().len(), 100);
        let many: Vec<String> = (0..200_000).map(|n| format!("r{n}")).collect();
        let started = std::time::Instant::now();
        assert_eq!(receivers(&many.join(",")), Err(ReceiverError::TooMany { count: 200_000 }));
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "quadratic took minutes here");
    }

    #[test]
    fn a_long_receiver_is_refused() {
        let long = "1".repeat(MAX_RECEIVER_BYTES + 1);
        assert_eq!(receivers(&format!("a,{long}")), Err(ReceiverError::TooLong { bytes: MAX_RECEIVER_BYTES + 1 }));
        assert!(receivers(&"1".repeat(MAX_RECEIVER_BYTES)).is_ok());
    }

    #[test]
    fn null_and_structured_variables_are_refused_by_name() {
        let given: BTreeMap<String, Value> =
            serde_json::from_str(r#"{"a": "x", "n": 3, "b": true, "z": null}"#).unwrap();
        assert_eq!(variables(&given).unwrap_err().0, "z");
        let given: BTreeMap<String, Value> = serde_json::from_str(r#"{"o": {"k": 1}}"#).unwrap();
        assert_eq!(variables(&given).unwrap_err().0, "o");
        let given: BTreeMap<String, Value> = serde_json::from_str(r#"{"a": "x", "n": 3, "b": true}"#).unwrap();
        let text = variables(&given).unwrap();
        assert_eq!((text["a"].as_str(), text["n"].as_str(), text["b"].as_str()), ("x", "3", "true"));
    }
}
