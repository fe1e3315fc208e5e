//! Findings 2, 8, 13, 14, 21: answers and work that grew with the input.

use super::*;
use std::time::{Duration, Instant};

fn wide_crowd(columns: usize) -> Vec<u8> {
    let header: Vec<String> =
        std::iter::once("userId".to_string()).chain((1..columns).map(|n| format!("column_{n:05}"))).collect();
    let row: Vec<String> = (0..columns).map(|n| format!("v{n}")).collect();
    format!("{}\n{}\n", header.join(","), row.join(",")).into_bytes()
}

/// The review's case: 100 placeholders missing from a wide crowd gave 14 MB. Crowds are now
/// capped at 1,000 columns, and the answer names a few columns and placeholders, then counts.
#[tokio::test]
async fn missing_placeholders_against_a_wide_crowd_get_a_small_answer() {
    let (_dir, node) = started().await;
    let (status, body) = node.upload(wide_crowd(5000), None).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["msg"].as_str().unwrap().contains("at most 1000"), "{body}");

    let crowd = node.crowd(wide_crowd(1000)).await;
    let content: String = (0..100).map(|n| format!("{{$missing{n}}}")).collect();
    let spec = json!({"name": "wide", "channel": "outbox", "content": {"t": content}, "crowdId": crowd});
    let started = Instant::now();
    let (status, bytes, body) =
        raw(node.http.post(node.url("/api/templates")).header("X-API-Key", &node.key).json(&spec)).await;
    assert_eq!(status, 422, "{body}");
    assert!(bytes < 4096, "{bytes} bytes: {body}");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(body["errors"][0]["field"], "content");
}

#[tokio::test]
async fn receivers_are_capped_before_any_other_work_and_each_is_bounded() {
    let (_dir, node) = started().await;
    let id = plain_template(&node).await;
    // 150,000 distinct receivers: 1.6 MB, under the 2 MiB body limit.
    let many: Vec<String> = (0..150_000).map(|n| format!("1{n:09}")).collect();
    let send = json!({"code": "send", "messageTemplateId": id, "messageParam": {"receiver": many.join(",")}});
    let started = Instant::now();
    let (status, bytes, body) = raw(node.http.post(node.url("/send")).header("X-API-Key", &node.key).json(&send)).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("A0003")), "{body}");
    assert!(bytes < 1024);
    assert!(started.elapsed() < Duration::from_secs(5), "{:?} (the quadratic scan took 66 s)", started.elapsed());

    let long = "1".repeat(257);
    let send = json!({"code": "send", "messageTemplateId": id, "messageParam": {"receiver": format!("a,{long}")}});
    let (status, body) = node.post("/send", &send).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["msg"].as_str().unwrap().starts_with("messageParam.receiver"), "{body}");
    assert_eq!(outbox_count(&node, id, Duration::from_millis(300)).await, 0);
}

#[tokio::test]
async fn batch_send_takes_at_most_100_params() {
    let (_dir, node) = started().await;
    let id = plain_template(&node).await;
    let params: Vec<Value> = (0..101).map(|n| json!({"receiver": format!("r{n}")})).collect();
    let (status, body) =
        node.post("/batchSend", &json!({"code": "send", "messageTemplateId": id, "messageParamList": params})).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["msg"].as_str().unwrap().starts_with("messageParamList"), "{body}");
    assert_eq!(outbox_count(&node, id, Duration::from_millis(300)).await, 0);
}

/// Finding 13: a param too large for the bus answered 500 after the earlier params were
/// already published. Now every payload is checked first: 413 naming the param, nothing sent.
#[tokio::test]
async fn an_oversize_param_is_refused_before_anything_is_published() {
    let (_dir, node) = started().await;
    let id = node.template(json!({"name": "v", "channel": "outbox", "content": {"body": "{$v}"}})).await;
    let params = json!([
        {"receiver": "small", "variables": {"v": "x"}},
        {"receiver": "big", "variables": {"v": "x".repeat(1024 * 1024)}},
    ]);
    let (status, body) =
        node.post("/batchSend", &json!({"code": "send", "messageTemplateId": id, "messageParamList": params})).await;
    assert_eq!(status, 413, "{body}");
    assert!(body["msg"].as_str().unwrap().starts_with("messageParamList[1]"), "{body}");
    assert_eq!(outbox_count(&node, id, Duration::from_millis(500)).await, 0, "the small param was not sent either");
    let (_, traced) = node.get(&format!("/api/messages?templateId={id}")).await;
    assert_eq!(traced["items"], json!([]), "nothing traced");
}

#[tokio::test]
async fn list_endpoints_page_with_a_maximum_limit() {
    let (_dir, node) = started().await;
    for n in 0..3 {
        node.template(json!({"name": format!("t{n}"), "channel": "outbox", "content": {"body": "x"}})).await;
    }
    let (status, first) = node.get("/api/templates?limit=2").await;
    assert_eq!(status, 200);
    assert_eq!((first["items"].as_array().unwrap().len(), &first["nextOffset"]), (2, &json!(2)), "{first}");
    let (_, rest) = node.get("/api/templates?limit=2&offset=2").await;
    assert_eq!((rest["items"].as_array().unwrap().len(), &rest["nextOffset"]), (1, &Value::Null), "{rest}");
    for path in ["/api/templates", "/api/accounts", "/api/crowds", "/api/discards", "/api/schedules", "/api/runs"] {
        let (status, body) = node.get(&format!("{path}?limit=100000")).await;
        if path == "/api/runs" {
            assert_eq!((status, &body["limit"]), (200, &json!(500)), "runs clamp, as they always did: {body}");
        } else {
            assert_eq!(status, 422, "{path}: {body}");
            assert!(body["msg"].as_str().unwrap().starts_with("limit"), "{path}: {body}");
        }
    }
    let (_, schedules) = node.get("/api/schedules?limit=1").await;
    assert_eq!(schedules["items"].as_array().unwrap().len(), 1, "{schedules}");
    assert_eq!(schedules["nextOffset"], 1, "housekeeping schedules exist beyond the first");
}
