//! Findings 17, 18, 23: the answers to malformed requests keep the API's JSON shape, name what
//! is wrong, and use the right status.

use super::*;

#[tokio::test]
async fn path_and_query_rejections_unknown_routes_and_methods_answer_json() {
    let (_dir, node) = started().await;
    let key = |r: reqwest::RequestBuilder| r.header("X-API-Key", &node.key);
    let (status, _, body) = raw(key(node.http.get(node.url("/api/templates/abc")))).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("A0001")), "{body}");
    assert!(body["msg"].as_str().unwrap().starts_with("id"), "{body}");
    let (status, _, body) = raw(key(node.http.get(node.url("/api/runs?limit=lots")))).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["msg"].as_str().unwrap().starts_with("limit"), "{body}");
    let (status, _, body) = raw(key(node.http.get(node.url("/api/nowhere")))).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("B0404")), "{body}");
    let (status, _, body) = raw(key(node.http.patch(node.url("/api/templates/1")))).await;
    assert_eq!(status, 405, "{body}");
    assert!(body["msg"].as_str().unwrap().contains("PATCH"), "{body}");
    let (status, _, body) = raw(key(node.http.get(node.url("/api/schedules/-1/fires")))).await;
    assert_eq!(status, 404, "{body}");
}

#[tokio::test]
async fn json_syntax_errors_say_where() {
    let (_dir, node) = started().await;
    let r = node
        .http
        .post(node.url("/api/templates"))
        .header("X-API-Key", &node.key)
        .header("Content-Type", "application/json")
        .body("{\"name\": \"x\",\n tru}");
    let (status, _, body) = raw(r).await;
    assert_eq!(status, 422, "{body}");
    let msg = body["msg"].as_str().unwrap();
    assert!(msg.contains("line 2 column"), "{body}");
    assert!(!msg.starts_with('?') && body.get("errors").is_none(), "no made-up field: {body}");
}

#[tokio::test]
async fn webhook_schemes_are_read_in_any_case() {
    let (_dir, node) = started().await;
    let spec = json!({"name": "w", "channel": "webhook", "content": {"url": "HTTP://127.0.0.1:9/x", "text": "hi"}});
    let (status, body) = node.post("/api/templates", &spec).await;
    assert_eq!(status, 201, "{body}");
}

/// austin accepts `"variables": null` for the whole map; a null value inside it has no text
/// to render and is refused naming the variable (it used to render as the text `null`).
#[tokio::test]
async fn a_null_variable_map_is_empty_and_a_null_variable_is_refused() {
    let (_dir, node) = started().await;
    let plain = plain_template(&node).await;
    let send =
        json!({"code": "send", "messageTemplateId": plain, "messageParam": {"receiver": "r", "variables": null}});
    let (status, body) = node.post("/send", &send).await;
    assert_eq!(status, 200, "{body}");
    let named = node.template(json!({"name": "n", "channel": "outbox", "content": {"body": "hi {$name}"}})).await;
    let send = json!({"code": "send", "messageTemplateId": named,
                      "messageParam": {"receiver": "r", "variables": {"name": null}}});
    let (status, body) = node.post("/send", &send).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["msg"].as_str().unwrap().starts_with("messageParam.variables.name"), "{body}");
}

/// Finding 17: an over-size upload sent in large frames answered 422 "upload interrupted".
#[tokio::test]
async fn an_oversize_upload_is_413_whatever_its_frames() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.crowd.max_upload_bytes = 256 * 1024;
    let node = TestNode::start(&config, Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap()).await;
    let mut csv = String::from("userId,name\n");
    while csv.len() < 4 * 1024 * 1024 {
        csv.push_str("13900000000,somebody with a long name\n");
    }
    let (status, body) = node.upload(csv.into_bytes(), None).await;
    assert_eq!(status, 413, "{body}");
}
