//! A schedule's misfire policy and dates with a test clock, counted in the outbox: a node that
//! was away while fires came due makes up what its policy says, and no more; a schedule with
//! start and end dates fires only between them.

mod common;

use chrono::{Duration, TimeZone, Utc};
use common::*;
use serde_json::{Value, json};

/// Runs of the template, oldest first, once `count` have completed.
async fn completed_runs(node: &TestNode, template: i64, count: usize) -> Vec<Value> {
    for _ in 0..600 {
        let (_, runs) = node.get(&format!("/api/runs?templateId={template}")).await;
        let mut runs = runs["items"].as_array().cloned().unwrap_or_default();
        if runs.len() >= count && runs.iter().all(|r| r["status"] == "completed") {
            runs.sort_by_key(|r| r["id"].as_i64());
            return runs;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("{count} runs of template {template} never completed");
}

/// Outbox deliveries of these runs.
async fn delivered(node: &TestNode, runs: &[Value]) -> usize {
    let mut delivered = 0;
    for run in runs {
        delivered += node.outbox_of_run(run["id"].as_i64().unwrap()).await.len();
    }
    delivered
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catch_up_sends_each_of_the_latest_missed_fires_and_skips_the_older() {
    let dir = tempfile::tempdir().unwrap();
    let start = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
    let node = TestNode::start(&test_config(dir.path()), start).await;
    let crowd_id = node.crowd(crowd_csv(3)).await;
    let mut spec = outbox_template("quarterly", &crowd_id, Some("0 0/15 * * * ?"));
    spec["schedule"]["misfire"] = json!("catch_up:2");
    let template = node.template(spec).await;
    let (status, started) = node.post(&format!("/api/templates/{template}/start"), &json!({})).await;
    assert_eq!(status, 200, "{started}");

    // The node was away from 00:00 to 01:10: 00:15, 00:30, 00:45 and 01:00 came due meanwhile.
    node.clock.set(start + Duration::minutes(70));
    let runs = completed_runs(&node, template, 2).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (_, all) = node.get(&format!("/api/runs?templateId={template}")).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 2, "the latest two missed fires, no more: {all}");
    let delivered = delivered(&node, &runs).await;
    assert_eq!(delivered, 6, "three rows, twice");

    let (_, fires) = node.get(&format!("/api/templates/{template}/fires")).await;
    let mut fires: Vec<(String, String)> = fires["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["fireTime"].as_str().unwrap().to_string(), f["outcome"].as_str().unwrap().to_string()))
        .collect();
    fires.sort();
    assert_eq!(
        fires,
        [
            ("2026-03-01T00:15:00Z".into(), "misfire_skipped".into()),
            ("2026-03-01T00:45:00Z".into(), "fired".into()),
            ("2026-03-01T01:00:00Z".into(), "fired".into()),
        ]
    );
    let (_, shown) = node.get(&format!("/api/templates/{template}")).await;
    assert_eq!(shown["nextFireAt"], "2026-03-01T01:15:00Z");
    assert_eq!(shown["schedule"]["misfire"], "catch_up:2");

    // A count out of range is refused naming the field; a bare catch_up takes 10.
    let mut bad = outbox_template("bad", &crowd_id, Some("0 0/15 * * * ?"));
    bad["schedule"]["misfire"] = json!("catch_up:0");
    let (status, refused) = node.post("/api/templates", &bad).await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused.to_string().contains("misfire"), "{refused}");
    let mut bare = outbox_template("bare", &crowd_id, Some("0 0/15 * * * ?"));
    bare["schedule"]["misfire"] = json!("catch_up");
    let (status, created) = node.post("/api/templates", &bare).await;
    assert_eq!((status, created["schedule"]["misfire"].as_str()), (201, Some("catch_up:10")), "{created}");
    node.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schedule_fires_only_between_its_start_and_end_dates() {
    let dir = tempfile::tempdir().unwrap();
    let start = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
    let node = TestNode::start(&test_config(dir.path()), start).await;
    let crowd_id = node.crowd(crowd_csv(2)).await;
    let mut spec = outbox_template("campaign", &crowd_id, Some("0 0/15 * * * ?"));
    spec["schedule"]["startAt"] = json!("2026-03-01T08:30:00+08:00");
    spec["schedule"]["endAt"] = json!("2026-03-01T01:00:00Z");
    let template = node.template(spec).await;
    let (status, started) = node.post(&format!("/api/templates/{template}/start"), &json!({})).await;
    assert_eq!(status, 200, "{started}");
    assert_eq!(started["nextFireAt"], "2026-03-01T00:30:00Z", "none before the start");

    // On time through the window and beyond it: 00:30, 00:45 and 01:00 (the end), then none.
    for minutes in [30, 45, 60, 75, 90] {
        node.clock.set(start + Duration::minutes(minutes) + Duration::milliseconds(200));
        let expected = (minutes.min(60) - 15) / 15;
        if minutes <= 60 {
            completed_runs(&node, template, expected as usize).await;
        } else {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        }
    }
    let runs = completed_runs(&node, template, 3).await;
    assert_eq!(runs.len(), 3, "00:30, 00:45 and 01:00 only");
    let delivered = delivered(&node, &runs).await;
    assert_eq!(delivered, 6, "two rows, three times");
    let (_, shown) = node.get(&format!("/api/templates/{template}")).await;
    assert_eq!(shown["nextFireAt"], json!(null), "the schedule ended: {shown}");
    assert_eq!(shown["schedule"]["startAt"], "2026-03-01T00:30:00Z");

    // An end before the start, or a date that is not one, is refused naming the field.
    for (window, field) in [
        (json!({"startAt": "2026-03-02T00:00:00Z", "endAt": "2026-03-01T00:00:00Z"}), "schedule.endAt"),
        (json!({"startAt": "tomorrow"}), "schedule.startAt"),
    ] {
        let mut bad = outbox_template("bad", &crowd_id, Some("0 0/15 * * * ?"));
        for (key, value) in window.as_object().unwrap() {
            bad["schedule"][key] = value.clone();
        }
        let (status, refused) = node.post("/api/templates", &bad).await;
        assert_eq!(status, 422, "{refused}");
        assert!(refused.to_string().contains(field), "{field}: {refused}");
    }
    node.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schedule_does_not_fire_on_its_excluded_days() {
    let dir = tempfile::tempdir().unwrap();
    let start = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
    let node = TestNode::start(&test_config(dir.path()), start).await;
    let crowd_id = node.crowd(crowd_csv(2)).await;
    // 09:00 in Shanghai (01:00 UTC) every day but 2 March there.
    let mut spec = outbox_template("daily", &crowd_id, Some("0 0 9 * * ?"));
    spec["schedule"]["excludeDates"] = json!(["2026-03-02"]);
    let template = node.template(spec).await;
    node.post(&format!("/api/templates/{template}/start"), &json!({})).await;

    node.clock.set(start + Duration::hours(1) + Duration::milliseconds(200));
    completed_runs(&node, template, 1).await;
    let (_, shown) = node.get(&format!("/api/templates/{template}")).await;
    assert_eq!(shown["nextFireAt"], "2026-03-03T01:00:00Z", "2 March is skipped: {shown}");
    assert_eq!(shown["schedule"]["excludeDates"], json!(["2026-03-02"]));
    node.clock.set(start + Duration::days(1) + Duration::hours(1) + Duration::milliseconds(200));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    node.clock.set(start + Duration::days(2) + Duration::hours(1) + Duration::milliseconds(200));
    let runs = completed_runs(&node, template, 2).await;
    assert_eq!(runs.len(), 2);
    let delivered = delivered(&node, &runs).await;
    assert_eq!(delivered, 4, "two rows on 1 and 3 March, none on the 2nd");

    let mut bad = outbox_template("bad", &crowd_id, Some("0 0 9 * * ?"));
    bad["schedule"]["excludeDates"] = json!(["2026-02-30"]);
    let (status, refused) = node.post("/api/templates", &bad).await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused.to_string().contains("excludeDates"), "{refused}");
    node.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_does_not_fire_in_its_excluded_times_of_day() {
    let dir = tempfile::tempdir().unwrap();
    let start = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
    let node = TestNode::start(&test_config(dir.path()), start).await;
    let receiver = herald_testkit::receiver::RecordingReceiver::start().await;
    // Every hour but through the night (22:00 to 02:00 UTC) and at lunch.
    let spec = json!({"name": "hourly", "http": {"method": "POST", "url": receiver.url},
        "schedule": {"type": "cron", "cron": "0 0 * * * ?",
            "excludeWindows": [{"from": "22:00", "to": "02:00"}, {"from": "12:00", "to": "13:00"}]}});
    let (status, job) = node.post("/api/jobs", &spec).await;
    assert_eq!(status, 201, "{job}");
    assert_eq!(job["nextFireAt"], "2026-03-01T02:00:00Z", "01:00 is in the night");
    let id = job["id"].as_i64().unwrap();
    let next_fire = || async { node.get(&format!("/api/jobs/{id}")).await.1["nextFireAt"].clone() };
    let mut calls = 0;
    for (hour, next) in [(2, "2026-03-01T03:00:00Z"), (11, "2026-03-01T13:00:00Z"), (21, "2026-03-02T02:00:00Z")] {
        node.clock.set(start + Duration::hours(hour));
        calls += 1;
        assert!(receiver.wait_for(calls, std::time::Duration::from_secs(10)).await, "the {hour}:00 fire called");
        for _ in 0..200 {
            if next_fire().await == next {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        assert_eq!(next_fire().await, next, "after the {hour}:00 fire");
    }
    assert_eq!(receiver.count(), 3, "no call in a window");
    for (window, field) in [
        (json!([{"from": "09:00", "to": "09:00"}]), "schedule.excludeWindows.0"),
        (json!([{"from": "9am", "to": "10:00"}]), "excludeWindows"),
    ] {
        let mut bad = spec.clone();
        bad["name"] = json!("bad");
        bad["schedule"]["excludeWindows"] = window;
        let (status, refused) = node.post("/api/jobs", &bad).await;
        assert_eq!(status, 422, "{refused}");
        assert!(refused.to_string().contains(field), "{field}: {refused}");
    }
    node.node.shutdown().await;
}
