//! austin's send API: a valid key, a wrong or missing key, a missing template, 101 receivers,
//! missing variables, and batchSend, with austin's codes and the messages reaching the outbox; an
//! oversize batchSend refused whole and a repeated bizId sent once (one after another and at the
//! same moment), counted at a recording receiver.

mod common;

use chrono::{TimeZone, Utc};
use common::*;
use serde_json::{Value, json};
use std::time::Duration;

async fn node_with_template() -> (tempfile::TempDir, TestNode, i64) {
    let dir = tempfile::tempdir().unwrap();
    let node = TestNode::start(&test_config(dir.path()), Utc.with_ymd_and_hms(2026, 6, 1, 8, 0, 0).unwrap()).await;
    let spec = json!({"name": "verify", "channel": "outbox", "msgType": 30,
                      "content": {"text": "{$name}, your code is {$code}"}});
    let id = node.template(spec).await;
    (dir, node, id)
}

async fn wait_outbox(node: &TestNode, receiver: &str) -> Value {
    for _ in 0..400 {
        let (_, page) = node.get(&format!("/api/outbox?receiver={receiver}")).await;
        if let Some(entry) = page["items"].as_array().unwrap().first() {
            return entry.clone();
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("nothing reached the outbox for {receiver}");
}

#[tokio::test]
async fn a_valid_key_sends_and_messages_are_delivered() {
    let (_dir, node, id) = node_with_template().await;
    let body = json!({"code": "send", "messageTemplateId": id,
        "messageParam": {"bizId": "order-1", "receiver": "13800000001, 13800000002,13800000001",
                         "variables": {"name": "李雷", "code": 4821}}});
    let (status, answer) = node.post("/send", &body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["code"], "0");
    let data = answer["data"].as_array().unwrap();
    assert_eq!(data.len(), 2, "receivers trimmed and de-duplicated: {answer}");
    assert_eq!(data[0]["bizId"], "order-1");
    let business_id: i64 = format!("{}20260601", 30_000_000 + id).parse().unwrap();
    assert_eq!(data[0]["businessId"], business_id, "austin: msgType * 1e6 + templateId, then the day");
    let entry = wait_outbox(&node, "13800000002").await;
    assert_eq!(entry["content"]["text"], "李雷, your code is 4821");
    assert_eq!(entry["messageId"], data[1]["messageId"]);
    // The outbox row is written by the send, the `sent` event by the outcome committer just
    // after it: read the trace once it has caught up (at most 5 s).
    let path = format!("/api/trace/{}", data[1]["messageId"].as_str().unwrap());
    let mut events = Vec::new();
    for _ in 0..100 {
        let (status, trace) = node.get(&path).await;
        assert_eq!(status, 200);
        events = trace["events"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap().to_string()).collect();
        if events.len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(events, ["accepted", "sent"]);
    node.node.shutdown().await;
}

#[tokio::test]
async fn a_wrong_or_missing_key_gets_401() {
    let (_dir, node, id) = node_with_template().await;
    let body = json!({"code": "send", "messageTemplateId": id, "messageParam": {"receiver": "1", "variables": {}}});
    for key in [Some("hk_wrong"), Some(""), None] {
        let mut request = node.http.post(node.url("/send")).json(&body);
        if let Some(key) = key {
            request = request.header("X-API-Key", key);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), 401, "key {key:?}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["code"], "A0005");
        assert!(answer["msg"].as_str().unwrap().contains("API key"), "{answer}");
    }
    let bearer = node.http.get(node.url("/api/templates")).bearer_auth(&node.key).send().await.unwrap();
    assert_eq!(bearer.status().as_u16(), 200, "Authorization: Bearer works too");
    let health = node.http.get(node.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 200, "healthz needs no key");
    node.node.shutdown().await;
}

#[tokio::test]
async fn a_missing_template_gets_a0002() {
    let (_dir, node, _id) = node_with_template().await;
    let body = json!({"code": "send", "messageTemplateId": 9999,
                      "messageParam": {"receiver": "1", "variables": {"name": "a", "code": "b"}}});
    let (status, answer) = node.post("/send", &body).await;
    assert_eq!(status, 404, "{answer}");
    assert_eq!(answer["code"], "A0002");
    assert!(answer["msg"].as_str().unwrap().contains("9999"), "{answer}");
    node.node.shutdown().await;
}

#[tokio::test]
async fn more_than_100_receivers_get_a0003_and_nothing_is_sent() {
    let (_dir, node, id) = node_with_template().await;
    let receivers: Vec<String> = (0..101).map(|n| format!("1380000{n:04}")).collect();
    let vars = json!({"name": "a", "code": "b"});
    let body = json!({"code": "send", "messageTemplateId": id,
                      "messageParam": {"receiver": receivers.join(","), "variables": vars}});
    let (status, answer) = node.post("/send", &body).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["code"], "A0003");
    assert!(answer["msg"].as_str().unwrap().contains("101"), "{answer}");

    // 100 is fine; in a batch, one bad param refuses the whole request (nothing half-sent).
    let ok = json!({"receiver": receivers[..100].join(","), "variables": vars});
    let bad = json!({"receiver": receivers.join(","), "variables": vars});
    let (status, answer) = node
        .post(
            "/batchSend",
            &json!({"code": "send", "messageTemplateId": id,
                                                          "messageParamList": [ok, bad]}),
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    assert!(answer["msg"].as_str().unwrap().contains("messageParamList[1].receiver"), "{answer}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, outbox) = node.get("/api/outbox").await;
    assert_eq!(outbox["total"], 0, "nothing was half-sent");

    let (status, answer) = node
        .post(
            "/send",
            &json!({"code": "send", "messageTemplateId": id,
                                                     "messageParam": {"receiver": receivers[..100].join(","),
                                                                      "variables": vars}}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["data"].as_array().unwrap().len(), 100);
    node.node.shutdown().await;
}

#[tokio::test]
async fn bad_parameters_name_the_field() {
    let (_dir, node, id) = node_with_template().await;
    let cases = [
        (
            json!({"code": "send", "messageTemplateId": id, "messageParam": {"receiver": "1", "variables": {"name": "x"}}}),
            "messageParam.variables",
            "{$code}",
        ),
        (
            json!({"code": "send", "messageTemplateId": id, "messageParam": {"receiver": " , ", "variables": {}}}),
            "messageParam.receiver",
            "no receiver",
        ),
        (json!({"code": "recall", "messageTemplateId": id, "messageParam": {"receiver": "1"}}), "code", "recall"),
        (json!({"code": "send", "messageParam": {"receiver": "1"}}), "messageTemplateId", "required"),
        (
            json!({"code": "send", "messageTemplateId": "one", "messageParam": {"receiver": "1"}}),
            "messageTemplateId",
            "invalid type",
        ),
    ];
    for (body, field, words) in cases {
        let (status, answer) = node.post("/send", &body).await;
        assert_eq!(status, 422, "{body} -> {answer}");
        assert_eq!(answer["code"], "A0001", "{answer}");
        let msg = answer["msg"].as_str().unwrap();
        assert!(msg.contains(field) && msg.contains(words), "{body} -> {msg}");
    }
    let response =
        node.http.post(node.url("/send")).header("X-API-Key", &node.key).body("{not json").send().await.unwrap();
    assert_eq!(response.status().as_u16(), 422);
    node.node.shutdown().await;
}

#[tokio::test]
async fn batch_send_delivers_each_param_with_its_variables() {
    let (_dir, node, id) = node_with_template().await;
    let body = json!({"code": "send", "messageTemplateId": id, "messageParamList": [
        {"bizId": "a", "receiver": "13900000001", "variables": {"name": "A", "code": "1"}},
        {"bizId": "b", "receiver": "13900000002,13900000003", "variables": {"name": "B", "code": "2"}},
    ]});
    let (status, answer) = node.post("/batchSend", &body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["data"].as_array().unwrap().len(), 3);
    assert_eq!(wait_outbox(&node, "13900000001").await["content"]["text"], "A, your code is 1");
    assert_eq!(wait_outbox(&node, "13900000003").await["content"]["text"], "B, your code is 2");
    node.node.shutdown().await;
}

/// A webhook template posting each message to `receiver`, for tests that count what arrived.
async fn node_with_webhook(receiver: &herald_testkit::RecordingReceiver) -> (tempfile::TempDir, TestNode, i64) {
    let dir = tempfile::tempdir().unwrap();
    let node = TestNode::start(&test_config(dir.path()), Utc.with_ymd_and_hms(2026, 6, 1, 8, 0, 0).unwrap()).await;
    let spec = json!({"name": "hook", "channel": "webhook",
                      "content": {"url": format!("{}/hook", receiver.url), "text": "{$name}: {$code}"}});
    let id = node.template(spec).await;
    (dir, node, id)
}

#[tokio::test]
async fn a_batch_send_with_one_oversize_param_is_refused_whole_and_nothing_arrives() {
    let receiver = herald_testkit::RecordingReceiver::start().await;
    let (_dir, node, id) = node_with_webhook(&receiver).await;
    let small = json!({"receiver": "13900000001", "variables": {"name": "A", "code": "1"}});
    // Under the request limit (2 MiB), over the bus's limit of one message (1 MiB).
    let huge = json!({"receiver": "13900000002", "variables": {"name": "x".repeat(1_100_000), "code": "2"}});
    let (status, answer) = node
        .post("/batchSend", &json!({"code": "send", "messageTemplateId": id, "messageParamList": [small, huge]}))
        .await;
    assert_eq!(status, 413, "{answer}");
    let said = answer.to_string();
    assert!(said.contains("messageParamList[1]") && said.len() < 1_000, "names the param, briefly: {said}");

    // The same small param alone arrives, so a published first param would have arrived too.
    let (status, answer) =
        node.post("/batchSend", &json!({"code": "send", "messageTemplateId": id, "messageParamList": [small]})).await;
    assert_eq!(status, 200, "{answer}");
    assert!(receiver.wait_for(1, Duration::from_secs(10)).await, "the small param alone is delivered");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.count(), 1, "the refused request published nothing: {:?}", receiver.counts_by_id());
    node.node.shutdown().await;
}

#[tokio::test]
async fn a_repeated_biz_id_answers_the_first_message_ids_and_sends_once() {
    let receiver = herald_testkit::RecordingReceiver::start().await;
    let (_dir, node, id) = node_with_webhook(&receiver).await;
    let body = json!({"code": "send", "messageTemplateId": id,
        "messageParam": {"bizId": "order-7", "receiver": "13900000007,13900000008", "variables": {"name": "A", "code": "1"}}});
    let (status, first) = node.post("/send", &body).await;
    assert_eq!(status, 200, "{first}");
    assert!(receiver.wait_for(2, Duration::from_secs(10)).await);
    // A client retry (a timeout on its side) within the window: same ids, nothing sent again.
    let (status, again) = node.post("/send", &body).await;
    assert_eq!(status, 200, "{again}");
    let ids = |answer: &Value| -> Vec<String> {
        answer["data"].as_array().unwrap().iter().map(|d| d["messageId"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(ids(&again), ids(&first));
    // Another bizId is another send.
    let other = json!({"code": "send", "messageTemplateId": id,
        "messageParam": {"bizId": "order-8", "receiver": "13900000007", "variables": {"name": "A", "code": "1"}}});
    let (status, _) = node.post("/send", &other).await;
    assert_eq!(status, 200);
    assert!(receiver.wait_for(3, Duration::from_secs(10)).await);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!((receiver.count(), receiver.repeats()), (3, 0), "{:?}", receiver.counts_by_id());
    node.node.shutdown().await;
}

/// Requests of one moment share the intake's writes, so repeats of one bizId can land in the same
/// group: each bizId must still answer one message id to all its requests and arrive once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeats_of_a_biz_id_at_the_same_moment_answer_one_message_id_and_arrive_once() {
    let receiver = herald_testkit::RecordingReceiver::start().await;
    let (_dir, node, id) = node_with_webhook(&receiver).await;
    let body = |order: usize| {
        json!({"code": "send", "messageTemplateId": id,
            "messageParam": {"bizId": format!("order-{order}"), "receiver": "13900000007",
                             "variables": {"name": "A", "code": "1"}}})
    };
    let answers = futures::future::join_all((0..64).map(|i| {
        let body = body(i % 8);
        let node = &node;
        async move { (i % 8, node.post("/send", &body).await) }
    }))
    .await;
    let mut ids: std::collections::BTreeMap<usize, std::collections::BTreeSet<String>> = Default::default();
    for (order, (status, answer)) in answers {
        assert_eq!(status, 200, "{answer}");
        ids.entry(order).or_default().insert(answer["data"][0]["messageId"].as_str().unwrap().to_string());
    }
    assert!(ids.values().all(|of_one| of_one.len() == 1), "one message id per bizId: {ids:?}");
    assert!(receiver.wait_for(8, Duration::from_secs(10)).await, "{:?}", receiver.counts_by_id());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!((receiver.count(), receiver.repeats()), (8, 0), "{:?}", receiver.counts_by_id());
    node.node.shutdown().await;
}

#[tokio::test]
async fn austins_own_readme_request_is_accepted_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let node = TestNode::start(&test_config(dir.path()), Utc.with_ymd_and_hms(2026, 6, 1, 8, 0, 0).unwrap()).await;
    let id = node.template(json!({"name": "plain", "channel": "outbox", "content": {"text": "hello"}})).await;
    // austin's README, byte for byte but the template id: null variables and extra.
    let raw = format!(
        r#"{{"code":"send","messageParam":{{"extra":null,"receiver":"13288888888","variables":null}},"messageTemplateId":{id}}}"#
    );
    let r = node
        .http
        .post(node.url("/send"))
        .header("X-API-Key", &node.key)
        .header("Content-Type", "application/json")
        .body(raw)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let answer: Value = r.json().await.unwrap();
    assert_eq!(answer["code"], "0", "{answer}");
    assert_eq!(wait_outbox(&node, "13288888888").await["content"]["text"], "hello");
    node.node.shutdown().await;
}

/// Accepted messages (an `accepted` trace row, whether or not the client heard the answer).
async fn accepted_messages(dir: &tempfile::TempDir) -> i64 {
    let store = herald_store::SqliteStore::open(&dir.path().join("herald.sqlite")).await.unwrap();
    let count = sqlx::query_scalar("SELECT COUNT(*) FROM trace WHERE event = 'accepted'")
        .fetch_one(store.pool())
        .await
        .unwrap();
    store.close().await;
    count
}

/// Clients that hang up half-way (a request timeout shorter than the answer) must leave nothing
/// half-done: every message herald accepted reaches the receiver once, every answered one among
/// them, and the node goes on answering and writing. Under such a load a dropped request used to
/// leave a pooled SQLite connection inside a transaction, and every write after it failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_hanging_up_mid_request_lose_nothing_and_wedge_nothing() {
    let receiver = herald_testkit::RecordingReceiver::start().await;
    let (dir, node, id) = node_with_webhook(&receiver).await;
    let impatient = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let mut answered: Vec<String> = Vec::new();
    for round in 0..20u64 {
        let requests = (0..32u64).map(|i| {
            let n = round * 32 + i;
            let body = json!({"code": "send", "messageTemplateId": id, "messageParam": {
                "bizId": format!("order-{n}"), "receiver": format!("139{n:08}"), "variables": {"name": "A", "code": n}}});
            let request = impatient
                .post(node.url("/send"))
                .header("X-API-Key", &node.key)
                .timeout(Duration::from_micros(300 + n * 7_919 % 6_000))
                .json(&body);
            async move {
                let answer: Value = request.send().await.ok()?.json().await.ok()?;
                Some(answer["data"][0]["messageId"].as_str()?.to_string())
            }
        });
        answered.extend(futures::future::join_all(requests).await.into_iter().flatten());
    }
    // The node still answers and delivers.
    let body = json!({"code": "send", "messageTemplateId": id,
        "messageParam": {"receiver": "13999999999", "variables": {"name": "B", "code": 1}}});
    let (status, last) = node.post("/send", &body).await;
    assert_eq!(status, 200, "{last}");
    answered.push(last["data"][0]["messageId"].as_str().unwrap().to_string());

    let accepted = accepted_messages(&dir).await as usize;
    assert!(
        receiver.wait_for(accepted, Duration::from_secs(30)).await,
        "accepted {accepted}, got {}",
        receiver.count()
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!((receiver.count(), receiver.repeats()), (accepted, 0), "every accepted message once");
    assert_eq!(receiver.missing(answered.iter().map(String::as_str)), Vec::<String>::new(), "every answered message");
    assert!(answered.len() < 641, "some clients hung up before their answer: {} of 641 answered", answered.len());
    node.node.shutdown().await;
}
