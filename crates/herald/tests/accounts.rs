//! Channel accounts end to end: masked secrets and field-naming errors in the API, a day of
//! token refreshes by housekeeping with a failure retried, a send through an account whose
//! token expired (refreshed once), and the per-account rate limit.

mod common;

use chrono::{Duration, TimeZone, Utc};
use common::fake_wecom::{self, CORP_ID};
use common::*;
use serde_json::{Value, json};

const SECRET: &str = "corp-secret-0123456789abcdef";

fn wecom_account(name: &str, base: &str, rate: Option<f64>) -> Value {
    json!({"name": name, "channel": "wecom_app", "ratePerSecond": rate,
           "config": {"corpId": CORP_ID, "corpSecret": SECRET, "agentId": 1000002, "baseUrl": base}})
}

async fn started() -> (tempfile::TempDir, TestNode) {
    let dir = tempfile::tempdir().unwrap();
    let node = TestNode::start(&test_config(dir.path()), Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 30).unwrap()).await;
    (dir, node)
}

#[tokio::test]
async fn accounts_are_masked_validated_and_kept_while_used() {
    let (_dir, node) = started().await;
    let (base, fake) = fake_wecom::start(SECRET).await;
    let (status, created) = node.post("/api/accounts", &wecom_account("corp-app", &base, None)).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["config"]["corpSecret"], "****cdef");
    assert_eq!(created["config"]["corpId"], CORP_ID);
    let id = created["id"].as_i64().unwrap();
    for (_, body) in [node.get("/api/accounts").await, node.get(&format!("/api/accounts/{id}")).await] {
        assert!(!body.to_string().contains(SECRET), "{body}");
    }
    // The list filters by channel and name.
    let listed = |body: Value| body["items"].as_array().unwrap().iter().map(|a| a["id"].clone()).collect::<Vec<_>>();
    assert_eq!(listed(node.get("/api/accounts?channel=wecom_app&q=CORP").await.1), vec![json!(id)]);
    assert!(listed(node.get("/api/accounts?channel=sms").await.1).is_empty());
    let (status, refused) = node.get("/api/accounts?channel=pager").await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused["msg"].as_str().unwrap().starts_with("channel: \"pager\" is not a channel"), "{refused}");

    // Its token refresh schedule is listed beside the others, due at the next hour.
    let (_, schedules) = node.get("/api/schedules").await;
    let refresh =
        schedules["items"].as_array().unwrap().iter().find(|s| s["accountId"] == id).expect("refresh schedule").clone();
    assert_eq!(refresh["kind"], "token_refresh");
    assert_eq!(refresh["nextFireAt"], "2026-05-01T01:00:00Z");

    // A config missing a field, or of the wrong type, is refused naming it.
    let mut bad = wecom_account("bad", &base, None);
    bad["config"].as_object_mut().unwrap().remove("corpSecret");
    let (status, body) = node.post("/api/accounts", &bad).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["msg"].as_str().unwrap().contains("config.corpSecret"), "{body}");
    let mut bad = wecom_account("bad", &base, Some(-1.0));
    let (status, body) = node.post("/api/accounts", &bad).await;
    assert_eq!(status, 422);
    assert!(body["msg"].as_str().unwrap().contains("ratePerSecond"), "{body}");
    bad["ratePerSecond"] = json!(null);
    bad["name"] = json!("corp-app");
    let (status, body) = node.post("/api/accounts", &bad).await;
    assert_eq!(status, 409, "names are unique: {body}");

    // Updating with the masked secret keeps the real one: the test send still authenticates.
    let mut edit = created.clone();
    for k in ["id", "createdAt", "updatedAt"] {
        edit.as_object_mut().unwrap().remove(k);
    }
    edit["config"]["agentId"] = json!(1000003);
    let (status, updated) = node.put(&format!("/api/accounts/{id}"), &edit).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["config"]["agentId"], 1000003);
    let (status, test) = node.post(&format!("/api/accounts/{id}/test"), &json!({"receiver": "lilei"})).await;
    assert_eq!(status, 200, "{test}");
    assert_eq!(test["outcome"], "sent", "{test}");
    assert_eq!(fake.state().messages[0].0, "lilei");

    // The masked secret does not follow a changed base URL: another server never sees it.
    let (elsewhere, other) = fake_wecom::start("the attacker's secret").await;
    let mut redirect = edit.clone();
    redirect["config"]["baseUrl"] = json!(elsewhere);
    let (status, body) = node.put(&format!("/api/accounts/{id}"), &redirect).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("config.corpSecret") && body.to_string().contains("baseUrl"), "{body}");
    let (status, test) = node.post(&format!("/api/accounts/{id}/test"), &json!({"receiver": "lilei"})).await;
    assert_eq!((status, test["outcome"].as_str()), (200, Some("sent")), "the stored account is unchanged: {test}");
    assert_eq!(other.state().token_calls, 0, "nothing reached the other server");

    // A template refers to it by name; the account cannot be deleted while it does.
    let spec = json!({"name": "notice", "channel": "wecom_app", "channelAccount": "corp-app", "content": {"body": "hi {$name}"}});
    let template = node.template(spec.clone()).await;
    let mut wrong = spec.clone();
    wrong["channelAccount"] = json!("nobody");
    let (status, body) = node.post("/api/templates", &wrong).await;
    assert_eq!(status, 422);
    assert!(body["msg"].as_str().unwrap().contains("channelAccount"), "{body}");
    let delete = |path: String| node.http.delete(node.url(&path)).header("X-API-Key", &node.key).send();
    assert_eq!(delete(format!("/api/accounts/{id}")).await.unwrap().status().as_u16(), 409);
    assert_eq!(delete(format!("/api/templates/{template}")).await.unwrap().status().as_u16(), 200);
    assert_eq!(delete(format!("/api/accounts/{id}")).await.unwrap().status().as_u16(), 204);
    let (_, schedules) = node.get("/api/schedules").await;
    assert!(schedules["items"].as_array().unwrap().iter().all(|s| s["accountId"] != id), "its schedule went with it");
    node.node.shutdown().await;
}

async fn wait_fires(node: &TestNode, schedule_id: i64, count: usize) -> Vec<Value> {
    for _ in 0..400 {
        let (_, fires) = node.get(&format!("/api/schedules/{schedule_id}/fires")).await;
        let fires = fires["items"].as_array().unwrap().clone();
        if fires.len() >= count && fires.iter().all(|f| f["outcome"] != "fired") {
            return fires;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("schedule {schedule_id} did not reach {count} finished fires");
}

#[tokio::test]
async fn a_day_of_token_refreshes_runs_on_time_and_failures_are_retried() {
    let (_dir, node) = started().await;
    let (base, fake) = fake_wecom::start(SECRET).await;
    let (_, created) = node.post("/api/accounts", &wecom_account("corp-app", &base, None)).await;
    let id = created["id"].as_i64().unwrap();
    let (_, schedules) = node.get("/api/schedules").await;
    let schedule =
        schedules["items"].as_array().unwrap().iter().find(|s| s["accountId"] == id).unwrap()["id"].as_i64().unwrap();

    let midnight = Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap();
    let mut expected = 0;
    for hour in 1..=24 {
        fake.state().fail_gettoken = hour == 6;
        node.clock.set(midnight + Duration::hours(hour) + Duration::seconds(1));
        expected += 1;
        let fires = wait_fires(&node, schedule, expected).await;
        let latest = &fires[0];
        assert_eq!(
            latest["fireTime"],
            (midnight + Duration::hours(hour)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        if hour == 6 {
            assert_eq!(latest["outcome"], "failed");
            assert!(latest["error"].as_str().unwrap().contains("system busy"), "{latest}");
            // Retried a minute later, and then succeeds.
            fake.state().fail_gettoken = false;
            node.clock.set(midnight + Duration::hours(6) + Duration::seconds(62));
            expected += 1;
            let fires = wait_fires(&node, schedule, expected).await;
            assert_eq!(fires[0]["outcome"], "succeeded", "{fires:?}");
        } else {
            assert_eq!(latest["outcome"], "succeeded", "{latest}");
        }
    }
    assert_eq!(fake.state().token_calls, 24, "one fetch per hour, the failed one retried once");

    // The manual refresh endpoint fetches at once.
    let (status, body) = node.post(&format!("/api/accounts/{id}/refresh-token"), &json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(fake.state().token_calls, 25);
    node.node.shutdown().await;
}

#[tokio::test]
async fn a_send_through_an_account_refreshes_an_expired_token_once() {
    let (_dir, node) = started().await;
    let (base, fake) = fake_wecom::start(SECRET).await;
    node.post("/api/accounts", &wecom_account("corp-app", &base, None)).await;
    let id = node
        .template(json!({"name": "n", "channel": "wecom_app", "channelAccount": "corp-app", "content": {"body": "hi {$name}"}}))
        .await;
    let send = |who: &'static str| json!({"code": "send", "messageTemplateId": id, "messageParam": {"receiver": who, "variables": {"name": who}}});
    let (status, body) = node.post("/send", &send("hanmeimei")).await;
    assert_eq!(status, 200, "{body}");
    wait_until(|| fake.state().messages.len() == 1).await;
    assert_eq!(fake.state().token_calls, 1);

    fake.state().current_token = Some("rotated-by-wecom".into());
    node.post("/send", &send("lilei")).await;
    wait_until(|| fake.state().messages.len() == 2).await;
    {
        let fake = fake.state();
        assert_eq!(fake.token_calls, 2, "refreshed exactly once");
        assert_eq!(fake.messages[1].0, "lilei");
        assert_eq!(fake.messages[1].1, "hi lilei");
    }
    node.node.shutdown().await;
}

#[tokio::test]
async fn the_account_rate_limit_spaces_sends() {
    let (_dir, node) = started().await;
    let (base, fake) = fake_wecom::start(SECRET).await;
    node.post("/api/accounts", &wecom_account("slow", &base, Some(5.0))).await;
    let id = node
        .template(json!({"name": "n", "channel": "wecom_app", "channelAccount": "slow", "content": {"body": "x"}}))
        .await;
    let params: Vec<Value> = (0..15).map(|n| json!({"receiver": format!("user{n}")})).collect();
    let (status, body) =
        node.post("/batchSend", &json!({"code": "send", "messageTemplateId": id, "messageParamList": params})).await;
    assert_eq!(status, 200, "{body}");
    wait_until(|| fake.state().messages.len() == 15).await;
    let spread = {
        let fake = fake.state();
        let first = fake.messages.iter().map(|m| m.2).min().unwrap();
        fake.messages.iter().map(|m| m.2).max().unwrap() - first
    };
    // 5 at once (a second's burst), then one every 200 ms: the last at least 2 s after the first.
    assert!(spread >= std::time::Duration::from_millis(1_800), "{spread:?}");
    node.node.shutdown().await;
}

async fn wait_until(cond: impl Fn() -> bool) {
    for _ in 0..1_000 {
        if cond() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("condition not met within 10 s");
}
