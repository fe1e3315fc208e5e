//! Tencent Cloud SMS against a fake `SendSms` endpoint that recomputes the TC3-HMAC-SHA256
//! signature and answers in Tencent's documented shapes.

mod fake_sms;

use fake_sms::{Reply, TENCENT_KEY, build, sms, tencent_supplier};
use herald_channels::{BuildError, SendResult};
use serde_json::json;

fn one_supplier(url: &str) -> serde_json::Value {
    json!({"suppliers": [tencent_supplier(url)]})
}

#[tokio::test]
async fn good_send_carries_the_documented_fields() {
    let fake = fake_sms::tencent().await;
    let built = build(one_supplier(&fake.url));
    let result = built.channel.send(&sms("+8613800000000")).await;
    assert_eq!(result, SendResult::Sent { detail: Some("tencent: 2028:00000000000000000001".into()) });
    let accepted = fake.accepted();
    assert_eq!(accepted.len(), 1);
    assert_eq!(
        accepted[0],
        json!({"PhoneNumberSet": ["+8613800000000"], "SmsSdkAppId": "1400006666", "SignName": "腾讯云",
            "TemplateId": "1110", "TemplateParamSet": ["1234", "5"], "SessionContext": "r1-7"})
    );
    built.healthcheck.await.expect("endpoint passes the policy");
}

#[tokio::test]
async fn a_message_template_names_its_own_tencent_template_and_order() {
    let fake = fake_sms::tencent().await;
    let built = build(one_supplier(&fake.url));
    let mut message = sms("+8613800000000");
    message.content = json!({"templateId": "2220", "paramOrder": ["minutes", "code"],
        "params": {"code": "1234", "minutes": "5"}});
    assert!(matches!(built.channel.send(&message).await, SendResult::Sent { .. }));
    let accepted = fake.accepted();
    assert_eq!((&accepted[0]["TemplateId"], &accepted[0]["TemplateParamSet"]), (&json!("2220"), &json!(["5", "1234"])));
    message.content = json!({"templateId": 7});
    let refused = built.channel.send(&message).await;
    assert!(
        matches!(&refused, SendResult::Permanent { reason } if reason.contains("content.templateId")),
        "{refused:?}"
    );
}

#[tokio::test]
async fn throttled_is_retryable_then_succeeds() {
    let fake = fake_sms::tencent().await;
    fake.script([Reply::Fail("LimitExceeded.PhoneNumberDailyLimit")]);
    let channel = build(one_supplier(&fake.url)).channel;
    match channel.send(&sms("+8613800000000")).await {
        SendResult::Retryable { reason, .. } => {
            assert!(reason.contains("LimitExceeded.PhoneNumberDailyLimit"), "{reason}")
        }
        other => panic!("expected Retryable, got {other:?}"),
    }
    assert!(matches!(channel.send(&sms("+8613800000000")).await, SendResult::Sent { .. }));
    assert_eq!(fake.accepted().len(), 2);
}

#[tokio::test]
async fn server_errors_and_unreachable_endpoints_are_retryable() {
    let fake = fake_sms::tencent().await;
    fake.script([Reply::Http(503), Reply::Error("InternalError.Timeout")]);
    let channel = build(one_supplier(&fake.url)).channel;
    for _ in 0..2 {
        let result = channel.send(&sms("+8613800000000")).await;
        assert!(matches!(result, SendResult::Retryable { .. }), "{result:?}");
    }
    let down = build(one_supplier(&herald_testkit::closed_url())).channel;
    let result = down.send(&sms("+8613800000000")).await;
    assert!(matches!(result, SendResult::Retryable { .. }), "{result:?}");
}

#[tokio::test]
async fn account_and_receiver_failures_are_permanent() {
    let fake = fake_sms::tencent().await;
    fake.script([
        Reply::Fail("FailedOperation.InsufficientBalanceInSmsPackage"),
        Reply::Error("FailedOperation.TemplateIncorrectOrUnapproved"),
        Reply::Fail("InvalidParameterValue.IncorrectPhoneNumber"),
    ]);
    let channel = build(one_supplier(&fake.url)).channel;
    for code in [
        "FailedOperation.InsufficientBalanceInSmsPackage",
        "FailedOperation.TemplateIncorrectOrUnapproved",
        "InvalidParameterValue.IncorrectPhoneNumber",
    ] {
        match channel.send(&sms("+86138")).await {
            SendResult::Permanent { reason } => assert!(reason.contains(code), "{reason}"),
            other => panic!("expected Permanent for {code}, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn wrong_secret_is_rejected_by_the_signature_check() {
    let fake = fake_sms::tencent().await;
    let mut supplier = tencent_supplier(&fake.url);
    supplier["secretKey"] = json!("not-the-secret");
    let channel = build(json!({"suppliers": [supplier]})).channel;
    match channel.send(&sms("+8613800000000")).await {
        SendResult::Permanent { reason } => {
            assert!(reason.contains("AuthFailure.SignatureFailure"), "{reason}");
            assert!(!reason.contains("not-the-secret"), "{reason}");
        }
        other => panic!("expected Permanent, got {other:?}"),
    }
    assert_eq!((fake.arrived(), fake.accepted().len()), (1, 0));
}

#[tokio::test]
async fn missing_template_param_is_caught_before_sending() {
    let fake = fake_sms::tencent().await;
    let channel = build(one_supplier(&fake.url)).channel;
    let mut message = sms("+8613800000000");
    message.content = json!({"params": {"code": "1234"}});
    match channel.send(&message).await {
        SendResult::Permanent { reason } => assert!(reason.contains("`minutes`"), "{reason}"),
        other => panic!("expected Permanent, got {other:?}"),
    }
    assert_eq!(fake.arrived(), 0);
}

fn build_error(config: serde_json::Value) -> String {
    match herald_channels::build(&fake_sms::account(config), &fake_sms::context()) {
        Err(e @ BuildError::Config { .. }) => e.to_string(),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("config should be refused"),
    }
}

#[test]
fn config_errors_name_the_field_and_hide_the_secret() {
    let mut supplier = tencent_supplier("http://127.0.0.1:1");
    supplier.as_object_mut().unwrap().remove("secretKey");
    assert!(build_error(json!({"suppliers": [supplier]})).contains("secretKey"));

    let mut supplier = tencent_supplier("http://127.0.0.1:1");
    supplier["signName"] = json!(" ");
    assert!(build_error(json!({"suppliers": [supplier]})).contains("suppliers[0].signName"));

    let mut supplier = tencent_supplier("http://127.0.0.1:1");
    supplier["secretKeys"] = json!("typo");
    assert!(build_error(json!({"suppliers": [supplier]})).contains("secretKeys"));

    assert!(build_error(json!({"suppliers": []})).contains("suppliers"));
    assert!(build_error(json!({})).contains("suppliers"));
    let e = build_error(json!({"suppliers": [{"provider": "twilio"}]}));
    assert!(e.contains("twilio"), "{e}");

    let config: herald_channels::sms::SmsConfig =
        serde_json::from_value(one_supplier("http://127.0.0.1:1")).expect("config parses");
    let debug = format!("{config:?}");
    assert!(!debug.contains(TENCENT_KEY), "{debug}");
    assert!(debug.contains("1400006666"), "{debug}");
}
