//! austin's `/recall`, counted where the user looks: WeCom app messages already sent are taken
//! back through the provider's recall (the fake records each msgid recalled, once); messages of
//! a paused run that no worker sent are stopped, and after the resume the receiver gets every
//! other row once and those never; a channel without recall, an id of another template and a
//! bad request each say so.

mod common;

use chrono::{TimeZone, Utc};
use common::fake_wecom::{self, CORP_ID};
use common::*;
use herald_testkit::receiver::RecordingReceiver;
use serde_json::{Value, json};
use std::time::Duration;

const SECRET: &str = "corp-secret-0123456789abcdef";

async fn started() -> (tempfile::TempDir, TestNode) {
    let dir = tempfile::tempdir().unwrap();
    let node = TestNode::start(&test_config(dir.path()), Utc.with_ymd_and_hms(2026, 5, 1, 3, 0, 0).unwrap()).await;
    (dir, node)
}

fn recall(template: i64, ids: &[&str]) -> Value {
    json!({"code": "recall", "messageTemplateId": template, "recallMessageIds": ids})
}

/// The WeCom app account `corp-app` on the fake at `base`.
async fn wecom_account(node: &TestNode, base: &str) {
    let account = json!({"name": "corp-app", "channel": "wecom_app",
        "config": {"corpId": CORP_ID, "corpSecret": SECRET, "agentId": 1000002, "baseUrl": base}});
    assert_eq!(node.post("/api/accounts", &account).await.0, 201);
}

/// Each answer's message id and outcome, in order.
fn outcomes(answer: &Value) -> Vec<(String, String)> {
    let data = answer["data"].as_array().unwrap_or_else(|| panic!("{answer}"));
    data.iter().map(|d| (d["messageId"].as_str().unwrap().into(), d["outcome"].as_str().unwrap().into())).collect()
}

/// The events of a message's trace, in order.
async fn events(node: &TestNode, id: &str) -> Vec<String> {
    let (_, trace) = node.get(&format!("/api/trace/{id}")).await;
    trace["events"]
        .as_array()
        .map(|e| e.iter().map(|e| e["event"].as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

async fn wait_for_event(node: &TestNode, id: &str, event: &str) {
    for _ in 0..200 {
        if events(node, id).await.iter().any(|e| e == event) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{id} never reached {event}: {:?}", events(node, id).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sent_wecom_app_messages_are_recalled_through_the_provider_once() {
    let (_dir, node) = started().await;
    let (base, fake) = fake_wecom::start(SECRET).await;
    wecom_account(&node, &base).await;
    let template = node
        .template(json!({"name": "notice", "channel": "wecom_app", "channelAccount": "corp-app",
                         "content": {"body": "hi {$name}"}}))
        .await;
    let send = json!({"code": "send", "messageTemplateId": template,
                      "messageParam": {"receiver": "lilei,hanmeimei", "variables": {"name": "all"}}});
    let (status, sent) = node.post("/send", &send).await;
    assert_eq!(status, 200, "{sent}");
    let ids: Vec<String> =
        sent["data"].as_array().unwrap().iter().map(|m| m["messageId"].as_str().unwrap().into()).collect();
    for id in &ids {
        wait_for_event(&node, id, "sent").await;
    }

    let other = node.template(json!({"name": "other", "channel": "outbox", "content": {"body": "b"}})).await;
    let (status, answer) = node.post("/recall", &recall(template, &[&ids[0], &ids[1], "nobody-r1-1"])).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["code"], "0");
    assert_eq!(
        outcomes(&answer),
        vec![
            (ids[0].clone(), "recalled".into()),
            (ids[1].clone(), "recalled".into()),
            ("nobody-r1-1".into(), "not_found".into())
        ]
    );
    // The two were sent in either order, so WeCom numbered them either way.
    let mut recalled = fake.state().recalls.clone();
    recalled.sort();
    assert_eq!(recalled, ["msg-1", "msg-2"], "WeCom took both back");
    assert_eq!(events(&node, &ids[0]).await.last().map(String::as_str), Some("recalled"));

    // Asking again is harmless; another template's id is not found; nothing more reached WeCom.
    let (_, again) = node.post("/recall", &recall(template, &[&ids[0]])).await;
    assert_eq!(outcomes(&again), vec![(ids[0].clone(), "recalled".into())]);
    let (_, elsewhere) = node.post("/recall", &recall(other, &[&ids[1]])).await;
    assert_eq!(outcomes(&elsewhere), vec![(ids[1].clone(), "not_found".into())]);
    assert_eq!(fake.state().recalls.len(), 2);

    // Bad requests name the field; an unknown template is austin's A0002.
    for (body, field) in [
        (json!({"code": "send", "messageTemplateId": template, "recallMessageIds": ["a"]}), "code"),
        (json!({"code": "recall", "recallMessageIds": ["a"]}), "messageTemplateId"),
        (recall(template, &vec!["a"; 101]), "recallMessageIds"),
        (recall(template, &[]), "recallMessageIds"),
        (recall(template, &[&"x".repeat(129)]), "recallMessageIds"),
    ] {
        let (status, refused) = node.post("/recall", &body).await;
        assert!(status == 422 && refused["msg"].as_str().unwrap().starts_with(field), "{status} {refused}");
    }
    let (status, missing) = node.post("/recall", &recall(999, &["a"])).await;
    assert_eq!((status, missing["code"].as_str()), (404, Some("A0002")), "{missing}");
    node.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_not_yet_sent_are_stopped_and_never_arrive() {
    let (_dir, node) = started().await;
    let receiver = RecordingReceiver::start().await;
    receiver.set_delay(Duration::from_millis(500));
    let crowd = node.crowd(crowd_csv(60)).await;
    let template = node.template(webhook_template("held", &crowd, &format!("{}/hook", receiver.url))).await;
    let (_, body) = node.post(&format!("/api/templates/{template}/run"), &json!({})).await;
    let run = body["runId"].as_i64().unwrap();
    assert!(receiver.wait_for(1, Duration::from_secs(20)).await, "sending began");
    let (status, paused) = node.post(&format!("/api/runs/{run}/pause"), &json!({})).await;
    assert_eq!(status, 200, "{paused}");

    // Three rows on the bus or held by the pause, and one that was sent before it.
    let mut held = Vec::new();
    let mut sent = None;
    for row in 1..=60 {
        let id = node.row_id(run, row).await;
        let trace = events(&node, &id).await;
        let waiting = matches!(trace.last().map(String::as_str), Some("accepted" | "paused"));
        if waiting && held.len() < 3 {
            held.push(id);
        } else if trace.iter().any(|e| e == "sent") && sent.is_none() {
            sent = Some(id);
        }
    }
    assert_eq!(held.len(), 3, "rows not sent while paused");
    let sent = sent.expect("a row sent before the pause");
    let ids: Vec<&str> = held.iter().map(String::as_str).chain([sent.as_str()]).collect();
    let (_, answer) = node.post("/recall", &recall(template, &ids)).await;
    let expected: Vec<(String, String)> = held
        .iter()
        .map(|id| (id.clone(), "recalled".to_string()))
        .chain([(sent.clone(), "not_recallable".to_string())])
        .collect();
    assert_eq!(outcomes(&answer), expected, "{answer}");
    assert!(answer["data"][3]["detail"].as_str().unwrap().contains("webhook messages cannot be recalled"), "{answer}");

    node.post(&format!("/api/runs/{run}/resume"), &json!({})).await;
    // The held messages turn due on the node's clock, which this test moves.
    let mut done = Value::Null;
    for _ in 0..600 {
        node.clock.advance(chrono::Duration::seconds(1));
        done = node.get(&format!("/api/runs/{run}")).await.1;
        if done["status"] == "completed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!((done["delivered"].as_i64(), done["dropped"].as_i64()), (Some(57), Some(3)), "{done}");
    let got = receiver.counts_by_id();
    assert_eq!((got.len(), receiver.repeats()), (57, 0), "every other row once");
    assert!(held.iter().all(|id| !got.contains_key(id)), "no recalled message arrived");
    assert_eq!(events(&node, &held[0]).await.last().map(String::as_str), Some("cancelled"));
    node.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_template_is_recalled_through_the_provider_skipping_what_was_recalled_before() {
    let (_dir, node) = started().await;
    let (base, fake) = fake_wecom::start(SECRET).await;
    wecom_account(&node, &base).await;
    let template = node
        .template(json!({"name": "notice", "channel": "wecom_app", "channelAccount": "corp-app",
                         "content": {"body": "hi"}}))
        .await;
    let send = json!({"code": "send", "messageTemplateId": template, "messageParam": {"receiver": "a,b,c"}});
    let (_, sent) = node.post("/send", &send).await;
    let ids: Vec<String> =
        sent["data"].as_array().unwrap().iter().map(|m| m["messageId"].as_str().unwrap().into()).collect();
    for id in &ids {
        wait_for_event(&node, id, "sent").await;
    }
    node.post("/recall", &recall(template, &[&ids[0]])).await;

    let (status, whole) = node.post("/recall", &json!({"code": "recall", "messageTemplateId": template})).await;
    assert_eq!(status, 200, "{whole}");
    let mut expected = vec![(ids[1].clone(), "recalled".to_string()), (ids[2].clone(), "recalled".to_string())];
    expected.sort();
    assert_eq!(outcomes(&whole), expected, "in message id order, the one recalled before left out");
    assert_eq!((whole["cancelledRuns"].clone(), whole["more"].clone()), (json!([]), json!(false)));
    assert_eq!(fake.state().recalls.len(), 3, "each message recalled once");
    let (_, again) = node.post("/recall", &json!({"code": "recall", "messageTemplateId": template})).await;
    assert_eq!(outcomes(&again), vec![], "nothing left to recall");
    node.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_templates_recall_cancels_its_runs_and_stops_its_waiting_messages() {
    let dir = tempfile::tempdir().unwrap();
    // 02:00 in Shanghai: inside the default quiet hours (00:00 to 08:00).
    let night = Utc.with_ymd_and_hms(2026, 5, 1, 18, 0, 0).unwrap();
    let node = TestNode::start(&test_config(dir.path()), night).await;
    let receiver = RecordingReceiver::start().await;
    let crowd = node.crowd(crowd_csv(5)).await;
    let mut spec = webhook_template("night", &crowd, &format!("{}/hook", receiver.url));
    spec["quietHours"] = json!("defer");
    spec["schedule"] = json!({"cron": "0 0 12 * * ?", "timezone": "Asia/Shanghai"});
    let template = node.template(spec).await;
    let send = json!({"code": "send", "messageTemplateId": template,
                      "messageParam": {"receiver": "x,y", "variables": {"name": "X", "code": "1"}}});
    let (_, sent) = node.post("/send", &send).await;
    let ids: Vec<String> = sent["data"]
        .as_array()
        .unwrap_or_else(|| panic!("{sent}"))
        .iter()
        .map(|m| m["messageId"].as_str().unwrap().into())
        .collect();
    for id in &ids {
        wait_for_event(&node, id, "deferred").await;
    }
    let (_, run) = node.post(&format!("/api/templates/{template}/run"), &json!({})).await;
    let run_id = run["runId"].as_i64().unwrap_or_else(|| panic!("{run}"));

    let (status, whole) = node.post("/recall", &json!({"code": "recall", "messageTemplateId": template})).await;
    assert_eq!(status, 200, "{whole}");
    let mut expected: Vec<(String, String)> = ids.iter().map(|id| (id.clone(), "recalled".to_string())).collect();
    expected.sort();
    assert_eq!(outcomes(&whole), expected);
    assert_eq!((whole["cancelledRuns"].clone(), whole["more"].clone()), (json!([run_id]), json!(false)));

    // Morning comes: nothing of the template is sent.
    node.clock.advance(chrono::Duration::hours(10));
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(receiver.count(), 0, "the receiver got nothing");
    assert_eq!(node.get(&format!("/api/runs/{run_id}")).await.1["status"], "cancelled");
    assert_eq!(events(&node, &ids[0]).await.last().map(String::as_str), Some("cancelled"));
    node.node.shutdown().await;
}
