//! The suppression list end to end, counted at a recording receiver: entries added through the
//! API and a CSV import stop sends of the kinds and channels they cover (and no others), an
//! opt-out recorded while a run sends stops that run's sends to the receiver, and removing an
//! entry sends again.

mod common;

use chrono::{TimeZone, Utc};
use common::*;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::Duration as Wait;

async fn node() -> (tempfile::TempDir, TestNode) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.worker.workers_per_channel = 2;
    let node = TestNode::start(&config, Utc.with_ymd_and_hms(2026, 6, 1, 4, 0, 0).unwrap()).await;
    (dir, node)
}

/// A marketing webhook template (msgType 20) over `crowd`.
fn marketing(name: &str, crowd: &str, hook: &herald_testkit::RecordingReceiver) -> Value {
    let mut spec = webhook_template(name, crowd, &format!("{}/hook", hook.url));
    spec["msgType"] = json!(20);
    spec
}

/// The receivers whose requests `hook` got, from each request's body.
fn receivers_reached(hook: &herald_testkit::RecordingReceiver) -> BTreeSet<String> {
    hook.received()
        .iter()
        .map(|r| serde_json::from_slice::<Value>(&r.body).unwrap()["receiver"].as_str().unwrap().to_string())
        .collect()
}

async fn run_to_end(node: &TestNode, template: i64) -> (i64, Value) {
    let (_, run) = node.post(&format!("/api/templates/{template}/run"), &json!({})).await;
    let run = run["runId"].as_i64().unwrap();
    (run, node.wait_run(run, Wait::from_secs(60), |r| r["status"] == "completed").await)
}

async fn import(node: &TestNode, csv: &str, fields: &[(&str, &str)]) -> (u16, Value) {
    let mut form = reqwest::multipart::Form::new();
    for (name, value) in fields {
        form = form.text(name.to_string(), value.to_string());
    }
    form = form.part("file", reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("optouts.csv"));
    let r = node
        .http
        .post(node.url("/api/suppressions/import"))
        .header("X-API-Key", &node.key)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_opt_out_stops_the_kinds_and_channels_it_covers_and_no_others() {
    let hook = herald_testkit::RecordingReceiver::start().await;
    let (_dir, node) = node().await;
    let crowd = node.crowd(crowd_csv(20)).await;
    // 3: webhook marketing; 5: every channel, every kind (spelled with spaces and dashes);
    // 7: SMS only; 9: notices only.
    for (receiver, channel, kinds) in [
        (receiver(3), json!("webhook"), json!(null)),
        ("139 0000-0005".to_string(), json!(null), json!(["notice", "marketing", "verification"])),
        (receiver(7), json!("sms"), json!(null)),
        (receiver(9), json!("all"), json!(["notice"])),
    ] {
        let body = json!({"receiver": receiver, "channel": channel, "kinds": kinds, "note": "asked"});
        let (status, added) = node.post("/api/suppressions", &body).await;
        assert_eq!(status, 201, "{added}");
    }
    let (_, five) = node.get("/api/suppressions?q=13900000005").await;
    assert_eq!(five["items"][0]["receiver"], "13900000005", "stored as compared: {five}");
    assert_eq!(five["items"][0]["channel"], Value::Null);

    let marketing_id = node.template(marketing("promo", &crowd, &hook)).await;
    let (run, done) = run_to_end(&node, marketing_id).await;
    assert_eq!((done["delivered"].as_i64(), done["dropped"].as_i64()), (Some(18), Some(2)), "{done}");
    assert!(hook.wait_for(18, Wait::from_secs(10)).await);
    let reached = receivers_reached(&hook);
    assert_eq!(reached.len(), 18);
    assert!(!reached.contains(&receiver(3)) && !reached.contains(&receiver(5)), "{reached:?}");
    let (_, suppressed) = node.get(&format!("/api/messages?runId={run}&state=suppressed")).await;
    let traced: BTreeSet<&str> =
        suppressed["items"].as_array().unwrap().iter().map(|m| m["receiver"].as_str().unwrap()).collect();
    assert_eq!(traced, BTreeSet::from([receiver(3).as_str(), receiver(5).as_str()]));

    // A notice reaches all but the every-kind entry and the notices-only one.
    let mut notice = marketing("notice", &crowd, &hook);
    notice["msgType"] = json!(10);
    let notice_id = node.template(notice).await;
    let (_, done) = run_to_end(&node, notice_id).await;
    assert_eq!(done["delivered"], 18, "{done}");
    assert!(hook.wait_for(36, Wait::from_secs(10)).await);

    // Removing 3's entry sends to 3 again; removing it twice is a 404 naming it.
    let r = node.delete(&format!("/api/suppressions?receiver={}&channel=webhook", receiver(3))).await;
    assert_eq!(r.0, 204, "{}", r.1);
    let (status, missing) = node.delete(&format!("/api/suppressions?receiver={}&channel=webhook", receiver(3))).await;
    assert!(status == 404 && missing.to_string().contains(&receiver(3)), "{missing}");
    let (_, done) = run_to_end(&node, marketing_id).await;
    assert_eq!(done["delivered"], 19, "{done}");
    assert!(hook.wait_for(55, Wait::from_secs(10)).await);
    tokio::time::sleep(Wait::from_millis(300)).await;
    assert_eq!((hook.count(), hook.repeats()), (55, 0));
    node.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_entries_and_imports_are_refused_naming_what_is_wrong() {
    let (_dir, node) = node().await;
    let refusals = [
        (json!({"receiver": "  "}), "receiver"),
        (json!({"receiver": "a@b.c", "channel": "fax"}), "is not a channel: give all or one of"),
        (json!({"receiver": "a@b.c", "kinds": []}), "kinds"),
        (json!({"receiver": "a@b.c", "kinds": ["promo"]}), "promo"),
        (json!({"receiver": "a@b.c", "color": "red"}), "color"),
        (json!({"receiver": "x".repeat(400)}), "longer than 320"),
    ];
    for (body, names) in refusals {
        let (status, refused) = node.post("/api/suppressions", &body).await;
        assert!(status == 422 || status == 400, "{status} {refused}");
        assert!(refused.to_string().contains(names), "{names}: {refused}");
    }
    let (_, list) = node.get("/api/suppressions").await;
    assert_eq!(list["items"], json!([]), "nothing written");
    let (status, refused) = node.get("/api/suppressions?source=robot").await;
    assert!(status == 422 && refused.to_string().contains("source"), "{refused}");

    // An import: good rows written, bad ones named by line, the form's defaults used.
    let csv = "receiver,kinds,note\n13800000001,,by phone\n,marketing,\n13800000002,promo,\nB@Mail.test,notice,\n";
    let (status, report) = import(&node, csv, &[("channel", "sms")]).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (report["rows"].as_i64(), report["written"].as_i64(), report["badCount"].as_i64()),
        (Some(4), Some(2), Some(2))
    );
    assert_eq!(report["badRows"][0]["line"], 3, "{report}");
    assert_eq!(report["badRows"][1]["line"], 4, "{report}");
    let (_, sms) = node.get("/api/suppressions?channel=sms&source=import").await;
    let got: BTreeSet<&str> =
        sms["items"].as_array().unwrap().iter().map(|e| e["receiver"].as_str().unwrap()).collect();
    assert_eq!(got, BTreeSet::from(["13800000001", "b@mail.test"]));
    let (status, refused) = import(&node, "a@b.c\n", &[("channel", "pager")]).await;
    assert!(status == 422 && refused.to_string().contains("pager"), "{refused}");
    let (status, refused) = import(&node, "a@b.c\n", &[("kinds", "all")]).await;
    assert!(status == 422 && refused.to_string().contains("kinds"), "{refused}");
    node.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_opt_out_recorded_mid_run_stops_that_runs_sends_to_the_receiver() {
    const ROWS: usize = 3_000;
    const OPTED_OUT: std::ops::RangeInclusive<usize> = 1_501..=3_000;
    let hook = herald_testkit::RecordingReceiver::start().await;
    let (_dir, node) = node().await;
    let crowd = node.crowd(crowd_csv(ROWS)).await;
    let id = node.template(marketing("mid-run", &crowd, &hook)).await;
    let (status, body) = node.put("/api/flow-control/webhook", &json!({"ratePerSecond": 500})).await;
    assert_eq!(status, 200, "{body}");
    let (_, run) = node.post(&format!("/api/templates/{id}/run"), &json!({})).await;
    let run = run["runId"].as_i64().unwrap();
    assert!(hook.wait_for(300, Wait::from_secs(30)).await, "the run is sending");

    // Half the crowd opts out while the run sends (a file without a header: receivers first).
    let csv: String = OPTED_OUT.map(|n| format!("{}\n", receiver(n))).collect();
    let (status, report) = import(&node, &csv, &[]).await;
    assert_eq!((status, report["written"].as_u64()), (200, Some(1_500)), "{report}");
    let acknowledged = hook.count();
    let done = node.wait_run(run, Wait::from_secs(60), |r| r["status"] == "completed").await;
    tokio::time::sleep(Wait::from_millis(300)).await;

    // What the receiver got: every receiver not opted out once, and of the opted-out only what
    // had already passed screening when the import was acknowledged (at most two workers'
    // batches of 100, beyond what had arrived).
    let reached = receivers_reached(&hook);
    let opted_out: BTreeSet<String> = OPTED_OUT.map(receiver).collect();
    let kept: Vec<String> = (1..OPTED_OUT.start().to_owned()).map(receiver).filter(|r| !reached.contains(r)).collect();
    assert!(kept.is_empty(), "every receiver not opted out arrives: missing {}", kept.len());
    let late = reached.intersection(&opted_out).count();
    assert!(
        late <= acknowledged.saturating_sub(1_500) + 200,
        "{late} opted-out receivers reached after {acknowledged}"
    );
    assert_eq!(hook.repeats(), 0);
    let suppressed = done["dropped"].as_u64().unwrap() as usize;
    assert_eq!(suppressed + reached.len(), ROWS, "{done}");
    assert_eq!(suppressed, 1_500 - late, "every opted-out receiver not reached is traced suppressed");
    assert!(suppressed >= 1_000, "the opt-out cut the run short: {suppressed}");
    eprintln!(
        "opt-out acknowledged after {acknowledged} arrivals; {late} opted-out arrived later; {suppressed} suppressed"
    );
    node.node.shutdown().await;
}
