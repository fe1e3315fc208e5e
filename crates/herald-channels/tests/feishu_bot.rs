//! The Feishu custom bot against a fake webhook that checks signatures the way Feishu does.

mod fake_feishu;

use fake_feishu::{BOT_SECRET, FakeFeishu, HOOK_ID, account, clock, context, message};
use herald_channels::{BuildError, SendResult, build};
use herald_core::ChannelKind;
use serde_json::{Value, json};

fn bot_config(fake: &FakeFeishu) -> Value {
    json!({ "webhookUrl": fake.webhook_url, "secret": BOT_SECRET })
}

fn permanent_reason(result: SendResult) -> String {
    match result {
        SendResult::Permanent { reason } => reason,
        other => panic!("expected Permanent, got {other:?}"),
    }
}

#[tokio::test]
async fn a_signed_text_reaches_the_group() {
    let fake = FakeFeishu::start(Some(BOT_SECRET), None).await;
    let built = build(&account(bot_config(&fake)), &context(clock())).unwrap();
    assert_eq!(built.channel.kind(), ChannelKind::FeishuBot);
    assert!(built.token_source.is_none());

    let result = built.channel.send(&message("ou_ann", json!({"content": "Ann, build 42 is green"}))).await;
    assert_eq!(result, SendResult::Sent { detail: None });

    let state = fake.state();
    let post = &state.posts[0];
    assert_eq!(post["msg_type"], "text");
    assert_eq!(post["content"]["text"], "Ann, build 42 is green", "other receivers are not mentioned");
    let timestamp: i64 = post["timestamp"].as_str().unwrap().parse().unwrap();
    assert!((chrono::Utc::now().timestamp() - timestamp).abs() < 60, "the timestamp is in seconds");
}

#[tokio::test]
async fn at_all_mentions_everyone() {
    let fake = FakeFeishu::start(Some(BOT_SECRET), None).await;
    let built = build(&account(bot_config(&fake)), &context(clock())).unwrap();
    assert!(matches!(
        built.channel.send(&message("@all", json!({"content": "standup"}))).await,
        SendResult::Sent { .. }
    ));
    assert_eq!(fake.state().posts[0]["content"]["text"], "standup <at user_id=\"all\">所有人</at>");
}

#[tokio::test]
async fn rich_text_posts_and_cards_reach_the_group() {
    let fake = FakeFeishu::start(Some(BOT_SECRET), None).await;
    let built = build(&account(bot_config(&fake)), &context(clock())).unwrap();
    let post = json!({"msgtype": "post", "title": "Release", "content": "v2 is out\nnotes inside"});
    let card = json!({"msgtype": "interactive", "title": "Alert", "content": "**disk** full"});
    for content in [post, card] {
        assert_eq!(built.channel.send(&message("@all", content)).await, SendResult::Sent { detail: None });
    }
    let state = fake.state();
    assert_eq!(state.posts[0]["content"]["post"]["zh_cn"]["content"][1][1], json!({"tag": "at", "user_id": "all"}));
    assert_eq!(state.posts[1]["card"]["header"]["title"]["content"], "Alert");
    assert!(state.posts.iter().all(|p| p["sign"].is_string()), "signed like a text");
}

#[tokio::test]
async fn a_bot_without_a_secret_sends_unsigned() {
    let fake = FakeFeishu::start(None, None).await;
    let built = build(&account(json!({ "webhookUrl": fake.webhook_url })), &context(clock())).unwrap();
    assert!(matches!(built.channel.send(&message("", json!({"content": "hi"}))).await, SendResult::Sent { .. }));
    let state = fake.state();
    assert!(state.posts[0].get("sign").is_none() && state.posts[0].get("timestamp").is_none());
}

#[tokio::test]
async fn frequency_limits_are_retryable_and_the_retry_is_sent() {
    let fake = FakeFeishu::start(Some(BOT_SECRET), None).await;
    fake.fail_next((
        200,
        json!({"code": 11232, "data": {}, "msg": "frequency limited psm[lark.oapi.app_platform_runtime]appID[1500]"}),
    ));
    fake.fail_next((400, json!({"code": 9499, "msg": "too many request", "data": {}})));
    let built = build(&account(bot_config(&fake)), &context(clock())).unwrap();
    let msg = message("", json!({"content": "hi"}));

    for code in ["11232", "9499"] {
        match built.channel.send(&msg).await {
            SendResult::Retryable { reason, .. } => assert!(reason.contains(code), "{reason}"),
            other => panic!("expected Retryable, got {other:?}"),
        }
    }
    assert!(matches!(built.channel.send(&msg).await, SendResult::Sent { .. }));
    let state = fake.state();
    assert_eq!((state.requests, state.posts.len()), (3, 1));
}

#[tokio::test]
async fn a_missing_keyword_is_permanent_with_the_provider_code() {
    let fake = FakeFeishu::start(Some(BOT_SECRET), Some("[herald]")).await;
    let built = build(&account(bot_config(&fake)), &context(clock())).unwrap();
    let reason = permanent_reason(built.channel.send(&message("", json!({"content": "no keyword here"}))).await);
    assert_eq!(reason, "feishu code 19024: Key Words Not Found");
    assert!(matches!(
        built.channel.send(&message("", json!({"content": "[herald] ok"}))).await,
        SendResult::Sent { .. }
    ));
}

#[tokio::test]
async fn a_wrong_secret_is_rejected_by_the_signature_check() {
    let fake = FakeFeishu::start(Some(BOT_SECRET), None).await;
    let wrong = "not-the-bots-secret-42";
    let built = build(&account(json!({ "webhookUrl": fake.webhook_url, "secret": wrong })), &context(clock())).unwrap();
    let reason = permanent_reason(built.channel.send(&message("", json!({"content": "hi"}))).await);
    assert!(reason.starts_with("feishu code 19021: sign match fail"), "{reason}");
    assert!(!reason.contains(wrong));
    assert!(fake.state().posts.is_empty());
}

#[tokio::test]
async fn a_timestamp_over_an_hour_old_is_rejected() {
    let fake = FakeFeishu::start(Some(BOT_SECRET), None).await;
    let clock = clock();
    clock.advance(chrono::Duration::minutes(-61));
    let built = build(&account(bot_config(&fake)), &context(clock)).unwrap();
    let reason = permanent_reason(built.channel.send(&message("", json!({"content": "hi"}))).await);
    assert!(reason.contains("19021"), "{reason}");
}

#[tokio::test]
async fn an_unknown_hook_is_permanent_and_the_hook_id_never_printed() {
    let fake = FakeFeishu::start(Some(BOT_SECRET), None).await;
    let other_hook = fake.webhook_url.replace(HOOK_ID, "0f0f0f0f-dead-beef-0000-123412341234");
    let built = build(&account(json!({ "webhookUrl": other_hook, "secret": BOT_SECRET })), &context(clock())).unwrap();
    let reason = permanent_reason(built.channel.send(&message("", json!({"content": "hi"}))).await);
    assert!(reason.starts_with("feishu code 19001"), "{reason}");

    // A refused or unreachable webhook: the error names the URL, but not the hook id.
    let strict = herald_channels::BuildContext {
        http: herald_channels::http::OutboundHttp::new(Default::default()).unwrap(),
        ..context(clock())
    };
    let built = build(&account(bot_config(&fake)), &strict).unwrap();
    let reason = permanent_reason(built.channel.send(&message("", json!({"content": "hi"}))).await);
    assert!(reason.contains("refused") && !reason.contains(HOOK_ID), "{reason}");
    let err = built.healthcheck.await.unwrap_err();
    assert!(!err.contains(HOOK_ID), "{err}");
}

#[tokio::test]
async fn server_errors_are_retryable() {
    let fake = FakeFeishu::start(Some(BOT_SECRET), None).await;
    fake.fail_next((500, json!({"code": 99991400, "msg": "internal error"})));
    let built = build(&account(bot_config(&fake)), &context(clock())).unwrap();
    let msg = message("", json!({"content": "hi"}));
    assert!(matches!(built.channel.send(&msg).await, SendResult::Retryable { .. }));
    assert!(matches!(built.channel.send(&msg).await, SendResult::Sent { .. }));
}

#[tokio::test]
async fn blank_content_is_refused_before_any_request() {
    let fake = FakeFeishu::start(Some(BOT_SECRET), None).await;
    let built = build(&account(bot_config(&fake)), &context(clock())).unwrap();
    let reason = permanent_reason(built.channel.send(&message("", json!({"title": "only a title"}))).await);
    assert!(reason.contains("content.content"), "{reason}");
    assert_eq!(fake.state().requests, 0);
}

#[tokio::test]
async fn config_is_validated_and_never_prints_its_secrets() {
    let ctx = context(clock());
    let build_err = |config: Value| match build(&account(config), &ctx) {
        Err(e) => e,
        Ok(_) => panic!("expected a config error"),
    };
    let err = build_err(json!({ "secret": BOT_SECRET }));
    assert!(matches!(&err, BuildError::Config { field, .. } if field == "webhookUrl"), "{err}");
    assert!(err.to_string().contains("webhookUrl"));
    let err = build_err(json!({ "webhookUrl": format!("open.feishu.cn/open-apis/bot/v2/hook/{HOOK_ID}") }));
    assert!(matches!(&err, BuildError::Config { field, .. } if field == "webhookUrl"), "{err}");
    assert!(!err.to_string().contains(HOOK_ID), "{err}");
    let err = build_err(json!({ "webhookUrl": "https://open.feishu.cn/", "secret": BOT_SECRET }));
    assert!(matches!(&err, BuildError::Config { field, .. } if field == "webhookUrl"), "{err}");
    let err = build_err(json!({ "webhookUrl": "https://open.feishu.cn/x", "baseUrl": "https://x" }));
    assert!(err.to_string().contains("baseUrl"), "unknown fields are refused: {err}");

    let url = format!("https://open.feishu.cn/open-apis/bot/v2/hook/{HOOK_ID}");
    let config: herald_channels::feishu::FeishuBotConfig =
        serde_json::from_value(json!({ "webhookUrl": url, "secret": BOT_SECRET })).unwrap();
    let printed = format!("{config:?}");
    assert!(!printed.contains(BOT_SECRET) && !printed.contains(HOOK_ID), "{printed}");
}
