//! The dry run of a crowd end to end: each row counted under the first screen that stops it
//! (test mode, the suppression list, quiet hours, render, dedup against what the windows hold
//! and the crowd's own repeats), nothing sent and nothing written while it runs, and then the
//! template run for real sending exactly what the dry run said, counted at a recording
//! receiver. Refusals name what is wrong; the CLI calls it through a node.

mod common;

use chrono::{DateTime, TimeZone, Utc};
use common::*;
use serde_json::{Value, json};
use std::time::Duration as Wait;

/// 14:00 in Shanghai, 02:00 in New York (inside the default quiet window, 00:00 to 08:00).
fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 6, 0, 0).unwrap()
}

async fn node() -> (tempfile::TempDir, TestNode) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.worker.workers_per_channel = 2;
    let node = TestNode::start(&config, at()).await;
    (dir, node)
}

/// 22 data rows, each commented with where it goes under [`screened`]'s template at [`at`].
const CROWD: &str = "userId,name,code,timezone
13900000001,Ann,1001,Asia/Shanghai
13900000002,Bo,1002,Asia/Shanghai
13900000003,Cy,1003,Asia/Shanghai
13900000004,Di,1004,Asia/Shanghai
13900000005,Ed,1005,Asia/Shanghai
13900000006,Fa,1006,Asia/Shanghai
13900000007,Gu,1007,Asia/Shanghai
13900000008,Hu,1008,Asia/Shanghai
13900000009,Ik,1009,America/New_York
13900000010,Jo,1010,America/New_York
13900000011,Ka,1011,Asia/Shanghai
13900000011,Ka,1011,Asia/Shanghai
13900000013,Lu,1013,Asia/Shanghai
13900000013,Lu,1013,Asia/Shanghai
13900000013,Lu,1013,Asia/Shanghai
13900000016,Mo,1016,Asia/Shanghai
13900000016,Mo,2016,Asia/Shanghai
13900000018,Ni,1018,Asia/Shanghai
13900000018,Ni,2018,Asia/Shanghai
13900000018,Ni,3018,Asia/Shanghai
13900000021,Ol,1021,Asia/Shanghai
13900000022,Pa
";
// Rows 1-4: sent. 5, 6: not in test mode. 7, 8: suppressed. 9, 10: 02:00 in New York, quiet
// (drop). 11, 12: the same message twice, the second dropped by content dedup; 13-15: three
// times, two dropped. 16, 17: two contents, both sent. 18-20: three contents, the third dropped
// by the frequency rule (two a day). 21: its message was sent through /send before, so content
// dedup drops it. 22: invalid (two columns).

/// A webhook template to `hook` over `crowd`: quiet hours drop, test mode leaving out rows 5 and
/// 6, at most one of each message an hour and two messages a receiver a day.
fn screened(crowd: &str, hook: &herald_testkit::RecordingReceiver) -> Value {
    let listed: Vec<String> = [1, 2, 3, 4, 7, 8, 9, 10, 11, 13, 16, 18, 21].into_iter().map(receiver).collect();
    json!({
        "name": "dry", "channel": "webhook", "crowdId": crowd, "quietHours": "drop",
        "content": {"url": format!("{}/hook", hook.url), "text": "Hi {$name}, your code is {$code}"},
        "testMode": {"receivers": listed},
        "dedup": {"content": {"limit": 1, "windowSecs": 3600}, "frequency": {"limitPerDay": 2}},
    })
}

/// Rows of the tables a dry run must leave alone: dedup events and counters, trace, runs.
async fn written(dir: &tempfile::TempDir) -> (i64, i64, i64, i64) {
    let store = herald_store::SqliteStore::open(&dir.path().join("herald.sqlite")).await.unwrap();
    let counts = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM dedup_events), (SELECT COUNT(*) FROM dedup_counters), \
                (SELECT COUNT(*) FROM trace), (SELECT COUNT(*) FROM runs)",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    store.close().await;
    counts
}

async fn dry_run(node: &TestNode, template: i64, body: Value) -> Value {
    let (status, answer) = node.post(&format!("/api/templates/{template}/dry-run"), &body).await;
    assert_eq!(status, 200, "{answer}");
    answer
}

/// Where the rows went, in the answer's words, with the samples and timing left out.
fn counts(answer: &Value) -> Value {
    let mut counts = answer.clone();
    for field in ["samples", "elapsedMs", "at", "templateId", "crowdId", "channel"] {
        counts.as_object_mut().unwrap().remove(field);
    }
    counts
}

async fn run_to_end(node: &TestNode, template: i64) -> (i64, Value) {
    let (status, run) = node.post(&format!("/api/templates/{template}/run"), &json!({})).await;
    assert_eq!(status, 202, "{run}");
    let run = run["runId"].as_i64().unwrap();
    node.wait_run(run, Wait::from_secs(60), |r| r["status"] == "completed").await;
    let (_, states) = node.get(&format!("/api/runs/{run}/states")).await;
    (run, states["states"].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_counts_each_row_once_sends_nothing_and_a_real_run_sends_what_it_said() {
    let hook = herald_testkit::RecordingReceiver::start().await;
    let (dir, node) = node().await;
    let crowd = node.crowd(CROWD.as_bytes().to_vec()).await;
    for n in [7, 8] {
        let (status, added) = node
            .post("/api/suppressions", &json!({"receiver": receiver(n), "channel": "webhook", "kinds": ["notice"]}))
            .await;
        assert_eq!(status, 201, "{added}");
    }
    let id = node.template(screened(&crowd, &hook)).await;
    // Row 21's message, sent before through /send: its content dedup window holds one event.
    let send = json!({"code": "send", "messageTemplateId": id, "messageParam": {"receiver": receiver(21),
        "variables": {"name": "Ol", "code": "1021", "timezone": "Asia/Shanghai"}}});
    let (status, sent) = node.post("/send", &send).await;
    assert_eq!(status, 200, "{sent}");
    let message = sent["data"][0]["messageId"].as_str().unwrap().to_string();
    assert!(hook.wait_for(1, Wait::from_secs(10)).await);
    for _ in 0..200 {
        if node.get(&format!("/api/trace/{message}")).await.1.to_string().contains("\"sent\"") {
            break;
        }
        tokio::time::sleep(Wait::from_millis(25)).await;
    }
    let before = written(&dir).await;
    assert_eq!((before.0, before.1), (1, 1), "the /send counted once in each dedup window");

    let answer = dry_run(&node, id, json!({})).await;
    assert_eq!(
        counts(&answer),
        json!({"rows": 22, "invalidRows": 1, "discarded": 0, "testSkipped": 2, "suppressed": 2,
               "quietHours": {"dropped": 2, "deferred": 0}, "renderFailed": 0, "dedupDropped": 5, "wouldSend": 10,
               "repeatsExact": true}),
        "{answer}"
    );
    assert_eq!((answer["templateId"].as_i64(), answer["crowdId"].as_str()), (Some(id), Some(crowd.as_str())));
    assert_eq!((answer["channel"].as_str(), answer["at"].as_str()), (Some("webhook"), Some("2026-06-01T06:00:00Z")));
    let samples = answer["samples"].as_array().unwrap();
    assert_eq!(samples.len(), 3, "three by default");
    assert_eq!(samples[0]["row"], 1);
    assert_eq!(samples[0]["receiver"], receiver(1));
    assert_eq!(samples[0]["content"]["text"], "Hi Ann, your code is 1001");
    assert_eq!(samples[2]["receiver"], receiver(3));

    // At 18:00 UTC it is 02:00 in Shanghai and 14:00 in New York: the Shanghai rows are quiet,
    // the New York ones sent. `samples` takes up to 10.
    let late = dry_run(&node, id, json!({"at": "2026-06-01T20:00:00+02:00", "samples": 10})).await;
    assert_eq!(
        (late["quietHours"]["dropped"].as_i64(), late["wouldSend"].as_i64(), late["dedupDropped"].as_i64()),
        (Some(15), Some(2), Some(0)),
        "{late}"
    );
    let receivers: Vec<&str> =
        late["samples"].as_array().unwrap().iter().map(|s| s["receiver"].as_str().unwrap()).collect();
    assert_eq!(receivers, [receiver(9), receiver(10)]);
    let none = dry_run(&node, id, json!({"samples": 0})).await;
    assert_eq!(counts(&dry_run(&node, id, Value::Null).await), counts(&answer), "null takes the defaults");
    assert_eq!((none["samples"].as_array().map(Vec::len), none["wouldSend"].as_i64()), (Some(0), Some(10)));

    // Every row reaching render fails when the content names a column the crowd lacks (saved
    // past the API's check, which refuses such a template).
    let broken = node
        .template(json!({"name": "broken", "channel": "webhook", "crowdId": crowd,
        "content": {"url": format!("{}/hook", hook.url), "text": "Hi {$name}"}}))
        .await;
    let store = node.node.context.store.clone();
    let mut spec = store.get_template(broken).await.unwrap().spec;
    spec.content = json!({"url": format!("{}/hook", hook.url), "text": "Hi {$name}, use {$coupon}"});
    store.update_template(broken, &spec, at()).await.unwrap();
    let r = node.http.post(node.url(&format!("/api/templates/{broken}/dry-run"))).header("X-API-Key", &node.key);
    let r = r.send().await.unwrap();
    assert_eq!(r.status(), 200, "an empty body takes the defaults");
    let failing: Value = r.json().await.unwrap();
    assert_eq!(
        counts(&failing),
        json!({"rows": 22, "invalidRows": 1, "discarded": 0, "testSkipped": 0, "suppressed": 2,
               "quietHours": {"dropped": 0, "deferred": 0}, "renderFailed": 19, "dedupDropped": 0, "wouldSend": 0,
               "repeatsExact": true}),
        "{failing}"
    );

    // Nothing was sent or written by the dry runs.
    tokio::time::sleep(Wait::from_millis(200)).await;
    assert_eq!(hook.count(), 1, "only the /send reached the receiver");
    assert_eq!(written(&dir).await, before, "no dedup count, trace or run");

    // The real runs send what the dry runs said, and stop the rest where they said.
    let (_, states) = run_to_end(&node, id).await;
    assert!(hook.wait_for(1 + 10, Wait::from_secs(10)).await, "{}", hook.count());
    tokio::time::sleep(Wait::from_millis(300)).await;
    assert_eq!(hook.count() as i64 - 1, answer["wouldSend"].as_i64().unwrap(), "the receiver got what it said");
    assert_eq!(
        states,
        json!({"sent": 10, "test_skipped": 2, "suppressed": 2, "dropped_quiet_hours": 2, "dropped_dedup": 5})
    );
    let (_, states) = run_to_end(&node, broken).await;
    assert_eq!(states, json!({"failed": 19, "suppressed": 2}));
    tokio::time::sleep(Wait::from_millis(300)).await;
    assert_eq!((hook.count(), hook.repeats()), (11, 0));
    node.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crowd_larger_than_a_chunk_counts_its_repeats_across_chunks() {
    const ROWS: usize = 2_500;
    let (_dir, node) = node().await;
    // Row n goes to receiver ((n - 1) % 1000) + 1 with that receiver's own message: rows 1,001
    // to 2,500 repeat rows of earlier chunks.
    let mut csv = String::from("userId,name,timezone\n");
    for n in 1..=ROWS {
        let r = (n - 1) % 1000 + 1;
        csv.push_str(&format!("{},u{r},Asia/Shanghai\n", receiver(r)));
    }
    let crowd = node.crowd(csv.into_bytes()).await;
    let mut spec = outbox_template("large", &crowd, None);
    spec["content"] = json!({"body": "Hi {$name}"});
    spec["dedup"] = json!({"content": {"limit": 1, "windowSecs": 600}});
    let id = node.template(spec).await;
    let answer = dry_run(&node, id, json!({"samples": 1})).await;
    assert_eq!(
        (answer["rows"].as_i64(), answer["dedupDropped"].as_i64(), answer["wouldSend"].as_i64()),
        (Some(2_500), Some(1_500), Some(1_000)),
        "{answer}"
    );
    assert_eq!(answer["repeatsExact"], true);
    let (run, states) = run_to_end(&node, id).await;
    assert_eq!(states, json!({"sent": 1_000, "dropped_dedup": 1_500}));
    assert_eq!(node.outbox_of_run(run).await.len(), 1_000);
    node.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_name_what_is_wrong() {
    let (dir, node) = node().await;
    let crowd = node.crowd(crowd_csv(3)).await;
    let id = node.template(outbox_template("t", &crowd, None)).await;
    let path = format!("/api/templates/{id}/dry-run");

    for (body, names) in [
        (json!({"samples": 11}), "samples"),
        (json!({"samples": -1}), "samples"),
        (json!({"at": "yesterday"}), "at"),
        (json!({"at": "2026-06-01 09:00"}), "at"),
        (json!({"at": "+262142-12-31T23:59:59Z"}), "at"),
        (json!({"sample": 1}), "sample"),
    ] {
        let (status, refused) = node.post(&path, &body).await;
        assert_eq!(status, 422, "{body}: {refused}");
        assert!(refused["msg"].as_str().unwrap().starts_with(names), "{body}: {refused}");
    }
    let (status, refused) = node.post("/api/templates/999999/dry-run", &json!({})).await;
    assert!(status == 404 && refused["code"] == "A0002", "{refused}");

    let bare = node.template(json!({"name": "bare", "channel": "outbox", "content": {"body": "b"}})).await;
    let (status, refused) = node.post(&format!("/api/templates/{bare}/dry-run"), &json!({})).await;
    assert_eq!(status, 409, "{refused}");
    assert!(refused["msg"].as_str().unwrap().contains("has no crowd"), "{refused}");

    std::fs::remove_file(dir.path().join("crowds").join(format!("{crowd}.csv"))).unwrap();
    let (status, refused) = node.post(&path, &json!({})).await;
    assert_eq!(status, 409, "{refused}");
    assert!(refused["msg"].as_str().unwrap().contains("is gone"), "{refused}");

    let (status, _) = node.delete(&format!("/api/templates/{id}")).await;
    assert_eq!(status, 200);
    let (status, refused) = node.post(&path, &json!({})).await;
    assert_eq!(status, 404, "a deleted template: {refused}");
    node.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_asks_a_running_node() {
    let (_dir, node) = node().await;
    let crowd = node.crowd(crowd_csv(5)).await;
    let id = node.template(outbox_template("t", &crowd, None)).await;
    let herald = |args: Vec<String>, key: String| {
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_herald")).args(args).env("HERALD_API_KEY", key).output()
        })
    };
    let args =
        vec!["dry-run".into(), id.to_string(), "--url".into(), node.base.clone(), "--samples".into(), "1".into()];
    let out = herald(args, node.key.clone()).await.unwrap().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout} {}", String::from_utf8_lossy(&out.stderr));
    let answer: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!((answer["wouldSend"].as_i64(), answer["samples"].as_array().map(Vec::len)), (Some(5), Some(1)));

    let args = vec!["dry-run".into(), id.to_string(), "--url".into(), node.base.clone(), "--at".into(), "noon".into()];
    let out = herald(args, node.key.clone()).await.unwrap().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--at"), "{}", String::from_utf8_lossy(&out.stderr));
    let args = vec!["dry-run".into(), "999999".into(), "--url".into(), node.base.clone()];
    let out = herald(args, node.key.clone()).await.unwrap().unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stdout).contains("A0002"));
    node.node.shutdown().await;
}
