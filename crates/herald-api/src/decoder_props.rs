//! Property tests of the admin decoders: template create, account create and flow control
//! bodies with an arbitrary JSON value in one field are accepted, or refused with a 4xx whose
//! every error names a field of the request (the changed one, for a value of the wrong shape).

use crate::accounts::{AccountBody, check_fields};
use crate::error::ApiError;
use crate::json::parse;
use crate::policies::{RateBody, checked_rate};
use crate::prop_json::{config, json_value, rendered, with_field};
use herald_core::TemplateSpec;
use proptest::prelude::*;
use serde_json::{Value, json};

const TEMPLATE_FIELDS: &[&str] = &[
    "name",
    "channel",
    "channelAccount",
    "msgType",
    "receiverIdType",
    "content",
    "quietHours",
    "quietWindow",
    "schedule",
    "crowdId",
    "dedup",
];

fn decide_template(body: &[u8]) -> Result<(), ApiError> {
    let spec: TemplateSpec = parse(body)?;
    let errors = spec.validate(None);
    if errors.is_empty() { Ok(()) } else { Err(ApiError::Invalid(errors)) }
}

fn decide_account(body: &[u8]) -> Result<(), ApiError> {
    check_fields(&parse::<AccountBody>(body)?)
}

fn decide_rate(body: &[u8]) -> Result<(), ApiError> {
    checked_rate(&parse::<RateBody>(body)?).map(|_| ())
}

/// A refusal is a 4xx; a decoding refusal names `field`; every validation error names one of
/// `known` fields (a change may surface as a fault of another field: a webhook needs a url).
fn refusal_names(outcome: Result<(), ApiError>, field: &str, known: &[&str]) -> Result<(), TestCaseError> {
    let Err(e) = outcome else { return Ok(()) };
    prop_assert!(e.status_and_code().0.is_client_error(), "{e}");
    match &e {
        ApiError::Invalid(errors) => {
            for error in errors {
                let top = error.field.split(['.', '[']).next().unwrap_or_default();
                prop_assert!(known.contains(&top), "{error} names no field of the request");
            }
        }
        other => prop_assert!(other.to_string().contains(field), "{other} does not name {field}"),
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn template_fields_hold_any_json(field in prop::sample::select(TEMPLATE_FIELDS), value in json_value()) {
        let base = json!({"name": "t", "channel": "outbox", "content": {"body": "hi {$name}"}});
        let body = with_field(&base, &[field], value);
        let outcome = decide_template(body.to_string().as_bytes());
        if let Err(ApiError::Invalid(errors)) = &outcome
            && errors.iter().any(|e| e.message.contains("invalid type") || e.message.contains("unknown variant"))
        {
            prop_assert!(errors.iter().all(|e| e.field.starts_with(&rendered(&[field]))), "{errors:?}");
        }
        refusal_names(outcome, field, TEMPLATE_FIELDS)?;
    }

    #[test]
    fn account_fields_hold_any_json(field in prop::sample::select(&["name", "channel", "config", "ratePerSecond"][..]), value in json_value()) {
        let base = json!({"name": "a", "channel": "wecom_app", "config": {}, "ratePerSecond": 5});
        let body = with_field(&base, &[field], value);
        refusal_names(decide_account(body.to_string().as_bytes()), field, &["name", "channel", "config", "ratePerSecond"])?;
    }

    #[test]
    fn flow_control_rates_hold_any_json(value in json_value()) {
        let body = json!({"ratePerSecond": value});
        refusal_names(decide_rate(body.to_string().as_bytes()), "ratePerSecond", &["ratePerSecond"])?;
    }

    #[test]
    fn any_admin_body_is_a_4xx_at_worst(body in prop_oneof![json_value().prop_map(|v| v.to_string().into_bytes()), prop::collection::vec(any::<u8>(), 0..64)]) {
        for outcome in [decide_template(&body), decide_account(&body), decide_rate(&body)] {
            if let Err(e) = outcome {
                prop_assert!(e.status_and_code().0.is_client_error(), "{e}");
            }
        }
    }
}

#[test]
fn a_valid_body_of_each_kind_passes() {
    let ok = |v: Value| v.to_string().into_bytes();
    assert!(decide_template(&ok(json!({"name": "t", "channel": "outbox", "content": {"b": "x"}}))).is_ok());
    assert!(decide_account(&ok(json!({"name": "a", "channel": "wecom_app", "config": {}}))).is_ok());
    assert!(decide_rate(&ok(json!({"ratePerSecond": 2.5}))).is_ok());
    assert!(decide_rate(&ok(json!({"ratePerSecond": 1e-300}))).is_err());
}
