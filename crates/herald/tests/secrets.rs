//! No configured secret ever leaves herald: a real `herald serve` at debug log level gets
//! channel accounts with known secrets (and a webhook signing secret from the environment),
//! every account route is exercised, messages are sent through them, and then neither the
//! API's answers nor the whole log contain any of the secrets.

mod common;

use common::fake_wecom::{self, CORP_ID};
use common::process::*;
use serde_json::{Value, json};
use std::time::Duration;

const WECOM_SECRET: &str = "wecom-corp-secret-AAAA1111";
const ROBOT_TOKEN: &str = "dingtalk-robot-token-BBBB2222";
const ROBOT_SECRET: &str = "SECdingtalk-sign-secret-CCCC3333";
const WEBHOOK_SECRET: &str = "webhook-signing-secret-DDDD4444";
const SEALING_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="; // 32 bytes, base64

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_the_api_or_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = write_config(dir.path(), port, 30);
    let env = [
        ("RUST_LOG", "debug,sqlx=debug,hyper=debug,reqwest=debug"),
        ("HERALD_WEBHOOK__SIGNING_SECRET", WEBHOOK_SECRET),
        ("HERALD_SECURITY__SEALING_KEY", SEALING_KEY),
    ];
    let (server, key) = spawn_with_env(dir.path(), &config, port, &env).await;
    let key = key.expect("key");
    let (wecom, fake) = fake_wecom::start(WECOM_SECRET).await;
    let http = reqwest::Client::new();
    let mut answers = Vec::new();
    let mut call = async |method: reqwest::Method, path: &str, body: Value| -> Value {
        let r = http
            .request(method, format!("{}{path}", server.base))
            .header("X-API-Key", &key)
            .json(&body)
            .send()
            .await
            .unwrap();
        let text = r.text().await.unwrap();
        answers.push(text.clone());
        serde_json::from_str(&text).unwrap_or(Value::Null)
    };
    use reqwest::Method;

    let wecom_account = call(
        Method::POST,
        "/api/accounts",
        json!({"name": "corp", "channel": "wecom_app",
        "config": {"corpId": CORP_ID, "corpSecret": WECOM_SECRET, "agentId": 1, "baseUrl": wecom}}),
    )
    .await;
    let wecom_id = wecom_account["id"].as_i64().expect("wecom account");
    // The robot points at a closed port: its failures must not echo the token in the URL.
    let robot = call(Method::POST, "/api/accounts", json!({"name": "robot", "channel": "dingtalk_robot",
        "config": {"accessToken": ROBOT_TOKEN, "secret": ROBOT_SECRET, "baseUrl": format!("http://127.0.0.1:{}", free_port())}})).await;
    let robot_id = robot["id"].as_i64().expect("robot account");
    call(Method::GET, "/api/accounts", json!(null)).await;
    call(Method::GET, &format!("/api/accounts/{robot_id}"), json!(null)).await;
    let mut edit = wecom_account.clone();
    for k in ["id", "createdAt", "updatedAt"] {
        edit.as_object_mut().unwrap().remove(k);
    }
    call(Method::PUT, &format!("/api/accounts/{wecom_id}"), edit).await;
    let sent = call(Method::POST, &format!("/api/accounts/{wecom_id}/test"), json!({"receiver": "lilei"})).await;
    assert_eq!(sent["outcome"], "sent", "{sent}");
    let failed = call(Method::POST, &format!("/api/accounts/{robot_id}/test"), json!({"receiver": "x"})).await;
    assert_ne!(failed["outcome"], "sent", "{failed}");
    call(Method::POST, &format!("/api/accounts/{wecom_id}/refresh-token"), json!({})).await;
    call(Method::POST, &format!("/api/accounts/{robot_id}/refresh-token"), json!({})).await;
    // A wrong secret: refused by the provider; its error must not echo the secret either.
    let bad = call(
        Method::POST,
        "/api/accounts",
        json!({"name": "bad", "channel": "wecom_app",
        "config": {"corpId": CORP_ID, "corpSecret": format!("{WECOM_SECRET}-wrong"), "agentId": 1, "baseUrl": wecom}}),
    )
    .await;
    call(Method::POST, &format!("/api/accounts/{}/refresh-token", bad["id"]), json!({})).await;

    // Messages through the accounts and a signed webhook, via the send API.
    let hook = call(
        Method::POST,
        "/api/templates",
        json!({"name": "hook", "channel": "webhook",
        "content": {"url": format!("http://127.0.0.1:{}/x", free_port()), "text": "hi"}}),
    )
    .await;
    let notice = call(
        Method::POST,
        "/api/templates",
        json!({"name": "notice", "channel": "wecom_app", "channelAccount": "corp",
        "content": {"body": "hello"}}),
    )
    .await;
    for template in [&hook, &notice] {
        let id = template["id"].as_i64().expect("template");
        call(
            Method::POST,
            "/send",
            json!({"code": "send", "messageTemplateId": id, "messageParam": {"receiver": "hanmeimei"}}),
        )
        .await;
    }
    for _ in 0..500 {
        if fake.state().messages.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(fake.state().messages.len(), 2, "the test send and the API send reached WeCom");
    tokio::time::sleep(Duration::from_millis(500)).await;
    drop(server);

    let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap();
    assert!(log.len() > 1_000 && log.contains("DEBUG"), "the log was written at debug level");
    for secret in [WECOM_SECRET, ROBOT_TOKEN, ROBOT_SECRET, WEBHOOK_SECRET, SEALING_KEY, "tok-1", "tok-2"] {
        assert!(!log.contains(secret), "the log contains {secret:?}");
        for answer in &answers {
            assert!(!answer.contains(secret), "an API answer contains {secret:?}: {answer}");
        }
    }
    let db = std::fs::read(dir.path().join("herald.sqlite")).unwrap();
    for secret in [WECOM_SECRET, ROBOT_TOKEN, ROBOT_SECRET] {
        assert!(!db.windows(secret.len()).any(|w| w == secret.as_bytes()), "the database holds {secret:?} in clear");
    }
}
