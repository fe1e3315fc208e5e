//! The admin API: templates refused with a 4xx naming the field at fault, crowd uploads with
//! their reports and limits, and the template lifecycle (update, start, stop, run-now, delete).

mod common;

use chrono::{TimeZone, Utc};
use common::*;
use serde_json::{Value, json};

async fn node() -> (tempfile::TempDir, TestNode) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.crowd.max_upload_bytes = 64 * 1024;
    let node = TestNode::start(&config, Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap()).await;
    (dir, node)
}

fn fields(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|e| e.iter().map(|e| e["field"].as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn bad_templates_are_refused_naming_the_field() {
    let (_dir, node) = node().await;
    let crowd_id = node.crowd(crowd_csv(3)).await;
    let good = outbox_template("ok", &crowd_id, Some("0 0 9 ? * 2-6"));
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            {
                let mut s = good.clone();
                s["schedule"]["cron"] = json!("0 0 25 * * ?");
                s
            },
            "schedule.cron",
            "0 0 25 * * ?",
        ),
        (
            {
                let mut s = good.clone();
                s["schedule"]["cron"] = json!("*/5 * * * *");
                s
            },
            "schedule.cron",
            "seconds",
        ),
        (
            {
                let mut s = good.clone();
                s["schedule"]["cron"] = json!("* * * * * ? 2020");
                s
            },
            "schedule.cron",
            "has no fire after 2026-04-01",
        ),
        (
            {
                let mut s = good.clone();
                s["schedule"]["cron"] = json!("0 0 0 29 2 ? 2098");
                s
            },
            "schedule.cron",
            "no date in year field \"2098\" matches",
        ),
        (
            {
                let mut s = good.clone();
                s["schedule"]["cron"] = json!("0 ".repeat(50_000));
                s
            },
            "schedule.cron",
            "100000 bytes long; at most 256",
        ),
        (
            {
                let mut s = good.clone();
                s["schedule"]["timezone"] = json!("Mars/Olympus");
                s
            },
            "schedule.timezone",
            "Mars/Olympus",
        ),
        (
            {
                let mut s = good.clone();
                s["channel"] = json!("pigeon");
                s
            },
            "channel",
            "pigeon",
        ),
        (
            {
                let mut s = good.clone();
                s["content"]["body"] = json!("{$coupon}");
                s
            },
            "content",
            "{$coupon}",
        ),
        (
            {
                let mut s = good.clone();
                s["crowdId"] = json!("nope");
                s
            },
            "crowdId",
            "nope",
        ),
        (
            {
                let mut s = good.clone();
                s["name"] = json!("");
                s
            },
            "name",
            "empty",
        ),
        (
            {
                let mut s = good.clone();
                s["channel"] = json!("sms");
                s
            },
            "channelAccount",
            "channel account",
        ),
        (
            {
                let mut s = good.clone();
                s["colour"] = json!("red");
                s
            },
            "colour",
            "unknown field",
        ),
        (
            {
                let mut s = good.clone();
                s["channel"] = json!("webhook");
                s
            },
            "content.url",
            "url",
        ),
    ];
    for (spec, field, words) in cases {
        let (status, body) = node.post("/api/templates", &spec).await;
        assert_eq!(status, 422, "{spec} -> {body}");
        assert_eq!(body["code"], "A0001");
        let msg = body["msg"].as_str().unwrap();
        assert!(msg.contains(field) && msg.contains(words), "expected {field}/{words} in {msg}");
        if let Some(errors) = body["errors"].as_array() {
            assert!(fields(&body).contains(&field.to_string()), "{errors:?}");
        }
    }
    let (_, list) = node.get("/api/templates").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0, "nothing half-written");
    node.node.shutdown().await;
}

#[tokio::test]
async fn uploads_report_rows_and_refuse_what_they_cannot_use() {
    let (dir, node) = node().await;
    // A good file with one bad row (blank receiver on line 3).
    let (status, body) = node.upload(b"userId,name\n1,a\n,b\n2,c\n".to_vec(), None).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["report"]["rows"], 3);
    assert_eq!(body["report"]["validRows"], 2);
    assert_eq!(body["report"]["badRows"][0]["line"], 3);
    assert!(body["report"]["badRows"][0]["reason"].as_str().unwrap().contains("receiver"), "{body}");
    assert_eq!(body["crowd"]["originalName"], "../../etc/crowd.csv", "kept for display only");

    // The receiver column is missing: 422 naming it and the columns found.
    let (status, body) = node.upload(b"phone,name\n1,a\n".to_vec(), None).await;
    assert_eq!(status, 422, "{body}");
    let msg = body["msg"].as_str().unwrap();
    assert!(msg.contains("userId") && msg.contains("phone"), "{msg}");

    // ... unless the upload names it.
    let (status, body) = node.upload(b"phone,name\n1,a\n".to_vec(), Some("phone")).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["report"]["receiverColumn"], "phone");

    // Over the limit: 413, and no file is left behind.
    let big = crowd_csv(5_000);
    assert!(big.len() > 64 * 1024);
    let (status, body) = node.upload(big, None).await;
    assert_eq!(status, 413, "{body}");

    // No `file` field.
    let form = reqwest::multipart::Form::new().text("receiverColumn", "userId");
    let r =
        node.http.post(node.url("/api/crowds")).header("X-API-Key", &node.key).multipart(form).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 422);

    // Only generated names reach the crowd directory.
    let names: Vec<String> = std::fs::read_dir(dir.path().join("crowds"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    for name in names {
        assert!(name.len() == 40 && name.ends_with(".csv"), "{name}");
    }
    node.node.shutdown().await;
}

#[tokio::test]
async fn the_template_lifecycle() {
    let (_dir, node) = node().await;
    let crowd_id = node.crowd(crowd_csv(5)).await;
    let id = node.template(outbox_template("life", &crowd_id, Some("0 0 9 * * ?"))).await;
    let (status, t) = node.get(&format!("/api/templates/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(t["status"], "stopped");
    assert_eq!(t["nextFireAt"], Value::Null);

    let (_, t) = node.post(&format!("/api/templates/{id}/start"), &json!({})).await;
    assert_eq!(t["status"], "running");
    assert_eq!(t["nextFireAt"], "2026-04-01T01:00:00Z");

    // Editing a running template's cron re-plans the next fire.
    let mut spec = outbox_template("life", &crowd_id, Some("0 30 8 * * ?"));
    spec["schedule"]["timezone"] = json!("Europe/London");
    let (status, t) = node.put(&format!("/api/templates/{id}"), &spec).await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["nextFireAt"], "2026-04-01T07:30:00Z", "08:30 BST");

    let (_, t) = node.post(&format!("/api/templates/{id}/stop"), &json!({})).await;
    assert_eq!(t["status"], "stopped");
    assert_eq!(t["nextFireAt"], Value::Null);

    let (status, body) = node.post(&format!("/api/templates/{id}/run"), &json!({})).await;
    assert_eq!(status, 202, "{body}");
    let run = node
        .wait_run(body["runId"].as_i64().unwrap(), std::time::Duration::from_secs(30), |r| r["status"] == "completed")
        .await;
    assert_eq!(run["delivered"], 5);

    // A schedule whose years have all passed since it was saved: start is refused.
    let once = node.template(outbox_template("once", &crowd_id, Some("0 0 9 ? * MON 2026"))).await;
    node.clock.set(Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap());
    let (status, body) = node.post(&format!("/api/templates/{once}/start"), &json!({})).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(fields(&body), ["schedule.cron"], "{body}");
    assert!(body["msg"].as_str().unwrap().contains("has no fire after 2027-01-01"), "{body}");

    // No schedule: start is refused; no crowd: run-now is refused.
    let bare = node.template(json!({"name": "bare", "channel": "outbox", "content": {"t": "x"}})).await;
    let (status, body) = node.post(&format!("/api/templates/{bare}/start"), &json!({})).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["msg"].as_str().unwrap().contains("schedule"));
    let (status, body) = node.post(&format!("/api/templates/{bare}/run"), &json!({})).await;
    assert_eq!(status, 409, "{body}");
    assert!(body["msg"].as_str().unwrap().contains("crowd"));

    let r = node
        .http
        .delete(node.url(&format!("/api/templates/{id}")))
        .header("X-API-Key", &node.key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let answer: serde_json::Value = r.json().await.unwrap();
    assert!(answer["kept"].as_str().unwrap().contains("runs"), "{answer}");
    let (status, body) = node.get(&format!("/api/templates/{id}")).await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "A0002");
    let (status, _) = node.get("/api/runs/9999").await;
    assert_eq!(status, 404);
    node.node.shutdown().await;
}

#[tokio::test]
async fn lists_filter_by_name_status_channel_and_kind_and_refuse_unknown_values() {
    let (_dir, node) = node().await;
    let crowd_id = node.crowd(crowd_csv(3)).await;
    let nightly = node.template(outbox_template("Nightly reminder", &crowd_id, Some("0 0 21 * * ?"))).await;
    let digest = node
        .template(json!({"name": "nightly digest", "channel": "webhook", "content": {"url": "http://127.0.0.1:9/x"}}))
        .await;
    node.template(outbox_template("Morning", &crowd_id, None)).await;
    let (status, _) = node.post(&format!("/api/templates/{nightly}/start"), &json!({})).await;
    assert_eq!(status, 200);
    let ids = |body: &Value| body["items"].as_array().unwrap().iter().map(|t| t["id"].clone()).collect::<Vec<_>>();

    let (status, found) = node.get("/api/templates?q=NIGHTLY").await;
    assert_eq!((status, ids(&found)), (200, vec![json!(nightly), json!(digest)]), "{found}");
    assert_eq!(ids(&node.get("/api/templates?q=nightly&status=running").await.1), vec![json!(nightly)]);
    assert_eq!(ids(&node.get("/api/templates?channel=webhook").await.1), vec![json!(digest)]);
    let (_, first) = node.get("/api/templates?q=nightly&limit=1").await;
    assert_eq!((ids(&first), &first["nextOffset"]), (vec![json!(nightly)], &json!(1)), "{first}");

    let (status, crowds) = node.get(&format!("/api/crowds?q={crowd_id}")).await;
    assert_eq!((status, crowds["items"][0]["id"].as_str()), (200, Some(crowd_id.as_str())), "{crowds}");
    assert_eq!(node.get("/api/crowds?q=no-such-file").await.1["items"], json!([]));

    let (_, schedules) = node.get("/api/schedules?kind=template").await;
    let names: Vec<&str> =
        schedules["items"].as_array().unwrap().iter().map(|s| s["templateName"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["Nightly reminder"], "{schedules}");

    for (path, field) in [
        ("/api/templates?status=paused", "status"),
        ("/api/templates?channel=pager", "channel"),
        ("/api/schedules?kind=nightly", "kind"),
        ("/api/crowds?limit=0", "limit"),
        ("/api/crowds?owner=me", "owner"),
    ] {
        let (status, body) = node.get(path).await;
        assert_eq!(status, 422, "{path}: {body}");
        assert!(body["msg"].as_str().unwrap().contains(field), "{path}: {body}");
    }
}

#[tokio::test]
async fn a_crowd_keeps_its_report_is_renamed_downloaded_and_deleted_only_when_unused() {
    let (dir, node) = node().await;
    let csv = "userId,name\nu1,Ann\n,Bob\nu3,\"Cy\n".as_bytes().to_vec();
    let (status, uploaded) = node.upload(csv.clone(), None).await;
    assert_eq!(status, 201, "{uploaded}");
    let id = uploaded["crowd"]["id"].as_str().unwrap().to_string();
    let (_, kept) = node.get(&format!("/api/crowds/{id}/bad-rows")).await;
    assert_eq!(kept["badRowCount"], uploaded["report"]["badRowCount"], "{kept}");
    assert_eq!(kept["badRows"], uploaded["report"]["badRows"], "the upload's report, kept");
    assert_eq!(kept["badRows"][0]["line"], 3);

    let (status, refused) = node.patch(&format!("/api/crowds/{id}"), &json!({"name": "  "})).await;
    assert_eq!((status, fields(&refused)), (422, vec!["name".to_string()]), "{refused}");
    let (status, renamed) = node.patch(&format!("/api/crowds/{id}"), &json!({"name": "会员 名单.csv"})).await;
    assert_eq!((status, &renamed["originalName"]), (200, &json!("会员 名单.csv")), "{renamed}");

    let file =
        node.http.get(node.url(&format!("/api/crowds/{id}/file"))).header("X-API-Key", &node.key).send().await.unwrap();
    assert_eq!(file.status(), 200);
    let disposition = file.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(disposition.contains("filename*=UTF-8''%E4%BC%9A%E5%91%98%20%E5%90%8D%E5%8D%95.csv"), "{disposition}");
    assert_eq!(file.bytes().await.unwrap().to_vec(), csv, "the file as uploaded, byte for byte");

    let template = node
        .template(json!({"name": "Uses it", "channel": "outbox", "content": {"body": "Hi {$name}"}, "crowdId": id}))
        .await;
    let (status, refused) = node.delete(&format!("/api/crowds/{id}")).await;
    assert_eq!(status, 409, "{refused}");
    assert!(refused["msg"].as_str().unwrap().contains(&format!("Uses it (#{template})")), "{refused}");
    assert_eq!(node.delete(&format!("/api/templates/{template}")).await.0, 200);
    let (status, deleted) = node.delete(&format!("/api/crowds/{id}")).await;
    assert_eq!((status, &deleted["deleted"]), (200, &json!(true)), "{deleted}");
    for path in [format!("/api/crowds/{id}"), format!("/api/crowds/{id}/bad-rows"), format!("/api/crowds/{id}/file")] {
        assert_eq!(node.get(&path).await.0, 404, "{path}");
    }
    let left: Vec<_> = walkdir(dir.path()).into_iter().filter(|p| p.to_string_lossy().contains(&id)).collect();
    assert!(left.is_empty(), "the file is removed: {left:?}");
}

/// Every file under `dir`.
fn walkdir(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() { found.extend(walkdir(&path)) } else { found.push(path) }
    }
    found
}

#[tokio::test]
async fn a_template_test_send_renders_the_first_row_and_reaches_the_outbox_once() {
    let (_dir, node) = node().await;
    let crowd_id = node.crowd(crowd_csv(3)).await;
    let id = node.template(outbox_template("Codes", &crowd_id, None)).await;
    let (status, tested) =
        node.post(&format!("/api/templates/{id}/test"), &json!({"receiver": "qa@example.com"})).await;
    assert_eq!(status, 200, "{tested}");
    assert_eq!(tested["outcome"], "sent", "{tested}");
    assert_eq!(tested["content"]["title"], "Hi 用户1", "the crowd's first row fills it: {tested}");
    let message_id = tested["messageId"].as_str().unwrap().to_string();
    assert!(message_id.starts_with("test-"), "{message_id}");
    let (_, outbox) = node.get(&format!("/api/outbox?templateId={id}")).await;
    let sent: Vec<&Value> =
        outbox["items"].as_array().unwrap().iter().filter(|e| e["receiver"] == "qa@example.com").collect();
    assert_eq!(sent.len(), 1, "delivered once, to the receiver given: {outbox}");
    assert_eq!(sent[0]["content"]["body"], "Your code is 000007");

    let given = json!({"receiver": "qa", "variables": {"name": "Ann", "code": "42"}});
    let (_, tested) = node.post(&format!("/api/templates/{id}/test"), &given).await;
    assert_eq!(tested["content"]["title"], "Hi Ann");
    let (status, refused) =
        node.post(&format!("/api/templates/{id}/test"), &json!({"receiver": "qa", "variables": {}})).await;
    assert_eq!((status, fields(&refused)), (422, vec!["variables".to_string()]), "{refused}");
    let (status, refused) = node.post(&format!("/api/templates/{id}/test"), &json!({"receiver": " "})).await;
    assert_eq!((status, fields(&refused)), (422, vec!["receiver".to_string()]), "{refused}");
    assert_eq!(node.post("/api/templates/999/test", &json!({"receiver": "qa"})).await.0, 404);
    let (_, runs) = node.get(&format!("/api/runs?templateId={id}")).await;
    assert_eq!(runs["items"], json!([]), "a test send makes no run");
}
