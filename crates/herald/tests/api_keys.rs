//! API keys over the API: listed without their hashes, created (shown once), scoped (a `send`
//! key calls the send API and nothing else), revoked (refused at once), with the last usable
//! admin key kept and bad input refused naming the field.

mod common;

use chrono::{TimeZone, Utc};
use common::*;
use serde_json::{Value, json};

async fn call(node: &TestNode, method: reqwest::Method, path: &str, key: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = node.http.request(method, node.url(path)).header("X-API-Key", key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let r = request.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn keys_are_listed_scoped_and_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let node = TestNode::start(&test_config(dir.path()), Utc.with_ymd_and_hms(2026, 6, 1, 8, 0, 0).unwrap()).await;
    let admin = node.key.clone();
    use reqwest::Method;

    let (status, page) = call(&node, Method::GET, "/api/keys", &admin, None).await;
    assert_eq!(status, 200, "{page}");
    let first = &page["items"][0];
    assert_eq!((first["name"].as_str(), first["scope"].as_str()), (Some("first start"), Some("admin")));
    assert_eq!(first["prefix"].as_str(), Some(&admin[..11]));
    assert!(first["lastUsedAt"].is_string(), "the list call itself is a use: {first}");
    assert!(!page.to_string().contains(&herald_api::hash_api_key(&admin)), "never a hash");

    let (status, made) =
        call(&node, Method::POST, "/api/keys", &admin, Some(json!({"name": "shop backend", "scope": "send"}))).await;
    assert_eq!(status, 201, "{made}");
    let send_key = made["key"].as_str().unwrap().to_string();
    let send_id = made["id"].as_i64().unwrap();
    let (status, listed) = call(&node, Method::GET, "/api/keys", &admin, None).await;
    assert_eq!(status, 200);
    assert!(!listed.to_string().contains(&send_key), "a key is shown once, when made");

    // A send key sends, and nothing else.
    let template = node.template(json!({"name": "t", "channel": "outbox", "content": {"text": "hi"}})).await;
    let send = json!({"code": "send", "messageTemplateId": template, "messageParam": {"receiver": "13800000000"}});
    let (status, answer) = call(&node, Method::POST, "/send", &send_key, Some(send.clone())).await;
    assert_eq!(status, 200, "{answer}");
    // ...and recalls what it sent, as austin's clients do.
    let id = answer["data"][0]["messageId"].clone();
    let recall = json!({"code": "recall", "messageTemplateId": template, "recallMessageIds": [id]});
    let (status, recalled) = call(&node, Method::POST, "/recall", &send_key, Some(recall)).await;
    assert_eq!((status, recalled["data"][0]["messageId"].clone()), (200, id), "{recalled}");
    for (method, path) in [(Method::GET, "/api/templates"), (Method::GET, "/api/keys"), (Method::GET, "/metrics")] {
        let (status, answer) = call(&node, method, path, &send_key, None).await;
        assert_eq!(status, 403, "{path}: {answer}");
        assert!(answer["msg"].as_str().unwrap().contains("scope is \"send\""), "{answer}");
    }
    let (status, _) =
        call(&node, Method::POST, "/api/keys", &send_key, Some(json!({"name": "x", "scope": "admin"}))).await;
    assert_eq!(status, 403, "a send key cannot make an admin key");

    // Revoked: refused at once.
    let (status, answer) = call(&node, Method::DELETE, &format!("/api/keys/{send_id}"), &admin, None).await;
    assert_eq!((status, answer["revoked"].as_bool()), (200, Some(true)), "{answer}");
    let (status, _) = call(&node, Method::POST, "/send", &send_key, Some(send)).await;
    assert_eq!(status, 401);

    // The last usable admin key stays; with a second one, the first can go.
    let first_id = first["id"].as_i64().unwrap();
    let (status, answer) = call(&node, Method::DELETE, &format!("/api/keys/{first_id}"), &admin, None).await;
    assert_eq!(status, 409, "{answer}");
    assert!(answer["msg"].as_str().unwrap().contains("last usable admin key"), "{answer}");
    let (_, second) =
        call(&node, Method::POST, "/api/keys", &admin, Some(json!({"name": "ops", "scope": "admin"}))).await;
    let second_key = second["key"].as_str().unwrap();
    let (status, _) = call(&node, Method::DELETE, &format!("/api/keys/{first_id}"), second_key, None).await;
    assert_eq!(status, 200);
    let (status, _) = call(&node, Method::GET, "/api/keys", &admin, None).await;
    assert_eq!(status, 401, "the first key is revoked");
    let (status, _) = call(&node, Method::DELETE, "/api/keys/999", second_key, None).await;
    assert_eq!(status, 404);

    // Bad input names the field.
    for (body, field) in [
        (json!({"name": "x", "scope": "root"}), "scope"),
        (json!({"name": "  ", "scope": "send"}), "name"),
        (json!({"name": "n".repeat(101), "scope": "send"}), "name"),
        (json!({"name": "x"}), "scope"),
    ] {
        let (status, answer) = call(&node, Method::POST, "/api/keys", second_key, Some(body.clone())).await;
        assert_eq!(status, 422, "{body}: {answer}");
        assert!(answer.to_string().contains(field), "{body}: {answer}");
    }
    node.node.shutdown().await;
}
