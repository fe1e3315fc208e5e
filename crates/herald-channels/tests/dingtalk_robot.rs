//! The DingTalk custom robot against a fake oapi server that checks signatures the way
//! DingTalk does.

mod fake_dingtalk;

use fake_dingtalk::{FakeDingTalk, ROBOT_SECRET, ROBOT_TOKEN, account, clock, context, message};
use herald_channels::{BuildError, SendResult, build};
use herald_core::ChannelKind;
use serde_json::{Value, json};

fn robot_config(fake_url: &str) -> Value {
    json!({ "accessToken": ROBOT_TOKEN, "secret": ROBOT_SECRET, "baseUrl": fake_url })
}

fn permanent_reason(result: SendResult) -> String {
    match result {
        SendResult::Permanent { reason } => reason,
        other => panic!("expected Permanent, got {other:?}"),
    }
}

fn assert_no_secrets(reason: &str) {
    assert!(!reason.contains(ROBOT_TOKEN), "token leaked: {reason}");
    assert!(!reason.contains(ROBOT_SECRET), "secret leaked: {reason}");
}

#[tokio::test]
async fn a_signed_text_reaches_the_group_and_mentions_the_receiver() {
    let fake = FakeDingTalk::start().await;
    let ctx = context(clock());
    let built = build(&account(ChannelKind::DingTalkRobot, robot_config(&fake.base_url)), &ctx).unwrap();
    assert_eq!(built.channel.kind(), ChannelKind::DingTalkRobot);
    assert!(built.token_source.is_none());

    let result = built.channel.send(&message("13800000000", json!({"content": "hello Ann, your order shipped"}))).await;
    assert_eq!(result, SendResult::Sent { detail: None });

    let state = fake.state();
    assert_eq!(state.robot_posts.len(), 1);
    let post = &state.robot_posts[0];
    assert_eq!(post["msgtype"], "text");
    assert_eq!(post["text"]["content"], "hello Ann, your order shipped");
    assert_eq!(post["at"]["atMobiles"], json!(["13800000000"]));
    assert_eq!(post["at"]["isAtAll"], false);
}

#[tokio::test]
async fn markdown_and_at_all_are_sent_as_dingtalk_shapes() {
    let fake = FakeDingTalk::start().await;
    let ctx = context(clock());
    let built = build(&account(ChannelKind::DingTalkRobot, robot_config(&fake.base_url)), &ctx).unwrap();

    let content = json!({"msgtype": "markdown", "title": "Deploy", "content": "## done\n- api"});
    assert!(matches!(built.channel.send(&message("@all", content)).await, SendResult::Sent { .. }));

    let state = fake.state();
    let post = &state.robot_posts[0];
    assert_eq!(post["markdown"], json!({"title": "Deploy", "text": "## done\n- api"}));
    assert_eq!(post["at"], json!({"isAtAll": true}));
}

#[tokio::test]
async fn links_and_action_cards_reach_the_robot_in_its_shapes() {
    let fake = FakeDingTalk::start().await;
    let ctx = context(clock());
    let built = build(&account(ChannelKind::DingTalkRobot, robot_config(&fake.base_url)), &ctx).unwrap();
    let link = json!({"msgtype": "link", "title": "Bill", "content": "Due today", "messageUrl": "https://pay/1"});
    let card = json!({"msgtype": "actionCard", "title": "Review", "content": "## PR 7",
        "singleTitle": "Open", "singleURL": "https://git/7"});
    for content in [link, card] {
        let sent = built.channel.send(&message("", content)).await;
        assert!(matches!(sent, SendResult::Sent { .. }), "{sent:?}");
    }
    let state = fake.state();
    assert_eq!(state.robot_posts[0]["link"]["messageUrl"], "https://pay/1");
    assert_eq!(state.robot_posts[1]["actionCard"]["singleURL"], "https://git/7");
}

#[tokio::test]
async fn a_robot_without_a_secret_sends_unsigned() {
    let fake = FakeDingTalk::start_with(None, Some("alert".into())).await;
    let ctx = context(clock());
    let config = json!({ "accessToken": ROBOT_TOKEN, "baseUrl": fake.base_url });
    let built = build(&account(ChannelKind::DingTalkRobot, config), &ctx).unwrap();

    let sent = built.channel.send(&message("", json!({"content": "alert: disk full"}))).await;
    assert!(matches!(sent, SendResult::Sent { .. }), "{sent:?}");
    assert!(fake.state().robot_posts[0].get("at").is_none(), "an empty receiver mentions no one");

    // The keyword rule is the provider's; a message without it is refused for good.
    let reason = permanent_reason(built.channel.send(&message("", json!({"content": "disk full"}))).await);
    assert!(reason.starts_with("dingtalk errcode 310000: keywords not in content"), "{reason}");
}

#[tokio::test]
async fn too_fast_is_retryable_and_the_retry_is_sent() {
    let fake = FakeDingTalk::start().await;
    fake.fail_next((200, json!({"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"})));
    let ctx = context(clock());
    let built = build(&account(ChannelKind::DingTalkRobot, robot_config(&fake.base_url)), &ctx).unwrap();
    let msg = message("13800000000", json!({"content": "hi"}));

    match built.channel.send(&msg).await {
        SendResult::Retryable { reason, .. } => assert!(reason.contains("130101"), "{reason}"),
        other => panic!("expected Retryable, got {other:?}"),
    }
    assert!(matches!(built.channel.send(&msg).await, SendResult::Sent { .. }));
    let state = fake.state();
    assert_eq!((state.robot_requests, state.robot_posts.len()), (2, 1));
}

#[tokio::test]
async fn server_errors_and_unreachable_hosts_are_retryable() {
    let fake = FakeDingTalk::start().await;
    fake.fail_next((503, json!({"message": "Service Unavailable"})));
    let ctx = context(clock());
    let built = build(&account(ChannelKind::DingTalkRobot, robot_config(&fake.base_url)), &ctx).unwrap();
    let msg = message("13800000000", json!({"content": "hi"}));
    assert!(matches!(built.channel.send(&msg).await, SendResult::Retryable { .. }));

    let closed = herald_testkit::closed_url();
    let built = build(&account(ChannelKind::DingTalkRobot, robot_config(&closed)), &ctx).unwrap();
    match built.channel.send(&msg).await {
        SendResult::Retryable { reason, .. } => assert_no_secrets(&reason),
        other => panic!("expected Retryable, got {other:?}"),
    }
}

#[tokio::test]
async fn a_wrong_secret_is_rejected_by_the_signature_check() {
    let fake = FakeDingTalk::start().await;
    let ctx = context(clock());
    let config = json!({ "accessToken": ROBOT_TOKEN, "secret": "SECnot-the-robots-secret", "baseUrl": fake.base_url });
    let built = build(&account(ChannelKind::DingTalkRobot, config), &ctx).unwrap();

    let reason = permanent_reason(built.channel.send(&message("13800000000", json!({"content": "hi"}))).await);
    assert!(reason.starts_with("dingtalk errcode 310000: sign not match"), "{reason}");
    assert_no_secrets(&reason);
    assert!(fake.state().robot_posts.is_empty());
}

#[tokio::test]
async fn a_timestamp_over_an_hour_old_is_rejected() {
    let fake = FakeDingTalk::start().await;
    let clock = clock();
    clock.advance(chrono::Duration::minutes(-61));
    let ctx = context(clock);
    let built = build(&account(ChannelKind::DingTalkRobot, robot_config(&fake.base_url)), &ctx).unwrap();

    let reason = permanent_reason(built.channel.send(&message("13800000000", json!({"content": "hi"}))).await);
    assert_eq!(reason, "dingtalk errcode 310000: invalid timestamp");
}

#[tokio::test]
async fn an_unknown_access_token_is_permanent() {
    let fake = FakeDingTalk::start().await;
    let ctx = context(clock());
    let config = json!({ "accessToken": "no-such-robot", "secret": ROBOT_SECRET, "baseUrl": fake.base_url });
    let built = build(&account(ChannelKind::DingTalkRobot, config), &ctx).unwrap();

    let reason = permanent_reason(built.channel.send(&message("13800000000", json!({"content": "hi"}))).await);
    assert_eq!(reason, "dingtalk errcode 300001: token is not exist");
}

#[tokio::test]
async fn content_the_robot_cannot_send_is_refused_before_any_request() {
    let fake = FakeDingTalk::start().await;
    let ctx = context(clock());
    let built = build(&account(ChannelKind::DingTalkRobot, robot_config(&fake.base_url)), &ctx).unwrap();

    let reason =
        permanent_reason(built.channel.send(&message("1", json!({"msgtype": "markdown", "content": "x"}))).await);
    assert!(reason.contains("content.title"), "{reason}");
    let reason = permanent_reason(built.channel.send(&message("1", json!({"text": "wrong field"}))).await);
    assert!(reason.contains("content.content"), "{reason}");
    assert_eq!(fake.state().robot_requests, 0);
}

#[tokio::test]
async fn config_is_validated_and_never_prints_its_secrets() {
    let ctx = context(clock());
    let build_err = |config: Value| match build(&account(ChannelKind::DingTalkRobot, config), &ctx) {
        Err(e) => e,
        Ok(_) => panic!("expected a config error"),
    };

    let err = build_err(json!({ "secret": ROBOT_SECRET }));
    assert!(matches!(&err, BuildError::Config { field, .. } if field == "accessToken"), "{err}");
    assert!(err.to_string().contains("accessToken"));
    let err = build_err(json!({ "accessToken": "  " }));
    assert!(matches!(&err, BuildError::Config { field, .. } if field == "accessToken"), "{err}");
    let err = build_err(json!({ "accessToken": ROBOT_TOKEN, "baseUrl": "ftp://example.com" }));
    assert!(matches!(&err, BuildError::Config { field, .. } if field == "baseUrl"), "{err}");
    let err = build_err(json!({ "accessToken": ROBOT_TOKEN, "webhook": "x" }));
    assert!(err.to_string().contains("webhook"), "unknown fields are refused: {err}");

    let config: herald_channels::dingtalk::robot::DingTalkRobotConfig =
        serde_json::from_value(json!({ "accessToken": ROBOT_TOKEN, "secret": ROBOT_SECRET })).unwrap();
    let printed = format!("{config:?}");
    assert!(!printed.contains(ROBOT_TOKEN) && !printed.contains(ROBOT_SECRET), "{printed}");
    assert!(printed.contains("https://oapi.dingtalk.com"), "baseUrl defaults to DingTalk: {printed}");
}

#[tokio::test]
async fn the_healthcheck_checks_the_url_policy() {
    let fake = FakeDingTalk::start().await;
    let built = build(&account(ChannelKind::DingTalkRobot, robot_config(&fake.base_url)), &context(clock())).unwrap();
    assert_eq!(built.healthcheck.await, Ok(()));
    assert_eq!(fake.state().robot_requests, 0, "a healthcheck must not post to the group");

    let strict = herald_channels::BuildContext {
        http: herald_channels::http::OutboundHttp::new(Default::default()).unwrap(),
        ..context(clock())
    };
    let built = build(&account(ChannelKind::DingTalkRobot, robot_config(&fake.base_url)), &strict).unwrap();
    let err = built.healthcheck.await.unwrap_err();
    assert!(err.contains("refused"), "{err}");
}
