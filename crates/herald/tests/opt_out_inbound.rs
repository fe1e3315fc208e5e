//! Opt-outs that come from outside, counted where the user looks: SMS replies pushed to an
//! account's callback URLs (Tencent Cloud's reply callback with `TD`, Aliyun's `SmsUp` batch
//! with `退订`) keep marketing SMS from the fake provider while notices still reach it; a
//! marketing mail offers RFC 8058 one-click unsubscribe (both headers, at a real SMTP server:
//! scripts/smtp-sink.py, which needs python3 and aiosmtpd), and a POST of its link keeps the
//! next marketing mail from that address only, while a GET, a tampered token or a token made
//! for another purpose change nothing; an address the server calls unknown (550 5.1.1) is not
//! tried again, for any kind of mail.

mod common;

use axum::Json;
use axum::extract::State;
use axum::routing::post;
use chrono::{TimeZone, Utc};
use common::*;
use serde_json::{Value, json};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A node whose public address is its own listener (`None`: no public address).
async fn node(public: bool) -> (tempfile::TempDir, TestNode, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    let port = herald_testkit::free_port();
    config.server.listen = format!("127.0.0.1:{port}");
    let public_url = format!("http://127.0.0.1:{port}");
    config.server.public_url = public.then(|| format!("{public_url}/"));
    let node = TestNode::start(&config, Utc.with_ymd_and_hms(2026, 6, 1, 2, 0, 0).unwrap()).await;
    (dir, node, public_url)
}

/// Sends `template` to `receivers` and waits until each message's trace ends (sent,
/// suppressed, failed, ...); returns each receiver's last event.
async fn send(node: &TestNode, template: i64, receivers: &str) -> Vec<(String, String)> {
    let body = json!({"code": "send", "messageTemplateId": template,
                      "messageParam": {"receiver": receivers, "variables": {"name": "李雷"}}});
    let (status, answer) = node.post("/send", &body).await;
    assert_eq!(status, 200, "{answer}");
    let mut ends = Vec::new();
    for item in answer["data"].as_array().unwrap() {
        let end = last_event(node, item["messageId"].as_str().unwrap()).await;
        ends.push((item["receiver"].as_str().unwrap().to_string(), end));
    }
    ends
}

async fn last_event(node: &TestNode, message_id: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, trace) = node.get(&format!("/api/trace/{message_id}")).await;
        let events: Vec<String> = trace["events"]
            .as_array()
            .map(|e| e.iter().map(|e| e["event"].as_str().unwrap().to_string()).collect())
            .unwrap_or_default();
        match events.last().map(String::as_str) {
            Some("accepted" | "retrying" | "deferred") | None => {}
            Some(end) => return end.to_string(),
        }
        assert!(Instant::now() < deadline, "message {message_id} did not finish: {events:?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn post_raw(url: &str, content_type: &str, body: impl Into<reqwest::Body>) -> (u16, String) {
    let response =
        reqwest::Client::new().post(url).header("Content-Type", content_type).body(body).send().await.expect("POST");
    (response.status().as_u16(), response.text().await.unwrap_or_default())
}

async fn post_json(url: &str, body: &Value) -> (u16, Value) {
    let (status, text) = post_raw(url, "application/json", body.to_string()).await;
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A token with one character in its middle changed.
fn tampered(token: &str) -> String {
    let mut chars: Vec<char> = token.chars().collect();
    let middle = chars.len() / 2;
    chars[middle] = if chars[middle] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

// ---------------------------------------------------------------- SMS

/// Tencent Cloud's `SendSms` as herald calls it, answering as documented; keeps each number.
/// (Signatures are checked by herald-channels' own SMS tests.)
struct FakeTencent {
    url: String,
    phones: Arc<Mutex<Vec<String>>>,
}

impl FakeTencent {
    async fn start() -> Self {
        let phones = Arc::new(Mutex::new(Vec::new()));
        let app = axum::Router::new().route("/", post(tencent_send)).with_state(phones.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, phones }
    }

    /// Every number sent to so far, bare (as a mainland number is dialled).
    fn phones(&self) -> Vec<String> {
        let phones = self.phones.lock().unwrap().clone();
        phones.into_iter().map(|p| p.trim_start_matches("+86").to_string()).collect()
    }
}

async fn tencent_send(State(phones): State<Arc<Mutex<Vec<String>>>>, Json(request): Json<Value>) -> Json<Value> {
    let phone = request["PhoneNumberSet"][0].as_str().unwrap().to_string();
    phones.lock().unwrap().push(phone.clone());
    Json(json!({"Response": {"SendStatusSet": [{"SerialNo": "5000:1045710669157053657849499619", "PhoneNumber": phone,
        "Fee": 1, "SessionContext": request["SessionContext"], "Code": "Ok", "Message": "send success", "IsoCode": "CN"}],
        "RequestId": "a0aabda6-cf91-4f3e-a81f-9198114a2279"}}))
}

fn sms_account(endpoint: &str) -> Value {
    json!({"name": "sms-main", "channel": "sms", "config": {"suppliers": [{"provider": "tencent",
        "secretId": "AKIDtest", "secretKey": "test-secret-key-0123456789", "sdkAppId": "1400006666",
        "signName": "herald", "templateId": "100001", "endpoint": endpoint, "paramOrder": ["name"]}]}})
}

async fn sms_template(node: &TestNode, name: &str, msg_type: i32) -> i64 {
    node.template(json!({"name": name, "channel": "sms", "channelAccount": "sms-main", "msgType": msg_type,
                         "content": {"params": {"name": "{$name}"}}}))
        .await
}

/// The account's callback URLs, as its API answer shows them.
async fn callbacks(node: &TestNode, account: i64) -> (String, String) {
    let (status, shown) = node.get(&format!("/api/accounts/{account}")).await;
    assert_eq!(status, 200, "{shown}");
    let url = |provider: &str| shown["replyCallbacks"][provider].as_str().expect("a callback URL").to_string();
    (url("tencent"), url("aliyun"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sms_replies_opt_numbers_out_of_marketing_sms_only() {
    let (_dir, node, public_url) = node(true).await;
    let fake = FakeTencent::start().await;
    let (status, account) = node.post("/api/accounts", &sms_account(&fake.url)).await;
    assert_eq!(status, 201, "{account}");
    let (tencent, aliyun) = callbacks(&node, account["id"].as_i64().unwrap()).await;
    assert!(tencent.starts_with(&format!("{public_url}/inbound/sms/tencent/")), "{tencent}");
    assert!(aliyun.starts_with(&format!("{public_url}/inbound/sms/aliyun/")), "{aliyun}");

    // The providers push replies as they document them, and get their documented answers.
    let reply = json!({"extend": "", "mobile": "13800000001", "nationcode": "86", "sign": "herald", "text": "TD",
                       "time": 1_780_279_200});
    assert_eq!(post_json(&tencent, &reply).await, (200, json!({"result": 0, "errmsg": "OK"})));
    let push = json!([
        {"phone_number": "13800000002", "send_time": "2026-06-01 10:00:00", "content": "退订", "sign_name": "herald",
         "dest_code": "1234", "sequence_id": 1_234_567_890_i64},
        {"phone_number": "13800000004", "send_time": "2026-06-01 10:00:01", "content": "谢谢", "sign_name": "herald",
         "dest_code": "1234", "sequence_id": "1234567891"},
    ]);
    assert_eq!(post_json(&aliyun, &push).await, (200, json!({"code": 0, "msg": "接收成功"})));

    // Bad bodies are refused in each provider's shape, naming the problem; bad tokens are 404s.
    let (status, refused) = post_json(&tencent, &json!({"mobile": "13800000009", "text": "TD"})).await;
    assert_eq!((status, refused["result"].clone()), (400, json!(1)), "{refused}");
    assert!(refused["errmsg"].as_str().unwrap().contains("nationcode"), "{refused}");
    let (status, refused) = post_json(&aliyun, &json!({"phone_number": "13800000009", "content": "TD"})).await;
    assert_eq!((status, refused["code"].clone()), (400, json!(1)), "{refused}");
    let (status, _) = post_raw(&aliyun, "application/json", vec![b' '; 2 * 1024 * 1024]).await;
    assert_eq!(status, 413);
    let token = tencent.rsplit('/').next().unwrap();
    let other_account = token.replacen(token.split('.').next().unwrap(), "999", 1);
    for url in [
        format!("{public_url}/inbound/sms/tencent/{}", tampered(token)),
        format!("{public_url}/inbound/sms/tencent/{other_account}"),
    ] {
        let (status, body) = post_json(&url, &reply).await;
        assert_eq!(status, 404, "{url}: {body}");
        assert!(!body.to_string().contains("result"), "{body}");
    }
    // The callback token is not an unsubscribe token.
    let (status, _) = post_raw(
        &format!("{public_url}/unsubscribe/{token}"),
        "application/x-www-form-urlencoded",
        "List-Unsubscribe=One-Click",
    )
    .await;
    assert_eq!(status, 404);

    // Marketing SMS reach only the numbers that did not opt out; +86 or not, a number is one.
    let promo = sms_template(&node, "promo", 20).await;
    let ends = send(&node, promo, "13800000001,+8613800000002,13800000003,13800000004").await;
    let mut received = fake.phones();
    received.sort();
    assert_eq!(received, ["13800000003", "13800000004"], "{ends:?}");
    assert_eq!(ends[0].1, "suppressed", "{ends:?}");
    assert_eq!(ends[1].1, "suppressed", "{ends:?}");

    // Opting out of marketing leaves notices.
    let notice = sms_template(&node, "notice", 10).await;
    send(&node, notice, "13800000001,13800000002").await;
    let mut notified = fake.phones()[2..].to_vec();
    notified.sort();
    assert_eq!(notified, ["13800000001", "13800000002"], "{:?}", fake.phones());
    node.node.shutdown().await;
}

// ---------------------------------------------------------------- email

/// An address the sink refuses at RCPT with `550 5.1.1`.
const GONE: &str = "gone@example.org";

/// scripts/smtp-sink.py on a free port, writing what it receives to a temp directory.
struct Sink {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Sink {
    fn start() -> Self {
        let probe = Command::new("python3").args(["-c", "import aiosmtpd"]).output();
        assert!(
            probe.is_ok_and(|out| out.status.success()),
            "python3 with aiosmtpd is needed: run `python3 -m pip install aiosmtpd`"
        );
        let script: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/smtp-sink.py");
        let dir = tempfile::tempdir().unwrap();
        let port = herald_testkit::free_port();
        let child = Command::new("python3")
            .arg(script)
            .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--dir"])
            .arg(dir.path().join("mail"))
            .args(["--reject", GONE])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn python3 scripts/smtp-sink.py");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "smtp-sink did not listen on port {port} within 20 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        Sink { child, port, dir }
    }

    /// The mails `to` received whose subject starts with `subject`.
    fn mails(&self, to: &str, subject: &str) -> Vec<Value> {
        let Ok(entries) = std::fs::read_dir(self.dir.path().join("mail")) else { return Vec::new() };
        entries
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .map(|p| serde_json::from_str::<Value>(&std::fs::read_to_string(p).unwrap()).unwrap())
            .filter(|m| m["rcptTos"][0] == to && m["subject"].as_str().unwrap_or_default().starts_with(subject))
            .collect()
    }
}

async fn email_templates(node: &TestNode, sink: &Sink) -> (i64, i64) {
    let account = json!({"name": "mail", "channel": "email", "config": {"host": "127.0.0.1", "port": sink.port,
        "security": "plain", "from": "Herald <noreply@herald.test>", "timeoutMs": 5000}});
    let (status, created) = node.post("/api/accounts", &account).await;
    assert_eq!(status, 201, "{created}");
    assert!(created.get("replyCallbacks").is_none(), "only SMS accounts have reply callbacks: {created}");
    let template = |name: &str, msg_type: i32| {
        json!({"name": name, "channel": "email", "channelAccount": "mail", "msgType": msg_type,
               "content": {"subject": format!("{name} for {{$name}}"), "text": "hello"}})
    };
    (node.template(template("Sale", 20)).await, node.template(template("Notice", 10)).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn marketing_mail_offers_one_click_unsubscribe_and_a_post_of_its_link_is_honoured() {
    let sink = Sink::start();
    let (_dir, node, public_url) = node(true).await;
    let (sale, notice) = email_templates(&node, &sink).await;
    let (a, b) = ("Li.Lei@example.org", "han.mei@example.org");

    // Marketing mail carries both RFC 8058 headers; the link does not show the address.
    assert_eq!(send(&node, sale, &format!("{a},{b}")).await[0].1, "sent");
    let mail = sink.mails(a, "Sale").pop().expect("the sale reached a");
    let link = mail["headers"]["List-Unsubscribe"].as_str().expect("List-Unsubscribe").to_string();
    assert_eq!(mail["headers"]["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click", "{mail}");
    let link = link.strip_prefix('<').and_then(|l| l.strip_suffix('>')).expect("<link>").to_string();
    let token = link.strip_prefix(&format!("{public_url}/unsubscribe/")).expect(&link).to_string();
    assert!(!link.to_lowercase().contains("li.lei"), "{link}");
    // A notice offers none.
    send(&node, notice, a).await;
    let notice_mail = sink.mails(a, "Notice").pop().expect("the notice reached a");
    assert!(notice_mail["headers"].get("List-Unsubscribe").is_none(), "{notice_mail}");
    assert!(notice_mail["headers"].get("List-Unsubscribe-Post").is_none(), "{notice_mail}");

    // A GET shows a button and unsubscribes no one: the next sale still arrives.
    let page = reqwest::get(&link).await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains(r#"<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">"#),
        "{html}"
    );
    assert_eq!(send(&node, sale, a).await[0].1, "sent");
    assert_eq!(sink.mails(a, "Sale").len(), 2);

    // Tampered tokens, a token made for another purpose and a POST without the one-click
    // form change nothing.
    let form = "application/x-www-form-urlencoded";
    let (status, _) =
        post_raw(&format!("{public_url}/unsubscribe/{}", tampered(&token)), form, "List-Unsubscribe=One-Click").await;
    assert_eq!(status, 404);
    assert_eq!(
        reqwest::get(format!("{public_url}/unsubscribe/{}", tampered(&token))).await.unwrap().status().as_u16(),
        404
    );
    let (_, account) = node.post("/api/accounts", &sms_account("http://127.0.0.1:9")).await;
    let (callback, _) = callbacks(&node, account["id"].as_i64().unwrap()).await;
    let callback_token = callback.rsplit('/').next().unwrap();
    let (status, _) =
        post_raw(&format!("{public_url}/unsubscribe/{callback_token}"), form, "List-Unsubscribe=One-Click").await;
    assert_eq!(status, 404, "a callback token is not an unsubscribe token");
    let (status, _) = post_json(&format!("{public_url}/inbound/sms/tencent/{token}"), &json!({})).await;
    assert_eq!(status, 404, "an unsubscribe token is not a callback token");
    let (status, _) = post_raw(&link, form, "").await;
    assert_eq!(status, 400);
    assert_eq!(send(&node, sale, a).await[0].1, "sent");
    assert_eq!(sink.mails(a, "Sale").len(), 3);

    // The one-click POST (form-encoded, then multipart as RFC 8058 prefers) answers 200 each time.
    let (status, done) = post_raw(&link, form, "List-Unsubscribe=One-Click").await;
    assert_eq!(status, 200, "{done}");
    let multipart = reqwest::multipart::Form::new().text("List-Unsubscribe", "One-Click");
    let again = reqwest::Client::new().post(&link).multipart(multipart).send().await.unwrap();
    assert_eq!(again.status().as_u16(), 200, "repeats are fine");

    // The next sale reaches b only; a notice still reaches a.
    let ends = send(&node, sale, &format!("{a},{b}")).await;
    assert_eq!(sink.mails(a, "Sale").len(), 3, "{ends:?}");
    assert_eq!(sink.mails(b, "Sale").len(), 2, "{ends:?}");
    assert_eq!(ends[0].1, "suppressed", "{ends:?}");
    send(&node, notice, a).await;
    assert_eq!(sink.mails(a, "Notice").len(), 2);
    node.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_public_address_marketing_mail_offers_no_unsubscribe_and_callbacks_are_paths() {
    let sink = Sink::start();
    let (_dir, node, _) = node(false).await;
    let (sale, _) = email_templates(&node, &sink).await;
    assert_eq!(send(&node, sale, "a@example.org").await[0].1, "sent");
    let mail = sink.mails("a@example.org", "Sale").pop().expect("the sale arrived");
    assert!(mail["headers"].get("List-Unsubscribe").is_none(), "{mail}");
    let (_, account) = node.post("/api/accounts", &sms_account("http://127.0.0.1:9")).await;
    let (tencent, aliyun) = callbacks(&node, account["id"].as_i64().unwrap()).await;
    assert!(tencent.starts_with("/inbound/sms/tencent/") && aliyun.starts_with("/inbound/sms/aliyun/"), "{tencent}");
    // Posted to this node's address, the path works.
    let reply =
        json!({"mobile": "13800000001", "nationcode": "86", "text": "退订", "time": 1, "sign": "", "extend": ""});
    assert_eq!(post_json(&node.url(&tencent), &reply).await, (200, json!({"result": 0, "errmsg": "OK"})));
    node.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hard_bounce_keeps_every_kind_of_mail_from_the_unknown_address() {
    let sink = Sink::start();
    let (_dir, node, _) = node(false).await;
    let (sale, notice) = email_templates(&node, &sink).await;
    // The server refuses the address at RCPT with 550 5.1.1: the notice fails, once.
    assert_eq!(send(&node, notice, GONE).await[0].1, "failed");
    let (_, listed) = node.get("/api/suppressions?source=bounce").await;
    let entry = &listed["items"][0];
    assert_eq!((entry["receiver"].as_str(), entry["channel"].as_str()), (Some(GONE), Some("email")), "{listed}");
    assert_eq!(entry["kinds"], json!(["notice", "marketing", "verification"]), "{listed}");
    // No kind of mail is tried there again; other addresses are untouched.
    assert_eq!(send(&node, notice, GONE).await[0].1, "suppressed");
    let ends = send(&node, sale, &format!("{GONE},c@example.org")).await;
    assert_eq!((ends[0].1.as_str(), ends[1].1.as_str()), ("suppressed", "sent"), "{ends:?}");
    assert_eq!(sink.mails("c@example.org", "Sale").len(), 1);
    node.node.shutdown().await;
}
