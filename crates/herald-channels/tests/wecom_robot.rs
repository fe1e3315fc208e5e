//! WeCom group robot against a fake WeCom that checks the webhook key and the message.

mod fake_wecom;

use fake_wecom::{FakeWeCom, Fault, ROBOT_KEY};
use herald_channels::account::parse_config;
use herald_channels::wecom::robot::WeComRobotConfig;
use herald_channels::{BuildError, Built, SendResult};
use herald_core::ChannelKind;
use serde_json::{Value, json};
use std::time::Duration;

fn config(fake: &FakeWeCom, key: &str) -> Value {
    json!({"key": key, "baseUrl": fake.base_url})
}

fn robot(fake: &FakeWeCom, key: &str, ctx: &herald_channels::BuildContext) -> Built {
    fake_wecom::build(ChannelKind::WeComRobot, config(fake, key), ctx).unwrap()
}

fn parcel(receiver: &str) -> herald_channels::OutgoingMessage {
    fake_wecom::message("r11-1", receiver, json!({"title": "Order 42", "body": "Hello Li, your parcel ships today"}))
}

#[tokio::test]
async fn sends_the_rendered_text_and_mentions_the_receiver() {
    let fake = FakeWeCom::start().await;
    let clock = fake_wecom::clock();
    let built = robot(&fake, ROBOT_KEY, &fake_wecom::context(&clock));
    assert_eq!(built.channel.kind(), ChannelKind::WeComRobot);
    assert!(built.token_source.is_none());

    assert!(matches!(built.channel.send(&parcel("13800138000")).await, SendResult::Sent { .. }));
    assert!(matches!(built.channel.send(&parcel("lisi")).await, SendResult::Sent { .. }));

    let state = fake.state();
    assert_eq!(
        state.accepted[0],
        json!({"msgtype": "text", "text": {
            "content": "Order 42\nHello Li, your parcel ships today",
            "mentioned_mobile_list": ["13800138000"],
        }})
    );
    assert_eq!(state.accepted[1]["text"]["mentioned_list"], json!(["lisi"]));
}

#[tokio::test]
async fn sends_markdown() {
    let fake = FakeWeCom::start().await;
    let clock = fake_wecom::clock();
    let built = robot(&fake, ROBOT_KEY, &fake_wecom::context(&clock));
    let message = fake_wecom::message("r11-2", "lisi", json!({"msgtype": "markdown", "body": "**build** passed"}));
    assert!(matches!(built.channel.send(&message).await, SendResult::Sent { .. }));
    assert_eq!(fake.state().accepted[0], json!({"msgtype": "markdown", "markdown": {"content": "**build** passed"}}));
}

#[tokio::test]
async fn frequency_limit_is_retryable_then_the_next_send_goes_out() {
    let fake = FakeWeCom::start().await;
    let clock = fake_wecom::clock();
    let built = robot(&fake, ROBOT_KEY, &fake_wecom::context(&clock));
    fake.fail_next(Fault::Errcode(45009, "api freq out of limit"));

    match built.channel.send(&parcel("lisi")).await {
        SendResult::Retryable { reason, after } => {
            assert!(reason.contains("45009"), "{reason}");
            assert!(after.is_some());
        }
        other => panic!("expected Retryable, got {other:?}"),
    }
    assert!(fake.state().accepted.is_empty());
    assert!(matches!(built.channel.send(&parcel("lisi")).await, SendResult::Sent { .. }));
    assert_eq!(fake.state().accepted.len(), 1);
}

#[tokio::test]
async fn server_errors_and_timeouts_are_retryable() {
    let fake = FakeWeCom::start().await;
    let clock = fake_wecom::clock();
    let built = robot(&fake, ROBOT_KEY, &fake_wecom::context_with_timeout(&clock, 300));
    fake.fail_next(Fault::Status(502));
    assert!(matches!(built.channel.send(&parcel("lisi")).await, SendResult::Retryable { .. }));
    fake.fail_next(Fault::Delay(Duration::from_secs(2)));
    match built.channel.send(&parcel("lisi")).await {
        SendResult::Retryable { reason, .. } => assert!(reason.contains("timed out"), "{reason}"),
        other => panic!("expected Retryable, got {other:?}"),
    }
}

#[tokio::test]
async fn an_unknown_key_is_permanent_with_the_errcode_and_without_the_key() {
    let fake = FakeWeCom::start().await;
    let clock = fake_wecom::clock();
    let built = robot(&fake, "0bad0key-1111-2222-3333-444455556666", &fake_wecom::context(&clock));
    match built.channel.send(&parcel("lisi")).await {
        SendResult::Permanent { reason } => {
            assert!(reason.starts_with("wecom errcode 93000: invalid webhook url"), "{reason}");
            assert!(!reason.contains("0bad0key"), "{reason}");
        }
        other => panic!("expected Permanent, got {other:?}"),
    }
    assert!(fake.state().accepted.is_empty());
}

#[tokio::test]
async fn content_without_a_body_is_permanent_and_not_sent() {
    let fake = FakeWeCom::start().await;
    let clock = fake_wecom::clock();
    let built = robot(&fake, ROBOT_KEY, &fake_wecom::context(&clock));
    let message = fake_wecom::message("r11-3", "lisi", json!({"title": "only a title"}));
    assert!(matches!(built.channel.send(&message).await, SendResult::Permanent { .. }));
    assert_eq!(fake.state().send_requests, 0);
}

#[tokio::test]
async fn healthcheck_tells_a_good_key_from_a_bad_one() {
    let fake = FakeWeCom::start().await;
    let clock = fake_wecom::clock();
    let ctx = fake_wecom::context(&clock);
    robot(&fake, ROBOT_KEY, &ctx).healthcheck.await.unwrap();
    let err = robot(&fake, "not-the-key", &ctx).healthcheck.await.unwrap_err();
    assert!(err.contains("93000") && !err.contains("not-the-key"), "{err}");
    assert!(fake.state().accepted.is_empty(), "a healthcheck never posts a message");
}

#[tokio::test]
async fn config_errors_name_the_field_and_debug_hides_the_key() {
    let fake = FakeWeCom::start().await;
    let clock = fake_wecom::clock();
    let ctx = fake_wecom::context(&clock);
    let field = |config: Value| match fake_wecom::build(ChannelKind::WeComRobot, config, &ctx) {
        Err(BuildError::Config { field, .. }) => field,
        Err(other) => panic!("unexpected {other}"),
        Ok(_) => panic!("config should be refused"),
    };
    assert_eq!(field(json!({"baseUrl": fake.base_url})), "key");
    assert_eq!(field(json!({"key": " "})), "key");
    assert_eq!(field(json!({"key": ROBOT_KEY, "baseUrl": "ftp://example.com"})), "baseUrl");
    let unknown = fake_wecom::build(ChannelKind::WeComRobot, json!({"key": ROBOT_KEY, "url": "x"}), &ctx);
    assert!(unknown.err().unwrap().to_string().contains("url"));

    let account = fake_wecom::account(ChannelKind::WeComRobot, config(&fake, ROBOT_KEY));
    let parsed: WeComRobotConfig = parse_config(&account).unwrap();
    assert_eq!(parsed.base_url, fake.base_url);
    let debug = format!("{parsed:?}");
    assert!(!debug.contains(ROBOT_KEY), "{debug}");
    let defaulted: WeComRobotConfig =
        parse_config(&fake_wecom::account(ChannelKind::WeComRobot, json!({"key": ROBOT_KEY}))).unwrap();
    assert_eq!(defaulted.base_url, "https://qyapi.weixin.qq.com");
}
