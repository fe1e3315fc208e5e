//! End to end in one process with a test clock: upload a 10,000-row crowd, schedule it, move
//! the clock to the fire time, and check the outbox holds exactly one correctly rendered
//! delivery per row.

mod common;

use chrono::{Duration, TimeZone, Utc};
use common::*;
use std::collections::HashMap;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_crowd_send_delivers_every_row_once() {
    let dir = tempfile::tempdir().unwrap();
    let start = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
    let node = TestNode::start(&test_config(dir.path()), start).await;

    let rows = 10_000;
    let crowd_id = node.crowd(crowd_csv(rows)).await;
    // 09:00 every day in Shanghai = 01:00 UTC.
    let id = node.template(outbox_template("daily", &crowd_id, Some("0 0 9 * * ?"))).await;
    let (status, started) = node.post(&format!("/api/templates/{id}/start"), &serde_json::json!({})).await;
    assert_eq!(status, 200, "{started}");
    assert_eq!(started["nextFireAt"], "2026-03-01T01:00:00Z");

    // Nothing fires before its time.
    node.clock.set(start + Duration::minutes(59));
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let (_, runs) = node.get(&format!("/api/runs?templateId={id}")).await;
    assert_eq!(runs["items"].as_array().unwrap().len(), 0, "{runs}");

    node.clock.set(Utc.with_ymd_and_hms(2026, 3, 1, 1, 0, 0).unwrap() + Duration::milliseconds(300));
    let run_id = loop {
        let (_, runs) = node.get(&format!("/api/runs?templateId={id}")).await;
        if let Some(run) = runs["items"].as_array().unwrap().first() {
            break run["id"].as_i64().unwrap();
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    let run = node.wait_run(run_id, std::time::Duration::from_secs(120), |r| r["status"] == "completed").await;
    assert_eq!(run["rowsRead"], rows as i64);
    assert_eq!(run["delivered"], rows as i64);
    assert_eq!(run["failed"], 0);
    assert_eq!(run["batches"], 100, "10,000 distinct rows in batches of 100");
    assert_eq!(run["fractionDone"], 1.0);

    let entries = node.outbox_of_run(run_id).await;
    assert_eq!(entries.len(), rows);
    let by_receiver: HashMap<String, &serde_json::Value> =
        entries.iter().map(|e| (e["receiver"].as_str().unwrap().to_string(), e)).collect();
    assert_eq!(by_receiver.len(), rows, "one delivery per receiver");
    for n in 1..=rows {
        let entry = by_receiver.get(&receiver(n)).unwrap_or_else(|| panic!("row {n} missing"));
        assert_eq!(entry["messageId"], node.row_id(run_id, n as u64).await);
        assert_eq!(entry["content"]["title"], format!("Hi 用户{n}"));
        assert_eq!(entry["content"]["body"], format!("Your code is {:06}", n * 7 % 1_000_000));
    }

    // The fire ledger holds that one fire; the schedule moved to the next day.
    let (_, fires) = node.get(&format!("/api/templates/{id}/fires")).await;
    let fires = fires["items"].as_array().unwrap();
    assert_eq!(fires.len(), 1);
    assert_eq!(fires[0]["fireTime"], "2026-03-01T01:00:00Z");
    assert_eq!(fires[0]["runId"], run_id);
    let (_, template) = node.get(&format!("/api/templates/{id}")).await;
    assert_eq!(template["nextFireAt"], "2026-03-02T01:00:00Z");

    // One message's trace: accepted then sent.
    let (status, trace) = node.get(&format!("/api/trace/{}", node.row_id(run_id, 42).await)).await;
    assert_eq!(status, 200, "{trace}");
    let events: Vec<&str> = trace["events"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["accepted", "sent"]);
    node.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_with_equal_variables_are_merged_and_bad_rows_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let node = TestNode::start(&test_config(dir.path()), Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap()).await;
    // 250 rows sharing one variable set, with a blank receiver and a short row among them.
    let mut csv = String::from("userId,city\n");
    for n in 1..=250 {
        csv.push_str(&format!("{},Hangzhou\n", receiver(n)));
        if n == 100 {
            csv.push_str(",Hangzhou\n");
            csv.push_str("13,Hangzhou,extra\n");
        }
    }
    let (status, upload) = node.upload(csv.into_bytes(), None).await;
    assert_eq!(status, 201, "{upload}");
    assert_eq!(upload["report"]["badRowCount"], 2);
    assert_eq!(upload["report"]["badRows"][0]["line"], 102);
    assert_eq!(upload["report"]["badRows"][1]["line"], 103);
    let crowd_id = upload["crowd"]["id"].as_str().unwrap();
    let spec =
        serde_json::json!({"name": "merge", "channel": "outbox", "content": {"text": "{$city}"}, "crowdId": crowd_id});
    let id = node.template(spec).await;
    let (status, body) = node.post(&format!("/api/templates/{id}/run"), &serde_json::json!({})).await;
    assert_eq!(status, 202, "{body}");
    let run_id = body["runId"].as_i64().unwrap();
    let run = node.wait_run(run_id, std::time::Duration::from_secs(60), |r| r["status"] == "completed").await;
    assert_eq!(run["rowsRead"], 252);
    assert_eq!(run["rowsInvalid"], 2);
    assert_eq!(run["delivered"], 250);
    assert_eq!(run["batches"], 3);
    assert_eq!(node.outbox_of_run(run_id).await.len(), 250);
    node.node.shutdown().await;
}
