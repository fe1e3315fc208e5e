//! Send-time policies end to end with a test clock (no sleeping on the clock's behalf): quiet
//! hours that drop or defer a crowd fire at 23:59:30, recipients in their own time zones across
//! a DST change, dedup through the send API, the discard list, test mode and the funnel counted
//! at a recording receiver, and a 10,000-row run with mixed outcomes where every row ends in exactly one final
//! state.

mod common;

use chrono::{DateTime, Duration, TimeZone, Utc};
use common::*;
use serde_json::{Value, json};
use std::time::Duration as Wait;

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

async fn node_at(start: DateTime<Utc>, workers: usize) -> (tempfile::TempDir, TestNode) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.worker.workers_per_channel = workers;
    let node = TestNode::start(&config, start).await;
    (dir, node)
}

async fn trace_events(node: &TestNode, message_id: &str) -> Vec<String> {
    let (_, trace) = node.get(&format!("/api/trace/{message_id}")).await;
    trace["events"]
        .as_array()
        .map(|e| e.iter().map(|e| e["event"].as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

async fn first_run(node: &TestNode, template: i64) -> i64 {
    for _ in 0..500 {
        let (_, runs) = node.get(&format!("/api/runs?templateId={template}")).await;
        if let Some(run) = runs["items"].as_array().unwrap().first() {
            return run["id"].as_i64().unwrap();
        }
        tokio::time::sleep(Wait::from_millis(10)).await;
    }
    panic!("template {template} never ran");
}

/// A 3,000-row crowd fired at 23:59:30 in Shanghai, throttled so midnight falls mid-run.
async fn fire_at_midnight(policy: &str) -> (tempfile::TempDir, TestNode, i64, i64) {
    let (dir, node) = node_at(at(2026, 6, 1, 15, 59, 0), 1).await;
    let crowd = node.crowd(crowd_csv(3_000)).await;
    let mut spec = outbox_template("nightly", &crowd, Some("30 59 23 * * ?"));
    spec["quietHours"] = json!(policy);
    let id = node.template(spec).await;
    node.post(&format!("/api/templates/{id}/start"), &json!({})).await;
    let (status, body) = node.put("/api/flow-control/outbox", &json!({"ratePerSecond": 1500})).await;
    assert_eq!(status, 200, "{body}");
    node.clock.set(at(2026, 6, 1, 15, 59, 30) + Duration::milliseconds(100));
    let run = first_run(&node, id).await;
    node.wait_run(run, Wait::from_secs(30), |r| r["delivered"].as_i64().unwrap_or(0) >= 300).await;
    node.clock.set(at(2026, 6, 1, 16, 0, 5)); // 00:00:05 in Shanghai
    (dir, node, id, run)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fire_at_2359_under_defer_sends_before_midnight_and_releases_the_rest_at_nine_in_order() {
    let (_dir, node, _id, run) = fire_at_midnight("defer").await;
    let held = node
        .wait_run(run, Wait::from_secs(60), |r| {
            r["delivered"].as_i64().unwrap() + r["deferred"].as_i64().unwrap() == 3_000
        })
        .await;
    let before_midnight = held["delivered"].as_i64().unwrap();
    assert!(before_midnight > 0 && before_midnight < 3_000, "midnight fell mid-run: {held}");
    assert_eq!(held["status"], "published", "not complete while rows are held");
    assert_eq!(trace_events(&node, &node.row_id(run, 1).await).await, ["accepted", "sent"]);
    assert_eq!(trace_events(&node, &node.row_id(run, 3000).await).await, ["accepted", "deferred"]);

    // 08:59 in Shanghai: still held. 09:00: released.
    node.clock.set(at(2026, 6, 2, 0, 59, 0));
    tokio::time::sleep(Wait::from_millis(300)).await;
    let (_, still) = node.get(&format!("/api/runs/{run}")).await;
    assert_eq!(still["delivered"], before_midnight, "{still}");
    node.clock.set(at(2026, 6, 2, 1, 0, 1));
    let done = node.wait_run(run, Wait::from_secs(60), |r| r["status"] == "completed").await;
    assert_eq!(done["delivered"], 3_000);
    assert_eq!(done["dropped"], 0);

    let entries = node.outbox_of_run(run).await;
    let rows: Vec<u64> =
        entries.iter().map(|e| e["messageId"].as_str().unwrap().rsplit('-').next().unwrap().parse().unwrap()).collect();
    let released = &rows[before_midnight as usize..];
    assert!(released.windows(2).all(|w| w[0] < w[1]), "released in their original order");
    assert_eq!(*released.last().unwrap(), 3_000);
    for entry in &entries[before_midnight as usize..] {
        let delivered: DateTime<Utc> = entry["deliveredAt"].as_str().unwrap().parse().unwrap();
        assert!(delivered >= at(2026, 6, 2, 1, 0, 0), "{entry}");
    }
    assert_eq!(trace_events(&node, &node.row_id(run, 3000).await).await, ["accepted", "deferred", "sent"]);
    node.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fire_at_2359_under_drop_drops_and_traces_what_falls_after_midnight() {
    let (_dir, node, _id, run) = fire_at_midnight("drop").await;
    let done = node.wait_run(run, Wait::from_secs(60), |r| r["status"] == "completed").await;
    let (sent, dropped) = (done["delivered"].as_i64().unwrap(), done["dropped"].as_i64().unwrap());
    assert!(sent > 0 && dropped > 0 && sent + dropped == 3_000, "{done}");
    assert_eq!(trace_events(&node, &node.row_id(run, 3000).await).await, ["accepted", "dropped_quiet_hours"]);
    let (_, states) = node.get(&format!("/api/runs/{run}/states")).await;
    assert_eq!(states["states"]["dropped_quiet_hours"], dropped);
    assert_eq!(states["total"], 3_000);
    node.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fire_inside_quiet_hours_under_defer_waits_for_their_end_instead_of_parking_rows() {
    let (_dir, node) = node_at(at(2026, 6, 1, 18, 0, 0), 2).await; // 02:00 in Shanghai
    let crowd = node.crowd(crowd_csv(500)).await;
    let mut spec = outbox_template("early", &crowd, Some("0 30 2 * * ?"));
    spec["quietHours"] = json!("defer");
    let id = node.template(spec).await;
    node.post(&format!("/api/templates/{id}/start"), &json!({})).await;
    node.clock.set(at(2026, 6, 1, 18, 30, 1));
    let run = first_run(&node, id).await;
    tokio::time::sleep(Wait::from_millis(300)).await;
    let (_, waiting) = node.get(&format!("/api/runs/{run}")).await;
    assert_eq!((waiting["status"].as_str(), waiting["rowsRead"].as_i64()), (Some("pending"), Some(0)), "{waiting}");
    node.clock.set(at(2026, 6, 2, 1, 0, 1)); // 09:00:01 in Shanghai
    let done = node.wait_run(run, Wait::from_secs(30), |r| r["status"] == "completed").await;
    assert_eq!(done["delivered"], 500);
    assert_eq!(trace_events(&node, &node.row_id(run, 1).await).await, ["accepted", "sent"], "no row was parked");
    node.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recipients_are_quiet_in_their_own_time_zones_across_a_dst_change() {
    // 2026-03-08 06:30 UTC: 14:30 in Shanghai, 01:30 EST in New York, where DST starts at 02:00.
    let (_dir, node) = node_at(at(2026, 3, 8, 6, 30, 0), 2).await;
    let mut csv = String::from("userId,name,code,timezone\n");
    for n in 1..=200 {
        let tz = if n % 2 == 0 { "America/New_York" } else { "Asia/Shanghai" };
        csv.push_str(&format!("{},u{n},{n},{tz}\n", receiver(n)));
    }
    let crowd = node.crowd(csv.into_bytes()).await;
    let mut spec = outbox_template("tz", &crowd, Some("0 0 12 * * ?"));
    spec["quietHours"] = json!("defer");
    let id = node.template(spec).await;
    let (_, body) = node.post(&format!("/api/templates/{id}/run"), &json!({})).await;
    let run = body["runId"].as_i64().unwrap();
    let held = node
        .wait_run(run, Wait::from_secs(30), |r| {
            r["delivered"].as_i64().unwrap() + r["deferred"].as_i64().unwrap() == 200
        })
        .await;
    assert_eq!((held["delivered"].as_i64(), held["deferred"].as_i64()), (Some(100), Some(100)), "{held}");
    let (_, trace) = node.get(&format!("/api/trace/{}", node.row_id(run, 2).await)).await;
    let detail = trace["events"][1]["detail"].as_str().unwrap();
    assert!(detail.contains("2026-03-08T13:00:00+00:00"), "09:00 EDT, after the change: {detail}");
    assert_eq!(trace_events(&node, &node.row_id(run, 1).await).await, ["accepted", "sent"]);

    node.clock.set(at(2026, 3, 8, 12, 59, 30));
    tokio::time::sleep(Wait::from_millis(300)).await;
    let (_, still) = node.get(&format!("/api/runs/{run}")).await;
    assert_eq!(still["delivered"], 100, "08:59:30 EDT is still quiet: {still}");
    node.clock.set(at(2026, 3, 8, 13, 0, 1));
    let done = node.wait_run(run, Wait::from_secs(30), |r| r["status"] == "completed").await;
    assert_eq!(done["delivered"], 200);
    node.node.shutdown().await;
}

async fn states_of(node: &TestNode, template: i64, receiver: &str, expect: usize) -> Vec<String> {
    for _ in 0..500 {
        let (_, page) = node.get(&format!("/api/messages?templateId={template}&receiver={receiver}")).await;
        let items = page["items"].as_array().unwrap();
        if items.len() >= expect {
            let mut states: Vec<String> = items.iter().map(|i| i["state"].as_str().unwrap().to_string()).collect();
            states.sort();
            return states;
        }
        tokio::time::sleep(Wait::from_millis(10)).await;
    }
    panic!("fewer than {expect} final states for {receiver}");
}

fn send(template: i64, receiver: &str, code: &str) -> Value {
    json!({"code": "send", "messageTemplateId": template, "messageParam": {"receiver": receiver, "variables": {"code": code}}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_and_frequency_dedup_through_the_send_api() {
    let start = at(2026, 6, 1, 4, 0, 0);
    let (_dir, node) = node_at(start, 2).await;
    let content = node
        .template(json!({"name": "otp", "channel": "outbox", "content": {"text": "code {$code}"},
                         "dedup": {"content": {"limit": 2, "windowSecs": 300}}}))
        .await;
    for _ in 0..3 {
        node.post("/send", &send(content, "13800000001", "1111")).await;
    }
    assert_eq!(states_of(&node, content, "13800000001", 3).await, ["dropped_dedup", "sent", "sent"]);
    node.clock.set(start + Duration::seconds(300));
    node.post("/send", &send(content, "13800000001", "1111")).await;
    assert_eq!(states_of(&node, content, "13800000001", 4).await, ["dropped_dedup", "sent", "sent", "sent"]);

    let frequency = node
        .template(json!({"name": "promo", "channel": "outbox", "content": {"text": "deal {$code}"},
                         "dedup": {"frequency": {"limitPerDay": 3}}}))
        .await;
    for code in ["a", "b", "c", "d"] {
        node.post("/send", &send(frequency, "13800000002", code)).await;
    }
    assert_eq!(states_of(&node, frequency, "13800000002", 4).await, ["dropped_dedup", "sent", "sent", "sent"]);
    node.clock.set(start + Duration::days(1));
    node.post("/send", &send(frequency, "13800000002", "e")).await;
    assert_eq!(states_of(&node, frequency, "13800000002", 5).await.iter().filter(|s| *s == "sent").count(), 4);

    let (status, body) = node
        .post(
            "/api/templates",
            &json!({"name": "bad", "channel": "outbox", "content": {"t": "x"},
                                       "dedup": {"content": {"limit": 0, "windowSecs": 0}}}),
        )
        .await;
    assert_eq!(status, 422);
    assert!(body["msg"].as_str().unwrap().contains("dedup.content.limit"), "{body}");
    node.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_discard_list_brakes_a_template_at_runtime() {
    let (_dir, node) = node_at(at(2026, 6, 1, 4, 0, 0), 2).await;
    let id = node.template(json!({"name": "t", "channel": "outbox", "content": {"text": "x {$code}"}})).await;
    let r = node
        .http
        .post(node.url(&format!("/api/templates/{id}/discard")))
        .header("X-API-Key", &node.key)
        .json(&json!({"reason": "complaints"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    let (_, list) = node.get("/api/discards").await;
    assert_eq!(list["items"][0]["reason"], "complaints");
    node.post("/send", &send(id, "13800000003", "1")).await;
    assert_eq!(states_of(&node, id, "13800000003", 1).await, ["discarded"]);
    let r = node
        .http
        .delete(node.url(&format!("/api/templates/{id}/discard")))
        .header("X-API-Key", &node.key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    node.post("/send", &send(id, "13800000003", "2")).await;
    assert_eq!(states_of(&node, id, "13800000003", 2).await, ["discarded", "sent"]);
    node.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_in_test_mode_reaches_only_its_test_receivers() {
    let hook = herald_testkit::RecordingReceiver::start().await;
    let (_dir, node) = node_at(at(2026, 6, 1, 4, 0, 0), 2).await;
    let crowd = node.crowd(crowd_csv(20)).await;
    let mut spec = webhook_template("rehearsal", &crowd, &format!("{}/hook", hook.url));
    spec["testMode"] = json!({"receivers": [receiver(3), format!(" {} ", receiver(17))]});
    let id = node.template(spec.clone()).await;
    let (_, run) = node.post(&format!("/api/templates/{id}/run"), &json!({})).await;
    let run = run["runId"].as_i64().unwrap();
    let done = node.wait_run(run, Wait::from_secs(30), |r| r["status"] == "completed").await;
    assert_eq!((done["delivered"].as_i64(), done["dropped"].as_i64()), (Some(2), Some(18)), "{done}");
    tokio::time::sleep(Wait::from_millis(300)).await;
    let arrived: Vec<String> = hook.counts_by_id().into_keys().collect();
    let mut expected = vec![node.row_id(run, 3).await, node.row_id(run, 17).await];
    expected.sort();
    assert_eq!((arrived, hook.count()), (expected, 2), "only the test receivers, once each");
    assert_eq!(trace_events(&node, &node.row_id(run, 1).await).await, ["accepted", "test_skipped"]);
    let (_, skipped) = node.get(&format!("/api/messages?runId={run}&state=test_skipped&limit=100")).await;
    assert_eq!(skipped["items"].as_array().unwrap().len(), 18);

    // A bad list is refused naming the entry; the stored template keeps its list.
    let mut bad = spec.clone();
    bad["testMode"] = json!({"receivers": [receiver(3), "  "]});
    let (status, refused) = node.put(&format!("/api/templates/{id}"), &bad).await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused.to_string().contains("testMode.receivers[1]"), "{refused}");
    let (_, stored) = node.get(&format!("/api/templates/{id}")).await;
    assert_eq!(stored["testMode"]["receivers"][0], receiver(3), "{stored}");

    // Out of test mode, the next run reaches everyone.
    spec.as_object_mut().unwrap().remove("testMode");
    let (status, body) = node.put(&format!("/api/templates/{id}"), &spec).await;
    assert_eq!(status, 200, "{body}");
    let (_, again) = node.post(&format!("/api/templates/{id}/run"), &json!({})).await;
    let again = again["runId"].as_i64().unwrap();
    let done = node.wait_run(again, Wait::from_secs(30), |r| r["status"] == "completed").await;
    assert_eq!(done["delivered"], 20, "{done}");
    assert!(hook.wait_for(22, Wait::from_secs(10)).await);
    assert_eq!(hook.repeats(), 0);
    node.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_funnel_of_a_run_and_of_its_templates_day_match_what_the_receiver_answered() {
    let hook = herald_testkit::RecordingReceiver::start().await;
    hook.fail_next(3, 400);
    let (_dir, node) = node_at(at(2026, 6, 1, 4, 0, 0), 2).await;
    let crowd = node.crowd(crowd_csv(10)).await;
    let mut spec = webhook_template("funnel", &crowd, &format!("{}/hook", hook.url));
    spec["testMode"] = json!({"receivers": (1..=8).map(receiver).collect::<Vec<_>>()});
    let id = node.template(spec).await;
    let (_, run) = node.post(&format!("/api/templates/{id}/run"), &json!({})).await;
    let run = run["runId"].as_i64().unwrap();
    node.wait_run(run, Wait::from_secs(30), |r| r["status"] == "completed").await;
    // What the receiver saw: 8 requests, the first 3 refused with 400.
    assert_eq!(hook.count(), 8, "{:?}", hook.counts_by_id());
    let (status, funnel) = node.get(&format!("/api/runs/{run}/funnel")).await;
    assert_eq!(status, 200, "{funnel}");
    assert_eq!(
        funnel,
        json!({"accepted": 10, "inFlight": 0, "held": 0, "dropped": {"test_skipped": 2}, "sent": 5, "failed": 3,
               "delivered": null, "read": null, "undelivered": null, "failures": [{"reason": "HTTP 400", "count": 3}]})
    );
    let (_, day) = node.get(&format!("/api/templates/{id}/funnel?day=2026-06-01")).await;
    assert_eq!((day["sent"].as_i64(), day["failed"].as_i64(), day["accepted"].as_i64()), (Some(5), Some(3), Some(10)));
    let (_, other) = node.get(&format!("/api/templates/{id}/funnel?day=2026-05-31")).await;
    assert_eq!(other["accepted"], 0, "{other}");
    let (status, refused) = node.get(&format!("/api/templates/{id}/funnel?day=June")).await;
    assert!(status == 422 && refused.to_string().contains("\"day\""), "{refused}");
    let (status, refused) = node.get(&format!("/api/templates/{id}/funnel?week=23")).await;
    assert!(status / 100 == 4 && refused.to_string().contains("week"), "a JSON refusal naming it: {refused}");
    node.node.shutdown().await;
}

#[tokio::test]
async fn housekeeping_schedules_are_listed_and_retention_prunes_old_rows() {
    let start = at(2026, 6, 1, 4, 0, 0);
    let (_dir, node) = node_at(start, 1).await;
    let (_, schedules) = node.get("/api/schedules").await;
    let kinds: Vec<&str> = schedules["items"].as_array().unwrap().iter().map(|s| s["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"quiet_release") && kinds.contains(&"retention"), "{kinds:?}");

    let id = node.template(json!({"name": "t", "channel": "outbox", "content": {"text": "x {$code}"}})).await;
    node.post("/send", &send(id, "13800000004", "1")).await;
    assert_eq!(states_of(&node, id, "13800000004", 1).await, ["sent"]);
    // 31 days later the daily retention run (03:30 UTC) deletes the 30-day-old rows.
    node.clock.set(at(2026, 7, 2, 3, 30, 1));
    for _ in 0..500 {
        let (_, outbox) = node.get("/api/outbox").await;
        if outbox["total"] == 0 {
            let (_, page) = node.get(&format!("/api/messages?templateId={id}")).await;
            assert_eq!(page["items"].as_array().unwrap().len(), 0);
            node.node.shutdown().await;
            return;
        }
        tokio::time::sleep(Wait::from_millis(10)).await;
    }
    panic!("retention did not prune");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deferred_messages_of_a_deleted_template_fail_instead_of_blocking_the_release() {
    let (_dir, node) = node_at(at(2026, 6, 1, 18, 0, 0), 1).await; // 02:00 in Shanghai
    let spec = |name: &str| {
        json!({"name": name, "channel": "outbox", "quietHours": "defer", "content": {"text": "x {$code}"},
               "schedule": {"cron": "0 0 12 * * ?", "timezone": "Asia/Shanghai"}, "crowdId": null})
    };
    // Templates with a schedule need a crowd; these send through the API only.
    let crowd = node.crowd(crowd_csv(1)).await;
    let (mut gone, mut kept) = (spec("gone"), spec("kept"));
    gone["crowdId"] = json!(crowd);
    kept["crowdId"] = json!(crowd);
    let (gone, kept) = (node.template(gone).await, node.template(kept).await);
    for (template, receiver) in [(gone, "13800000005"), (kept, "13800000006")] {
        let (_, answer) = node.post("/send", &send(template, receiver, "1")).await;
        let message = answer["data"][0]["messageId"].as_str().unwrap().to_string();
        for _ in 0..500 {
            if trace_events(&node, &message).await == ["accepted", "deferred"] {
                break;
            }
            tokio::time::sleep(Wait::from_millis(10)).await;
        }
        assert_eq!(trace_events(&node, &message).await, ["accepted", "deferred"]);
    }
    let r = node
        .http
        .delete(node.url(&format!("/api/templates/{gone}")))
        .header("X-API-Key", &node.key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let answer: serde_json::Value = r.json().await.unwrap();
    assert!(answer["kept"].as_str().unwrap().contains("runs"), "{answer}");
    node.clock.set(at(2026, 6, 2, 1, 0, 1)); // 09:00:01 in Shanghai
    assert_eq!(states_of(&node, kept, "13800000006", 1).await, ["sent"], "the queue moved on");
    let (_, page) = node.get("/api/messages?receiver=13800000005").await;
    assert_eq!(page["items"][0]["state"], "failed", "{page}");
    assert!(page["items"][0]["detail"].as_str().unwrap().contains("deleted"), "{page}");
    node.node.shutdown().await;
}
