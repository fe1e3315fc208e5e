//! Getui push v2 against a fake Getui that checks the auth sign, the token and the pushes.

mod fake_getui;

use fake_getui::{APP_ID, APP_KEY, FakeGetui, Fault, MASTER_SECRET};
use herald_channels::account::parse_config;
use herald_channels::getui::GetuiConfig;
use herald_channels::{BuildContext, BuildError, Built, OutgoingMessage, SendResult};
use herald_core::{ChannelKind, MessageId};
use serde_json::{Value, json};

fn config(fake: &FakeGetui, master_secret: &str) -> Value {
    json!({"appId": APP_ID, "appKey": APP_KEY, "masterSecret": master_secret, "baseUrl": fake.base_url})
}

fn getui(fake: &FakeGetui, ctx: &BuildContext) -> Built {
    fake_getui::build(config(fake, MASTER_SECRET), ctx).unwrap()
}

fn sale(id: &str, cid: &str) -> OutgoingMessage {
    fake_getui::message(id, cid, json!({"title": "Flash sale", "body": "Li, 20% off until midnight"}))
}

/// Tasks created and list pushes accepted.
fn counts(fake: &FakeGetui) -> (usize, usize) {
    let state = fake.state();
    (state.tasks.len(), state.list_pushes.len())
}

fn sent(result: &SendResult) -> bool {
    matches!(result, SendResult::Sent { .. })
}

#[tokio::test]
async fn a_single_push_carries_the_notification_cid_and_a_derived_request_id() {
    let fake = FakeGetui::start().await;
    let clock = fake_getui::clock();
    let built = getui(&fake, &fake_getui::context(&clock));
    assert_eq!(built.channel.kind(), ChannelKind::GetuiPush);
    let key = built.token_source.as_ref().unwrap().cache_key();
    assert!(key.starts_with("getui:") && !key.contains(MASTER_SECRET), "{key}");

    let result = built.channel.send(&sale("r21-1", "cid-a")).await;
    match &result {
        SendResult::Sent { detail } => assert!(detail.as_deref().unwrap().ends_with("successed_online")),
        other => panic!("expected Sent, got {other:?}"),
    }
    let state = fake.state();
    assert_eq!(state.auth_calls, 1);
    let push = &state.singles[0];
    assert_eq!(push["audience"], json!({"cid": ["cid-a"]}));
    assert_eq!(
        push["push_message"],
        json!({"notification": {"title": "Flash sale", "body": "Li, 20% off until midnight", "click_type": "none"}})
    );
    let request_id = push["request_id"].as_str().unwrap();
    assert_eq!(request_id, herald_channels::getui::request_id(&MessageId("r21-1".into())));
}

#[tokio::test]
async fn the_token_is_reused_from_the_cache_across_sends() {
    let fake = FakeGetui::start().await;
    let clock = fake_getui::clock();
    let built = getui(&fake, &fake_getui::context(&clock));
    for (i, cid) in ["cid-a", "cid-b", "cid-c"].into_iter().enumerate() {
        assert!(sent(&built.channel.send(&sale(&format!("r21-{i}"), cid)).await));
    }
    let state = fake.state();
    assert_eq!(state.auth_calls, 1);
    assert_eq!(state.singles.len(), 3);
}

#[tokio::test]
async fn an_expired_token_is_refreshed_exactly_once() {
    let fake = FakeGetui::start().await;
    let clock = fake_getui::clock();
    let built = getui(&fake, &fake_getui::context(&clock));
    assert!(sent(&built.channel.send(&sale("r21-1", "cid-a")).await));
    fake.expire_tokens();
    assert!(sent(&built.channel.send(&sale("r21-2", "cid-b")).await));
    assert!(sent(&built.channel.send(&sale("r21-3", "cid-c")).await));
    let state = fake.state();
    assert_eq!(state.auth_calls, 2, "one auth, then one refresh");
    assert_eq!(state.token_refusals, 1);
    assert_eq!(state.singles.len(), 3);
}

#[tokio::test]
async fn a_token_past_its_expire_time_is_fetched_again() {
    let fake = FakeGetui::start().await;
    let clock = fake_getui::clock();
    let built = getui(&fake, &fake_getui::context(&clock));
    assert!(sent(&built.channel.send(&sale("r21-1", "cid-a")).await));
    clock.advance(chrono::Duration::hours(24));
    assert!(sent(&built.channel.send(&sale("r21-2", "cid-a")).await));
    assert_eq!(fake.state().auth_calls, 2);
    assert_eq!(fake.state().token_refusals, 0);
}

#[tokio::test]
async fn a_wrong_master_secret_fails_with_getuis_code_and_no_secret() {
    let fake = FakeGetui::start().await;
    let clock = fake_getui::clock();
    let ctx = fake_getui::context(&clock);
    let bad = fake_getui::build(config(&fake, "not-the-master-secret"), &ctx).unwrap();
    match bad.channel.send(&sale("r21-1", "cid-a")).await {
        SendResult::Permanent { reason } => {
            assert!(reason.contains("getui auth code 20001: sign is invalid"), "{reason}");
            assert!(!reason.contains("not-the-master-secret"), "{reason}");
        }
        other => panic!("expected Permanent, got {other:?}"),
    }
    assert!(bad.healthcheck.await.unwrap_err().contains("20001"));
    assert_eq!(fake.state().push_requests, 0);
    getui(&fake, &ctx).healthcheck.await.unwrap();
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_retryable_then_sent() {
    let fake = FakeGetui::start().await;
    let clock = fake_getui::clock();
    let built = getui(&fake, &fake_getui::context(&clock));
    fake.fail_next(Fault::Code(401, 10005, "每分钟调用频率超限"));
    fake.fail_next(Fault::Status(503));
    match built.channel.send(&sale("r21-1", "cid-a")).await {
        SendResult::Retryable { reason, after } => {
            assert!(reason.contains("10005"), "{reason}");
            assert!(after.is_some());
        }
        other => panic!("expected Retryable, got {other:?}"),
    }
    assert!(matches!(built.channel.send(&sale("r21-1", "cid-a")).await, SendResult::Retryable { .. }));
    assert!(sent(&built.channel.send(&sale("r21-1", "cid-a")).await));
    assert_eq!(fake.state().singles.len(), 1);
}

#[tokio::test]
async fn an_invalid_cid_is_permanent_with_the_code() {
    let fake = FakeGetui::start().await;
    let clock = fake_getui::clock();
    let built = getui(&fake, &fake_getui::context(&clock));
    match built.channel.send(&sale("r21-1", "cid-unknown")).await {
        SendResult::Permanent { reason } => assert_eq!(reason, "getui code 20001: target user is invalid"),
        other => panic!("expected Permanent, got {other:?}"),
    }
    let missing_title = fake_getui::message("r21-2", "cid-a", json!({"body": "no title"}));
    assert!(matches!(built.channel.send(&missing_title).await, SendResult::Permanent { .. }));
    assert_eq!(fake.state().push_requests, 1);
}

#[tokio::test]
async fn a_batch_of_three_is_one_task_pushed_to_every_cid() {
    let fake = FakeGetui::start().await;
    let clock = fake_getui::clock();
    let built = getui(&fake, &fake_getui::context(&clock));
    let batch = [sale("r21-1", "cid-a"), sale("r21-2", "cid-b"), sale("r21-3", "cid-c")];
    let results = built.channel.send_batch(&batch).await;
    assert_eq!(results.len(), 3);
    assert!(results.iter().all(sent), "{results:?}");

    let state = fake.state();
    assert_eq!(state.tasks.len(), 1, "one task created");
    let (taskid, task) = &state.tasks[0];
    assert_eq!(task["push_message"]["notification"]["title"], "Flash sale");
    assert_eq!(state.list_pushes.len(), 1);
    assert_eq!(
        state.list_pushes[0],
        json!({"audience": {"cid": ["cid-a", "cid-b", "cid-c"]}, "taskid": taskid, "is_async": false})
    );
    assert!(state.singles.is_empty());
    assert_eq!(state.auth_calls, 1);
}

#[tokio::test]
async fn a_batch_splits_by_notification_and_sends_lone_messages_singly() {
    let fake = FakeGetui::start().await;
    let clock = fake_getui::clock();
    let built = getui(&fake, &fake_getui::context(&clock));
    let other = fake_getui::message("r21-3", "cid-c", json!({"title": "Flash sale", "body": "Wang, 30% off"}));
    let batch = [sale("r21-1", "cid-a"), sale("r21-2", "cid-b"), other, sale("r21-4", "cid-a")];
    let results = built.channel.send_batch(&batch).await;
    assert!(results.iter().all(sent), "{results:?}");
    {
        let state = fake.state();
        assert_eq!(state.tasks.len(), 1);
        assert_eq!(state.list_pushes[0]["audience"]["cid"], json!(["cid-a", "cid-b"]));
        // The other notification, and the repeated cid, go out as single pushes.
        let singles: Vec<&Value> = state.singles.iter().map(|s| &s["audience"]["cid"][0]).collect();
        assert_eq!(singles, [&json!("cid-c"), &json!("cid-a")]);
    }

    let one = built.channel.send_batch(&[sale("r21-9", "cid-d")]).await;
    assert!(sent(&one[0]));
    assert_eq!(fake.state().tasks.len(), 1, "a lone message makes no task");
}

#[tokio::test]
async fn a_batch_reports_each_cid() {
    let fake = FakeGetui::start().await;
    let clock = fake_getui::clock();
    let built = getui(&fake, &fake_getui::context(&clock));
    let batch = [sale("r21-1", "cid-a"), sale("r21-2", "cid-unknown"), sale("r21-3", "cid-c")];
    let results = built.channel.send_batch(&batch).await;
    assert!(sent(&results[0]) && sent(&results[2]), "{results:?}");
    assert!(matches!(&results[1], SendResult::Permanent { .. }), "{results:?}");
}

#[tokio::test]
async fn a_batch_refreshes_an_expired_token_once() {
    let fake = FakeGetui::start().await;
    let clock = fake_getui::clock();
    let built = getui(&fake, &fake_getui::context(&clock));
    assert!(sent(&built.channel.send(&sale("r21-0", "cid-d")).await));
    fake.expire_tokens();
    let batch = [sale("r21-1", "cid-a"), sale("r21-2", "cid-b"), sale("r21-3", "cid-c")];
    let results = built.channel.send_batch(&batch).await;
    assert!(results.iter().all(sent), "{results:?}");
    let state = fake.state();
    assert_eq!((state.auth_calls, state.token_refusals, state.tasks.len()), (2, 1, 1));
    assert_eq!(state.list_pushes.len(), 1);
}

#[tokio::test]
async fn a_batch_fails_together_when_a_step_hits_a_passing_fault() {
    let fake = FakeGetui::start().await;
    let clock = fake_getui::clock();
    let built = getui(&fake, &fake_getui::context(&clock));
    let batch = [sale("r21-1", "cid-a"), sale("r21-2", "cid-b"), sale("r21-3", "cid-c")];

    fake.fail_next(Fault::Code(401, 10005, "每分钟调用频率超限"));
    let results = built.channel.send_batch(&batch).await;
    assert!(results.iter().all(|r| matches!(r, SendResult::Retryable { .. })), "{results:?}");
    assert!(fake.state().tasks.is_empty());

    // The task is created, then the list push meets a gateway error.
    fake.fail_next(Fault::Pass);
    fake.fail_next(Fault::Status(502));
    let results = built.channel.send_batch(&batch).await;
    assert!(results.iter().all(|r| matches!(r, SendResult::Retryable { .. })), "{results:?}");
    assert_eq!(counts(&fake), (1, 0));

    let results = built.channel.send_batch(&batch).await;
    assert!(results.iter().all(sent), "{results:?}");
    assert_eq!(counts(&fake), (2, 1));
}

#[tokio::test]
async fn config_errors_name_the_field_and_debug_hides_the_secret() {
    let fake = FakeGetui::start().await;
    let clock = fake_getui::clock();
    let ctx = fake_getui::context(&clock);
    let field = |config: Value| match fake_getui::build(config, &ctx) {
        Err(BuildError::Config { field, .. }) => field,
        Err(other) => panic!("unexpected {other}"),
        Ok(_) => panic!("config should be refused"),
    };
    assert_eq!(field(json!({"appId": APP_ID, "appKey": APP_KEY})), "masterSecret");
    assert_eq!(field(json!({"appKey": APP_KEY, "masterSecret": MASTER_SECRET})), "appId");
    assert_eq!(field(json!({"appId": "a/b", "appKey": APP_KEY, "masterSecret": MASTER_SECRET})), "appId");
    assert_eq!(field(json!({"appId": APP_ID, "masterSecret": MASTER_SECRET})), "appKey");
    assert_eq!(
        field(json!({"appId": APP_ID, "appKey": APP_KEY, "masterSecret": MASTER_SECRET, "baseUrl": "nope"})),
        "baseUrl"
    );

    let parsed: GetuiConfig = parse_config(&fake_getui::account(config(&fake, MASTER_SECRET))).unwrap();
    let debug = format!("{parsed:?}");
    assert!(debug.contains(APP_ID) && !debug.contains(MASTER_SECRET), "{debug}");
    let defaulted: GetuiConfig =
        parse_config(&fake_getui::account(json!({"appId": APP_ID, "appKey": APP_KEY, "masterSecret": "x"}))).unwrap();
    assert_eq!(defaulted.base_url, "https://restapi.getui.com");
}

/// Two accounts with the same appId and appKey at two places each fetch their own token.
#[tokio::test]
async fn accounts_sharing_an_app_id_never_share_a_token() {
    let (first, second) = (FakeGetui::start().await, FakeGetui::start().await);
    let clock = fake_getui::clock();
    let ctx = fake_getui::context(&clock);
    assert!(sent(&getui(&first, &ctx).channel.send(&sale("r31-1", "cid-a")).await));
    assert!(sent(&getui(&second, &ctx).channel.send(&sale("r31-2", "cid-a")).await));
    assert_eq!((first.state().auth_calls, second.state().auth_calls), (1, 1), "an auth call at each");
}
