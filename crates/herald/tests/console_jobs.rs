//! The console's scheduled-job pages over plain HTTP: the list and a job's page never show a
//! secret header value or a URL's query; Run now, Pause and Resume post through CSRF-checked
//! forms; a run asked for from the console calls the job's URL once (counted at a recording
//! receiver) and shows in the run log, whose answer is escaped and whose outcome filter works.

mod common;

use axum::http::StatusCode;
use chrono::{TimeZone, Utc};
use common::console_login::*;
use common::*;
use herald_testkit::receiver::RecordingReceiver;
use serde_json::{Value, json};
use std::time::Duration;

const HEADER_SECRET: &str = "Bearer header-s3cret-value";
const URL_SECRET: &str = "url-s3cret-token";
/// What the failing endpoint answers: markup the run log must show as text.
const HOSTILE_ANSWER: &str = "<script>alert('x')</script> down";

async fn started() -> (tempfile::TempDir, TestNode, Session) {
    let dir = tempfile::tempdir().unwrap();
    let node = TestNode::start(&test_config(dir.path()), Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap()).await;
    add_user(&node, "ops").await;
    let session = log_in(&node, "ops").await;
    (dir, node, session)
}

fn job(name: &str, url: &str, schedule: Value) -> Value {
    json!({"name": name, "http": {"method": "POST", "url": url,
        "headers": {"Authorization": HEADER_SECRET, "Content-Type": "application/json"}},
        "schedule": schedule, "retries": {"max": 2, "backoffMs": 500}})
}

async fn create(node: &TestNode, spec: &Value) -> i64 {
    let (status, job) = node.post("/api/jobs", spec).await;
    assert_eq!(status, 201, "{job}");
    job["id"].as_i64().unwrap()
}

/// A page of the console: its status and HTML, in `language`.
async fn page(node: &TestNode, session: &Session, path: &str, language: &str) -> (u16, String) {
    let r = client()
        .get(node.url(path))
        .header("Cookie", &session.cookie)
        .header("Accept-Language", language)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Posts a job page's button; the answer's status and where it leads.
async fn press(node: &TestNode, session: &Session, path: &str, csrf: Option<&str>) -> (u16, String) {
    let form: Vec<(&str, &str)> = csrf.map(|token| vec![("csrf", token)]).unwrap_or_default();
    let r = client().post(node.url(path)).header("Cookie", &session.cookie).form(&form).send().await.unwrap();
    (r.status().as_u16(), location(&r))
}

/// The job's page once its run log shows an attempt that ended `outcome`.
async fn page_once_ended(node: &TestNode, session: &Session, id: i64, outcome: &str) -> String {
    let marker = format!(r#"data-outcome="{outcome}""#);
    for _ in 0..400 {
        let (_, html) = page(node, session, &format!("/jobs/{id}"), "en").await;
        if html.contains(&marker) {
            return html;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("job {id} never logged a {outcome} attempt");
}

/// A provider that answers every call 503 with [`HOSTILE_ANSWER`].
async fn failing_endpoint() -> String {
    let app = axum::Router::new().fallback(|| async { (StatusCode::SERVICE_UNAVAILABLE, HOSTILE_ANSWER) });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_show_without_secrets_and_a_console_run_now_calls_once_and_is_logged() {
    let (_dir, node, session) = started().await;
    let receiver = RecordingReceiver::start().await;
    let url = format!("{}/sync?token={URL_SECRET}", receiver.url);
    let schedule = json!({"type": "cron", "cron": "0 0 9 * * ?", "timezone": "Asia/Shanghai"});
    let id = create(&node, &job("crm-sync", &url, schedule)).await;
    let other = create(
        &node,
        &job("hourly-report", &failing_endpoint().await, json!({"type": "fixed_rate", "everySecs": 3600})),
    )
    .await;

    // The list: names, schedules in words, the next fire in the cron's zone, no secret.
    let (status, list) = page(&node, &session, "/jobs", "en").await;
    assert_eq!(status, 200);
    for shown in [
        format!(r#"<a href="/jobs/{id}">crm-sync</a>"#),
        format!(r#"<a href="/jobs/{other}">hourly-report</a>"#),
        "0 0 9 * * ?".into(),
        "2026-05-01 09:00:00 CST".into(),
        "every 1 hour".into(),
        "up to 2 retries".into(),
        "no ended run yet".into(),
    ] {
        assert!(list.contains(&shown), "/jobs lacks {shown}");
    }
    for secret in ["header-s3cret-value", URL_SECRET] {
        assert!(!list.contains(secret), "/jobs shows {secret}");
    }

    // The job's page: the header masked, the URL without its query.
    let (status, html) = page(&node, &session, &format!("/jobs/{id}"), "en").await;
    assert_eq!(status, 200);
    assert!(html.contains("********") && !html.contains("header-s3cret-value"), "the header is masked");
    assert!(html.contains(&format!("{}/sync?…", receiver.url)) && !html.contains(URL_SECRET), "the URL is redacted");
    assert!(html.contains("No run yet."));

    // Run now through the console's form: one call, logged, counted on both pages.
    let csrf = csrf_field(&html);
    assert_eq!(
        press(&node, &session, &format!("/jobs/{id}/run"), Some(&csrf)).await,
        (303, format!("/jobs/{id}?done=asked"))
    );
    assert!(receiver.wait_for(1, Duration::from_secs(10)).await, "the run called the job's URL");
    let html = page_once_ended(&node, &session, id, "succeeded").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.count(), 1, "one run now, one call");
    assert_eq!(receiver.received()[0].headers["authorization"], HEADER_SECRET, "the stored secret is sent");
    assert!(html.contains("On this page: 1/1 ended attempts succeeded."), "the page's share");
    assert!(html.contains(r#"<td class="num">200</td>"#), "the answer's status");
    let (_, notice) = page(&node, &session, &format!("/jobs/{id}?done=asked"), "en").await;
    assert!(notice.contains(r#"id="notice""#));
    let (_, list) = page(&node, &session, "/jobs", "en").await;
    assert!(list.contains("1/1 succeeded"), "the list's share");

    // A failing job: its answer shown as text, and the outcome filter.
    assert_eq!(press(&node, &session, &format!("/jobs/{other}/run"), Some(&csrf)).await.0, 303);
    let html = page_once_ended(&node, &session, other, "failed").await;
    assert!(!html.contains(HOSTILE_ANSWER), "the answer is escaped");
    assert!(html.contains("&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62; down"), "and shown as text");
    assert!(html.contains("answered 503"));
    let (_, failed) = page(&node, &session, &format!("/jobs/{other}?outcome=succeeded"), "en").await;
    assert!(
        failed.contains("No run yet.") && !failed.contains("data-outcome="),
        "the filter keeps succeeded ones only"
    );
    let (_, refused) = page(&node, &session, &format!("/jobs/{id}?outcome=maybe"), "en").await;
    assert!(refused.contains(r#"id="filter-error""#) && refused.contains("is not an outcome"));

    // The schedules page leads to the job; every page reads in Chinese with each text found.
    let (_, schedules) = page(&node, &session, "/schedules?kind=job", "en").await;
    assert!(schedules.contains(&format!(r#"<a href="/jobs/{id}">crm-sync</a>"#)), "the owner links to the job");
    for path in ["/jobs".to_string(), format!("/jobs/{id}"), format!("/jobs/{other}?done=paused")] {
        let (status, chinese) = page(&node, &session, &path, "zh-CN,zh;q=0.9").await;
        assert_eq!(status, 200, "{path}");
        assert!(chinese.contains("定时任务") && !chinese.contains("Unknown localization key"), "{path} in zh-CN");
    }
    node.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_and_resume_go_through_csrf_checked_forms_and_an_unknown_job_is_not_found() {
    let (_dir, node, session) = started().await;
    let receiver = RecordingReceiver::start().await;
    let id = create(&node, &job("nightly", &receiver.url, json!({"type": "cron", "cron": "0 0 2 * * ?"}))).await;
    let (_, html) = page(&node, &session, &format!("/jobs/{id}"), "en").await;
    let csrf = csrf_field(&html);
    let pause = format!("/jobs/{id}/pause");

    // Without the token, or with another, nothing happens.
    assert_eq!(press(&node, &session, &pause, None).await.0, 403);
    assert_eq!(press(&node, &session, &pause, Some(&"0".repeat(64))).await.0, 403);
    assert_eq!(press(&node, &session, &format!("/jobs/{id}/run"), None).await.0, 403);
    let (_, stored) = node.get(&format!("/api/jobs/{id}")).await;
    assert_eq!(stored["enabled"], true, "nothing was written: {stored}");

    assert_eq!(press(&node, &session, &pause, Some(&csrf)).await, (303, format!("/jobs/{id}?done=paused")));
    let (_, stored) = node.get(&format!("/api/jobs/{id}")).await;
    assert_eq!((stored["enabled"].clone(), stored["nextFireAt"].clone()), (json!(false), Value::Null), "{stored}");
    let (_, html) = page(&node, &session, &format!("/jobs/{id}?done=paused"), "en").await;
    assert!(html.contains(r#"<span class="badge paused" id="job-state">paused</span>"#), "shown paused");
    assert!(html.contains(r#"id="resume-job""#) && !html.contains(r#"id="pause-job""#));
    let (_, list) = page(&node, &session, "/jobs", "en").await;
    assert!(list.contains(r#"<span class="badge paused">paused</span>"#), "paused on the list too");

    let resume = format!("/jobs/{id}/resume");
    assert_eq!(press(&node, &session, &resume, Some(&csrf)).await, (303, format!("/jobs/{id}?done=resumed")));
    let (_, stored) = node.get(&format!("/api/jobs/{id}")).await;
    assert_eq!(stored["enabled"], true, "{stored}");
    assert_eq!(stored["nextFireAt"], "2026-05-01T02:00:00Z");

    let (status, html) = page(&node, &session, "/jobs/9999", "en").await;
    assert_eq!(status, 404);
    assert!(html.contains("job 9999 not found"), "{html}");
    for action in ["pause", "resume", "run"] {
        assert_eq!(press(&node, &session, &format!("/jobs/9999/{action}"), Some(&csrf)).await.0, 404, "{action}");
    }
    assert_eq!(receiver.count(), 0, "nothing ran");
    node.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_page_shows_its_alarms_raised_now_its_children_and_its_fires_over_time() {
    let (_dir, node, session) = started().await;
    let hook = RecordingReceiver::start().await;
    let template = node
        .template(json!({"name": "ops-alarm", "channel": "webhook",
            "content": {"url": format!("{}/alarm", hook.url), "text": "{$job} {$rule} {$state}: {$detail}"}}))
        .await;
    let receiver = RecordingReceiver::start().await;
    let child = create(&node, &job("child", &receiver.url, json!({"type": "api"}))).await;
    let mut parent = job("parent", &failing_endpoint().await, json!({"type": "api"}));
    parent["retries"] = json!({"max": 0});
    parent["alarms"] = json!({"templateId": template, "receivers": ["ops"], "stuckAfterSecs": 600,
        "failureRate": {"percent": 50, "windowMins": 60}});
    parent["children"] = json!([{"job": "child", "on": "always"}]);
    let id = create(&node, &parent).await;

    let (_, html) = page(&node, &session, &format!("/jobs/{id}"), "en").await;
    for shown in [
        format!(r#"<a href="/templates/{template}">#{template}</a>"#),
        "50% of fires failed in 60 min".into(),
        "an attempt still going after 600 s".into(),
        "<span class=\"mono\">child</span> · whenever it ends".into(),
    ] {
        assert!(html.contains(&shown), "the page lacks {shown}");
    }
    assert!(!html.contains(r#"id="job-success-chart""#), "no chart before a fire ended");

    let csrf = csrf_field(&html);
    assert_eq!(press(&node, &session, &format!("/jobs/{id}/run"), Some(&csrf)).await.0, 303);
    assert!(hook.wait_for(1, Duration::from_secs(10)).await, "the failure alarmed through the webhook template");
    assert!(receiver.wait_for(1, Duration::from_secs(10)).await, "the child ran after its parent failed");
    let html = page_once_ended(&node, &session, id, "failed").await;
    let raised = html.split(r#"id="job-alarms-raised""#).nth(1).unwrap_or_default();
    assert!(raised.starts_with(r#"><span class="badge failed">failure</span> last alarm"#), "{raised}");
    assert!(html.contains(r#"id="job-success-chart" data-series="#), "the chart shows the ended fire");
    assert!(html.contains("&#34;failed&#34;"), "with its failure counted");
    let (_, chinese) = page(&node, &session, &format!("/jobs/{id}"), "zh-CN").await;
    assert!(chinese.contains("当前告警") && !chinese.contains("Unknown localization key"));
    let (_, child_page) = page(&node, &session, &format!("/jobs/{child}"), "en").await;
    assert!(child_page.contains("No alarms: nobody is told when it fails."));

    // The alarms page lists what is raised now everywhere, and who each job's alarms tell.
    let (status, alarms) = page(&node, &session, "/alarms", "en").await;
    assert_eq!(status, 200);
    let raised = alarms.split(r#"id="alarms-raised""#).nth(1).unwrap_or_default();
    assert!(
        raised
            .contains(&format!(r#"<a href="/jobs/{id}">parent</a></td><td><span class="badge failed">failure</span>"#)),
        "{raised}"
    );
    let told = alarms.split(r#"id="alarms-told""#).nth(1).unwrap_or_default();
    assert!(
        told.contains(&format!(r#"<a href="/templates/{template}">#{template}</a> → <span class="mono">ops</span>"#)),
        "{told}"
    );
    assert!(!told.contains(">child<"), "the child has no alarms");
    let (_, chinese) = page(&node, &session, "/alarms", "zh-CN").await;
    assert!(chinese.contains("当前告警") && !chinese.contains("Unknown localization key"));
    let (status, api) = node.get("/api/alarms").await;
    assert_eq!(status, 200, "{api}");
    assert_eq!(
        (api["items"][0]["jobName"].as_str(), api["items"][0]["rule"].as_str()),
        (Some("parent"), Some("failure"))
    );
    node.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_calendars_page_shows_excluded_days_to_come_and_the_next_fires_around_them() {
    let (_dir, node, session) = started().await;
    let receiver = RecordingReceiver::start().await;
    // The node's clock is 2026-05-01 00:00 UTC, 08:00 in Shanghai: May 1 and 2 are holidays.
    let schedule = json!({"type": "cron", "cron": "0 0 9 * * ?", "timezone": "Asia/Shanghai",
        "excludeDates": ["2026-04-06", "2026-05-01", "2026-05-02"], "endAt": "2026-05-05T00:00:00Z"});
    let holidays = create(&node, &job("holiday-sync", &receiver.url, schedule)).await;
    create(&node, &job("every-day", &receiver.url, json!({"type": "cron", "cron": "0 0 9 * * ?"}))).await;
    let (status, html) = page(&node, &session, "/calendars", "en").await;
    assert_eq!(status, 200);
    assert_eq!(html.matches(r#"<tr class="calendar">"#).count(), 1, "only a schedule with a calendar: {html}");
    assert!(html.contains(&format!(r#"<a href="/jobs/{holidays}">holiday-sync</a>"#)));
    assert!(
        html.contains(r#"<span class="badge paused">2026-05-01</span> <span class="badge paused">2026-05-02</span>"#),
        "{html}"
    );
    assert!(html.contains("1 already past") && !html.contains(">2026-04-06<"), "{html}");
    let next = html.split(r#"<td class="next-fires">"#).nth(1).unwrap_or_default();
    assert!(
        next.starts_with("2026-05-03 09:00:00 CST<br>2026-05-04 09:00:00 CST<br></td>"),
        "the holidays skipped, none after the end: {next}"
    );
    let (_, chinese) = page(&node, &session, "/calendars", "zh-CN").await;
    assert!(chinese.contains("即将排除的日期") && !chinese.contains("Unknown localization key"));
    let (_, jobs) = page(&node, &session, "/jobs", "en").await;
    assert!(jobs.contains(r#"href="/alarms""#) && jobs.contains(r#"href="/calendars""#));
    node.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sharded_job_s_page_shows_its_sharding_and_each_attempt_s_shard() {
    let (_dir, node, session) = started().await;
    let receiver = RecordingReceiver::start().await;
    let mut spec = job("sync", &format!("{}/sync/{{$shardIndex}}", receiver.url), json!({"type": "api"}));
    spec["sharding"] = json!({"mode": "shards", "count": 3});
    let id = create(&node, &spec).await;
    let (_, html) = page(&node, &session, &format!("/jobs/{id}"), "en").await;
    assert!(html.contains(r#"<dd id="job-sharding">3 shards, spread across the nodes"#), "{html}");
    assert_eq!(node.post(&format!("/api/jobs/{id}/run"), &json!({})).await.0, 202);
    assert!(receiver.wait_for(3, Duration::from_secs(10)).await, "each shard called");
    let html = page_once_ended(&node, &session, id, "succeeded").await;
    assert!(html.contains("shard 0/3"), "the run log names each attempt's shard");
    let (_, chinese) = page(&node, &session, &format!("/jobs/{id}"), "zh-CN").await;
    assert!(chinese.contains("3 个分片") && !chinese.contains("Unknown localization key"));
    node.node.shutdown().await;
}

/// Posts the job editor's form: its status, where it leads, and the page it answers with.
async fn save(node: &TestNode, session: &Session, path: &str, csrf: &str, spec: &str) -> (u16, String, String) {
    let form = [("csrf", csrf), ("spec", spec)];
    let r = client().post(node.url(path)).header("Cookie", &session.cookie).form(&form).send().await.unwrap();
    let (status, to) = (r.status().as_u16(), location(&r));
    (status, to, r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_is_created_edited_and_deleted_in_the_console_through_the_api_s_checks() {
    let (_dir, node, session) = started().await;
    let receiver = RecordingReceiver::start().await;
    let (status, html) = page(&node, &session, "/jobs/new", "en").await;
    assert_eq!(status, 200);
    assert!(html.contains("nightly-export"), "a new job starts from the example");
    let csrf = csrf_field(&html);

    // Refused: each fault listed by its field, nothing written; a syntax error says where.
    let bad = json!({"name": " ", "http": {"url": "ftp://x"}, "schedule": {"type": "api"}}).to_string();
    let (status, _, refused) = save(&node, &session, "/jobs/new", &csrf, &bad).await;
    assert_eq!(status, 422);
    assert!(refused.contains(r#"<span class="mono">name</span>: must not be empty"#), "{refused}");
    assert!(refused.contains(r#"<span class="mono">http.url</span>"#));
    let (status, _, refused) = save(&node, &session, "/jobs/new", &csrf, "{\"name\": ").await;
    assert_eq!(status, 422);
    assert!(refused.contains("EOF while parsing a value at line 1 column 9"), "{refused}");
    assert_eq!(save(&node, &session, "/jobs/new", "", &bad).await.0, 403, "the form is CSRF-checked");
    let (_, jobs) = node.get("/api/jobs").await;
    assert_eq!(jobs["items"].as_array().unwrap().len(), 0, "nothing was written");

    let spec = job("edited-here", &receiver.url, json!({"type": "api"})).to_string();
    let (status, to, _) = save(&node, &session, "/jobs/new", &csrf, &spec).await;
    assert_eq!(status, 303);
    let id: i64 = to.trim_start_matches("/jobs/").trim_end_matches("?done=created").parse().expect(&to);
    let (_, created) = page(&node, &session, &to, "en").await;
    assert!(created.contains("Job created.") && created.contains(&format!(r#"href="/jobs/{id}/edit""#)));

    // Edited with the secret left masked: renamed, and the stored secret still sent.
    let (_, edit) = page(&node, &session, &format!("/jobs/{id}/edit"), "en").await;
    assert!(edit.contains("********") && !edit.contains("header-s3cret-value"), "the secret is masked");
    let mut shown: Value = node.get(&format!("/api/jobs/{id}")).await.1;
    for key in ["id", "enabled", "nextFireAt", "scheduleId", "createdAt", "updatedAt"] {
        shown.as_object_mut().unwrap().remove(key);
    }
    shown["name"] = json!("renamed-here");
    let path = format!("/jobs/{id}/edit");
    assert_eq!(save(&node, &session, &path, &csrf, &shown.to_string()).await.1, format!("/jobs/{id}?done=saved"));
    assert_eq!(node.post(&format!("/api/jobs/{id}/run"), &json!({})).await.0, 202);
    assert!(receiver.wait_for(1, Duration::from_secs(10)).await);
    assert_eq!(receiver.received()[0].headers["authorization"], HEADER_SECRET, "the masked secret was kept");
    assert_eq!(node.get(&format!("/api/jobs/{id}")).await.1["name"], "renamed-here");

    let (status, to, _) = save(&node, &session, &format!("/jobs/{id}/delete"), &csrf, "").await;
    assert_eq!((status, to.as_str()), (303, "/jobs?done=deleted"));
    assert_eq!(node.get(&format!("/api/jobs/{id}")).await.0, 404);
    let (_, list) = page(&node, &session, "/jobs?done=deleted", "zh-CN").await;
    assert!(list.contains("任务已删除。") && !list.contains("Unknown localization key"));
    node.node.shutdown().await;
}
