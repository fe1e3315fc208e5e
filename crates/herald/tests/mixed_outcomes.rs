//! A 10,000-row crowd run whose rows meet every policy: some recipients are in their quiet
//! hours (dropped), some are duplicates (dedup), some are refused by the webhook receiver
//! (failed), the rest are sent. Every row must end in exactly one final state, and the run's
//! counts by state must add up to its rows.

mod common;

use axum::Json;
use axum::http::StatusCode;
use chrono::{TimeZone, Utc};
use common::*;
use serde_json::{Value, json};
use std::time::Duration;

/// A webhook receiver that refuses receivers starting with `bad-` with a 400.
async fn receiver_server() -> String {
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(|Json(body): Json<Value>| async move {
            if body["receiver"].as_str().unwrap_or_default().starts_with("bad-") {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_row_of_a_mixed_run_ends_in_exactly_one_final_state() {
    // 06:30 UTC: 14:30 in Shanghai (awake), 02:30 in New York (quiet).
    let dir = tempfile::tempdir().unwrap();
    let node = TestNode::start(&test_config(dir.path()), Utc.with_ymd_and_hms(2026, 6, 1, 6, 30, 0).unwrap()).await;
    let url = receiver_server().await;

    // Per ten rows: 0 quiet (New York), 2 and 3 the same receiver and content (one is a
    // duplicate), 5 refused by the receiver, the other five plain.
    let mut csv = String::from("userId,name,timezone\n");
    for n in 0..10_000 {
        let (who, name, tz) = match n % 10 {
            0 => (format!("ny-{n}"), format!("n{n}"), "America/New_York"),
            2 | 3 => (format!("dup-{}", n / 10), format!("d{}", n / 10), "Asia/Shanghai"),
            5 => (format!("bad-{n}"), format!("n{n}"), "Asia/Shanghai"),
            _ => (format!("ok-{n}"), format!("n{n}"), "Asia/Shanghai"),
        };
        csv.push_str(&format!("{who},{name},{tz}\n"));
    }
    let crowd = node.crowd(csv.into_bytes()).await;
    let id = node
        .template(json!({"name": "mixed", "channel": "webhook", "crowdId": crowd, "quietHours": "drop",
                         "content": {"url": url, "text": "hello {$name}"},
                         "schedule": {"cron": "0 0 12 * * ?", "timezone": "Asia/Shanghai"},
                         "dedup": {"content": {"limit": 1, "windowSecs": 300}}}))
        .await;
    let (_, body) = node.post(&format!("/api/templates/{id}/run"), &json!({})).await;
    let run_id = body["runId"].as_i64().unwrap();
    let run = node.wait_run(run_id, Duration::from_secs(240), |r| r["status"] == "completed").await;
    assert_eq!((run["rowsRead"].as_i64(), run["delivered"].as_i64()), (Some(10_000), Some(7_000)), "{run}");
    assert_eq!((run["failed"].as_i64(), run["dropped"].as_i64()), (Some(1_000), Some(2_000)), "{run}");

    let (_, states) = node.get(&format!("/api/runs/{run_id}/states")).await;
    assert_eq!(
        states["states"],
        json!({"sent": 7000, "failed": 1000, "dropped_dedup": 1000, "dropped_quiet_hours": 1000}),
        "{states}"
    );
    assert_eq!(states["total"], 10_000);
    // The failed ones, as the run page lists them: every one a receiver the webhook refused.
    let (_, failed) = node.get(&format!("/api/messages?runId={run_id}&state=failed&limit=1000")).await;
    let failed = failed["items"].as_array().unwrap();
    assert_eq!(failed.len(), 1_000);
    assert!(failed.iter().all(|m| m["receiver"].as_str().unwrap().starts_with("bad-") && m["state"] == "failed"));
    let (status, refused) = node.get(&format!("/api/messages?runId={run_id}&state=lost")).await;
    assert_eq!(status, 422, "{refused}");

    // Straight from the trace: each of the 10,000 messages has exactly one final event.
    let store = herald_store::SqliteStore::open(&dir.path().join("herald.sqlite")).await.unwrap();
    let terminal = "('sent', 'failed', 'dropped_quiet_hours', 'dropped_dedup', 'discarded')";
    let (events, messages, once): (i64, i64, i64) = sqlx::query_as(&format!(
        "SELECT (SELECT COUNT(*) FROM trace WHERE run_id = ?1 AND event IN {terminal}), \
                (SELECT COUNT(DISTINCT message_id) FROM trace WHERE run_id = ?1), \
                (SELECT COUNT(*) FROM (SELECT message_id FROM trace WHERE run_id = ?1 AND event IN {terminal} \
                                       GROUP BY message_id HAVING COUNT(*) = 1))"
    ))
    .bind(run_id)
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!((events, messages, once), (10_000, 10_000, 10_000));
    store.close().await;

    // The quiet ones say why.
    let (_, trace) = node.get(&format!("/api/trace/{}", node.row_id(run_id, 1).await)).await;
    let last = trace["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["event"], "dropped_quiet_hours");
    assert!(last["detail"].as_str().unwrap().contains("America/New_York"), "{last}");
    node.node.shutdown().await;
}
