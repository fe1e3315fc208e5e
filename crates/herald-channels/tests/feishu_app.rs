//! Feishu app-bot messages against a fake Feishu Open Platform that issues and checks tenant
//! access tokens, delivers by `uuid` once, recalls the bot's own messages and lists readers:
//! counted at the fake, where the user would look.

use chrono::{Duration, TimeZone, Utc};
use herald_channels::http::{HttpSettings, OutboundHttp};
use herald_channels::tokens::Tokens;
use herald_channels::{
    BuildContext, BuildError, Built, ChannelAccount, OutgoingMessage, RecallResult, SendResult, SentMessage,
};
use herald_core::{ChannelKind, MessageId, TestClock};
use herald_testkit::feishu_app::{self, APP_ID, APP_SECRET, FakeFeishuApp};
use serde_json::{Value, json};
use std::sync::Arc;

fn context() -> BuildContext {
    let clock = Arc::new(TestClock::new(Utc.with_ymd_and_hms(2026, 5, 1, 8, 0, 0).unwrap()));
    let http = OutboundHttp::new(HttpSettings { allow_private_networks: true, ..Default::default() }).unwrap();
    BuildContext { http, tokens: Tokens::in_memory(clock.clone()), clock }
}

fn config(fake: &FakeFeishuApp) -> Value {
    json!({"appId": APP_ID, "appSecret": APP_SECRET, "baseUrl": fake.base_url})
}

fn build(config: Value, ctx: &BuildContext) -> Result<Built, BuildError> {
    herald_channels::build(
        &ChannelAccount { id: 9, name: "feishu app".into(), channel: ChannelKind::FeishuApp, config },
        ctx,
    )
}

fn message(id: &str, receiver: &str, content: Value) -> OutgoingMessage {
    OutgoingMessage {
        message_id: MessageId(id.into()),
        template_id: 3,
        run_id: Some(11),
        receiver: receiver.into(),
        msg_type: 10,
        content,
    }
}

fn sent_detail(result: SendResult) -> String {
    match result {
        SendResult::Sent { detail: Some(detail) } => detail,
        other => panic!("expected Sent with a detail, got {other:?}"),
    }
}

#[tokio::test]
async fn sends_as_the_app_and_a_repeat_reaches_the_user_once() {
    let fake = feishu_app::start().await;
    let ctx = context();
    let built = build(config(&fake), &ctx).unwrap();
    assert_eq!(built.channel.kind(), ChannelKind::FeishuApp);
    let key = built.token_source.as_ref().unwrap().cache_key();
    assert!(key.starts_with("feishu:") && !key.contains(APP_SECRET), "{key}");

    let post = json!({"msgtype": "post", "title": "Leave", "content": "approved\nenjoy"});
    let first = sent_detail(built.channel.send(&message("r11-1", "ou_ann", post.clone())).await);
    assert!(first.starts_with("message_id om_"), "{first}");
    // The same message again (a worker killed after Feishu took it): Feishu's uuid check drops it.
    let again = sent_detail(built.channel.send(&message("r11-1", "ou_ann", post)).await);
    assert_eq!(again, first);
    sent_detail(built.channel.send(&message("r11-2", "ou_bob", json!({"content": "hi"}))).await);

    let state = fake.state();
    let got: Vec<(&str, &str)> = state.delivered.iter().map(|d| (d.receive_id.as_str(), d.msg_type.as_str())).collect();
    assert_eq!(got, [("ou_ann", "post"), ("ou_bob", "text")], "each message once");
    assert_eq!(state.delivered[0].content["zh_cn"]["title"], "Leave");
    assert_eq!(state.delivered[1].content, json!({"text": "hi"}));
    assert_eq!(state.token_calls, 1, "the token is cached");
}

#[tokio::test]
async fn an_expired_token_is_refreshed_once_and_faults_are_classified() {
    let fake = feishu_app::start().await;
    let ctx = context();
    let built = build(config(&fake), &ctx).unwrap();
    sent_detail(built.channel.send(&message("m1", "ou_ann", json!({"content": "a"}))).await);
    fake.expire_tokens();
    sent_detail(built.channel.send(&message("m2", "ou_ann", json!({"content": "b"}))).await);
    assert_eq!(fake.state().token_calls, 2);

    let outside = built.channel.send(&message("m3", "ou_nobody", json!({"content": "c"}))).await;
    let SendResult::Permanent { reason } = outside else { panic!("{outside:?}") };
    assert!(reason.contains("230013"), "{reason}");
    fake.fail_next((400, json!({"code": 99991400, "msg": "request trigger frequency limit"})));
    let limited = built.channel.send(&message("m4", "ou_ann", json!({"content": "d"}))).await;
    assert!(matches!(limited, SendResult::Retryable { .. }), "{limited:?}");
    fake.fail_next((503, json!("busy")));
    assert!(matches!(
        built.channel.send(&message("m4", "ou_ann", json!({"content": "d"}))).await,
        SendResult::Retryable { .. }
    ));
    let everyone = built.channel.send(&message("m5", "@all", json!({"content": "e"}))).await;
    assert!(matches!(everyone, SendResult::Permanent { .. }), "{everyone:?}");
    assert_eq!(fake.state().delivered.len(), 2);

    let wrong = build(json!({"appId": APP_ID, "appSecret": "not-it", "baseUrl": fake.base_url}), &ctx).unwrap();
    let refused = wrong.channel.send(&message("m6", "ou_ann", json!({"content": "f"}))).await;
    let SendResult::Permanent { reason } = refused else { panic!("{refused:?}") };
    assert!(reason.contains("10014") && !reason.contains("not-it"), "{reason}");
}

#[tokio::test]
async fn a_sent_message_is_recalled_by_its_id_within_the_window() {
    let fake = feishu_app::start().await;
    let ctx = context();
    let built = build(config(&fake), &ctx).unwrap();
    let now = Utc::now();
    let mut sent = Vec::new();
    for (id, user) in [("m1", "ou_ann"), ("m2", "ou_bob"), ("m3", "ou_cat")] {
        let detail = sent_detail(built.channel.send(&message(id, user, json!({"content": "x"}))).await);
        sent.push(SentMessage { message_id: id.into(), receiver: user.into(), detail: Some(detail), sent_at: now });
    }
    assert!(built.channel.recalls());
    assert_eq!(built.channel.recall(&sent[0], now).await, RecallResult::Recalled);
    let late = built.channel.recall(&sent[1], now + Duration::hours(25)).await;
    assert!(matches!(late, RecallResult::TooLate { .. }), "{late:?}");
    let third_id = fake.state().delivered[2].message_id.clone();
    fake.state().too_old.insert(third_id);
    let tenant_limit = built.channel.recall(&sent[2], now).await;
    assert!(matches!(tenant_limit, RecallResult::TooLate { .. }), "Feishu's 230009: {tenant_limit:?}");
    let unknown = SentMessage { detail: None, ..sent[1].clone() };
    assert!(matches!(built.channel.recall(&unknown, now).await, RecallResult::NotRecallable { .. }));
    let first_id = fake.state().delivered[0].message_id.clone();
    assert_eq!(fake.state().recalls, [first_id], "only the first was taken back");
}

#[tokio::test]
async fn bad_settings_name_their_field() {
    let ctx = context();
    let field = |config: Value| match build(config, &ctx) {
        Err(BuildError::Config { field, .. }) => field,
        Err(other) => panic!("{other:?}"),
        Ok(_) => panic!("built"),
    };
    assert_eq!(field(json!({"appSecret": "s"})), "appId");
    assert_eq!(field(json!({"appId": APP_ID})), "appSecret");
    assert_eq!(field(json!({"appId": APP_ID, "appSecret": "s", "receiveIdType": "phone"})), "receiveIdType");
    assert_eq!(field(json!({"appId": APP_ID, "appSecret": "s", "baseUrl": "ftp://x"})), "baseUrl");
}
