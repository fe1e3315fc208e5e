//! `/metrics` after real work: a crowd run and an API send through the outbox, a policy drop,
//! then a scrape whose counts must match what happened. One test in this binary: the metrics
//! recorder is global to the process.

mod common;

use chrono::{TimeZone, Utc};
use common::*;
use serde_json::json;
use std::time::Duration;

/// The value of the sample `name{labels}` (labels as Prometheus prints them, sorted), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scrape_counts_what_the_node_did() {
    let dir = tempfile::tempdir().unwrap();
    let node = TestNode::start(&test_config(dir.path()), Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()).await;
    let crowd = node.crowd(crowd_csv(25)).await;
    let template = node.template(outbox_template("metrics", &crowd, None)).await;
    let (status, body) = node.post(&format!("/api/templates/{template}/run"), &json!({})).await;
    assert_eq!(status, 202, "{body}");
    let run_id = body["runId"].as_i64().unwrap();
    node.wait_run(run_id, Duration::from_secs(30), |r| r["status"] == "completed").await;
    let send = json!({"code": "send", "messageTemplateId": template,
        "messageParam": {"receiver": "a,b", "variables": {"name": "n", "city": "c", "code": "1"}}});
    let (status, body) = node.post("/send", &send).await;
    assert_eq!(status, 200, "{body}");
    for _ in 0..200 {
        if node.outbox_of_run(run_id).await.len() == 25
            && node.get("/api/outbox?limit=100").await.1["items"].as_array().unwrap().len() == 27
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }

    let anonymous = node.http.get(node.url("/metrics")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401, "metrics need an API key");
    let scrape = node.http.get(node.url("/metrics")).header("X-API-Key", &node.key).send().await.unwrap();
    assert_eq!(scrape.status(), 200);
    assert!(scrape.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let text = scrape.text().await.unwrap();
    let value = |series: &str| sample(&text, series).unwrap_or_else(|| panic!("no {series} in:\n{text}"));
    assert_eq!(value(r#"herald_deliveries_total{channel="outbox",account="-",outcome="sent"}"#), 27.0);
    assert_eq!(value("herald_rows_streamed_total"), 25.0);
    assert_eq!(value(r#"herald_runs{status="completed"}"#), 1.0);
    assert_eq!(value(r#"herald_bus_messages{topic="outbox",state="ready"}"#), 0.0);
    assert!(value(r#"herald_provider_latency_seconds_count{channel="outbox"}"#) >= 1.0);
    assert_eq!(value(r#"herald_http_requests_total{route="/api/templates/{id}/run",method="POST",status="202"}"#), 1.0);
    assert_eq!(value(r#"herald_http_requests_total{route="/send",method="POST",status="200"}"#), 1.0);
    let max = value("herald_db_pool_max_connections");
    let (in_use, idle) =
        (value(r#"herald_db_pool_connections{state="in_use"}"#), value(r#"herald_db_pool_connections{state="idle"}"#));
    assert!(
        max >= 1.0 && in_use + idle >= 1.0 && in_use + idle <= max,
        "pool: {in_use} in use, {idle} idle, {max} max"
    );
    assert!(!text.contains(&node.key), "no secret in the scrape");
    node.node.shutdown().await;
}
