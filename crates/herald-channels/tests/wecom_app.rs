//! WeCom app messages against a fake WeCom that issues and checks corp access tokens.

mod fake_wecom;

use chrono::Duration as ChronoDuration;
use fake_wecom::{AGENT_ID, CORP_ID, CORP_SECRET, FakeWeCom, Fault};
use herald_channels::account::parse_config;
use herald_channels::wecom::app::WeComAppConfig;
use herald_channels::{BuildContext, BuildError, Built, OutgoingMessage, SendResult};
use herald_core::ChannelKind;
use serde_json::{Value, json};

fn config(fake: &FakeWeCom, secret: &str) -> Value {
    json!({"corpId": CORP_ID, "corpSecret": secret, "agentId": AGENT_ID, "baseUrl": fake.base_url})
}

fn app(fake: &FakeWeCom, ctx: &BuildContext) -> Built {
    fake_wecom::build(ChannelKind::WeComApp, config(fake, CORP_SECRET), ctx).unwrap()
}

fn notice(id: &str, receiver: &str) -> OutgoingMessage {
    fake_wecom::message(id, receiver, json!({"title": "Leave approved", "body": "Zhang San, enjoy 3 May to 5 May"}))
}

#[tokio::test]
async fn sends_the_rendered_text_to_the_receiver_as_the_app() {
    let fake = FakeWeCom::start().await;
    let clock = fake_wecom::clock();
    let built = app(&fake, &fake_wecom::context(&clock));
    assert_eq!(built.channel.kind(), ChannelKind::WeComApp);
    let key = built.token_source.as_ref().unwrap().cache_key();
    assert!(key.starts_with("wecom:") && !key.contains(CORP_SECRET), "{key}");

    match built.channel.send(&notice("r11-1", "zhangsan")).await {
        SendResult::Sent { detail } => assert_eq!(detail.as_deref(), Some("msgid msg-1")),
        other => panic!("expected Sent, got {other:?}"),
    }
    let state = fake.state();
    assert_eq!(
        state.accepted,
        [json!({
            "touser": "zhangsan", "msgtype": "text", "agentid": AGENT_ID,
            "text": {"content": "Leave approved\nZhang San, enjoy 3 May to 5 May"},
        })]
    );
    assert_eq!(state.gettoken_calls, 1);
}

#[tokio::test]
async fn the_token_is_reused_from_the_cache_across_sends() {
    let fake = FakeWeCom::start().await;
    let clock = fake_wecom::clock();
    let built = app(&fake, &fake_wecom::context(&clock));
    for (i, user) in ["zhangsan", "lisi", "wangwu"].into_iter().enumerate() {
        let result = built.channel.send(&notice(&format!("r11-{i}"), user)).await;
        assert!(matches!(result, SendResult::Sent { .. }), "{result:?}");
    }
    let state = fake.state();
    assert_eq!(state.gettoken_calls, 1);
    assert_eq!(state.accepted.len(), 3);
}

#[tokio::test]
async fn an_expired_token_is_refreshed_exactly_once() {
    let fake = FakeWeCom::start().await;
    let clock = fake_wecom::clock();
    let built = app(&fake, &fake_wecom::context(&clock));
    assert!(matches!(built.channel.send(&notice("r11-1", "zhangsan")).await, SendResult::Sent { .. }));
    fake.expire_tokens();

    assert!(matches!(built.channel.send(&notice("r11-2", "lisi")).await, SendResult::Sent { .. }));
    assert!(matches!(built.channel.send(&notice("r11-3", "wangwu")).await, SendResult::Sent { .. }));
    let state = fake.state();
    assert_eq!(state.gettoken_calls, 2, "one fetch, then one refresh");
    assert_eq!(state.token_refusals, 1);
    assert_eq!(state.accepted.len(), 3);
}

#[tokio::test]
async fn a_token_near_its_expiry_is_fetched_again_before_sending() {
    let fake = FakeWeCom::start().await;
    let clock = fake_wecom::clock();
    let built = app(&fake, &fake_wecom::context(&clock));
    assert!(matches!(built.channel.send(&notice("r11-1", "zhangsan")).await, SendResult::Sent { .. }));
    clock.advance(ChronoDuration::seconds(7200 - 60));
    assert!(matches!(built.channel.send(&notice("r11-2", "zhangsan")).await, SendResult::Sent { .. }));
    let state = fake.state();
    assert_eq!(state.gettoken_calls, 2);
    assert_eq!(state.token_refusals, 0);
}

#[tokio::test]
async fn a_token_refused_again_after_the_refresh_is_permanent() {
    let fake = FakeWeCom::start().await;
    let clock = fake_wecom::clock();
    let built = app(&fake, &fake_wecom::context(&clock));
    fake.state().refuse_all_tokens = true;
    match built.channel.send(&notice("r11-1", "zhangsan")).await {
        SendResult::Permanent { reason } => assert!(reason.contains("40014"), "{reason}"),
        other => panic!("expected Permanent, got {other:?}"),
    }
    let state = fake.state();
    assert_eq!(state.gettoken_calls, 2);
    assert_eq!(state.token_refusals, 2);
}

#[tokio::test]
async fn busy_and_frequency_limits_are_retryable_then_sent() {
    let fake = FakeWeCom::start().await;
    let clock = fake_wecom::clock();
    let built = app(&fake, &fake_wecom::context(&clock));
    fake.fail_next(Fault::Errcode(-1, "system busy"));
    fake.fail_next(Fault::Errcode(45009, "api freq out of limit"));
    for _ in 0..2 {
        let result = built.channel.send(&notice("r11-1", "zhangsan")).await;
        assert!(matches!(result, SendResult::Retryable { .. }), "{result:?}");
    }
    assert!(matches!(built.channel.send(&notice("r11-1", "zhangsan")).await, SendResult::Sent { .. }));
    assert_eq!(fake.state().accepted.len(), 1);
}

#[tokio::test]
async fn an_unknown_userid_is_permanent_with_the_errcode() {
    let fake = FakeWeCom::start().await;
    let clock = fake_wecom::clock();
    let built = app(&fake, &fake_wecom::context(&clock));
    match built.channel.send(&notice("r11-1", "nobody")).await {
        SendResult::Permanent { reason } => assert!(reason.starts_with("wecom errcode 81013: "), "{reason}"),
        other => panic!("expected Permanent, got {other:?}"),
    }
    fake.fail_next(Fault::ListedInvalid);
    match built.channel.send(&notice("r11-2", "zhangsan")).await {
        SendResult::Permanent { reason } => assert_eq!(reason, "wecom invaliduser: zhangsan"),
        other => panic!("expected Permanent, got {other:?}"),
    }
    assert!(fake.state().accepted.is_empty());
}

#[tokio::test]
async fn broadcast_receivers_are_refused_without_a_request() {
    let fake = FakeWeCom::start().await;
    let clock = fake_wecom::clock();
    let built = app(&fake, &fake_wecom::context(&clock));
    for receiver in ["@all", "zhangsan|lisi", ""] {
        let result = built.channel.send(&notice("r11-1", receiver)).await;
        assert!(matches!(result, SendResult::Permanent { .. }), "{receiver}: {result:?}");
    }
    assert_eq!(fake.state().send_requests, 0);
}

#[tokio::test]
async fn a_wrong_secret_fails_the_healthcheck_and_sends_without_leaking_it() {
    let fake = FakeWeCom::start().await;
    let clock = fake_wecom::clock();
    let ctx = fake_wecom::context(&clock);
    let bad = fake_wecom::build(ChannelKind::WeComApp, config(&fake, "wrong-secret-42"), &ctx).unwrap();
    match bad.channel.send(&notice("r11-1", "zhangsan")).await {
        SendResult::Permanent { reason } => {
            assert!(reason.contains("40001") && !reason.contains("wrong-secret-42"), "{reason}")
        }
        other => panic!("expected Permanent, got {other:?}"),
    }
    let err = bad.healthcheck.await.unwrap_err();
    assert!(err.contains("40001") && !err.contains("wrong-secret-42"), "{err}");
    assert_eq!(fake.state().send_requests, 0);

    app(&fake, &ctx).healthcheck.await.unwrap();
    assert_eq!(fake.state().gettoken_calls, 3);
}

#[tokio::test]
async fn config_errors_name_the_field_and_debug_hides_the_secret() {
    let fake = FakeWeCom::start().await;
    let clock = fake_wecom::clock();
    let ctx = fake_wecom::context(&clock);
    let field = |config: Value| match fake_wecom::build(ChannelKind::WeComApp, config, &ctx) {
        Err(BuildError::Config { field, .. }) => field,
        Err(other) => panic!("unexpected {other}"),
        Ok(_) => panic!("config should be refused"),
    };
    assert_eq!(field(json!({"corpId": CORP_ID, "agentId": AGENT_ID})), "corpSecret");
    assert_eq!(field(json!({"corpSecret": CORP_SECRET, "agentId": AGENT_ID})), "corpId");
    assert_eq!(field(json!({"corpId": CORP_ID, "corpSecret": CORP_SECRET})), "agentId");
    assert_eq!(field(json!({"corpId": CORP_ID, "corpSecret": CORP_SECRET, "agentId": 0})), "agentId");
    assert_eq!(field(json!({"corpId": CORP_ID, "corpSecret": "", "agentId": AGENT_ID})), "corpSecret");

    let account = fake_wecom::account(ChannelKind::WeComApp, config(&fake, CORP_SECRET));
    let parsed: WeComAppConfig = parse_config(&account).unwrap();
    let debug = format!("{parsed:?}");
    assert!(debug.contains(CORP_ID) && !debug.contains(CORP_SECRET), "{debug}");
}

/// Two accounts with the same corpId and agentId at two places each fetch their own token.
#[tokio::test]
async fn accounts_sharing_a_corp_id_never_share_a_token() {
    let (first, second) = (FakeWeCom::start().await, FakeWeCom::start().await);
    let clock = fake_wecom::clock();
    let ctx = fake_wecom::context(&clock);
    for (fake, id) in [(&first, "r41-1"), (&second, "r41-2")] {
        let result = app(fake, &ctx).channel.send(&notice(id, "zhangsan")).await;
        assert!(matches!(result, SendResult::Sent { .. }), "{result:?}");
    }
    assert_eq!((first.state().gettoken_calls, second.state().gettoken_calls), (1, 1), "a token fetch at each");
}
