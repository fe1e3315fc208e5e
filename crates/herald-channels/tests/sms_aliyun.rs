//! Aliyun SMS against a fake Dysms `SendSms` endpoint that recomputes the POP HMAC-SHA1
//! signature from the query string and answers in Aliyun's documented shapes.

mod fake_sms;

use fake_sms::{ALIYUN_ID, ALIYUN_SECRET, Reply, aliyun_supplier, build, sms};
use herald_channels::{BuildError, SendResult};
use serde_json::{Value, json};

fn one_supplier(url: &str) -> Value {
    json!({"suppliers": [aliyun_supplier(url)]})
}

#[tokio::test]
async fn good_send_carries_the_documented_parameters() {
    let fake = fake_sms::aliyun().await;
    let channel = build(one_supplier(&fake.url)).channel;
    let result = channel.send(&sms("13800000000")).await;
    assert_eq!(result, SendResult::Sent { detail: Some("aliyun: 000000000000001^0".into()) });
    let accepted = fake.accepted();
    assert_eq!(accepted.len(), 1);
    let params = &accepted[0];
    assert_eq!(params["AccessKeyId"], ALIYUN_ID);
    assert_eq!(params["PhoneNumbers"], "13800000000");
    assert_eq!(params["SignName"], "阿里云短信测试");
    assert_eq!(params["TemplateCode"], "SMS_154950909");
    assert_eq!(params["OutId"], "r1-7");
    let template_param: Value = serde_json::from_str(params["TemplateParam"].as_str().unwrap()).unwrap();
    assert_eq!(template_param, json!({"code": "1234", "minutes": "5"}));
}

#[tokio::test]
async fn a_message_template_names_its_own_aliyun_template() {
    let fake = fake_sms::aliyun().await;
    let channel = build(one_supplier(&fake.url)).channel;
    let mut message = sms("13800000000");
    message.content["templateCode"] = json!("SMS_999000111");
    assert!(matches!(channel.send(&message).await, SendResult::Sent { .. }));
    assert_eq!(fake.accepted()[0]["TemplateCode"], "SMS_999000111");
}

#[tokio::test]
async fn flow_control_is_retryable_then_succeeds() {
    let fake = fake_sms::aliyun().await;
    fake.script([Reply::Fail("isv.BUSINESS_LIMIT_CONTROL")]);
    let channel = build(one_supplier(&fake.url)).channel;
    match channel.send(&sms("13800000000")).await {
        SendResult::Retryable { reason, .. } => assert!(reason.contains("isv.BUSINESS_LIMIT_CONTROL"), "{reason}"),
        other => panic!("expected Retryable, got {other:?}"),
    }
    // A new nonce on the second attempt, or the fake answers SignatureNonceUsed.
    assert!(matches!(channel.send(&sms("13800000000")).await, SendResult::Sent { .. }));
    assert_eq!(fake.accepted().len(), 2);
}

#[tokio::test]
async fn gateway_faults_and_unreachable_endpoints_are_retryable() {
    let fake = fake_sms::aliyun().await;
    fake.script([Reply::Http(502), Reply::Error("Throttling.User"), Reply::Fail("isp.SYSTEM_ERROR")]);
    let channel = build(one_supplier(&fake.url)).channel;
    for _ in 0..3 {
        let result = channel.send(&sms("13800000000")).await;
        assert!(matches!(result, SendResult::Retryable { .. }), "{result:?}");
    }
    let down = build(one_supplier(&herald_testkit::closed_url())).channel;
    assert!(matches!(down.send(&sms("13800000000")).await, SendResult::Retryable { .. }));
}

#[tokio::test]
async fn account_and_receiver_failures_are_permanent() {
    let fake = fake_sms::aliyun().await;
    fake.script([
        Reply::Fail("isv.AMOUNT_NOT_ENOUGH"),
        Reply::Fail("isv.SMS_SIGNATURE_ILLEGAL"),
        Reply::Fail("isv.MOBILE_NUMBER_ILLEGAL"),
    ]);
    let channel = build(one_supplier(&fake.url)).channel;
    for code in ["isv.AMOUNT_NOT_ENOUGH", "isv.SMS_SIGNATURE_ILLEGAL", "isv.MOBILE_NUMBER_ILLEGAL"] {
        match channel.send(&sms("1380")).await {
            SendResult::Permanent { reason } => assert!(reason.contains(code), "{reason}"),
            other => panic!("expected Permanent for {code}, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn wrong_secret_is_rejected_by_the_signature_check() {
    let fake = fake_sms::aliyun().await;
    let mut supplier = aliyun_supplier(&fake.url);
    supplier["accessKeySecret"] = json!("not-the-secret");
    let channel = build(json!({"suppliers": [supplier]})).channel;
    match channel.send(&sms("13800000000")).await {
        SendResult::Permanent { reason } => {
            assert!(reason.contains("SignatureDoesNotMatch"), "{reason}");
            assert!(!reason.contains("not-the-secret"), "{reason}");
        }
        other => panic!("expected Permanent, got {other:?}"),
    }
    assert_eq!((fake.arrived(), fake.accepted().len()), (1, 0));
}

#[tokio::test]
async fn awkward_characters_survive_the_encoding() {
    let fake = fake_sms::aliyun().await;
    let channel = build(one_supplier(&fake.url)).channel;
    let mut message = sms("+86 138 0000 0000");
    message.content = json!({"params": {"name": "A+B *x* ~y~ 100% & 张三/李四?"}});
    assert!(matches!(channel.send(&message).await, SendResult::Sent { .. }), "signature must still match");
    let params = &fake.accepted()[0];
    let template_param: Value = serde_json::from_str(params["TemplateParam"].as_str().unwrap()).unwrap();
    assert_eq!(template_param["name"], "A+B *x* ~y~ 100% & 张三/李四?");
    assert_eq!(params["PhoneNumbers"], "+86 138 0000 0000");
}

#[test]
fn config_errors_name_the_field_and_hide_the_secret() {
    let refuse = |config: Value| match herald_channels::build(&fake_sms::account(config), &fake_sms::context()) {
        Err(e @ BuildError::Config { .. }) => e.to_string(),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("config should be refused"),
    };
    let mut supplier = aliyun_supplier("http://127.0.0.1:1");
    supplier.as_object_mut().unwrap().remove("templateCode");
    assert!(refuse(json!({"suppliers": [supplier]})).contains("templateCode"));

    let mut supplier = aliyun_supplier("http://127.0.0.1:1");
    supplier["accessKeySecret"] = json!("");
    assert!(refuse(json!({"suppliers": [supplier]})).contains("suppliers[0].accessKeySecret"));

    let mut supplier = aliyun_supplier("ftp://127.0.0.1:1");
    supplier["endpoint"] = json!("ftp://127.0.0.1:1");
    assert!(refuse(json!({"suppliers": [supplier]})).contains("suppliers[0].endpoint"));

    let config: herald_channels::sms::SmsConfig =
        serde_json::from_value(one_supplier("http://127.0.0.1:1")).expect("config parses");
    let debug = format!("{config:?}");
    assert!(!debug.contains(ALIYUN_SECRET), "{debug}");
    assert!(debug.contains(ALIYUN_ID), "{debug}");
}
