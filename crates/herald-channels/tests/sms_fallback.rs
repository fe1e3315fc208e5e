//! Supplier fallback: Tencent first, Aliyun second, both fakes checking signatures.

mod fake_sms;

use fake_sms::{Fake, Reply, aliyun_supplier, build, sms, tencent_supplier};
use herald_channels::{Channel, SendResult};
use serde_json::json;
use std::sync::Arc;

async fn pair() -> (Fake, Fake, Arc<dyn Channel>) {
    let tencent = fake_sms::tencent().await;
    let aliyun = fake_sms::aliyun().await;
    let channel = build(json!({"suppliers": [tencent_supplier(&tencent.url), aliyun_supplier(&aliyun.url)]})).channel;
    (tencent, aliyun, channel)
}

fn sent_by_aliyun(result: SendResult) {
    assert_eq!(result, SendResult::Sent { detail: Some("aliyun#2: 000000000000001^0".into()) });
}

#[tokio::test]
async fn first_supplier_is_used_when_it_succeeds() {
    let (tencent, aliyun, channel) = pair().await;
    let result = channel.send(&sms("+8613800000000")).await;
    assert_eq!(result, SendResult::Sent { detail: Some("tencent: 2028:00000000000000000001".into()) });
    assert_eq!((tencent.accepted().len(), aliyun.arrived()), (1, 0));
}

#[tokio::test]
async fn retryable_failure_falls_back() {
    let (tencent, aliyun, channel) = pair().await;
    tencent.script([Reply::Fail("LimitExceeded.PhoneNumberOneHourLimit")]);
    sent_by_aliyun(channel.send(&sms("+8613800000000")).await);
    assert_eq!((tencent.accepted().len(), aliyun.accepted().len()), (1, 1));
}

#[tokio::test]
async fn supplier_side_permanent_failure_falls_back() {
    let (tencent, aliyun, channel) = pair().await;
    tencent.script([Reply::Fail("FailedOperation.InsufficientBalanceInSmsPackage")]);
    sent_by_aliyun(channel.send(&sms("+8613800000000")).await);
    assert_eq!((tencent.accepted().len(), aliyun.accepted().len()), (1, 1), "tencent answered, then aliyun sent");
}

#[tokio::test]
async fn bad_credentials_on_the_first_supplier_fall_back() {
    let tencent = fake_sms::tencent().await;
    let aliyun = fake_sms::aliyun().await;
    let mut first = tencent_supplier(&tencent.url);
    first["secretKey"] = json!("stale-key");
    let channel = build(json!({"suppliers": [first, aliyun_supplier(&aliyun.url)]})).channel;
    sent_by_aliyun(channel.send(&sms("+8613800000000")).await);
    assert_eq!((tencent.arrived(), tencent.accepted().len()), (1, 0));
}

#[tokio::test]
async fn unreachable_first_supplier_falls_back() {
    let aliyun = fake_sms::aliyun().await;
    let channel =
        build(json!({"suppliers": [tencent_supplier(&herald_testkit::closed_url()), aliyun_supplier(&aliyun.url)]}))
            .channel;
    sent_by_aliyun(channel.send(&sms("+8613800000000")).await);
}

#[tokio::test]
async fn bad_phone_number_does_not_fall_back() {
    let (tencent, aliyun, channel) = pair().await;
    tencent.script([Reply::Fail("InvalidParameterValue.IncorrectPhoneNumber")]);
    match channel.send(&sms("+86123")).await {
        SendResult::Permanent { reason } => {
            assert!(reason.contains("InvalidParameterValue.IncorrectPhoneNumber"), "{reason}")
        }
        other => panic!("expected Permanent, got {other:?}"),
    }
    assert_eq!(aliyun.arrived(), 0, "a bad number must not be tried on the next supplier");
    assert_eq!(tencent.accepted().len(), 1);
}

#[tokio::test]
async fn both_failing_is_retryable_when_one_was_passing() {
    let (tencent, aliyun, channel) = pair().await;
    tencent.script([Reply::Fail("LimitExceeded.PhoneNumberDailyLimit")]);
    aliyun.script([Reply::Fail("isv.SMS_TEMPLATE_ILLEGAL")]);
    match channel.send(&sms("+8613800000000")).await {
        SendResult::Retryable { reason, .. } => {
            assert!(reason.contains("tencent: LimitExceeded.PhoneNumberDailyLimit"), "{reason}");
            assert!(reason.contains("aliyun#2: isv.SMS_TEMPLATE_ILLEGAL"), "{reason}");
        }
        other => panic!("expected Retryable, got {other:?}"),
    }
    tencent.script([Reply::Fail("FailedOperation.SignatureIncorrectOrUnapproved")]);
    aliyun.script([Reply::Fail("isv.AMOUNT_NOT_ENOUGH")]);
    assert!(matches!(channel.send(&sms("+8613800000000")).await, SendResult::Permanent { .. }));
}
