//! A scheduled job's alarms, counted at a fake DingTalk robot that checks the signature as
//! DingTalk does: a failed fire raises one alarm, more failures within the quiet window send
//! nothing more, a success sends one recovery, and the next failure alarms again at once; a
//! discarded fire, an attempt still going too long and a failure rate raise their own rules; a
//! bad alarm template is refused; a token refresh that fails alarms through the node's
//! `[alarms]` and recovers when its retry succeeds, and is listed with the jobs with its run
//! log (API and console) like one.

mod common;

use chrono::{DateTime, Duration, TimeZone, Utc};
use common::fake_robot::{FakeRobot, ROBOT_SECRET, ROBOT_TOKEN};
use common::fake_wecom::{self, CORP_ID};
use common::job_runs::ended_runs;
use common::*;
use herald_testkit::fake::FakeServer;
use herald_testkit::receiver::RecordingReceiver;
use serde_json::{Value, json};
use std::time::Duration as Wait;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap()
}

/// A node with a robot account and an alarm template through it; the template's id.
async fn robot_template(node: &TestNode, robot: &FakeServer<FakeRobot>) -> i64 {
    let account = json!({"name": "ops-robot", "channel": "dingtalk_robot",
        "config": {"accessToken": ROBOT_TOKEN, "secret": ROBOT_SECRET, "baseUrl": robot.base_url}});
    let (status, body) = node.post("/api/accounts", &account).await;
    assert_eq!(status, 201, "{body}");
    node.template(json!({"name": "job-alarm", "channel": "dingtalk_robot", "channelAccount": "ops-robot",
        "content": {"content": "[{$state}] {$job} {$rule}: {$detail}"}}))
        .await
}

/// The robot's messages once `count` came (or 10 s passed), and a moment more for one that
/// should not come.
async fn texts_after(robot: &FakeServer<FakeRobot>, count: usize) -> Vec<String> {
    for _ in 0..400 {
        if robot.state().texts.len() >= count {
            break;
        }
        tokio::time::sleep(Wait::from_millis(25)).await;
    }
    tokio::time::sleep(Wait::from_millis(600)).await;
    robot.state().texts.clone()
}

/// Asks for a fire at `at` and waits for its `runs`-th attempt to end.
async fn fire(node: &TestNode, id: i64, at: DateTime<Utc>, runs: usize) -> Vec<Value> {
    node.clock.set(at);
    assert_eq!(node.post(&format!("/api/jobs/{id}/run"), &json!({})).await.0, 202);
    ended_runs(node, id, runs).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_alarms_once_per_quiet_window_and_a_success_recovers_it() {
    let dir = tempfile::tempdir().unwrap();
    let node = TestNode::start(&test_config(dir.path()), start()).await;
    let robot = FakeRobot::start(node.clock.clone()).await;
    let template_id = robot_template(&node, &robot).await;
    let receiver = RecordingReceiver::start().await;
    let spec = json!({"name": "crm-sync", "http": {"method": "POST", "url": receiver.url}, "schedule": {"type": "api"},
        "alarms": {"templateId": template_id, "receivers": ["@all"], "quietMins": 30}});
    let (status, job) = node.post("/api/jobs", &spec).await;
    assert_eq!(status, 201, "{job}");
    let id = job["id"].as_i64().unwrap();

    receiver.fail_next(2, 500);
    fire(&node, id, start() + Duration::minutes(1), 1).await;
    let texts = texts_after(&robot, 1).await;
    assert_eq!(texts, ["[raised] crm-sync failure: answered 500"]);
    fire(&node, id, start() + Duration::minutes(10), 2).await;
    assert_eq!(texts_after(&robot, 1).await.len(), 1, "a second failure within 30 minutes is kept quiet");

    fire(&node, id, start() + Duration::minutes(20), 3).await;
    let texts = texts_after(&robot, 2).await;
    assert_eq!(texts[1], "[recovered] crm-sync failure: it succeeded again");
    fire(&node, id, start() + Duration::minutes(21), 4).await;
    assert_eq!(texts_after(&robot, 2).await.len(), 2, "a success alone sends nothing more");

    receiver.fail_next(1, 503);
    fire(&node, id, start() + Duration::minutes(22), 5).await;
    let texts = texts_after(&robot, 3).await;
    assert_eq!(texts.len(), 3, "{texts:?}");
    assert_eq!(texts[2], "[raised] crm-sync failure: answered 503", "after a recovery the next failure alarms at once");
    assert_eq!(robot.state().refused, 0, "every alarm was signed as DingTalk checks");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discarded_fires_stuck_attempts_and_a_failure_rate_raise_their_own_rules_and_bad_alarms_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let node = TestNode::start(&test_config(dir.path()), start()).await;
    let robot = FakeRobot::start(node.clock.clone()).await;
    let template_id = robot_template(&node, &robot).await;

    let slow = RecordingReceiver::start().await;
    slow.set_delay(Wait::from_secs(2));
    let spec = json!({"name": "busy", "http": {"method": "POST", "url": slow.url}, "schedule": {"type": "api"}, "overlap": "discard",
        "alarms": {"templateId": template_id, "receivers": ["@all"], "on": ["discarded"], "recovery": false}});
    let id = node.post("/api/jobs", &spec).await.1["id"].as_i64().unwrap();
    node.clock.set(start() + Duration::seconds(1));
    node.post(&format!("/api/jobs/{id}/run"), &json!({})).await;
    assert!(slow.wait_for(1, Wait::from_secs(10)).await);
    fire(&node, id, start() + Duration::seconds(2), 2).await;
    let texts = texts_after(&robot, 1).await;
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert!(texts[0].starts_with("[raised] busy discarded: discarded"), "{texts:?}");

    // An attempt still going after stuckAfterSecs raises stuck; its success recovers it.
    let slower = RecordingReceiver::start().await;
    slower.set_delay(Wait::from_millis(2_500));
    let spec = json!({"name": "slow", "http": {"method": "POST", "url": slower.url}, "schedule": {"type": "api"},
        "timeoutMs": 10_000, "alarms": {"templateId": template_id, "receivers": ["@all"], "stuckAfterSecs": 1}});
    let id = node.post("/api/jobs", &spec).await.1["id"].as_i64().unwrap();
    fire(&node, id, start() + Duration::seconds(3), 1).await;
    let texts = texts_after(&robot, 3).await;
    assert_eq!(
        texts[1..],
        ["[raised] slow stuck: an attempt is still going after 1 s", "[recovered] slow stuck: it succeeded again"]
    );

    let flaky = RecordingReceiver::start().await;
    let spec = json!({"name": "flaky", "http": {"method": "POST", "url": flaky.url}, "schedule": {"type": "api"},
        "alarms": {"templateId": template_id, "receivers": ["@all"], "on": [],
            "failureRate": {"percent": 50, "windowMins": 60, "minFires": 4}}});
    let id = node.post("/api/jobs", &spec).await.1["id"].as_i64().unwrap();
    for (n, fails) in [(1, false), (2, true), (3, false)] {
        if fails {
            flaky.fail_next(1, 500);
        }
        fire(&node, id, start() + Duration::minutes(n), n as usize).await;
    }
    assert_eq!(texts_after(&robot, 3).await.len(), 3, "three fires are fewer than minFires");
    flaky.fail_next(1, 500);
    fire(&node, id, start() + Duration::minutes(4), 4).await;
    let texts = texts_after(&robot, 4).await;
    assert_eq!(texts.get(3).map(String::as_str), Some("[raised] flaky failure_rate: 2 of the last 4 fires failed"));

    let unknown = node
        .template(json!({"name": "wrong-vars", "channel": "dingtalk_robot", "channelAccount": "ops-robot",
        "content": {"content": "{$job} failed for {$customer}"}}))
        .await;
    for (alarms, field) in [
        (json!({"templateId": unknown, "receivers": ["@all"]}), "alarms.templateId"),
        (json!({"templateId": 999, "receivers": ["@all"]}), "alarms.templateId"),
        (json!({"templateId": template_id, "receivers": []}), "alarms.receivers"),
        (json!({"templateId": template_id, "receivers": ["@all"], "quietMins": 0}), "alarms.quietMins"),
    ] {
        let spec = json!({"name": "bad", "http": {"url": flaky.url}, "schedule": {"type": "api"}, "alarms": alarms});
        let (status, refused) = node.post("/api/jobs", &spec).await;
        assert_eq!((status, refused["errors"][0]["field"].as_str()), (422, Some(field)), "{refused}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_refresh_that_fails_alarms_through_the_node_s_alarms_and_recovers_on_its_retry() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.alarms.template_id = Some(1);
    config.alarms.receivers = vec!["@all".into()];
    let node = TestNode::start(&config, start()).await;
    let robot = FakeRobot::start(node.clock.clone()).await;
    assert_eq!(robot_template(&node, &robot).await, 1, "the template the node's [alarms] names");
    let (wecom, fake) = fake_wecom::start("corp-secret-0123456789").await;
    let account = json!({"name": "corp-app", "channel": "wecom_app",
        "config": {"corpId": CORP_ID, "corpSecret": "corp-secret-0123456789", "agentId": 1000002, "baseUrl": wecom}});
    let (status, created) = node.post("/api/accounts", &account).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();

    fake.state().fail_gettoken = true;
    node.clock.set(start() + Duration::hours(1) + Duration::seconds(1));
    let texts = texts_after(&robot, 1).await;
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert!(
        texts[0].starts_with(&format!("[raised] token_refresh of account {id} failure: "))
            && texts[0].contains("system busy"),
        "{texts:?}"
    );
    fake.state().fail_gettoken = false;
    node.clock.set(start() + Duration::hours(1) + Duration::seconds(62));
    let texts = texts_after(&robot, 2).await;
    assert_eq!(
        texts.get(1).map(String::as_str),
        Some(format!("[recovered] token_refresh of account {id} failure: it succeeded again").as_str())
    );
    let calls = fake.state().token_calls;
    node.clock.set(start() + Duration::hours(2) + Duration::seconds(1));
    for _ in 0..400 {
        if fake.state().token_calls > calls {
            break;
        }
        tokio::time::sleep(Wait::from_millis(25)).await;
    }
    assert!(fake.state().token_calls > calls, "the 02:00 refresh ran");
    assert_eq!(texts_after(&robot, 2).await.len(), 2, "a refresh that succeeds sends nothing");
    housekeeping_is_listed_and_logged_like_a_job(&node, id).await;
}

/// The account's token refresh is among the housekeeping schedules, its three runs logged
/// (failed, then its retry and the 02:00 one succeeded) in the API and the console.
async fn housekeeping_is_listed_and_logged_like_a_job(node: &TestNode, account: i64) {
    let (status, listed) = node.get("/api/schedules?kind=housekeeping").await;
    assert_eq!(status, 200, "{listed}");
    let kinds: Vec<&str> = listed["items"].as_array().unwrap().iter().map(|s| s["kind"].as_str().unwrap()).collect();
    assert!(!kinds.contains(&"job") && !kinds.contains(&"template") && kinds.contains(&"retention"), "{kinds:?}");
    let refresh = listed["items"].as_array().unwrap().iter().find(|s| s["accountId"] == account).expect("its refresh");
    let schedule = refresh["id"].as_i64().unwrap();
    let mut runs = Vec::new();
    for _ in 0..400 {
        let (_, page) = node.get(&format!("/api/schedules/{schedule}/runs")).await;
        runs = page["items"].as_array().cloned().unwrap_or_default();
        if runs.len() >= 3 && runs.iter().all(|r| r["outcome"] != "running") {
            break;
        }
        tokio::time::sleep(Wait::from_millis(25)).await;
    }
    let outcomes: Vec<&str> = runs.iter().map(|r| r["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["succeeded", "succeeded", "failed"], "{runs:?}");
    assert!(runs[2]["error"].as_str().unwrap().contains("system busy"), "{runs:?}");
    assert!(runs.iter().all(|r| r["jobId"].is_null() && r["scheduleId"] == schedule && r["node"] != ""), "{runs:?}");
    let (_, failed) = node.get(&format!("/api/schedules/{schedule}/runs?outcome=failed")).await;
    assert_eq!(failed["items"].as_array().unwrap().len(), 1);
    let (status, refused) = node.get(&format!("/api/schedules/{schedule}/runs?outcome=nope")).await;
    assert_eq!((status, refused["errors"][0]["field"].as_str()), (422, Some("outcome")), "{refused}");
    assert_eq!(node.get("/api/schedules/999999/runs").await.0, 404);

    common::console_login::add_user(node, "ops").await;
    let session = common::console_login::log_in(node, "ops").await;
    let page = |path: String, language: &'static str| {
        let request = common::console_login::client().get(node.url(&path)).header("Cookie", &session.cookie);
        async move {
            let r = request.header("Accept-Language", language).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (_, jobs) = page("/jobs".into(), "en").await;
    assert!(jobs.contains(&format!(r#"<a href="/housekeeping/{schedule}">token_refresh · corp-app</a>"#)), "{jobs}");
    assert!(jobs.contains("2/3 succeeded"), "its share of runs");
    let (status, html) = page(format!("/housekeeping/{schedule}"), "en").await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"data-outcome="failed""#) && html.contains("system busy"), "its run log");
    assert!(html.contains(r#"id="job-success-chart""#), "its fires over time");
    let (_, html) = page(format!("/housekeeping/{schedule}?outcome=failed"), "en").await;
    assert_eq!(html.matches(r#"class="job-run""#).count(), 1, "filtered by outcome");
    let (_, chinese) = page(format!("/housekeeping/{schedule}"), "zh-CN").await;
    assert!(chinese.contains("系统维护") && !chinese.contains("Unknown localization key"));
    let job = json!({"name": "a-job", "http": {"url": "https://crm.example/ping"}, "schedule": {"type": "api"}});
    let (_, job) = node.post("/api/jobs", &job).await;
    let job_schedule = job["scheduleId"].as_i64().unwrap();
    assert_eq!(
        page(format!("/housekeeping/{job_schedule}"), "en").await.0,
        404,
        "a job's schedule is not housekeeping"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_report_tells_the_alarm_receivers_how_the_day_s_fires_went_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.alarms.template_id = Some(1);
    config.alarms.receivers = vec!["@all".into()];
    config.alarms.daily_report_cron = Some("0 0 9 * * ?".into());
    let node = TestNode::start(&config, start()).await;
    let robot = FakeRobot::start(node.clock.clone()).await;
    assert_eq!(robot_template(&node, &robot).await, 1);
    let fine = RecordingReceiver::start().await;
    let broken = RecordingReceiver::start().await;
    broken.fail_next(10, 500);
    let mut ids = Vec::new();
    for (name, url) in [("fine", &fine.url), ("broken", &broken.url)] {
        let spec = json!({"name": name, "http": {"method": "POST", "url": url}, "schedule": {"type": "api"}});
        let (status, job) = node.post("/api/jobs", &spec).await;
        assert_eq!(status, 201, "{job}");
        ids.push(job["id"].as_i64().unwrap());
    }
    fire(&node, ids[0], start() + Duration::hours(1), 1).await;
    fire(&node, ids[0], start() + Duration::hours(2), 2).await;
    fire(&node, ids[1], start() + Duration::hours(3), 1).await;
    assert!(robot.state().texts.is_empty(), "no alarm: the jobs name none");

    node.clock.set(start() + Duration::hours(9));
    let texts = texts_after(&robot, 1).await;
    assert_eq!(texts.len(), 1, "one report: {texts:?}");
    let report = &texts[0];
    assert!(report.starts_with("[report] all jobs daily_report: last 24 h: "), "{report}");
    assert!(report.contains("; broken: 1 of 1 failed"), "{report}");
    assert!(!report.contains("fine:"), "a job whose fires all succeeded is only counted: {report}");
    node.clock.set(start() + Duration::hours(10));
    assert_eq!(texts_after(&robot, 2).await.len(), 1, "the next report is tomorrow's");
}
