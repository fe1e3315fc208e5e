//! Property tests of the send API's decoders: `/send` and `/batchSend` bodies with an
//! arbitrary JSON value in one field are accepted, or refused with a 4xx that names that
//! field; whole arbitrary bodies never panic and never answer 5xx.

use super::*;
use crate::json::parse;
use crate::prop_json::{config, json_value, rendered, with_field};
use chrono::TimeZone;
use herald_core::{TemplateSpec, TemplateStatus};
use proptest::prelude::*;
use serde_json::{Value, json};

fn template() -> Template {
    let spec: TemplateSpec =
        serde_json::from_value(json!({"name": "t", "channel": "outbox", "content": {"body": "hi {$name}"}})).unwrap();
    let at = chrono::Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap();
    Template { id: 1, spec, status: TemplateStatus::Stopped, next_fire_at: None, created_at: at, updated_at: at }
}

/// What the handlers decide before they touch the store, in their order.
fn decide(body: &[u8], batch: bool) -> Result<usize, ApiError> {
    let (_, params) =
        if batch { parse::<BatchSendRequest>(body)?.checked()? } else { parse::<SendRequest>(body)?.checked()? };
    let now = chrono::Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap();
    let installation = herald_core::Installation::new("i1");
    let ids = RequestIds { installation: &installation, request_id: "req" };
    Ok(plan(&template(), &params, !batch, &ids, now)?.jobs.len())
}

fn param() -> Value {
    json!({"bizId": "b1", "receiver": "a,b", "variables": {"name": "x"}, "extra": {"k": 1}})
}

const SEND_FIELDS: &[&[&str]] = &[
    &["code"],
    &["messageTemplateId"],
    &["messageParam"],
    &["messageParam", "bizId"],
    &["messageParam", "receiver"],
    &["messageParam", "variables"],
    &["messageParam", "variables", "name"],
];

const BATCH_FIELDS: &[&[&str]] = &[
    &["messageParamList"],
    &["messageParamList", "0"],
    &["messageParamList", "1", "receiver"],
    &["messageParamList", "1", "variables"],
    &["messageParamList", "0", "variables", "name"],
    &["messageParamList", "1", "bizId"],
];

/// Accepted, or refused with a 4xx whose message names `path`.
fn accepted_or_named(outcome: Result<usize, ApiError>, path: &[&str]) -> Result<(), TestCaseError> {
    if let Err(e) = outcome {
        let status = e.status_and_code().0;
        prop_assert!(status.is_client_error(), "{status} for {e}");
        let msg = e.to_string();
        prop_assert!(msg.contains(&rendered(path)), "{msg:?} does not name {}", rendered(path));
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn send_fields_hold_any_json(field in prop::sample::select(SEND_FIELDS), value in json_value()) {
        let base = json!({"code": "send", "messageTemplateId": 1, "messageParam": param()});
        let body = with_field(&base, field, value);
        accepted_or_named(decide(body.to_string().as_bytes(), false), field)?;
    }

    #[test]
    fn batch_send_fields_hold_any_json(field in prop::sample::select(BATCH_FIELDS), value in json_value()) {
        let base = json!({"code": "send", "messageTemplateId": 1, "messageParamList": [param(), param()]});
        let body = with_field(&base, field, value);
        accepted_or_named(decide(body.to_string().as_bytes(), true), field)?;
    }

    #[test]
    fn any_body_is_a_4xx_at_worst(body in prop_oneof![json_value().prop_map(|v| v.to_string().into_bytes()), prop::collection::vec(any::<u8>(), 0..64)], batch in any::<bool>()) {
        if let Err(e) = decide(&body, batch) {
            prop_assert!(e.status_and_code().0.is_client_error(), "{e}");
        }
    }
}
