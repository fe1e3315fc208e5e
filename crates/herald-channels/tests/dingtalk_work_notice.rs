//! DingTalk work notices against a fake oapi server that issues, expires and checks app access
//! tokens the way DingTalk does.

mod fake_dingtalk;

use fake_dingtalk::{AGENT_ID, APP_KEY, APP_SECRET, FakeDingTalk, account, clock, context, message};
use herald_channels::{BuildError, Built, SendResult, build};
use herald_core::ChannelKind;
use serde_json::{Value, json};

fn notice_config(fake_url: &str) -> Value {
    json!({ "appKey": APP_KEY, "appSecret": APP_SECRET, "agentId": AGENT_ID, "baseUrl": fake_url })
}

fn build_notice(fake: &FakeDingTalk, clock: std::sync::Arc<herald_core::TestClock>) -> Built {
    build(&account(ChannelKind::DingTalkWorkNotice, notice_config(&fake.base_url)), &context(clock)).unwrap()
}

fn permanent_reason(result: SendResult) -> String {
    match result {
        SendResult::Permanent { reason } => reason,
        other => panic!("expected Permanent, got {other:?}"),
    }
}

#[tokio::test]
async fn a_notice_reaches_the_receiver_with_the_rendered_text() {
    let fake = FakeDingTalk::start().await;
    let built = build_notice(&fake, clock());
    assert_eq!(built.channel.kind(), ChannelKind::DingTalkWorkNotice);

    let result = built.channel.send(&message("manager4585", json!({"content": "Ann, your leave is approved"}))).await;
    assert_eq!(result, SendResult::Sent { detail: Some("task_id 256271667526".into()) });

    let state = fake.state();
    assert_eq!(state.gettoken_calls, 1);
    let (token, notice) = &state.notices[0];
    assert_eq!(token, "app-token-1");
    assert_eq!(notice["agent_id"], AGENT_ID);
    assert_eq!(notice["userid_list"], "manager4585");
    assert_eq!(notice["msg"], json!({"msgtype": "text", "text": {"content": "Ann, your leave is approved"}}));
}

#[tokio::test]
async fn markdown_and_all_users() {
    let fake = FakeDingTalk::start().await;
    let built = build_notice(&fake, clock());
    let content = json!({"msgtype": "markdown", "title": "Payday", "content": "**salary** is paid"});
    assert!(matches!(built.channel.send(&message("@all", content)).await, SendResult::Sent { .. }));

    let state = fake.state();
    let (_, notice) = &state.notices[0];
    assert_eq!(notice["to_all_user"], true);
    assert!(notice.get("userid_list").is_none());
    assert_eq!(notice["msg"]["markdown"], json!({"title": "Payday", "text": "**salary** is paid"}));
}

#[tokio::test]
async fn links_and_action_cards_reach_work_notices_in_their_shapes() {
    let fake = FakeDingTalk::start().await;
    let built = build_notice(&fake, clock());
    let link = json!({"msgtype": "link", "title": "Bill", "content": "Due", "messageUrl": "https://pay/1",
        "picUrl": "@lADOADmaWMzazQKA"});
    let card = json!({"msgtype": "actionCard", "title": "Review", "content": "## PR 7",
        "singleTitle": "Open", "singleURL": "https://git/7"});
    for content in [link, card] {
        let sent = built.channel.send(&message("manager4585", content)).await;
        assert!(matches!(sent, SendResult::Sent { .. }), "{sent:?}");
    }
    let state = fake.state();
    assert_eq!(state.notices[0].1["msg"]["link"]["picUrl"], "@lADOADmaWMzazQKA");
    let card = &state.notices[1].1["msg"];
    assert_eq!(
        (card["msgtype"].as_str(), card["action_card"]["single_url"].as_str()),
        (Some("action_card"), Some("https://git/7"))
    );
}

#[tokio::test]
async fn the_token_is_fetched_once_and_reused_from_the_cache() {
    let fake = FakeDingTalk::start().await;
    let built = build_notice(&fake, clock());
    for user in ["u1", "u2", "u3"] {
        let result = built.channel.send(&message(user, json!({"content": format!("hi {user}")}))).await;
        assert!(matches!(result, SendResult::Sent { .. }), "{result:?}");
    }
    let state = fake.state();
    assert_eq!(state.gettoken_calls, 1);
    assert_eq!(state.notices.len(), 3);
    assert!(state.notices.iter().all(|(token, _)| token == "app-token-1"));
}

#[tokio::test]
async fn an_expired_token_is_refreshed_exactly_once() {
    let fake = FakeDingTalk::start().await;
    let built = build_notice(&fake, clock());
    let msg = message("u1", json!({"content": "hi"}));
    assert!(matches!(built.channel.send(&msg).await, SendResult::Sent { .. }));

    // DingTalk expires the token before herald's cache thinks it should: the send is answered
    // 42001, the token refreshed once and the send tried once more.
    fake.expire_tokens();
    assert!(matches!(built.channel.send(&msg).await, SendResult::Sent { .. }));
    {
        let state = fake.state();
        assert_eq!(state.gettoken_calls, 2);
        assert_eq!(state.notice_requests, 3);
        assert_eq!(state.notices.last().unwrap().0, "app-token-2");
    }

    // The refreshed token is cached for the next send.
    assert!(matches!(built.channel.send(&msg).await, SendResult::Sent { .. }));
    assert_eq!(fake.state().gettoken_calls, 2);
}

#[tokio::test]
async fn a_token_past_its_expiry_is_renewed_before_sending() {
    let fake = FakeDingTalk::start().await;
    let clock = clock();
    let built = build_notice(&fake, clock.clone());
    let msg = message("u1", json!({"content": "hi"}));
    assert!(matches!(built.channel.send(&msg).await, SendResult::Sent { .. }));

    clock.advance(chrono::Duration::seconds(7200));
    assert!(matches!(built.channel.send(&msg).await, SendResult::Sent { .. }));
    let state = fake.state();
    assert_eq!(state.gettoken_calls, 2);
    assert_eq!(state.notice_requests, 2, "no send was wasted on the old token");
}

#[tokio::test]
async fn a_token_rejected_after_a_refresh_is_permanent() {
    let fake = FakeDingTalk::start().await;
    // Two rejections in a row: the first send's token and the refreshed one.
    for _ in 0..2 {
        fake.fail_next((200, json!({"errcode": 40014, "errmsg": "不合法的access_token"})));
    }
    let built = build_notice(&fake, clock());
    let reason = permanent_reason(built.channel.send(&message("u1", json!({"content": "hi"}))).await);
    assert!(reason.contains("40014"), "{reason}");
    assert_eq!(fake.state().gettoken_calls, 2, "refreshed once, not in a loop");
}

#[tokio::test]
async fn busy_is_retryable_and_the_retry_is_sent() {
    let fake = FakeDingTalk::start().await;
    fake.fail_next((200, json!({"errcode": -1, "errmsg": "系统繁忙"})));
    fake.fail_next((200, json!({"errcode": 90018, "errmsg": "当前请求过多，请稍后再试"})));
    let built = build_notice(&fake, clock());
    let msg = message("u1", json!({"content": "hi"}));

    for code in ["-1", "90018"] {
        match built.channel.send(&msg).await {
            SendResult::Retryable { reason, .. } => assert!(reason.contains(&format!("errcode {code}:")), "{reason}"),
            other => panic!("expected Retryable, got {other:?}"),
        }
    }
    assert!(matches!(built.channel.send(&msg).await, SendResult::Sent { .. }));
    assert_eq!(fake.state().gettoken_calls, 1, "busy answers do not cost a token");
}

#[tokio::test]
async fn a_wrong_agent_id_is_permanent_with_the_provider_code() {
    let fake = FakeDingTalk::start().await;
    let config = json!({ "appKey": APP_KEY, "appSecret": APP_SECRET, "agentId": 1, "baseUrl": fake.base_url });
    let built = build(&account(ChannelKind::DingTalkWorkNotice, config), &context(clock())).unwrap();
    let reason = permanent_reason(built.channel.send(&message("u1", json!({"content": "hi"}))).await);
    assert_eq!(reason, "dingtalk errcode 40056: 不合法的agentid");
}

#[tokio::test]
async fn a_wrong_app_secret_is_permanent_and_never_printed() {
    let fake = FakeDingTalk::start().await;
    let wrong = "wrong-secret-value-000111";
    let config = json!({ "appKey": APP_KEY, "appSecret": wrong, "agentId": AGENT_ID, "baseUrl": fake.base_url });
    let built = build(&account(ChannelKind::DingTalkWorkNotice, config), &context(clock())).unwrap();

    let reason = permanent_reason(built.channel.send(&message("u1", json!({"content": "hi"}))).await);
    assert!(reason.contains("dingtalk gettoken errcode 40089"), "{reason}");
    assert!(!reason.contains(wrong));
    assert_eq!(fake.state().notice_requests, 0);

    let err = built.healthcheck.await.unwrap_err();
    assert!(err.contains("40089") && !err.contains(wrong), "{err}");
}

#[tokio::test]
async fn a_gettoken_outage_is_retryable() {
    let fake = FakeDingTalk::start().await;
    fake.state().fail_gettoken.push((502, json!({})));
    let built = build_notice(&fake, clock());
    let msg = message("u1", json!({"content": "hi"}));
    assert!(matches!(built.channel.send(&msg).await, SendResult::Retryable { .. }));
    assert!(matches!(built.channel.send(&msg).await, SendResult::Sent { .. }));
}

#[tokio::test]
async fn the_healthcheck_fetches_a_token_that_later_sends_reuse() {
    let fake = FakeDingTalk::start().await;
    let built = build_notice(&fake, clock());
    let source = built.token_source.clone().expect("work notices have a token source");
    let key = source.cache_key();
    assert!(key.starts_with("dingtalk:") && !key.contains(APP_SECRET), "{key}");

    built.healthcheck.await.unwrap();
    assert_eq!(fake.state().gettoken_calls, 1);
    assert!(matches!(built.channel.send(&message("u1", json!({"content": "hi"}))).await, SendResult::Sent { .. }));
    assert_eq!(fake.state().gettoken_calls, 1, "the send used the token the healthcheck cached");
}

#[tokio::test]
async fn receivers_and_content_are_checked_before_any_request() {
    let fake = FakeDingTalk::start().await;
    let built = build_notice(&fake, clock());
    let reason = permanent_reason(built.channel.send(&message("", json!({"content": "hi"}))).await);
    assert!(reason.contains("receiver"), "{reason}");
    let reason = permanent_reason(built.channel.send(&message("u1,u2", json!({"content": "hi"}))).await);
    assert!(reason.contains("single userid"), "{reason}");
    let reason = permanent_reason(built.channel.send(&message("u1", json!({"msgtype": "oa", "content": "x"}))).await);
    assert!(reason.contains("oa"), "{reason}");
    let state = fake.state();
    assert_eq!((state.gettoken_calls, state.notice_requests), (0, 0));
}

#[tokio::test]
async fn config_is_validated_and_never_prints_its_secret() {
    let ctx = context(clock());
    let field_of = |config: Value| match build(&account(ChannelKind::DingTalkWorkNotice, config), &ctx) {
        Err(BuildError::Config { field, .. }) => field,
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("expected a config error"),
    };
    assert_eq!(field_of(json!({ "appSecret": APP_SECRET, "agentId": AGENT_ID })), "appKey");
    assert_eq!(field_of(json!({ "appKey": APP_KEY, "agentId": AGENT_ID })), "appSecret");
    assert_eq!(field_of(json!({ "appKey": APP_KEY, "appSecret": APP_SECRET })), "agentId");
    assert_eq!(field_of(json!({ "appKey": APP_KEY, "appSecret": APP_SECRET, "agentId": "abc" })), "agentId");

    let config: herald_channels::dingtalk::work_notice::DingTalkWorkNoticeConfig =
        serde_json::from_value(notice_config("https://oapi.dingtalk.com")).unwrap();
    let printed = format!("{config:?}");
    assert!(!printed.contains(APP_SECRET), "{printed}");
    assert!(printed.contains(APP_KEY));
}

/// Two accounts with the same appKey: each token comes from where its own account points, with
/// its own secret, never from the other account's cache entry.
#[tokio::test]
async fn accounts_sharing_an_app_key_never_share_a_token() {
    let (first, second) = (FakeDingTalk::start().await, FakeDingTalk::start().await);
    let ctx = context(clock());
    let build_at = |fake: &FakeDingTalk, secret: &str| {
        let config = json!({ "appKey": APP_KEY, "appSecret": secret, "agentId": AGENT_ID, "baseUrl": fake.base_url });
        build(&account(ChannelKind::DingTalkWorkNotice, config), &ctx).unwrap()
    };
    let notice = message("u1", json!({"content": "hi"}));
    assert!(matches!(build_at(&first, APP_SECRET).channel.send(&notice).await, SendResult::Sent { .. }));
    assert!(matches!(build_at(&second, APP_SECRET).channel.send(&notice).await, SendResult::Sent { .. }));
    assert_eq!((first.state().gettoken_calls, second.state().gettoken_calls), (1, 1), "a token fetch at each");

    // A wrong secret at the first place fetches (and is refused) instead of borrowing its token.
    let wrong = build_at(&first, "not-the-secret").channel.send(&notice).await;
    assert!(!matches!(wrong, SendResult::Sent { .. }), "{wrong:?}");
    assert_eq!(first.state().gettoken_calls, 2);
}

fn sent_message(detail: Option<String>, sent_at: chrono::DateTime<chrono::Utc>) -> herald_channels::SentMessage {
    herald_channels::SentMessage { message_id: "m-manager4585".into(), receiver: "manager4585".into(), detail, sent_at }
}

#[tokio::test]
async fn a_sent_notice_is_recalled_by_its_task_id_within_24_hours_once() {
    use herald_channels::RecallResult;
    let fake = FakeDingTalk::start().await;
    let built = build_notice(&fake, clock());
    let SendResult::Sent { detail } = built.channel.send(&message("manager4585", json!({"content": "hi"}))).await
    else {
        panic!("not sent");
    };
    let now = chrono::Utc::now();
    let recall = |detail: Option<String>, sent_at| {
        let channel = built.channel.clone();
        async move { channel.recall(&sent_message(detail, sent_at), now).await }
    };
    assert_eq!(recall(detail.clone(), now).await, RecallResult::Recalled);
    assert_eq!(fake.state().recalls, vec![fake_dingtalk::task_id(1)], "by the task id the send recorded");

    let again = recall(detail.clone(), now).await;
    assert!(matches!(again, RecallResult::NotRecallable { ref reason } if reason.contains("40035")), "{again:?}");
    let day_ago = now - chrono::Duration::hours(24) - chrono::Duration::seconds(1);
    assert!(matches!(recall(detail, day_ago).await, RecallResult::TooLate { .. }));
    assert!(matches!(recall(None, now).await, RecallResult::NotRecallable { .. }));
    assert_eq!(fake.state().recalls.len(), 1, "neither asked DingTalk");
}
