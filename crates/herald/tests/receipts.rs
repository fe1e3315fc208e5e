//! SMS delivery receipts pushed as Tencent Cloud and Aliyun push them, counted where the user
//! looks: each lands in its message's trace (found by Tencent's `sid`, the `SerialNo` the send
//! recorded, or by Aliyun's `out_id`, herald's own id), once however often it is pushed; a
//! receipt naming no sent message is listed, not dropped; the funnel counts them.

mod common;

use axum::extract::State;
use axum::routing::any;
use chrono::{TimeZone, Utc};
use common::trace::{receipts, wait_for};
use common::*;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// An SMS provider that accepts every send, numbering its ids: Tencent's `SerialNo`
/// (`5000:<n>`) or Aliyun's `BizId` (`9000<n>^0`). (Signatures are checked by herald-channels'
/// own SMS tests.)
async fn fake_provider(aliyun: bool) -> String {
    let sends = Arc::new(AtomicUsize::new(0));
    let app = axum::Router::new()
        .route(
            "/",
            any(move |State(sends): State<Arc<AtomicUsize>>| async move {
                let n = sends.fetch_add(1, Ordering::SeqCst) + 1;
                axum::Json(if aliyun {
                    json!({"Code": "OK", "Message": "OK", "BizId": format!("9000{n}^0"), "RequestId": "r"})
                } else {
                    json!({"Response": {"SendStatusSet": [{"SerialNo": format!("5000:{n}"), "Code": "Ok",
                        "Message": "send success", "PhoneNumber": "+8613800000000", "Fee": 1}], "RequestId": "r"}})
                })
            }),
        )
        .with_state(sends);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

fn supplier(provider: &str, endpoint: &str) -> Value {
    match provider {
        "tencent" => json!({"provider": "tencent", "secretId": "AKIDtest", "secretKey": "test-secret-key-0123456789",
            "sdkAppId": "1400006666", "signName": "herald", "templateId": "100001", "endpoint": endpoint,
            "paramOrder": ["name"]}),
        _ => json!({"provider": "aliyun", "accessKeyId": "LTAI", "accessKeySecret": "secret-0123456789",
            "signName": "herald", "templateCode": "SMS_1", "endpoint": endpoint}),
    }
}

/// An SMS account of `provider` on a fake, a template through it, and the account's receipt URL.
async fn sms_template(node: &TestNode, provider: &str) -> (i64, String) {
    let endpoint = fake_provider(provider == "aliyun").await;
    let account = json!({"name": format!("sms-{provider}"), "channel": "sms",
                         "config": {"suppliers": [supplier(provider, &endpoint)]}});
    let (status, created) = node.post("/api/accounts", &account).await;
    assert_eq!(status, 201, "{created}");
    let field = if provider == "tencent" { "tencentStatus" } else { "aliyunReport" };
    let url = node.url(created["replyCallbacks"][field].as_str().expect("a receipt URL"));
    let template = node
        .template(json!({"name": provider, "channel": "sms", "channelAccount": format!("sms-{provider}"),
                         "content": {"params": {"name": "{$name}"}}}))
        .await;
    (template, url)
}

/// Sends to `count` numbers; answers each message id with the provider's id its send recorded.
async fn send(node: &TestNode, template: i64, count: usize) -> Vec<(String, String)> {
    let receivers: Vec<String> = (0..count).map(|n| format!("1380000000{n}")).collect();
    let body = json!({"code": "send", "messageTemplateId": template,
                      "messageParam": {"receiver": receivers.join(","), "variables": {"name": "Li"}}});
    let (status, sent) = node.post("/send", &body).await;
    assert_eq!(status, 200, "{sent}");
    let mut ids = Vec::new();
    for message in sent["data"].as_array().unwrap() {
        let id = message["messageId"].as_str().unwrap().to_string();
        let sent = wait_for(node, &id, "sent").await;
        let provider_id = sent["detail"].as_str().unwrap().split_once(": ").unwrap().1.to_string();
        ids.push((id, provider_id));
    }
    ids
}

async fn push(url: &str, body: &Value) -> (u16, Value) {
    let r = reqwest::Client::new().post(url).json(body).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_land_in_the_trace_once_and_the_unknown_are_listed() {
    let dir = tempfile::tempdir().unwrap();
    let node = TestNode::start(&test_config(dir.path()), Utc.with_ymd_and_hms(2026, 5, 1, 3, 0, 0).unwrap()).await;

    // Tencent names a message by its sid.
    let (tencent, tencent_url) = sms_template(&node, "tencent").await;
    let sent = send(&node, tencent, 3).await;
    let report = |status: &str, code: &str, sid: &str| {
        json!({"user_receive_time": "2026-05-01 11:00:05", "nationcode": "86", "mobile": "13800000000",
               "report_status": status, "errmsg": code, "description": "d", "sid": sid})
    };
    let body = json!([
        report("SUCCESS", "DELIVRD", &sent[0].1),
        report("FAIL", "MK:0001", &sent[1].1),
        report("SUCCESS", "DELIVRD", "5000:unknown")
    ]);
    for _ in 0..2 {
        assert_eq!(push(&tencent_url, &body).await, (200, json!({"result": 0, "errmsg": "OK"})), "pushed twice");
    }
    assert_eq!(receipts(&node, &sent[0].0).await, [("delivered".to_string(), "DELIVRD".to_string())], "once");
    assert_eq!(receipts(&node, &sent[1].0).await, [("undelivered".to_string(), "MK:0001".to_string())]);
    assert_eq!(receipts(&node, &sent[2].0).await, [], "no receipt for it yet");

    // Aliyun names it by out_id (herald's id), or else by biz_id.
    let (aliyun, aliyun_url) = sms_template(&node, "aliyun").await;
    let sent_a = send(&node, aliyun, 2).await;
    let body = json!([
        {"phone_number": "13800000000", "send_time": "2026-05-01 11:00:00", "report_time": "2026-05-01 11:00:04",
         "success": true, "err_code": "DELIVERED", "err_msg": "用户接收成功", "sms_size": "1", "biz_id": "x",
         "out_id": sent_a[0].0},
        {"phone_number": "13800000001", "success": false, "err_code": "IC_BLACK", "biz_id": sent_a[1].1, "out_id": ""}]);
    assert_eq!(push(&aliyun_url, &body).await, (200, json!({"code": 0, "msg": "接收成功"})));
    assert_eq!(receipts(&node, &sent_a[0].0).await, [("delivered".to_string(), "DELIVERED".to_string())]);
    assert_eq!(receipts(&node, &sent_a[1].0).await, [("undelivered".to_string(), "IC_BLACK".to_string())]);

    // The unknown sid is listed, each time it came; the funnel counts what receipts said.
    let (_, unmatched) = node.get("/api/receipts/unmatched").await;
    let listed: Vec<(String, String)> = unmatched["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["provider"].as_str().unwrap().into(), r["reference"].as_str().unwrap().into()))
        .collect();
    assert_eq!(listed, vec![("tencent".to_string(), "5000:unknown".to_string()); 2]);
    let (_, funnel) = node.get(&format!("/api/templates/{tencent}/funnel")).await;
    assert_eq!((funnel["sent"].as_i64(), funnel["delivered"].as_i64()), (Some(3), Some(1)), "{funnel}");
    assert_eq!((funnel["read"].as_i64(), funnel["undelivered"].as_i64()), (Some(0), Some(1)), "{funnel}");

    // A token herald did not make is a 404; a body not as documented says why in the provider's shape.
    let forged = tencent_url.replace("/inbound/sms/tencent/", "/inbound/sms/tencent/x");
    assert_eq!(push(&forged, &body).await.0, 404);
    let (status, refused) = push(&tencent_url, &json!([{"report_status": "MAYBE", "sid": "1"}])).await;
    assert_eq!((status, refused["result"].as_i64()), (400, Some(1)), "{refused}");
    assert!(refused["errmsg"].as_str().unwrap().contains("report_status \"MAYBE\""), "{refused}");
    let (status, refused) = push(&aliyun_url, &json!({"not": "a list"})).await;
    assert_eq!((status, refused["code"].as_i64()), (400, Some(1)), "{refused}");
    node.node.shutdown().await;
}
