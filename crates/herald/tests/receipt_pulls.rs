//! Receipts herald asks providers for on its housekeeping schedule (Tencent Cloud
//! `PullSmsSendStatus`, Aliyun `QuerySendDetails`, DingTalk `getsendresult`) and Getui's signed
//! receipt callback, counted where the user looks: each lands in its message's trace once,
//! however often the provider repeats it; an unknown serial is listed; a provider that fails
//! or refuses the token loses nothing, the next pass gets it. (The fakes here follow the
//! providers' shapes and check DingTalk's token and Getui's auth; request signatures are
//! checked by herald-channels' own pull tests.)

mod common;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::routing::{any, get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, TimeZone, Utc};
use common::trace::{receipts, wait_for};
use common::*;
use herald::receipt_pulls::ReceiptPulls;
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 1, 3, 0, 30).unwrap()
}

/// What the fake providers hold and were asked.
#[derive(Default)]
struct Provider {
    sends: usize,
    /// Tencent: reports not pulled yet.
    reports: VecDeque<Value>,
    /// Aliyun: `SmsSendDetailDTO` by BizId.
    details: HashMap<String, Value>,
    /// Aliyun: the BizIds asked about.
    asked: Vec<String>,
    /// Answer the next receipt questions with HTTP 500.
    fail_next: usize,
}

type Shared = Arc<Mutex<Provider>>;

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

fn failing(state: &mut Provider) -> bool {
    let fail = state.fail_next > 0;
    state.fail_next = state.fail_next.saturating_sub(1);
    fail
}

/// Tencent Cloud SMS: `SendSms` numbers its serials `5000:<n>`; `PullSmsSendStatus` hands over
/// up to `Limit` reports, each once.
async fn tencent(state: Shared) -> String {
    let handler = |State(state): State<Shared>, headers: HeaderMap, Json(body): Json<Value>| async move {
        let mut s = state.lock().unwrap();
        match headers.get("x-tc-action").and_then(|a| a.to_str().ok()) {
            Some("PullSmsSendStatus") => {
                if failing(&mut s) {
                    return (axum::http::StatusCode::INTERNAL_SERVER_ERROR, Json(json!("busy")));
                }
                let limit = body["Limit"].as_u64().unwrap_or(0).min(100) as usize;
                let take = limit.min(s.reports.len());
                let set: Vec<Value> = s.reports.drain(..take).collect();
                (axum::http::StatusCode::OK, Json(json!({"Response": {"PullSmsSendStatusSet": set, "RequestId": "r"}})))
            }
            _ => {
                s.sends += 1;
                let status = json!({"SerialNo": format!("5000:{}", s.sends), "Code": "Ok", "Message": "send success",
                    "PhoneNumber": "+8613800000000", "Fee": 1});
                (axum::http::StatusCode::OK, Json(json!({"Response": {"SendStatusSet": [status], "RequestId": "r"}})))
            }
        }
    };
    serve(Router::new().route("/", any(handler)).with_state(state)).await
}

/// Aliyun SMS: `SendSms` numbers its BizIds `9000<n>^0`; `QuerySendDetails` answers the detail
/// of the BizId asked about.
async fn aliyun(state: Shared) -> String {
    let handler = |State(state): State<Shared>, Query(query): Query<HashMap<String, String>>| async move {
        let mut s = state.lock().unwrap();
        if query.get("Action").map(String::as_str) == Some("QuerySendDetails") {
            let id = query.get("BizId").cloned().unwrap_or_default();
            s.asked.push(id.clone());
            if failing(&mut s) {
                return (axum::http::StatusCode::INTERNAL_SERVER_ERROR, Json(json!("busy")));
            }
            let found: Vec<Value> = s.details.get(&id).cloned().into_iter().collect();
            let body = json!({"Code": "OK", "Message": "OK", "RequestId": "r", "TotalCount": found.len(),
                "SmsSendDetailDTOs": {"SmsSendDetailDTO": found}});
            return (axum::http::StatusCode::OK, Json(body));
        }
        s.sends += 1;
        let body = json!({"Code": "OK", "Message": "OK", "BizId": format!("9000{}^0", s.sends), "RequestId": "r"});
        (axum::http::StatusCode::OK, Json(body))
    };
    serve(Router::new().route("/", get(handler)).with_state(state)).await
}

fn supplier(provider: &str, endpoint: &str) -> Value {
    match provider {
        "tencent" => json!({"provider": "tencent", "secretId": "AKIDtest", "secretKey": "test-secret-key-0123456789",
            "sdkAppId": "1400006666", "signName": "herald", "templateId": "100001", "endpoint": endpoint}),
        _ => json!({"provider": "aliyun", "accessKeyId": "LTAI", "accessKeySecret": "secret-0123456789",
            "signName": "herald", "templateCode": "SMS_1", "endpoint": endpoint}),
    }
}

/// An account named `name` of `channel` with `config`, and a template sending through it.
async fn template_through(node: &TestNode, name: &str, channel: &str, config: Value, content: Value) -> (i64, Value) {
    let (status, account) =
        node.post("/api/accounts", &json!({"name": name, "channel": channel, "config": config})).await;
    assert_eq!(status, 201, "{account}");
    let spec = json!({"name": name, "channel": channel, "channelAccount": name, "content": content});
    (node.template(spec).await, account)
}

/// Sends to each receiver; answers (message id, what the send recorded), in order.
async fn send(node: &TestNode, template: i64, receivers: &[&str]) -> Vec<(String, String)> {
    let body = json!({"code": "send", "messageTemplateId": template,
                      "messageParam": {"receiver": receivers.join(","), "variables": {}}});
    let (status, sent) = node.post("/send", &body).await;
    assert_eq!(status, 200, "{sent}");
    let mut out = Vec::new();
    for message in sent["data"].as_array().unwrap() {
        let id = message["messageId"].as_str().unwrap().to_string();
        let detail = wait_sent(node, &id).await;
        out.push((id, detail));
    }
    out
}

async fn wait_sent(node: &TestNode, id: &str) -> String {
    wait_for(node, id, "sent").await["detail"].as_str().unwrap_or_default().to_string()
}

fn pair(event: &str, detail: &str) -> (String, String) {
    (event.to_string(), detail.to_string())
}

/// The job, as the node's scheduler runs it, to drive one pass at a time.
fn job(node: &TestNode) -> ReceiptPulls {
    let context = &node.node.context;
    ReceiptPulls {
        store: context.store.clone(),
        accounts: context.accounts.clone(),
        clock: node.clock.clone(),
        max_calls_per_account: 20,
        cursors: Default::default(),
    }
}

async fn unmatched(node: &TestNode) -> Vec<(String, String)> {
    let (_, listed) = node.get("/api/receipts/unmatched").await;
    let items = listed["items"].as_array().unwrap();
    items.iter().map(|r| (r["provider"].as_str().unwrap().into(), r["reference"].as_str().unwrap().into())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pulled_sms_receipts_land_once_and_a_failing_provider_loses_none() {
    let dir = tempfile::tempdir().unwrap();
    let node = TestNode::start(&test_config(dir.path()), start()).await;
    let (tc, al) = (Shared::default(), Shared::default());
    let tencent_url = tencent(tc.clone()).await;
    let aliyun_url = aliyun(al.clone()).await;
    let sms = |provider: &str, url: &str| json!({"suppliers": [supplier(provider, url)]});
    let (t_template, _) =
        template_through(&node, "sms-t", "sms", sms("tencent", &tencent_url), json!({"params": {}})).await;
    let (a_template, _) =
        template_through(&node, "sms-a", "sms", sms("aliyun", &aliyun_url), json!({"params": {}})).await;
    let t_sent = send(&node, t_template, &["13800000001", "13800000002", "13800000003"]).await;
    let a_sent = send(&node, a_template, &["13800000004", "13800000005"]).await;
    // Sent in any order: each message's provider id is what its send recorded.
    let serial = |i: usize| t_sent[i].1.strip_prefix("tencent: ").expect("a Tencent serial").to_string();
    let biz = |i: usize| a_sent[i].1.strip_prefix("aliyun: ").expect("an Aliyun BizId").to_string();

    let report = |serial: &str, ok: bool, code: &str| {
        json!({"UserReceiveTime": "2026-05-01 11:00:05", "CountryCode": "86", "SubscriberNumber": "13800000001",
               "PhoneNumber": "+8613800000001", "SerialNo": serial, "ReportStatus": if ok { "SUCCESS" } else { "FAIL" },
               "Description": code, "SessionContext": ""})
    };
    let detail = |status: u8, code: &str| {
        json!({"ErrCode": code, "TemplateCode": "SMS_1", "OutId": "", "SendDate": "2026-05-01 11:00:00",
               "ReceiveDate": "2026-05-01 11:00:04", "PhoneNum": "13800000004", "Content": "c", "SendStatus": status})
    };
    {
        let mut t = tc.lock().unwrap();
        t.reports.extend([report(&serial(0), true, "DELIVRD"), report(&serial(1), false, "MK:0001")]);
        t.reports.push_back(report("5000:unknown", true, "DELIVRD"));
        t.fail_next = 1;
        let mut a = al.lock().unwrap();
        a.details.insert(biz(0), detail(3, "DELIVERED"));
        a.details.insert(biz(1), detail(1, ""));
        a.fail_next = 1;
    }
    let job = job(&node);

    // Both providers answer 500: the pass fails and nothing is lost.
    let failed = job.pass().await.unwrap_err();
    assert!(failed.contains("sms-t") && failed.contains("sms-a"), "{failed}");
    assert_eq!(receipts(&node, &t_sent[0].0).await, []);
    assert_eq!(tc.lock().unwrap().reports.len(), 3, "Tencent still holds them");

    // The next pass gets them.
    let tally = job.pass().await.unwrap();
    assert_eq!((tally.recorded, tally.repeated, tally.unmatched), (3, 0, 1));
    assert_eq!(receipts(&node, &t_sent[0].0).await, [pair("delivered", "DELIVRD")]);
    assert_eq!(receipts(&node, &t_sent[1].0).await, [pair("undelivered", "MK:0001")]);
    assert_eq!(receipts(&node, &t_sent[2].0).await, []);
    assert_eq!(receipts(&node, &a_sent[0].0).await, [pair("delivered", "DELIVERED")]);
    assert_eq!(receipts(&node, &a_sent[1].0).await, [], "Aliyun says it is still waiting");
    assert_eq!(unmatched(&node).await, [pair("tencent", "5000:unknown")]);

    // Tencent repeats a report, Aliyun's waiting one fails: each lands once.
    tc.lock().unwrap().reports.push_back(report(&serial(0), true, "DELIVRD"));
    al.lock().unwrap().details.insert(biz(1), detail(2, "IC_BLACK"));
    let tally = job.pass().await.unwrap();
    assert_eq!((tally.recorded, tally.repeated, tally.unmatched), (1, 1, 0));
    assert_eq!(receipts(&node, &t_sent[0].0).await, [pair("delivered", "DELIVRD")], "once");
    assert_eq!(receipts(&node, &a_sent[1].0).await, [pair("undelivered", "IC_BLACK")]);
    let asked = al.lock().unwrap().asked.len();
    assert_eq!(asked, 4, "one failed question, two, then only the waiting one");
    job.pass().await.unwrap();
    assert_eq!(al.lock().unwrap().asked.len(), asked, "messages with a final receipt are not asked about again");

    let (_, funnel) = node.get(&format!("/api/templates/{t_template}/funnel")).await;
    assert_eq!((funnel["sent"].as_i64(), funnel["delivered"].as_i64()), (Some(3), Some(1)), "{funnel}");
    assert_eq!(funnel["undelivered"].as_i64(), Some(1), "{funnel}");
    let (_, funnel) = node.get(&format!("/api/templates/{a_template}/funnel")).await;
    assert_eq!((funnel["delivered"].as_i64(), funnel["undelivered"].as_i64()), (Some(1), Some(1)), "{funnel}");
    node.node.shutdown().await;
}

/// DingTalk: tokens from `gettoken` (which can be made to fail), notices numbered by task id,
/// `getsendresult` answering the lists the test set, for a token it gave.
#[derive(Default)]
struct DingTalk {
    tokens: Vec<String>,
    gettoken_fails: bool,
    notices: usize,
    results: HashMap<i64, Value>,
    asked: Vec<i64>,
}

type SharedDing = Arc<Mutex<DingTalk>>;

fn dingtalk_token_ok(state: &DingTalk, query: &HashMap<String, String>) -> bool {
    query.get("access_token").is_some_and(|t| state.tokens.last() == Some(t))
}

async fn dingtalk(state: SharedDing) -> String {
    let gettoken = |State(state): State<SharedDing>, Query(query): Query<HashMap<String, String>>| async move {
        let mut s = state.lock().unwrap();
        if s.gettoken_fails || query.get("appsecret").map(String::as_str) != Some("ding-secret") {
            return Json(json!({"errcode": 40089, "errmsg": "不合法的appkey或appsecret"}));
        }
        let token = format!("token-{}", s.tokens.len() + 1);
        s.tokens.push(token.clone());
        Json(json!({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}))
    };
    let asyncsend = |State(state): State<SharedDing>, Query(query): Query<HashMap<String, String>>| async move {
        let mut s = state.lock().unwrap();
        if !dingtalk_token_ok(&s, &query) {
            return Json(json!({"errcode": 40014, "errmsg": "不合法的access_token"}));
        }
        s.notices += 1;
        Json(json!({"errcode": 0, "errmsg": "ok", "task_id": 7000 + s.notices as i64, "request_id": "q"}))
    };
    let result = |State(state): State<SharedDing>,
                  Query(query): Query<HashMap<String, String>>,
                  Json(body): Json<Value>| async move {
        let mut s = state.lock().unwrap();
        if !dingtalk_token_ok(&s, &query) {
            return Json(json!({"errcode": 40014, "errmsg": "不合法的access_token"}));
        }
        if body["agent_id"].as_i64() != Some(4242) {
            return Json(json!({"errcode": 40056, "errmsg": "不合法的agentid"}));
        }
        let task = body["task_id"].as_i64().unwrap_or_default();
        s.asked.push(task);
        let mut result = json!({"read_user_id_list": [], "unread_user_id_list": [], "invalid_user_id_list": [],
            "forbidden_user_id_list": [], "failed_user_id_list": [], "invalid_dept_id_list": [], "forbidden_list": []});
        if let Some(Value::Object(lists)) = s.results.get(&task) {
            for (name, ids) in lists {
                result[name] = ids.clone();
            }
        }
        Json(json!({"errcode": 0, "errmsg": "ok", "send_result": result, "request_id": "q"}))
    };
    let app = Router::new()
        .route("/gettoken", get(gettoken))
        .route("/topapi/message/corpconversation/asyncsend_v2", post(asyncsend))
        .route("/topapi/message/corpconversation/getsendresult", post(result))
        .with_state(state);
    serve(app).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_notices_read_unread_and_refused_come_in_on_the_schedule() {
    let dir = tempfile::tempdir().unwrap();
    let node = TestNode::start(&test_config(dir.path()), start()).await;
    let ding = SharedDing::default();
    let base = dingtalk(ding.clone()).await;
    let config = json!({"appKey": "ding-key", "appSecret": "ding-secret", "agentId": 4242, "baseUrl": base});
    let content = json!({"content": "hello"});
    let (template, _) = template_through(&node, "notices", "dingtalk_work_notice", config, content).await;
    let sent = send(&node, template, &["ann", "bob", "cat"]).await;
    let task = |i: usize| sent[i].1.strip_prefix("task_id ").unwrap().parse::<i64>().unwrap();
    {
        let mut d = ding.lock().unwrap();
        d.results.insert(task(0), json!({"unread_user_id_list": ["ann"]}));
        d.results.insert(task(1), json!({"failed_user_id_list": ["bob"]}));
    }

    // The receipt_pull schedule fires at the next minute and runs a pass.
    let (_, schedules) = node.get("/api/schedules?kind=receipt_pull").await;
    let schedule = schedules["items"][0].clone();
    assert_eq!(schedule["nextFireAt"], "2026-05-01T03:01:00Z", "{schedules}");
    node.clock.set(start() + Duration::seconds(31));
    let path = format!("/api/schedules/{}/fires", schedule["id"]);
    let mut fire = Value::Null;
    for _ in 0..400 {
        fire = node.get(&path).await.1["items"][0].clone();
        if fire["outcome"] == "succeeded" || fire["outcome"] == "failed" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(fire["outcome"], "succeeded", "{fire}");
    assert_eq!(receipts(&node, &sent[0].0).await, [pair("delivered", "")]);
    assert_eq!(receipts(&node, &sent[1].0).await, [pair("undelivered", "failed_user_id_list")]);
    assert_eq!(receipts(&node, &sent[2].0).await, [], "still sending");

    // DingTalk drops the token and will not give another: the pass fails, nothing is lost.
    let job = job(&node);
    {
        let mut d = ding.lock().unwrap();
        d.results.insert(task(0), json!({"read_user_id_list": ["ann"]}));
        d.results.insert(task(2), json!({"unread_user_id_list": ["cat"]}));
        d.tokens.clear();
        d.gettoken_fails = true;
    }
    assert!(job.pass().await.unwrap_err().contains("notices"), "the account is named");
    assert_eq!(receipts(&node, &sent[0].0).await, [pair("delivered", "")]);
    ding.lock().unwrap().gettoken_fails = false;
    job.pass().await.unwrap();
    job.pass().await.unwrap();
    assert_eq!(receipts(&node, &sent[0].0).await, [pair("delivered", ""), pair("read", "")], "once each");
    assert_eq!(receipts(&node, &sent[2].0).await, [pair("delivered", "")]);
    let asked = ding.lock().unwrap().asked.clone();
    assert!(!asked[3..].contains(&task(1)), "bob's refusal is final: {asked:?}");
    assert_eq!(asked.iter().filter(|t| **t == task(0)).count(), 2, "ann's read is final: {asked:?}");
    let (_, funnel) = node.get(&format!("/api/templates/{template}/funnel")).await;
    let counts = (funnel["delivered"].as_i64(), funnel["read"].as_i64(), funnel["undelivered"].as_i64());
    assert_eq!(counts, (Some(2), Some(1), Some(1)), "{funnel}");
    node.node.shutdown().await;
}

const GETUI_APP: &str = "getui-app";
const GETUI_SECRET: &str = "master-secret-0123";

/// Getui push v2: `auth` for the app key, `push/single/cid` answering task `RASS_0501_1`.
async fn getui() -> String {
    let auth = || async {
        Json(json!({"code": 0, "msg": "success", "data": {"token": "getui-token", "expire_time": "1893456000000"}}))
    };
    let single = |headers: HeaderMap, Json(body): Json<Value>| async move {
        if headers.get("token").and_then(|t| t.to_str().ok()) != Some("getui-token") {
            return Json(json!({"code": 10001, "msg": "token error"}));
        }
        let cid = body["audience"]["cid"][0].as_str().unwrap_or_default().to_string();
        Json(json!({"code": 0, "msg": "", "data": {"RASS_0501_1": {cid: "successed_online"}}}))
    };
    let app = Router::new()
        .route(&format!("/v2/{GETUI_APP}/auth"), post(auth))
        .route(&format!("/v2/{GETUI_APP}/push/single/cid"), post(single));
    serve(app).await
}

/// A receipt line as Getui sends it, signed with `sign` (md5 of appid, cid, taskid, msgid and
/// the master secret, computed outside the code under test).
fn getui_line(appid: &str, msgid: &str, action: &str, sign: &str) -> String {
    json!({"code": "200", "recvtime": 1777604400000u64, "appid": appid, "sign": sign, "msgid": msgid,
           "actionId": action, "taskid": "RASS_0501_1", "desc": "ok", "cid": "cid-1"})
    .to_string()
}

/// `echo -n 'getui-appcid-1RASS_0501_1msg-1master-secret-0123' | md5sum`, and for msg-2.
const SIGN_MSG_1: &str = "49dc87773891c0163d0a90c16b673525";
const SIGN_MSG_2: &str = "8a5a2fa20d2f150d03ae5374ba37b816";

async fn post_text(url: &str, body: String) -> (u16, Value) {
    let r = reqwest::Client::new().post(url).header("content-type", "text/plain").body(body).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn getui_receipts_are_taken_only_with_getuis_signature() {
    let dir = tempfile::tempdir().unwrap();
    let node = TestNode::start(&test_config(dir.path()), start()).await;
    let base = getui().await;
    let config = json!({"appId": GETUI_APP, "appKey": "getui-key", "masterSecret": GETUI_SECRET, "baseUrl": base});
    let content = json!({"title": "Hi", "body": "there"});
    let (template, account) = template_through(&node, "push", "getui_push", config, content).await;
    let url = node.url(account["replyCallbacks"]["getuiReceipt"].as_str().expect("a receipt URL"));
    assert!(url.contains("/inbound/getui/") && url.ends_with("/receipt"), "{url}");
    assert!(account["replyCallbacks"].get("tencent").is_none(), "{account}");
    let sent = send(&node, template, &["cid-1"]).await;
    assert_eq!(sent[0].1, "task RASS_0501_1: successed_online");
    let id = &sent[0].0;

    // A sign made without the master secret, or another app's receipt: refused, nothing kept.
    let forged = getui_line(GETUI_APP, "msg-1", "0", "0123456789abcdef0123456789abcdef");
    let good = getui_line(GETUI_APP, "msg-1", "0", SIGN_MSG_1);
    let (status, refused) = post_text(&url, format!("{good}\n{forged}")).await;
    assert_eq!((status, refused["code"].as_i64()), (401, Some(1)), "{refused}");
    assert!(refused["msg"].as_str().unwrap().contains("line 2: sign does not match"), "{refused}");
    let (status, _) = post_text(&url, getui_line("other-app", "msg-1", "0", SIGN_MSG_1)).await;
    assert_eq!(status, 403);
    let forged_token = url.replace("/inbound/getui/", "/inbound/getui/x");
    assert_eq!(post_text(&forged_token, good.clone()).await.0, 404);
    assert_eq!(receipts(&node, id).await, []);
    assert_eq!(unmatched(&node).await, []);

    // Signed as Getui signs: arrival and click land, once however often they come.
    let click = getui_line(GETUI_APP, "msg-2", "10010", SIGN_MSG_2);
    for _ in 0..2 {
        let (status, answer) = post_text(&url, format!("{good}\n{click}\n")).await;
        assert_eq!((status, answer), (200, json!({"code": 0, "msg": "ok"})));
    }
    assert_eq!(receipts(&node, id).await, [pair("delivered", "0"), pair("read", "10010")]);
    let (_, funnel) = node.get(&format!("/api/templates/{template}/funnel")).await;
    assert_eq!((funnel["delivered"].as_i64(), funnel["read"].as_i64()), (Some(1), Some(1)), "{funnel}");
    node.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feishu_app_messages_are_read_pulled_and_recalled_through_feishu() {
    use herald_testkit::feishu_app::{self, APP_ID, APP_SECRET};
    let dir = tempfile::tempdir().unwrap();
    let node = TestNode::start(&test_config(dir.path()), start()).await;
    let fake = feishu_app::start().await;
    let config = json!({"appId": APP_ID, "appSecret": APP_SECRET, "baseUrl": fake.base_url});
    let content = json!({"msgtype": "post", "title": "Leave", "content": "approved for {$name}"});
    let (template, account) = template_through(&node, "lark", "feishu_app", config, content).await;
    assert_eq!(account["config"]["appSecret"].as_str().map(|s| s.contains(APP_SECRET)), Some(false), "{account}");
    let body = json!({"code": "send", "messageTemplateId": template,
                      "messageParam": {"receiver": "ou_ann,ou_bob,ou_cat", "variables": {"name": "Li Lei"}}});
    let (status, sent) = node.post("/send", &body).await;
    assert_eq!(status, 200, "{sent}");
    let ids: Vec<String> =
        sent["data"].as_array().unwrap().iter().map(|m| m["messageId"].as_str().unwrap().into()).collect();
    for id in &ids {
        wait_for(&node, id, "sent").await;
    }
    let delivered = fake.state().delivered.clone();
    assert_eq!(delivered.len(), 3, "each receiver once");
    assert_eq!(delivered[0].content["zh_cn"]["content"][0][0]["text"], "approved for Li Lei");
    // herald's message id is Feishu's uuid: each receiver's message, by herald's id.
    let id_to = |receiver: &str| {
        let found = delivered.iter().find(|d| d.receive_id == receiver).unwrap();
        (found.uuid.clone().expect("a uuid"), found.message_id.clone())
    };
    let ((ann, ann_feishu), (bob, bob_feishu), (cat, _)) = (id_to("ou_ann"), id_to("ou_bob"), id_to("ou_cat"));
    assert!([&ann, &bob, &cat].iter().all(|id| ids.contains(id)), "{ids:?}");

    // Ann read hers: the pull finds it; the others wait for the next pass.
    fake.state().readers.insert(ann_feishu.clone(), vec!["ou_ann".into()]);
    let tally = job(&node).pass().await.unwrap();
    assert_eq!((tally.recorded, tally.repeated, tally.unmatched), (1, 0, 0));
    assert_eq!(receipts(&node, &ann).await, [pair("read", "")]);
    assert_eq!(receipts(&node, &bob).await, []);
    assert_eq!(fake.state().read_queries.len(), 3, "one question a message");

    // Bob's is recalled through Feishu; recalling it again asks Feishu nothing more.
    let recall = json!({"code": "recall", "messageTemplateId": template, "recallMessageIds": [bob]});
    let (status, answer) = node.post("/recall", &recall).await;
    assert_eq!((status, answer["data"][0]["outcome"].as_str()), (200, Some("recalled")), "{answer}");
    node.post("/recall", &recall).await;
    assert_eq!(fake.state().recalls, [bob_feishu], "Feishu took it back once");
    wait_for(&node, &bob, "recalled").await;
    node.node.shutdown().await;
}
