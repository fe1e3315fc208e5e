//! Receipt pulls against fake providers that check what the real ones check (Tencent's
//! TC3-HMAC-SHA256 signature, Aliyun's POP signature and parameters, DingTalk's app token and
//! agent_id): each answer lands as its receipt once, a provider that fails keeps its receipts
//! for the next pass, and each pass stays within its budget of calls.

mod fake_dingtalk;
mod fake_sms;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use herald_channels::receipts::{Cursors, Pass, PullError, ReceiptPull, pulls};
use herald_channels::{ChannelAccount, SendResult};
use herald_core::ChannelKind;
use herald_core::receipt::{Receipt, ReceiptKey, ReceiptState, ReceiptTally, provider_detail};
use herald_store::{AwaitingReceipts, ReceiptRepo, TraceRecord, UnmatchedReceipt};
use serde_json::json;
use std::sync::Mutex;

/// The store's receipt questions over a few sent messages, in memory.
#[derive(Default)]
struct Memory {
    sent: Vec<TraceRecord>,
    /// (message id, state, code) as recorded.
    receipts: Mutex<Vec<(String, ReceiptState, Option<String>)>>,
    unmatched: Mutex<Vec<String>>,
}

impl Memory {
    fn sent(mut self, id: &str, receiver: &str, detail: &str, at: DateTime<Utc>) -> Self {
        self.sent.push(TraceRecord {
            message_id: id.into(),
            template_id: 1,
            run_id: None,
            receiver: receiver.into(),
            event: "sent".into(),
            detail: Some(detail.into()),
            at,
        });
        self
    }

    fn find(&self, key: &ReceiptKey) -> Option<&TraceRecord> {
        self.sent.iter().find(|m| match key {
            ReceiptKey::Message(id) => &m.message_id == id,
            ReceiptKey::Provider { suppliers, id } => {
                suppliers.iter().any(|s| m.detail.as_deref() == Some(provider_detail(s, id).as_str()))
            }
            ReceiptKey::Task { details, receiver, .. } => {
                &m.receiver == receiver && details.iter().any(|d| m.detail.as_deref() == Some(d.as_str()))
            }
        })
    }

    fn of(&self, id: &str) -> Vec<(ReceiptState, Option<String>)> {
        let receipts = self.receipts.lock().unwrap();
        receipts.iter().filter(|(m, _, _)| m == id).map(|(_, s, c)| (*s, c.clone())).collect()
    }
}

#[async_trait]
impl ReceiptRepo for Memory {
    async fn record_receipts(
        &self,
        receipts: &[Receipt],
        _now: DateTime<Utc>,
    ) -> Result<ReceiptTally, herald_store::StoreError> {
        let mut tally = ReceiptTally::default();
        for receipt in receipts {
            let Some(message) = self.find(&receipt.key) else {
                self.unmatched.lock().unwrap().push(receipt.reference().to_string());
                tally.unmatched += 1;
                continue;
            };
            let mut recorded = self.receipts.lock().unwrap();
            if recorded.iter().any(|(m, s, _)| *m == message.message_id && *s == receipt.state) {
                tally.repeated += 1;
            } else {
                recorded.push((message.message_id.clone(), receipt.state, receipt.code.clone()));
                tally.recorded += 1;
            }
        }
        Ok(tally)
    }

    async fn unmatched_receipts(
        &self,
        _offset: i64,
        _limit: i64,
    ) -> Result<Vec<UnmatchedReceipt>, herald_store::StoreError> {
        Ok(Vec::new())
    }

    async fn awaiting_receipts(&self, query: &AwaitingReceipts) -> Result<Vec<TraceRecord>, herald_store::StoreError> {
        let recorded = self.receipts.lock().unwrap();
        let done = |id: &str| {
            recorded.iter().any(|(m, s, _)| m == id && (*s != ReceiptState::Delivered || !query.read_follows))
        };
        let mut waiting: Vec<TraceRecord> = self
            .sent
            .iter()
            .filter(|m| m.detail.as_deref().is_some_and(|d| d.starts_with(&query.detail_prefix)))
            .filter(|m| m.at >= query.since && !done(&m.message_id))
            .filter(|m| query.after.as_ref().is_none_or(|(at, id)| (m.at, &m.message_id) > (*at, id)))
            .cloned()
            .collect();
        waiting.sort_by(|a, b| (a.at, &a.message_id).cmp(&(b.at, &b.message_id)));
        waiting.truncate(usize::try_from(query.limit).unwrap());
        Ok(waiting)
    }
}

/// One pass of `pull` over `memory` with `calls` calls; its tally, or its error.
async fn pass(
    pull: &dyn ReceiptPull,
    memory: &Memory,
    cursors: &Cursors,
    calls: usize,
) -> Result<ReceiptTally, PullError> {
    let mut pass = Pass { store: memory, cursors, now: Utc::now(), calls_left: calls, tally: ReceiptTally::default() };
    pull.pull(&mut pass).await.map(|()| pass.tally)
}

fn only(account: &ChannelAccount, ctx: &herald_channels::BuildContext) -> Box<dyn ReceiptPull> {
    let mut built = pulls(account, ctx).expect("pulls build");
    assert_eq!(built.len(), 1);
    built.remove(0)
}

fn tally(recorded: u64, repeated: u64, unmatched: u64) -> ReceiptTally {
    ReceiptTally { recorded, repeated, unmatched }
}

#[tokio::test]
async fn tencent_reports_are_pulled_once_and_kept_by_the_provider_when_a_pull_fails() {
    let fake = fake_sms::tencent().await;
    let pull =
        only(&fake_sms::account(json!({"suppliers": [fake_sms::tencent_supplier(&fake.url)]})), &fake_sms::context());
    assert_eq!(pull.name(), "tencent");
    let now = Utc::now();
    let memory =
        Memory::default().sent("m1", "13800000000", "tencent: 2028:1", now).sent("m2", "1", "tencent: 2028:2", now);
    let cursors = Cursors::default();
    fake.state().tencent_reports.extend([
        fake_sms::tencent_report("2028:1", true, "DELIVRD"),
        fake_sms::tencent_report("2028:2", false, "MK:0001"),
        fake_sms::tencent_report("2028:unknown", true, "DELIVRD"),
    ]);
    assert_eq!(pass(pull.as_ref(), &memory, &cursors, 5).await.unwrap(), tally(2, 0, 1));
    assert_eq!(memory.of("m1"), [(ReceiptState::Delivered, Some("DELIVRD".into()))]);
    assert_eq!(memory.of("m2"), [(ReceiptState::Undelivered, Some("MK:0001".into()))]);
    let asked = fake.state().receipt_queries.clone();
    assert_eq!(asked, [json!({"Limit": 100, "SmsSdkAppId": "1400006666"})], "one page held them all");

    // A 500 keeps the reports at Tencent; the next pass gets them, a repeat lands once.
    fake.state().tencent_reports.push_back(fake_sms::tencent_report("2028:1", true, "DELIVRD"));
    fake.script([fake_sms::Reply::Http(500)]);
    assert!(matches!(pass(pull.as_ref(), &memory, &cursors, 5).await, Err(PullError::Provider(_))));
    assert_eq!(pass(pull.as_ref(), &memory, &cursors, 5).await.unwrap(), tally(0, 1, 0));

    // Pages of 100 until a short one, within the budget.
    let many = (0..150).map(|n| fake_sms::tencent_report(&format!("2028:x{n}"), true, "DELIVRD"));
    fake.state().tencent_reports.extend(many);
    let before = fake.state().receipt_queries.len();
    assert_eq!(pass(pull.as_ref(), &memory, &cursors, 1).await.unwrap(), tally(0, 0, 100), "one call allowed");
    assert_eq!(pass(pull.as_ref(), &memory, &cursors, 5).await.unwrap(), tally(0, 0, 50));
    assert_eq!(fake.state().receipt_queries.len(), before + 2);

    // A key Tencent does not know is refused, as its signature check says.
    let mut wrong = fake_sms::tencent_supplier(&fake.url);
    wrong["secretKey"] = json!("not-the-key");
    let refused = only(&fake_sms::account(json!({"suppliers": [wrong]})), &fake_sms::context());
    let Err(PullError::Provider(reason)) = pass(refused.as_ref(), &memory, &cursors, 5).await else {
        panic!("a bad signature is an error")
    };
    assert!(reason.contains("AuthFailure.SignatureFailure"), "{reason}");
}

#[tokio::test]
async fn aliyun_is_asked_about_each_waiting_send_until_it_has_a_final_receipt() {
    let fake = fake_sms::aliyun().await;
    let config = json!({"suppliers": [fake_sms::aliyun_supplier(&fake.url)]});
    let pull = only(&fake_sms::account(config), &fake_sms::context());
    let now = Utc::now();
    let memory = Memory::default()
        .sent("a1", "13800000001", "aliyun: 100^0", now - chrono::Duration::minutes(2))
        .sent("a2", "13800000002", "aliyun: 200^0", now - chrono::Duration::minutes(1))
        .sent("old", "13800000003", "aliyun: 300^0", now - chrono::Duration::days(2))
        .sent("t1", "13800000004", "tencent: 400", now);
    let cursors = Cursors::default();
    fake.state().aliyun_details.insert("100^0".into(), fake_sms::aliyun_detail("13800000001", 3, "DELIVERED", "a1"));
    fake.state().aliyun_details.insert("200^0".into(), fake_sms::aliyun_detail("13800000002", 1, "", "a2"));
    assert_eq!(pass(pull.as_ref(), &memory, &cursors, 10).await.unwrap(), tally(1, 0, 0));
    assert_eq!(memory.of("a1"), [(ReceiptState::Delivered, Some("DELIVERED".into()))]);
    assert_eq!(memory.of("a2"), [], "still waiting");
    let asked = fake.state().receipt_queries.clone();
    let ids: Vec<&str> = asked.iter().map(|q| q["BizId"].as_str().unwrap()).collect();
    assert_eq!(ids, ["100^0", "200^0"], "oldest first, none too old, none of another supplier");
    let beijing = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
    let first_day = (now - chrono::Duration::minutes(2)).with_timezone(&beijing).format("%Y%m%d").to_string();
    assert_eq!(asked[0]["SendDate"], first_day.as_str());
    assert_eq!((asked[0]["PhoneNumber"].as_str(), asked[0]["PageSize"].as_str()), (Some("13800000001"), Some("10")));

    // Only the waiting one is asked again; a failure answered later lands as undelivered.
    fake.state().aliyun_details.insert("200^0".into(), fake_sms::aliyun_detail("13800000002", 2, "IC_BLACK", "a2"));
    fake.script([fake_sms::Reply::Http(503)]);
    assert!(pass(pull.as_ref(), &memory, &cursors, 10).await.is_err(), "Aliyun down");
    assert_eq!(pass(pull.as_ref(), &memory, &cursors, 10).await.unwrap(), tally(1, 0, 0), "asked again");
    assert_eq!(memory.of("a2"), [(ReceiptState::Undelivered, Some("IC_BLACK".into()))]);
    let asked = fake.state().receipt_queries.len();
    assert_eq!(pass(pull.as_ref(), &memory, &cursors, 10).await.unwrap(), tally(0, 0, 0));
    assert_eq!(fake.state().receipt_queries.len(), asked, "nothing waits: no call");
}

#[tokio::test]
async fn a_small_budget_takes_turns_over_the_waiting_sends() {
    let fake = fake_sms::aliyun().await;
    let pull =
        only(&fake_sms::account(json!({"suppliers": [fake_sms::aliyun_supplier(&fake.url)]})), &fake_sms::context());
    let now = Utc::now();
    let memory = Memory::default()
        .sent("a1", "13800000001", "aliyun: 1^0", now - chrono::Duration::minutes(3))
        .sent("a2", "13800000002", "aliyun: 2^0", now - chrono::Duration::minutes(2))
        .sent("a3", "13800000003", "aliyun: 3^0", now - chrono::Duration::minutes(1));
    let cursors = Cursors::default();
    for _ in 0..4 {
        pass(pull.as_ref(), &memory, &cursors, 2).await.unwrap();
    }
    let asked: Vec<String> =
        fake.state().receipt_queries.iter().map(|q| q["BizId"].as_str().unwrap().to_string()).collect();
    assert_eq!(asked, ["1^0", "2^0", "3^0", "1^0", "2^0", "3^0"], "none starves: on after the last, then over");
}

#[tokio::test]
async fn a_send_the_provider_refuses_to_answer_for_does_not_hold_up_the_others() {
    let fake = fake_sms::aliyun().await;
    let pull =
        only(&fake_sms::account(json!({"suppliers": [fake_sms::aliyun_supplier(&fake.url)]})), &fake_sms::context());
    let now = Utc::now();
    let memory = Memory::default().sent("a1", "13800000001", "aliyun: 1^0", now - chrono::Duration::minutes(3)).sent(
        "a2",
        "13800000002",
        "aliyun: 2^0",
        now - chrono::Duration::minutes(2),
    );
    fake.state().aliyun_details.insert("2^0".into(), fake_sms::aliyun_detail("13800000002", 3, "DELIVERED", "a2"));
    let cursors = Cursors::default();
    // Aliyun refuses to answer for a1: asked again once, then passed over, so a2 is asked.
    let refuse = || fake_sms::Reply::Fail("isv.MOBILE_NUMBER_ILLEGAL");
    fake.script([refuse(), refuse()]);
    assert!(pass(pull.as_ref(), &memory, &cursors, 10).await.is_err(), "the refusal fails the pass");
    assert!(pass(pull.as_ref(), &memory, &cursors, 10).await.is_err(), "a1 asked again, refused again");
    assert_eq!(pass(pull.as_ref(), &memory, &cursors, 10).await.unwrap(), tally(1, 0, 0), "a2 is next");
    assert_eq!(memory.of("a2"), [(ReceiptState::Delivered, Some("DELIVERED".into()))]);
    assert_eq!(pass(pull.as_ref(), &memory, &cursors, 10).await.unwrap(), tally(0, 0, 0), "over: a1 again");
    let asked: Vec<String> =
        fake.state().receipt_queries.iter().map(|q| q["BizId"].as_str().unwrap().to_string()).collect();
    assert_eq!(asked, ["1^0", "1^0", "2^0", "1^0"]);
}

#[tokio::test]
async fn dingtalk_says_who_read_who_has_it_and_who_never_will() {
    let fake = fake_dingtalk::FakeDingTalk::start().await;
    let clock = fake_dingtalk::clock();
    let ctx = fake_dingtalk::context(clock);
    let config = json!({"appKey": fake_dingtalk::APP_KEY, "appSecret": fake_dingtalk::APP_SECRET,
                        "agentId": fake_dingtalk::AGENT_ID, "baseUrl": fake.base_url});
    let account = fake_dingtalk::account(ChannelKind::DingTalkWorkNotice, config);
    let channel = herald_channels::build(&account, &ctx).unwrap().channel;
    let mut memory = Memory::default();
    for user in ["ann", "bob", "cat"] {
        let sent = channel.send(&fake_dingtalk::message(user, json!({"content": "hi"}))).await;
        let SendResult::Sent { detail: Some(detail) } = sent else { panic!("{sent:?}") };
        memory = memory.sent(&format!("m-{user}"), user, &detail, Utc::now());
    }
    let pull = only(&account, &ctx);
    let cursors = Cursors::default();
    let task = fake_dingtalk::task_id;
    fake.state().send_results.insert(task(1), json!({"unread_user_id_list": ["ann"]}));
    fake.state().send_results.insert(task(2), json!({"forbidden_user_id_list": ["bob"]}));
    assert_eq!(pass(pull.as_ref(), &memory, &cursors, 10).await.unwrap(), tally(2, 0, 0), "cat's is still sending");
    assert_eq!(memory.of("m-ann"), [(ReceiptState::Delivered, None)]);
    assert_eq!(memory.of("m-bob"), [(ReceiptState::Undelivered, Some("forbidden_user_id_list".into()))]);

    // Delivered is not the end: ann is asked about again, and reads it; the token DingTalk
    // expired meanwhile is refreshed once.
    fake.state().send_results.insert(task(1), json!({"read_user_id_list": ["ann"]}));
    fake.expire_tokens();
    let calls = fake.state().gettoken_calls;
    assert_eq!(pass(pull.as_ref(), &memory, &cursors, 10).await.unwrap(), tally(1, 0, 0));
    assert_eq!(memory.of("m-ann"), [(ReceiptState::Delivered, None), (ReceiptState::Read, None)]);
    assert_eq!(fake.state().gettoken_calls, calls + 1);
    let queries = fake.state().result_queries.clone();
    assert_eq!(queries, [task(1), task(2), task(3), task(1), task(3)], "bob's is final, never asked again");

    // A busy DingTalk fails the pass and loses nothing.
    fake.state().send_results.insert(task(3), json!({"read_user_id_list": ["cat"]}));
    fake.fail_next((200, json!({"errcode": -1, "errmsg": "系统繁忙"})));
    assert!(pass(pull.as_ref(), &memory, &cursors, 10).await.is_err());
    assert_eq!(pass(pull.as_ref(), &memory, &cursors, 10).await.unwrap(), tally(1, 0, 0));
    assert_eq!(memory.of("m-cat"), [(ReceiptState::Read, None)]);
}

#[tokio::test]
async fn feishu_says_who_read_an_app_message_and_nothing_else() {
    let fake = herald_testkit::feishu_app::start().await;
    let ctx = fake_sms::context();
    let config = json!({"appId": herald_testkit::feishu_app::APP_ID, "appSecret": herald_testkit::feishu_app::APP_SECRET,
                        "baseUrl": fake.base_url});
    let account = ChannelAccount { id: 4, name: "feishu app".into(), channel: ChannelKind::FeishuApp, config };
    let channel = herald_channels::build(&account, &ctx).unwrap().channel;
    let mut memory = Memory::default();
    for user in ["ou_ann", "ou_bob"] {
        let message = herald_channels::OutgoingMessage {
            message_id: herald_core::MessageId(format!("m-{user}")),
            template_id: 1,
            run_id: None,
            receiver: user.into(),
            msg_type: 10,
            content: json!({"content": "hi"}),
        };
        let SendResult::Sent { detail: Some(detail) } = channel.send(&message).await else { panic!("not sent") };
        memory = memory.sent(&format!("m-{user}"), user, &detail, Utc::now());
    }
    let pull = only(&account, &ctx);
    assert_eq!(pull.name(), "feishu");
    let cursors = Cursors::default();
    let ann_message = fake.state().delivered[0].message_id.clone();
    fake.state().readers.insert(ann_message.clone(), vec!["ou_ann".into()]);
    assert_eq!(pass(pull.as_ref(), &memory, &cursors, 10).await.unwrap(), tally(1, 0, 0));
    assert_eq!(memory.of("m-ou_ann"), [(ReceiptState::Read, None)]);
    assert_eq!(memory.of("m-ou_bob"), [], "not read yet: no receipt");

    // Read is final: only bob's is asked about again; an expired token is refreshed once.
    fake.expire_tokens();
    let bob_message = fake.state().delivered[1].message_id.clone();
    fake.state().readers.insert(bob_message.clone(), vec!["ou_bob".into()]);
    assert_eq!(pass(pull.as_ref(), &memory, &cursors, 10).await.unwrap(), tally(1, 0, 0));
    let queries = fake.state().read_queries.clone();
    assert_eq!(queries, [ann_message, bob_message.clone(), bob_message]);

    // An app that sends to chats names no user to look for: no pull.
    let mut chats = account.clone();
    chats.config["receiveIdType"] = json!("chat_id");
    assert!(pulls(&chats, &ctx).unwrap().is_empty());
}

#[tokio::test]
async fn other_channels_have_no_pulls() {
    let account = ChannelAccount {
        id: 1,
        name: "bot".into(),
        channel: ChannelKind::FeishuBot,
        config: json!({"webhookUrl": "https://open.feishu.cn/open-apis/bot/v2/hook/x"}),
    };
    assert!(pulls(&account, &fake_sms::context()).unwrap().is_empty(), "a Feishu custom bot gets no message id");
}
