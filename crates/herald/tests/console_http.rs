//! The admin console over plain HTTP (no browser): login pages and redirects, session cookies,
//! the CSRF check on every write, the one-time setup link, security headers on every page, and
//! the console refusing what the REST API refuses, in the same words.

mod common;

use chrono::{Duration, TimeZone, Utc};
use common::console_login::*;
use common::*;
use herald_core::Clock;
use serde_json::{Value, json};

async fn started() -> (tempfile::TempDir, TestNode) {
    let dir = tempfile::tempdir().unwrap();
    let node = TestNode::start(&test_config(dir.path()), Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap()).await;
    (dir, node)
}

/// What askama's HTML escaping makes of `text`.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&#34;").replace('\'', "&#39;")
}

/// What the catalogues answer for a key they do not hold (or one given the wrong arguments).
const MISSING_TEXT: &str = "Unknown localization key";
/// A Chinese text of the top bar (the Runs tab), which every full page shows.
const CHINESE_SAMPLE: &str = "发送记录";

/// Up to 80 characters of `html` from where `needle` starts.
fn around(html: &str, needle: &str) -> String {
    html.find(needle).map(|at| html[at..].chars().take(80).collect()).unwrap_or_default()
}

#[tokio::test]
async fn pages_need_a_login_and_writes_need_the_csrf_token() {
    let (_dir, node) = started().await;
    let http = client();
    let r = http.get(node.url("/")).send().await.unwrap();
    assert_eq!((r.status().as_u16(), location(&r)), (303, "/login".to_string()));
    let r = http.get(node.url("/templates?q=x")).send().await.unwrap();
    assert_eq!((r.status().as_u16(), location(&r)), (303, "/login?next=%2Ftemplates%3Fq%3Dx".to_string()));
    // An htmx request (a progress poll) is sent to the login page as a whole page.
    let r = http.get(node.url("/runs/1/progress")).header("HX-Request", "true").send().await.unwrap();
    assert_eq!(r.headers()["hx-redirect"], "/login");
    let r = http.post(node.url("/templates")).form(&[("name", "x")]).send().await.unwrap();
    assert_eq!((r.status().as_u16(), location(&r)), (303, "/login".to_string()));
    // An API key is not a console login.
    let r = http.get(node.url("/templates")).header("X-API-Key", &node.key).send().await.unwrap();
    assert_eq!(r.status(), 303);

    add_user(&node, "ops").await;
    // Logging in: the form's token must match its cookie; a wrong password is refused in words.
    let page = http.get(node.url("/login")).send().await.unwrap();
    let (pre, line) = set_cookie(page.headers(), "herald_login_csrf").unwrap();
    assert!(line.contains("HttpOnly") && line.contains("SameSite=Strict"), "{line}");
    let r = http.post(node.url("/login")).form(&[("name", "ops"), ("password", PASSWORD)]).send().await.unwrap();
    assert_eq!(r.status(), 403, "no pre-login token");
    let r = http
        .post(node.url("/login"))
        .header("Cookie", format!("herald_login_csrf={pre}"))
        .form(&[("csrf", pre.as_str()), ("name", "ops"), ("password", "wrong password!")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("wrong user name or password"));
    let r = http
        .post(node.url("/login"))
        .header("Cookie", format!("herald_login_csrf={pre}"))
        .header("X-Forwarded-Proto", "https")
        .form(&[("csrf", pre.as_str()), ("name", "ops"), ("password", PASSWORD), ("next", "//evil.example/")])
        .send()
        .await
        .unwrap();
    assert_eq!((r.status().as_u16(), location(&r)), (303, "/".to_string()), "never to another host");
    let (_, line) = set_cookie(r.headers(), "herald_session").unwrap();
    for attribute in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/", "Max-Age=43200"] {
        assert!(line.contains(attribute), "{attribute} missing: {line}");
    }

    let session = log_in(&node, "ops").await;
    let s = &session;
    // A write without the token, or with another, is refused; with it, it goes through.
    let post = |path: &str| http.post(node.url(path)).header("Cookie", &s.cookie);
    let r = post("/templates").form(&[("name", "x"), ("channel", "outbox")]).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("security token"));
    let r = post("/templates").form(&[("csrf", "0".repeat(64).as_str()), ("name", "x")]).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let r = post("/preview/cron").header("X-CSRF-Token", "nope").form(&[("cron", "0 0 9 * * ?")]).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let r =
        post("/preview/cron").header("X-CSRF-Token", &s.csrf).form(&[("cron", "0 0 9 * * ?")]).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("cron-next-fires"));
    let r =
        post("/crowds").body("--x--").header("Content-Type", "multipart/form-data; boundary=x").send().await.unwrap();
    assert_eq!(r.status(), 403, "an upload needs the token header");
    let r = post("/runs/1/cancel").form(&[("confirm", "yes")]).send().await.unwrap();
    assert_eq!(r.status(), 403, "a cancel needs the token");
    assert_eq!(
        node.node.context.store.list_templates(&Default::default()).await.unwrap().len(),
        0,
        "nothing was written"
    );

    // Logging out ends the session.
    let r = post("/logout").form(&[("csrf", s.csrf.as_str())]).send().await.unwrap();
    assert_eq!((r.status().as_u16(), location(&r)), (303, "/login".to_string()));
    let r = http.get(node.url("/")).header("Cookie", &s.cookie).send().await.unwrap();
    assert_eq!(r.status(), 303);
    node.node.shutdown().await;
}

#[tokio::test]
async fn sessions_expire() {
    let (_dir, node) = started().await;
    add_user(&node, "ops").await;
    let session = log_in(&node, "ops").await;
    node.clock.advance(Duration::hours(11));
    let r = client().get(node.url("/schedules")).header("Cookie", &session.cookie).send().await.unwrap();
    assert_eq!(r.status(), 200);
    node.clock.advance(Duration::hours(1));
    let r = client().get(node.url("/schedules")).header("Cookie", &session.cookie).send().await.unwrap();
    assert_eq!(r.status(), 303, "12 hours after login");
    node.node.shutdown().await;
}

#[tokio::test]
async fn the_setup_link_creates_the_first_user_once() {
    let (_dir, node) = started().await;
    let token = node.node.setup_token.clone().expect("no user yet: a setup link");
    let http = client();
    assert_eq!(http.get(node.url("/setup/not-a-token")).send().await.unwrap().status(), 404);
    let page = http.get(node.url(&format!("/setup/{token}"))).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let (pre, _) = set_cookie(page.headers(), "herald_login_csrf").unwrap();
    let setup = |fields: Vec<(&'static str, &'static str)>| {
        let mut form = vec![("csrf", pre.clone())];
        form.extend(fields.into_iter().map(|(k, v)| (k, v.to_string())));
        http.post(node.url(&format!("/setup/{token}")))
            .header("Cookie", format!("herald_login_csrf={pre}"))
            .form(&form)
            .send()
    };
    let r = setup(vec![("name", "admin"), ("password", "short"), ("password2", "short")]).await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("must be at least 10 characters"));
    let r = setup(vec![("name", "admin"), ("password", PASSWORD), ("password2", PASSWORD)]).await.unwrap();
    assert_eq!((r.status().as_u16(), location(&r)), (303, "/".to_string()));
    assert!(set_cookie(r.headers(), "herald_session").is_some(), "logged in");
    let r = setup(vec![("name", "eve"), ("password", PASSWORD), ("password2", PASSWORD)]).await.unwrap();
    assert_eq!(r.status(), 404, "the link works once");
    assert_eq!(http.get(node.url(&format!("/setup/{token}"))).send().await.unwrap().status(), 404);
    let store = node.node.context.store.clone();
    assert_eq!(store.count_users().await.unwrap(), 1);
    // A user exists: the next start prints no link.
    let again =
        herald_api::console::ensure_setup_link(store.as_ref(), &Default::default(), node.clock.now()).await.unwrap();
    assert!(again.is_none());
    node.node.shutdown().await;
}

#[tokio::test]
async fn every_console_page_sends_the_security_headers_and_names_no_other_host() {
    let (_dir, node) = started().await;
    add_user(&node, "ops").await;
    let session = log_in(&node, "ops").await;
    let crowd_id = node.crowd(crowd_csv(3)).await;
    let id = node.template(outbox_template("t", &crowd_id, Some("0 0 9 * * ?"))).await;
    let (_, run) = node.post(&format!("/api/templates/{id}/run"), &json!({})).await;
    let run_id = run["runId"].as_i64().unwrap();
    let http = client();
    let pages = [
        "/".to_string(),
        "/?range=week".into(),
        "/templates".into(),
        "/templates/new".into(),
        format!("/templates/{id}"),
        "/crowds".into(),
        "/runs".into(),
        format!("/runs/{run_id}"),
        format!("/runs/{run_id}/progress"),
        "/trace?q=13900000001".into(),
        "/accounts".into(),
        "/accounts/new".into(),
        "/schedules".into(),
        "/jobs".into(),
        "/keys".into(),
        "/api-reference".into(),
        format!("/crowds/{crowd_id}"),
        "/policies".into(),
        "/suppressions".into(),
        "/outbox".into(),
        "/users".into(),
        "/profile".into(),
    ];
    for page in pages {
        let r = http.get(node.url(&page)).header("Cookie", &session.cookie).send().await.unwrap();
        assert_eq!(r.status(), 200, "{page}");
        let csp = r.headers()["content-security-policy"].to_str().unwrap().to_string();
        assert!(csp.starts_with("default-src 'self'") && csp.contains("frame-ancestors 'none'"), "{page}: {csp}");
        assert_eq!(r.headers()["x-frame-options"], "DENY");
        let html = r.text().await.unwrap();
        for attribute in ["src=\"http", "href=\"http", "src=\"//", "href=\"//", "action=\"http"] {
            assert!(!html.contains(attribute), "{page} points elsewhere: {attribute}");
        }
        assert!(!html.contains(MISSING_TEXT), "{page}: {}", around(&html, MISSING_TEXT));
        // The same page for a Chinese browser: in Chinese, every text found in the catalogue.
        let r = http.get(node.url(&page)).header("Cookie", &session.cookie).header("Accept-Language", "zh-CN,zh;q=0.9");
        let chinese = r.send().await.unwrap().text().await.unwrap();
        assert!(!chinese.contains(MISSING_TEXT), "{page} in zh-CN: {}", around(&chinese, MISSING_TEXT));
        let is_fragment = page.ends_with("/progress");
        assert!(is_fragment || chinese.contains(r#"<html lang="zh-CN">"#), "{page} says its language");
        assert!(chinese.contains(CHINESE_SAMPLE) || is_fragment, "{page} reads Chinese");
    }
    for (asset, kind) in
        [("/assets/htmx.min.js", "text/javascript"), ("/assets/app.css", "text/css"), ("/favicon.ico", "image/svg+xml")]
    {
        let r = http.get(node.url(asset)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{asset} needs no login");
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with(kind), "{asset}");
    }
    assert_eq!(http.get(node.url("/runs/999")).header("Cookie", &session.cookie).send().await.unwrap().status(), 404);
    node.node.shutdown().await;
}

#[tokio::test]
async fn the_console_refuses_what_the_api_refuses_in_the_same_words() {
    let (_dir, node) = started().await;
    add_user(&node, "ops").await;
    let session = log_in(&node, "ops").await;
    let crowd_id = node.crowd(crowd_csv(3)).await;
    // (API field, REST body, the console form's fields for the same input)
    type Case<'a> = (&'a str, Value, Vec<(&'a str, &'a str)>);
    let long_receiver = "9".repeat(201);
    let cases: [Case; 5] = [
        (
            "testMode.receivers[0]",
            json!({"name": "t", "channel": "outbox", "content": {"text": "x"}, "crowdId": crowd_id,
                   "testMode": {"receivers": [long_receiver]}}),
            vec![("testReceivers", long_receiver.as_str())],
        ),
        (
            "schedule.cron",
            json!({"name": "t", "channel": "outbox", "content": {"text": "x"}, "crowdId": crowd_id,
                   "schedule": {"cron": "0 0 9 * *", "timezone": "UTC"}}),
            vec![("cron", "0 0 9 * *"), ("timezone", "UTC")],
        ),
        (
            "content",
            json!({"name": "t", "channel": "outbox", "content": {"text": "Hi {$nickname}"}, "crowdId": crowd_id}),
            vec![("content_key", "text"), ("content_value", "Hi {$nickname}")],
        ),
        (
            "channel",
            json!({"name": "t", "channel": "pigeon", "content": {"text": "x"}}),
            vec![("channel", "pigeon"), ("content_key", "text"), ("content_value", "x")],
        ),
        (
            "schedule.timezone",
            json!({"name": "t", "channel": "outbox", "content": {"text": "x"}, "crowdId": crowd_id,
                   "schedule": {"cron": "0 0 9 * * ?", "timezone": "Mars/Base"}}),
            vec![("cron", "0 0 9 * * ?"), ("timezone", "Mars/Base")],
        ),
    ];
    for (field, body, form_fields) in cases {
        let (status, refused) = node.post("/api/templates", &body).await;
        assert_eq!(status, 422, "{refused}");
        let message = refused["errors"].as_array().unwrap().iter().find(|e| e["field"] == field).unwrap()["message"]
            .as_str()
            .unwrap()
            .to_string();
        let mut form: Vec<(&str, String)> = vec![
            ("csrf", session.csrf.clone()),
            ("name", "t".into()),
            ("channel", "outbox".into()),
            ("msgType", "10".into()),
            ("receiverIdType", "userId".into()),
            ("quietHours", "none".into()),
            ("misfire", "fire_once".into()),
        ];
        if field != "channel" {
            form.push(("crowdId", crowd_id.clone()));
        }
        for (k, v) in form_fields {
            form.retain(|(key, _)| *key != k || k.starts_with("content"));
            form.push((k, v.to_string()));
        }
        if !form.iter().any(|(k, _)| *k == "content_key") {
            form.extend([("content_key", "text".to_string()), ("content_value", "x".to_string())]);
        }
        let r =
            client().post(node.url("/templates")).header("Cookie", &session.cookie).form(&form).send().await.unwrap();
        assert_eq!(r.status(), 422, "{field}");
        let html = r.text().await.unwrap();
        assert!(html.contains(&escaped(&message)), "{field}: {message:?} not on the page");
    }
    assert!(node.node.context.store.list_templates(&Default::default()).await.unwrap().is_empty());
    node.node.shutdown().await;
}

#[tokio::test]
async fn the_template_form_puts_a_template_in_test_mode_and_takes_it_out() {
    let (_dir, node) = started().await;
    let b = browser(&node, "ops").await;
    let form = |receivers: &'static str| {
        vec![
            ("name", "rehearsal"),
            ("channel", "outbox"),
            ("msgType", "10"),
            ("receiverIdType", "userId"),
            ("quietHours", "none"),
            ("misfire", "fire_once"),
            ("content_key", "text"),
            ("content_value", "x"),
            ("testReceivers", receivers),
        ]
    };
    let (status, to, _) = b.post("/templates", &form("13900000003\n\n  qa@example.com \n")).await;
    assert_eq!(status, 303);
    let id: i64 = to.trim_start_matches("/templates/").split('?').next().unwrap().parse().unwrap();
    let (_, stored) = node.get(&format!("/api/templates/{id}")).await;
    assert_eq!(
        stored["testMode"],
        json!({"receivers": ["13900000003", "qa@example.com"]}),
        "one a line, blanks left out"
    );
    let (_, page) = b.get(&format!("/templates/{id}")).await;
    assert!(page.contains("13900000003\nqa@example.com</textarea>"), "the page shows the list to edit");
    assert!(page.contains("Test mode: only 2 listed receivers get real sends"), "and says so beside the status");
    let (_, list) = b.get("/templates").await;
    assert!(list.contains("badge test-mode"), "the list marks it");
    let (status, _, _) = b.post(&format!("/templates/{id}"), &form("  ")).await;
    assert_eq!(status, 303);
    let (_, stored) = node.get(&format!("/api/templates/{id}")).await;
    assert!(stored["testMode"].is_null(), "an empty list takes it out of test mode: {stored}");
    assert!(!b.get(&format!("/templates/{id}")).await.1.contains("id=\"test-mode\""));
    node.node.shutdown().await;
}

/// A scheduled template's form fields, with dates.
fn campaign_form<'a>(crowd_id: &'a str, end: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", "campaign"),
        ("channel", "outbox"),
        ("msgType", "10"),
        ("receiverIdType", "userId"),
        ("quietHours", "none"),
        ("cron", "0 0 9 * * ?"),
        ("timezone", "Asia/Shanghai"),
        ("misfire", "catch_up:10"),
        ("startAt", "2026-06-01T00:00:00+08:00"),
        ("endAt", end),
        ("excludeDates", "2026-06-10\n\n 2026-06-11 "),
        ("excludeWindows", "22:00-06:00\n 12:00 - 13:30 "),
        ("crowdId", crowd_id),
        ("content_key", "text"),
        ("content_value", "x"),
    ]
}

#[tokio::test]
async fn the_template_form_keeps_a_schedules_dates_and_names_a_bad_one() {
    let (_dir, node) = started().await;
    let crowd_id = node.crowd(crowd_csv(2)).await;
    let b = browser(&node, "ops").await;
    let (status, to, _) = b.post("/templates", &campaign_form(&crowd_id, "2026-06-30T23:59:59+08:00")).await;
    assert_eq!(status, 303);
    let id: i64 = to.trim_start_matches("/templates/").split('?').next().unwrap().parse().unwrap();
    let (_, stored) = node.get(&format!("/api/templates/{id}")).await;
    let schedule = &stored["schedule"];
    assert_eq!(
        (schedule["startAt"].as_str(), schedule["endAt"].as_str()),
        (Some("2026-05-31T16:00:00Z"), Some("2026-06-30T15:59:59Z"))
    );
    assert_eq!(schedule["misfire"], "catch_up:10");
    assert_eq!(schedule["excludeDates"], json!(["2026-06-10", "2026-06-11"]), "one a line, blanks left out");
    let (_, page) = b.get(&format!("/templates/{id}")).await;
    assert!(page.contains("value=\"2026-06-01T00:00:00+08:00\""), "the page shows the start in the schedule's zone");
    assert!(page.contains("value=\"catch_up:10\" selected"), "and the misfire policy");
    assert!(page.contains("2026-06-10\n2026-06-11</textarea>"), "and the excluded days");
    assert_eq!(
        schedule["excludeWindows"],
        json!([{"from": "22:00:00", "to": "06:00:00"}, {"from": "12:00:00", "to": "13:30:00"}])
    );
    assert!(page.contains("22:00-06:00\n12:00-13:30</textarea>"), "and the excluded times");
    let mut bad_window = campaign_form(&crowd_id, "2026-06-30T23:59:59+08:00");
    bad_window.retain(|(k, _)| *k != "excludeWindows");
    bad_window.push(("excludeWindows", "22:00-06:00\nnoon"));
    let (status, _, html) = b.post(&format!("/templates/{id}"), &bad_window).await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"excludeWindows-error\">line 2: give HH:MM-HH:MM"), "named by its line");

    let (status, _, html) =
        b.post(&format!("/templates/{id}"), &campaign_form(&crowd_id, "2026-05-01T00:00:00Z")).await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"endAt-error\""), "the error stands by the end field");
    node.node.shutdown().await;
}

#[tokio::test]
async fn deleting_a_template_says_what_it_keeps_before_and_after() {
    let (_dir, node) = started().await;
    add_user(&node, "ops").await;
    let s = log_in(&node, "ops").await;
    let http = client();
    let id = node.template(json!({"name": "old", "channel": "outbox", "content": {"body": "b"}})).await;
    let kept = "its runs, fire history, message traces and delivery ledger are kept";
    let page = http.get(node.url(&format!("/templates/{id}"))).header("Cookie", &s.cookie).send().await.unwrap();
    let page = page.text().await.unwrap();
    assert!(page.contains("id=\"delete-keeps\"") && page.contains(kept), "said beside the button");

    let delete = |confirm: &'static str| {
        let (http, url, cookie, csrf) =
            (http.clone(), node.url(&format!("/templates/{id}/delete")), s.cookie.clone(), s.csrf.clone());
        async move {
            http.post(url)
                .header("Cookie", cookie)
                .form(&[("csrf", csrf.as_str()), ("confirm", confirm)])
                .send()
                .await
                .unwrap()
        }
    };
    let asked = delete("").await;
    assert_eq!(asked.status(), 200, "the button asks first");
    let asked = asked.text().await.unwrap();
    assert!(asked.contains("id=\"confirm-yes\"") && asked.contains(kept), "and says what it keeps");
    assert_eq!(node.get(&format!("/api/templates/{id}")).await.0, 200, "asking deleted nothing");
    let r = delete("yes").await;
    assert_eq!((r.status().as_u16(), location(&r)), (303, "/templates?done=deleted".to_string()));
    let list = http.get(node.url("/templates?done=deleted")).header("Cookie", &s.cookie).send().await.unwrap();
    let list = list.text().await.unwrap();
    assert!(list.contains("Template deleted") && list.contains(kept), "said after");
    assert!(!list.contains(">old<"), "the template is gone from the list");
    let (status, answer) = node.get(&format!("/api/templates/{id}")).await;
    assert_eq!(status, 404, "{answer}");
    node.node.shutdown().await;
}

#[tokio::test]
async fn the_api_reference_page_reads_out_every_operation_of_the_served_description() {
    let (_dir, node) = started().await;
    add_user(&node, "ops").await;
    let s = log_in(&node, "ops").await;
    let http = client();
    let doc: Value = http.get(node.url("/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "served without a key");
    let page = http.get(node.url("/api-reference")).header("Cookie", &s.cookie).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let shown = format!("{} {}", method.to_uppercase(), escaped(path));
            assert!(html.contains(&shown), "{shown} is not on the page");
            operations += 1;
        }
    }
    assert!(operations >= 40, "{operations} operations");
    for name in doc["components"]["schemas"].as_object().unwrap().keys() {
        assert!(html.contains(&format!("id=\"type-{name}\"")), "type {name} is not on the page");
    }
    node.node.shutdown().await;
}

#[tokio::test]
async fn the_keys_page_makes_a_key_once_and_revokes_after_asking() {
    let (_dir, node) = started().await;
    add_user(&node, "ops").await;
    let s = log_in(&node, "ops").await;
    let http = client();
    let get = |path: &str| http.get(node.url(path)).header("Cookie", &s.cookie).send();
    let page = get("/keys").await.unwrap().text().await.unwrap();
    assert!(page.contains(&format!("{}…", &node.key[..11])), "the first key by its prefix");
    assert!(!page.contains(&node.key), "never a whole key in a list");

    let post = |path: &str, form: &[(&str, &str)]| {
        let mut fields = vec![("csrf", s.csrf.as_str())];
        fields.extend_from_slice(form);
        http.post(node.url(path)).header("Cookie", &s.cookie).form(&fields).send()
    };
    let r = post("/keys", &[("name", "ci"), ("scope", "send")]).await.unwrap();
    assert_eq!(r.status(), 200);
    let made = r.text().await.unwrap();
    let at = made.find("hk_").expect("the new key on the page");
    let key: String = made[at..].chars().take(67).collect();
    let r = node.http.post(node.url("/send")).header("X-API-Key", &key).json(&json!({})).send().await.unwrap();
    assert_eq!(r.status(), 422, "the new send key is accepted (and the empty request refused)");
    let again = get("/keys").await.unwrap().text().await.unwrap();
    assert!(!again.contains(&key), "shown once");

    let r = post("/keys", &[("name", "x"), ("scope", "root")]).await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("scope"));

    // Revoking asks first, then the key is refused.
    let keys = node.node.context.store.list_api_keys(10, 0).await.unwrap();
    let ci = keys.iter().find(|k| k.name == "ci").unwrap().id;
    let confirm = get(&format!("/keys/{ci}/revoke")).await.unwrap().text().await.unwrap();
    assert!(confirm.contains("Revoke key") && confirm.contains("ci"), "{confirm}");
    let r = post(&format!("/keys/{ci}/revoke"), &[]).await.unwrap();
    assert_eq!((r.status().as_u16(), location(&r)), (303, "/keys?done=revoked".to_string()));
    let r = node.http.post(node.url("/send")).header("X-API-Key", &key).json(&json!({})).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let first = keys.iter().find(|k| k.name == "first start").unwrap().id;
    let r = post(&format!("/keys/{first}/revoke"), &[]).await.unwrap();
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("last usable admin key"));
    node.node.shutdown().await;
}

#[tokio::test]
async fn console_lists_page_fifty_at_a_time_keeping_their_filter() {
    let (_dir, node) = started().await;
    add_user(&node, "ops").await;
    let s = log_in(&node, "ops").await;
    let http = client();
    let page = |path: String| {
        let (http, cookie) = (http.clone(), s.cookie.clone());
        let url = node.url(&path);
        async move {
            let r = http.get(url).header("Cookie", cookie).send().await.unwrap();
            assert_eq!(r.status(), 200, "{path}");
            r.text().await.unwrap()
        }
    };
    for n in 0..55 {
        node.template(json!({"name": format!("bulk {n:02}"), "channel": "outbox", "content": {"body": "b"}})).await;
    }
    node.template(json!({"name": "other", "channel": "webhook", "content": {"url": "http://127.0.0.1:9/x"}})).await;
    let rows = |html: &str| html.matches("<tr><td>").count();
    let first = page("/templates?q=BULK".into()).await;
    assert_eq!(rows(&first), 50, "a page of fifty");
    assert!(!first.contains("id=\"previous-page\""));
    let next = r#"<a href="/templates?q=BULK&#38;page=1" id="next-page">"#;
    assert!(first.contains(next), "the next page keeps the search");
    let second = page("/templates?q=BULK&page=1".into()).await;
    assert_eq!(rows(&second), 5);
    assert!(second.contains("id=\"previous-page\"") && !second.contains("id=\"next-page\""));
    assert!(!first.contains(">other<") && !second.contains(">other<"), "the search holds on every page");
    let webhooks = page("/templates?channel=webhook".into()).await;
    assert_eq!(rows(&webhooks), 1);
    assert!(webhooks.contains(">other<"));
    let refused = page("/templates?channel=pager".into()).await;
    assert!(refused.contains(&escaped(r#"channel: "pager" is not a channel"#)), "said on the page, not a 500");
    node.node.shutdown().await;
}

#[tokio::test]
async fn a_crowds_page_keeps_its_report_renames_and_deletes_after_asking_only_when_unused() {
    let (_dir, node) = started().await;
    add_user(&node, "ops").await;
    let s = log_in(&node, "ops").await;
    let http = client();
    let (status, uploaded) = node.upload(b"userId,name\nu1,Ann\n,Bob\n".to_vec(), None).await;
    assert_eq!(status, 201, "{uploaded}");
    let id = uploaded["crowd"]["id"].as_str().unwrap().to_string();
    let get = |path: String| {
        let (http, cookie, url) = (http.clone(), s.cookie.clone(), node.url(&path));
        async move {
            let r = http.get(url).header("Cookie", cookie).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let post = |path: String, form: Vec<(&'static str, String)>| {
        let (http, cookie, url, csrf) = (http.clone(), s.cookie.clone(), node.url(&path), s.csrf.clone());
        async move {
            let mut fields = vec![("csrf", csrf)];
            fields.extend(form);
            let r = http.post(url).header("Cookie", cookie).form(&fields).send().await.unwrap();
            (r.status().as_u16(), location(&r), r.text().await.unwrap())
        }
    };
    let (status, page) = get(format!("/crowds/{id}")).await;
    assert_eq!(status, 200);
    assert!(page.contains(r#"<td class="bad-line">3</td>"#), "the upload's bad row, kept");
    assert!(page.contains("id=\"crowd-unused\""));
    let (status, list) = get("/crowds".into()).await;
    assert!(status == 200 && list.contains(&format!("href=\"/crowds/{id}\"")), "the list links to it");
    assert!(list.contains("hx-disabled-elt=\"#upload\""), "the upload button is disabled while it uploads");
    let (status, file) = get(format!("/crowds/{id}/file")).await;
    assert_eq!((status, file.as_str()), (200, "userId,name\nu1,Ann\n,Bob\n"));

    let (status, _, refused) = post(format!("/crowds/{id}/rename"), vec![("name", " ".into())]).await;
    assert!(status == 422 && refused.contains("name: must not be blank"), "{status}");
    let (status, to, _) = post(format!("/crowds/{id}/rename"), vec![("name", "Members".into())]).await;
    assert_eq!((status, to), (303, format!("/crowds/{id}?done=renamed")));
    assert!(get(format!("/crowds/{id}")).await.1.contains(">Members</h1>"));

    let template = node
        .template(json!({"name": "Welcome", "channel": "outbox", "content": {"body": "Hi {$name}"}, "crowdId": id}))
        .await;
    let (status, _, asked) = post(format!("/crowds/{id}/delete"), vec![]).await;
    assert!(
        status == 200 && asked.contains("id=\"confirm-yes\"") && asked.contains("its runs and their traces are kept")
    );
    assert!(node.get(&format!("/api/crowds/{id}")).await.0 == 200, "asking deletes nothing");
    let (status, _, refused) = post(format!("/crowds/{id}/delete"), vec![("confirm", "yes".into())]).await;
    assert_eq!(status, 409);
    assert!(refused.contains(&escaped(&format!("Welcome (#{template})"))) && refused.contains("id=\"crowd-users\""));
    assert_eq!(node.delete(&format!("/api/templates/{template}")).await.0, 200);
    let (status, to, _) = post(format!("/crowds/{id}/delete"), vec![("confirm", "yes".into())]).await;
    assert_eq!((status, to.as_str()), (303, "/crowds?done=deleted"));
    assert!(get("/crowds?done=deleted".into()).await.1.contains("Crowd deleted"));
    assert_eq!(get(format!("/crowds/{id}")).await.0, 404);
    node.node.shutdown().await;
}

#[tokio::test]
async fn ticked_templates_start_stop_and_delete_together_with_refusals_named() {
    let (_dir, node) = started().await;
    add_user(&node, "ops").await;
    let s = log_in(&node, "ops").await;
    let http = client();
    let crowd_id = node.crowd(crowd_csv(2)).await;
    let daily = node.template(outbox_template("Daily", &crowd_id, Some("0 0 9 * * ?"))).await;
    let weekly = node.template(outbox_template("Weekly", &crowd_id, Some("0 0 9 ? * MON"))).await;
    let unscheduled = node.template(outbox_template("By hand", &crowd_id, None)).await;
    let bulk = |action: &'static str, ids: Vec<i64>, confirm: bool| {
        let (http, url, cookie, csrf) = (http.clone(), node.url("/templates/bulk"), s.cookie.clone(), s.csrf.clone());
        async move {
            let mut form = vec![("csrf", csrf), ("action", action.to_string())];
            form.extend(ids.iter().map(|id| ("id", id.to_string())));
            if confirm {
                form.push(("confirm", "yes".into()));
            }
            let r = http.post(url).header("Cookie", cookie).form(&form).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let status_of = |id: i64| {
        let node = &node;
        async move { node.get(&format!("/api/templates/{id}")).await.1["status"].as_str().unwrap_or("gone").to_string() }
    };

    let (status, page) = bulk("start", vec![daily, weekly, unscheduled], false).await;
    assert_eq!(status, 200);
    assert!(page.contains("Started 2: Daily, Weekly."), "{}", &page[page.find("notice").unwrap_or(0)..][..300]);
    assert!(page.contains("Refused 1: By hand ("), "the refusal names its template and says why");
    assert_eq!((status_of(daily).await, status_of(weekly).await), ("running".into(), "running".into()));
    let (_, page) = bulk("stop", vec![weekly], false).await;
    assert!(page.contains("Stopped 1: Weekly."));
    assert_eq!(status_of(weekly).await, "stopped");

    let (status, asked) = bulk("delete", vec![daily, weekly], false).await;
    assert!(status == 200 && asked.contains("Delete 2 templates?") && asked.contains("Daily, Weekly"), "asks first");
    assert_eq!(status_of(daily).await, "running", "asking deleted nothing");
    let (_, page) = bulk("delete", vec![daily, weekly], true).await;
    assert!(page.contains("Deleted 2: Daily, Weekly.") && page.contains("are kept"), "says what it keeps");
    assert_eq!((status_of(daily).await, status_of(weekly).await), ("gone".into(), "gone".into()));
    assert_eq!(status_of(unscheduled).await, "stopped", "untouched");

    assert_eq!(bulk("start", vec![], false).await.0, 422, "nothing ticked");
    assert_eq!(bulk("explode", vec![unscheduled], false).await.0, 422, "an unknown action");
    node.node.shutdown().await;
}

/// A logged-in console client: GET and form POST, each answering status, redirect and body.
struct Browser<'a> {
    node: &'a TestNode,
    s: Session,
    http: reqwest::Client,
}

impl Browser<'_> {
    async fn get(&self, path: &str) -> (u16, String) {
        let r = self.http.get(self.node.url(path)).header("Cookie", &self.s.cookie).send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> (u16, String, String) {
        let mut form = vec![("csrf", self.s.csrf.as_str())];
        form.extend_from_slice(fields);
        let r = self.http.post(self.node.url(path)).header("Cookie", &self.s.cookie).form(&form).send().await.unwrap();
        (r.status().as_u16(), location(&r), r.text().await.unwrap())
    }
}

async fn browser<'a>(node: &'a TestNode, user: &str) -> Browser<'a> {
    add_user(node, user).await;
    Browser { node, s: log_in(node, user).await, http: client() }
}

#[tokio::test]
async fn the_policies_page_discards_a_template_and_limits_a_channel() {
    let (_dir, node) = started().await;
    let b = browser(&node, "ops").await;
    let id = node.template(json!({"name": "Wrong send", "channel": "outbox", "content": {"body": "b"}})).await;
    let (status, to, _) = b.post("/policies/discard", &[("template", &id.to_string()), ("reason", "wrong copy")]).await;
    assert_eq!((status, to.as_str()), (303, "/policies?done=discarded"));
    let (_, discards) = node.get("/api/discards").await;
    assert_eq!(
        (discards["items"][0]["templateId"].as_i64(), discards["items"][0]["reason"].as_str()),
        (Some(id), Some("wrong copy"))
    );
    let (_, page) = b.get("/policies").await;
    assert!(page.contains(">Wrong send</a>") && page.contains("wrong copy"), "listed by name with its reason");
    let (status, _, page) = b.post("/policies/discard", &[("template", "")]).await;
    assert!(status == 422 && page.contains("template: pick a template"), "{status}");

    let (status, to, _) = b.post("/policies/rate", &[("channel", "sms"), ("rate", "2.5")]).await;
    assert_eq!((status, to.as_str()), (303, "/policies?done=rate"));
    let (_, rates) = node.get("/api/flow-control").await;
    assert_eq!(
        (rates["items"][0]["channel"].as_str(), rates["items"][0]["ratePerSecond"].as_f64()),
        (Some("sms"), Some(2.5))
    );
    let (status, _, page) = b.post("/policies/rate", &[("channel", "sms"), ("rate", "fast")]).await;
    assert!(status == 422 && page.contains(&escaped(r#"ratePerSecond: "fast" is not a number"#)), "{status}");
    let (status, _, _) = b.post("/policies/rate", &[("channel", "sms"), ("rate", "")]).await;
    assert_eq!(status, 303);
    assert_eq!(node.get("/api/flow-control").await.1["items"], json!([]), "empty clears the limit");

    let (status, to, _) = b.post("/policies/undiscard", &[("template", &id.to_string())]).await;
    assert_eq!((status, to.as_str()), (303, "/policies?done=undiscarded"));
    assert_eq!(node.get("/api/discards").await.1["items"], json!([]));
    node.node.shutdown().await;
}

#[tokio::test]
async fn the_suppressions_page_adds_imports_and_removes_after_asking() {
    let (_dir, node) = started().await;
    let b = browser(&node, "ops").await;
    let added = [("receiver", " +86 138-0000-0001 "), ("channel", "sms"), ("kinds", "notice"), ("kinds", "marketing")];
    let (status, to, _) = b.post("/suppressions", &[&added[..], &[("note", "asked by phone")]].concat()).await;
    assert_eq!((status, to.as_str()), (303, "/suppressions?done=added"));
    let (_, page) = b.get("/suppressions?done=added").await;
    assert!(page.contains("id=\"notice\"") && page.contains(">13800000001</td>"), "listed as the list compares it");
    assert!(page.contains("asked by phone") && page.contains(">console</td>") && page.contains(">notice</span>"));
    let (_, listed) = node.get("/api/suppressions").await;
    assert_eq!(listed["items"][0]["kinds"], json!(["notice", "marketing"]), "{listed}");

    let (status, _, refused) =
        b.post("/suppressions", &[("receiver", " "), ("channel", "all"), ("note", "kept")]).await;
    assert_eq!(status, 422);
    assert!(refused.contains("id=\"receiver-error\">must not be blank<"), "the message sits by its field");
    assert!(
        refused.contains("id=\"kinds-error\"") && refused.contains("value=\"kept\""),
        "the form keeps what was typed"
    );
    assert_eq!(node.get("/api/suppressions").await.1["items"].as_array().unwrap().len(), 1, "nothing written");

    let csv = "receiver,note\nann@example.com,moved\n,no receiver\nBob@Example.com,\n";
    let form = reqwest::multipart::Form::new()
        .text("channel", "all")
        .text("kinds", "marketing")
        .part("file", reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("opt-outs.csv"));
    let r = b.http.post(node.url("/suppressions/import")).header("Cookie", &b.s.cookie);
    let r = r.header("X-CSRF-Token", &b.s.csrf).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let report = r.text().await.unwrap();
    assert!(report.contains("id=\"report-rows\">3<") && report.contains("id=\"report-written\">2<"), "{report}");
    assert!(report.contains("<td class=\"bad-line\">3</td>"), "the blank receiver's line");
    let (_, imported) = b.get("/suppressions?source=import&channel=all").await;
    assert_eq!(imported.matches("class=\"suppression\"").count(), 2);
    assert!(imported.contains(">bob@example.com</td>") && imported.contains(">every channel</td>"));

    let entry = [("receiver", "13800000001"), ("channel", "sms")];
    let (status, _, asked) = b.post("/suppressions/remove", &entry).await;
    assert!(status == 200 && asked.contains("id=\"confirm-yes\""), "asks first");
    assert_eq!(node.get("/api/suppressions?channel=sms").await.1["items"].as_array().unwrap().len(), 1);
    let (status, to, _) = b.post("/suppressions/remove", &[&entry[..], &[("confirm", "yes")]].concat()).await;
    assert_eq!((status, to.as_str()), (303, "/suppressions?done=removed"));
    assert_eq!(node.get("/api/suppressions?channel=sms").await.1["items"], json!([]));
    let (status, _, gone) = b.post("/suppressions/remove", &[&entry[..], &[("confirm", "yes")]].concat()).await;
    assert!(status == 404 && gone.contains("is not on the suppression list"), "{status}");
    node.node.shutdown().await;
}

#[tokio::test]
async fn the_outbox_page_shows_deliveries_by_template_with_names_and_links() {
    let (_dir, node) = started().await;
    let b = browser(&node, "ops").await;
    let crowd_id = node.crowd(crowd_csv(3)).await;
    let id = node.template(outbox_template("Codes", &crowd_id, None)).await;
    let (status, run) = node.post(&format!("/api/templates/{id}/run"), &json!({})).await;
    assert_eq!(status, 202, "{run}");
    let run_id = run["runId"].as_i64().unwrap();
    node.wait_run(run_id, std::time::Duration::from_secs(20), |r| r["status"] == "completed").await;
    let (status, page) = b.get(&format!("/outbox?template={id}")).await;
    assert_eq!(status, 200);
    assert_eq!(page.matches("<tr><td>").count(), 3, "its three deliveries");
    assert!(
        page.contains(">Codes</a>") && page.contains(&format!("href=\"/runs/{run_id}\"")) && page.contains("/trace?q=")
    );
    assert!(page.contains(&common::receiver(2)));
    let (_, one) = b.get(&format!("/outbox?receiver={}", common::receiver(2))).await;
    assert_eq!(one.matches("<tr><td>").count(), 1);
    let (status, refused) = b.get("/outbox?run=abc").await;
    assert!(status == 200 && refused.contains(&escaped(r#"run: "abc" is not an id"#)), "said on the page");
    node.node.shutdown().await;
}

#[tokio::test]
async fn users_are_added_disabled_enabled_and_given_new_passwords_on_the_users_page() {
    let (_dir, node) = started().await;
    let b = browser(&node, "ops").await;
    let (status, _, page) = b.post("/users", &[("name", "ann"), ("password", "short"), ("password2", "short")]).await;
    assert!(status == 422 && page.contains("id=\"password-error\""), "{status}");
    let (status, to, _) = b.post("/users", &[("name", "ann"), ("password", PASSWORD), ("password2", PASSWORD)]).await;
    assert_eq!((status, to.as_str()), (303, "/users?done=added"));
    let (status, _, page) = b.post("/users", &[("name", "ann"), ("password", PASSWORD), ("password2", PASSWORD)]).await;
    assert!(status == 409 && page.contains("exists already"), "{status}");
    let ann = log_in(&node, "ann").await;

    let (status, to, _) = b.post("/users/disable", &[("name", "ann")]).await;
    assert_eq!((status, to.as_str()), (303, "/users?done=disabled"));
    let home = client().get(node.url("/")).header("Cookie", &ann.cookie).send().await.unwrap();
    assert_eq!(home.status(), 303, "ann's session ended");
    let login = client().get(node.url("/login")).send().await.unwrap();
    let (pre, _) = set_cookie(login.headers(), "herald_login_csrf").unwrap();
    let refused = client()
        .post(node.url("/login"))
        .header("Cookie", format!("herald_login_csrf={pre}"))
        .form(&[("csrf", pre.as_str()), ("name", "ann"), ("password", PASSWORD), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    assert!(refused.text().await.unwrap().contains("this user is disabled"));
    let (status, _, page) = b.post("/users/disable", &[("name", "ops")]).await;
    assert!(status == 409 && page.contains("you cannot disable yourself"), "{status}");

    let (status, to, _) = b.post("/users/enable", &[("name", "ann")]).await;
    assert_eq!((status, to.as_str()), (303, "/users?done=enabled"));
    let (status, to, _) = b.post("/users/password", &[("name", "ann"), ("password", "a brand new passphrase")]).await;
    assert_eq!((status, to.as_str()), (303, "/users?done=password"));
    let (_, page) = b.get("/users").await;
    assert_eq!(page.matches("class=\"user\"").count(), 2);
    assert!(page.contains("ops <span class=\"muted\">(you)</span>"));
    node.node.shutdown().await;
}

#[tokio::test]
async fn a_user_reads_every_time_in_the_zone_they_pick() {
    let (_dir, node) = started().await;
    let b = browser(&node, "ops").await;
    let crowd_id = node.crowd(crowd_csv(2)).await;
    let id = node.template(outbox_template("Zoned", &crowd_id, None)).await;
    let (_, run) = node.post(&format!("/api/templates/{id}/run"), &json!({})).await;
    let run_id = run["runId"].as_i64().unwrap();
    // The test clock reads 2026-05-01 00:00:00 UTC: 08:00 in Shanghai.
    let (_, runs) = b.get("/runs").await;
    assert!(
        runs.contains("2026-05-01 00:00:00 UTC") && runs.contains("Created from (UTC)"),
        "UTC until a zone is picked"
    );
    let (status, _, refused) = b.post("/profile", &[("zone", "Mars/Olympus")]).await;
    assert!(status == 422 && refused.contains("is not an IANA time zone"), "{status}");
    let (status, to, _) = b.post("/profile", &[("zone", "Asia/Shanghai")]).await;
    assert_eq!((status, to.as_str()), (303, "/profile?done=saved"));

    let (_, runs) = b.get("/runs").await;
    assert!(
        runs.contains("2026-05-01 08:00:00 CST") && runs.contains("Created from (Asia/Shanghai)"),
        "in the zone, named"
    );
    let (_, home) = b.get("/").await;
    assert!(
        home.contains("(hours in Asia/Shanghai)") && home.contains("id=\"display-zone\""),
        "the chart says its zone"
    );
    let (_, run_page) = b.get(&format!("/runs/{run_id}")).await;
    assert!(run_page.contains("CST") && !run_page.contains(" UTC<"), "every time on the run page");
    // A day filter is a day in the reader's zone: May 1 in Shanghai starts at 16:00 UTC on April 30.
    let (_, day) = b.get("/runs?from=2026-05-01&to=2026-05-01").await;
    assert!(day.contains(&format!("#{run_id}")), "the run was created on May 1 in Shanghai");
    let (_, before) = b.get("/runs?to=2026-04-30").await;
    assert!(!before.contains(&format!("#{run_id}")));
    node.node.shutdown().await;
}

#[tokio::test]
async fn pages_read_in_the_browsers_language_until_the_user_picks_one() {
    let (_dir, node) = started().await;
    let http = client();
    let in_language = |path: &str, language: &str| http.get(node.url(path)).header("Accept-Language", language).send();
    let login = in_language("/login", "zh-CN,zh;q=0.9,en;q=0.8").await.unwrap().text().await.unwrap();
    assert!(login.contains(r#"<html lang="zh-CN">"#) && login.contains("登录"), "the login page of a Chinese browser");
    let login = in_language("/login", "fr-FR,en;q=0.5").await.unwrap().text().await.unwrap();
    assert!(login.contains(r#"<html lang="en">"#) && login.contains("Log in"), "English for the rest");
    let b = browser(&node, "ops").await;
    let page = |path: &'static str, language: &'static str| {
        let request = b.http.get(node.url(path)).header("Cookie", &b.s.cookie).header("Accept-Language", language);
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    assert!(page("/runs", "zh").await.contains(CHINESE_SAMPLE), "the browser's language before a pick");
    assert!(page("/runs", "en-US").await.contains(">Runs<"));

    let (status, _, refused) = b.post("/profile", &[("language", "klingon")]).await;
    assert!(status == 422 && refused.contains("language") && refused.contains("klingon"), "{status}");
    let (status, to, _) = b.post("/profile", &[("language", "zh-CN")]).await;
    assert_eq!((status, to.as_str()), (303, "/profile?done=saved"));
    let profile = page("/profile", "en-US").await;
    assert!(profile.contains(r#"<html lang="zh-CN">"#), "the pick wins over the browser");
    assert!(page("/runs", "en-US").await.contains(CHINESE_SAMPLE));
    assert!(profile.contains(r#"<option value="zh-CN" lang="zh-CN" selected>"#), "the pick is shown");
    // Picking the language keeps the zone, and the other way round.
    b.post("/profile", &[("zone", "Asia/Shanghai")]).await;
    let runs = page("/runs", "en-US").await;
    assert!(runs.contains(CHINESE_SAMPLE) && runs.contains("Asia/Shanghai"), "both settings held");
    let (status, _, _) = b.post("/profile", &[("language", "")]).await;
    assert_eq!(status, 303);
    assert!(page("/runs", "en-US").await.contains(">Runs<"), "following the browser again");
    assert!(page("/runs", "zh-CN").await.contains(CHINESE_SAMPLE));
    node.node.shutdown().await;
}

#[tokio::test]
async fn accounts_are_configured_through_their_channels_own_fields() {
    let (_dir, node) = started().await;
    let b = browser(&node, "ops").await;
    let (_, sms) = b.get("/accounts/fields?channel=sms").await;
    assert!(
        sms.contains(r#"name="cfg:/suppliers/0/provider""#) && sms.contains(r#"<option value="aliyun""#),
        "a field per setting"
    );
    assert!(
        sms.contains("Secret. the API key&#39;s SecretKey") || sms.contains("Secret. the API key's SecretKey"),
        "help says which are secret"
    );

    let fields = [
        ("name", "ops-robot"),
        ("channel", "wecom_robot"),
        ("cfg:/key", "robot-key-0123456789abcdef"),
        ("cfg:/baseUrl", "http://127.0.0.1:9"),
        ("config", ""),
    ];
    let (status, to, _) = b.post("/accounts", &fields).await;
    assert_eq!(status, 303, "created from the fields");
    let id: i64 = to.trim_start_matches("/accounts/").split('?').next().unwrap().parse().unwrap();
    let (_, account) = node.get(&format!("/api/accounts/{id}")).await;
    assert_eq!(account["config"], json!({"key": "****cdef", "baseUrl": "http://127.0.0.1:9"}), "{account}");
    let (_, page) = b.get(&format!("/accounts/{id}")).await;
    assert!(page.contains(r#"id="cfg-key" name="cfg:/key" value="****cdef""#), "the secret shows masked in its field");

    let bad = [
        ("name", "app"),
        ("channel", "wecom_app"),
        ("cfg:/corpId", "ww1"),
        ("cfg:/corpSecret", "s"),
        ("cfg:/agentId", "abc"),
    ];
    let (status, _, page) = b.post("/accounts", &bad).await;
    assert!(status == 422 && page.contains(&escaped(r#"AgentId: "abc" is not a whole number"#)), "{status}");
    assert!(page.contains(r#"value="abc""#), "the form keeps what was typed");

    let two = json!({"suppliers": [
        {"provider": "tencent", "secretId": "id", "secretKey": "k", "sdkAppId": "1400", "signName": "s", "templateId": "1", "paramOrder": ["code"]},
        {"provider": "aliyun", "accessKeyId": "a", "accessKeySecret": "b", "signName": "s", "templateCode": "SMS_1"}]});
    let (status, created) = node.post("/api/accounts", &json!({"name": "sms", "channel": "sms", "config": two})).await;
    assert_eq!(status, 201, "{created}");
    let (_, page) = b.get(&format!("/accounts/{}", created["id"])).await;
    assert!(
        page.contains("<details open>") && page.contains("&#34;aliyun&#34;"),
        "a config the fields cannot hold shows as JSON"
    );
    node.node.shutdown().await;
}

#[tokio::test]
async fn a_run_with_failures_is_resent_from_its_page_after_asking_once() {
    let (_dir, node) = started().await;
    let b = browser(&node, "ops").await;
    let receiver = herald_testkit::receiver::RecordingReceiver::start().await;
    receiver.fail_next(2, 400);
    let crowd_id = node.crowd(crowd_csv(3)).await;
    let id = node.template(webhook_template("Reminders", &crowd_id, &format!("{}/hook", receiver.url))).await;
    let (_, run) = node.post(&format!("/api/templates/{id}/run"), &json!({})).await;
    let run_id = run["runId"].as_i64().unwrap();
    node.wait_run(run_id, std::time::Duration::from_secs(20), |r| r["status"] == "completed").await;
    let (_, page) = b.get(&format!("/runs/{run_id}")).await;
    assert!(page.contains("id=\"resend-run\""), "an ended run with failures offers the resend");

    let (status, _, asked) = b.post(&format!("/runs/{run_id}/resend"), &[]).await;
    assert!(status == 200 && asked.contains("id=\"confirm-resend\"") && asked.contains("to the 2 receivers"), "asks");
    assert_eq!(receiver.count(), 3, "asking sent nothing");
    let (status, to, _) = b.post(&format!("/runs/{run_id}/resend"), &[("confirm", "yes")]).await;
    let resend_id: i64 = to.trim_start_matches("/runs/").trim_end_matches("?done=resent").parse().expect(&to);
    assert_eq!(status, 303);
    node.wait_run(resend_id, std::time::Duration::from_secs(20), |r| r["status"] == "completed").await;
    assert_eq!(receiver.count(), 5, "the two failed receivers once more");
    let (_, resent) = b.get(&to).await;
    assert!(resent.contains("id=\"resend-of\"") && resent.contains(&format!("href=\"/runs/{run_id}\"")));
    assert!(!resent.contains("id=\"resend-run\""), "nothing of the resend failed");

    let (status, _, again) = b.post(&format!("/runs/{run_id}/resend"), &[("confirm", "yes")]).await;
    assert!(status == 200 && again.contains("id=\"resend-problem\"") && again.contains("resent already"), "{again}");
    assert!(!again.contains("id=\"confirm-resend\""), "no button that cannot work");
    assert_eq!(receiver.count(), 5);
    node.node.shutdown().await;
}

#[tokio::test]
async fn the_trace_page_recalls_the_message_looked_up_after_asking() {
    let (_dir, node) = started().await;
    let b = browser(&node, "ops").await;
    let template = node.template(json!({"name": "Codes", "channel": "outbox", "content": {"body": "b"}})).await;
    let send = json!({"code": "send", "messageTemplateId": template, "messageParam": {"receiver": "13800000000"}});
    let (_, sent) = node.post("/send", &send).await;
    let id = sent["data"][0]["messageId"].as_str().unwrap().to_string();
    for _ in 0..100 {
        if node.get(&format!("/api/trace/{id}")).await.1["events"].to_string().contains("\"sent\"") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (_, page) = b.get(&format!("/trace?q={id}")).await;
    assert!(page.contains("id=\"recall-message\""), "the message's card offers a recall");
    let (status, _, asked) = b.post("/trace/recall", &[("message", &id)]).await;
    assert!(status == 200 && asked.contains("id=\"confirm-recall\"") && asked.contains("Recall this message?"));
    let (status, _, done) = b.post("/trace/recall", &[("message", &id), ("confirm", "yes")]).await;
    assert_eq!(status, 200);
    assert!(
        done.contains("id=\"recall-outcome\"") && done.contains("Not recallable (outbox messages cannot be recalled)"),
        "{done}"
    );
    let (_, _, nothing) = b.post("/trace/recall", &[("message", "no-such-id"), ("confirm", "yes")]).await;
    assert!(!nothing.contains("id=\"recall-outcome\""), "no card, no outcome: the page says no message matches");
    node.node.shutdown().await;
}

#[tokio::test]
async fn the_dry_run_button_shows_where_a_templates_crowd_would_go() {
    let (_dir, node) = started().await;
    let b = browser(&node, "ops").await;
    let crowd = node.crowd(crowd_csv(4)).await;
    let mut spec = outbox_template("Promo", &crowd, None);
    spec["testMode"] = json!({"receivers": [receiver(2)]});
    let id = node.template(spec).await;
    let (_, page) = b.get(&format!("/templates/{id}")).await;
    assert!(page.contains(&format!("action=\"/templates/{id}/dry-run\"")) && page.contains("id=\"dry-run\""));

    let (status, _, shown) = b.post(&format!("/templates/{id}/dry-run"), &[]).await;
    assert_eq!(status, 200, "{shown}");
    let row = |html: &str, id: &str| {
        let at = html.find(&format!("<tr id=\"{id}\"")).unwrap_or_else(|| panic!("no row {id}"));
        html[at..at + html[at..].find("</tr>").unwrap()].to_string()
    };
    for (id, label, count) in [
        ("dry-run-rows", "Rows read", "4"),
        ("dry-run-test-skipped", "Skipped by test mode", "3"),
        ("dry-run-would-send", "Would be sent", "1"),
    ] {
        let line = row(&shown, id);
        assert!(line.contains(label) && line.contains(&format!("<td class=\"num\">{count}</td>")), "{line}");
    }
    assert!(shown.contains("id=\"dry-run-samples\"") && shown.contains(&receiver(2)), "the message it would send");
    assert!(shown.contains("<html") && !shown.contains(MISSING_TEXT), "a page of its own without htmx");
    assert_eq!(node.get("/api/outbox").await.1["total"], 0, "nothing sent");

    // From the button (htmx): the fragment alone, in the page's language.
    let r = b
        .http
        .post(node.url(&format!("/templates/{id}/dry-run")))
        .header("Cookie", &b.s.cookie)
        .header("X-CSRF-Token", &b.s.csrf)
        .header("HX-Request", "true")
        .header("Accept-Language", "zh-CN")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let fragment = r.text().await.unwrap();
    assert!(!fragment.contains("<html") && row(&fragment, "dry-run-would-send").contains("将会发送"), "{fragment}");

    let bare = node.template(json!({"name": "Bare", "channel": "outbox", "content": {"body": "b"}})).await;
    let (status, _, refused) = b.post(&format!("/templates/{bare}/dry-run"), &[]).await;
    assert!(status == 409 && refused.contains("id=\"dry-run-error\"") && refused.contains("has no crowd"), "{status}");
    let r = b.http.post(node.url(&format!("/templates/{id}/dry-run"))).header("Cookie", &b.s.cookie).send().await;
    assert_eq!(r.unwrap().status(), 403, "a write without the session's token");
    node.node.shutdown().await;
}

#[tokio::test]
async fn the_events_page_makes_an_endpoint_shows_its_secret_once_pauses_replays_and_deletes_it() {
    let (_dir, node) = started().await;
    let b = browser(&node, "ops").await;
    let (status, page) = b.get("/events").await;
    assert!(status == 200 && page.contains("id=\"create-endpoint\"") && page.contains("href=\"/events\""));

    let fields =
        [("name", "crm"), ("url", "http://127.0.0.1:9/events"), ("events", "message.sent"), ("events", "run.finished")];
    let (status, _, made) = b.post("/events", &fields).await;
    assert_eq!(status, 200, "{made}");
    let at = made.find("id=\"new-secret\"").expect("the secret is shown");
    assert!(made[at..].contains("whsec_"));
    let (_, list) = node.get("/api/event-endpoints").await;
    let id = list["items"][0]["id"].as_i64().unwrap();
    assert_eq!(list["items"][0]["events"], json!(["message.sent", "run.finished"]));
    assert!(!b.get("/events").await.1.contains("whsec_"), "shown once");

    let (status, _, refused) =
        b.post("/events", &[("name", "x"), ("url", "ftp://example.com"), ("events", "message.sent")]).await;
    assert!(status == 422 && refused.contains("id=\"error\"") && refused.contains("url"), "{status}");

    let (status, to, _) = b.post(&format!("/events/{id}/toggle"), &[]).await;
    assert_eq!((status, to.as_str()), (303, "/events?done=toggled"));
    assert!(b.get("/events").await.1.contains(&format!("id=\"paused-{id}\"")));
    assert_eq!(node.get(&format!("/api/event-endpoints/{id}")).await.1["enabled"], false);

    let (status, to, _) = b.post(&format!("/events/{id}/replay"), &[("hours", "24")]).await;
    assert_eq!((status, to.as_str()), (303, "/events?done=replayed&queued=0"));
    let (status, _, _) = b.post(&format!("/events/{id}/replay"), &[("hours", "5")]).await;
    assert_eq!(status, 422);

    let (status, _, asked) = b.post(&format!("/events/{id}/delete"), &[]).await;
    assert!(status == 200 && asked.contains("id=\"confirm-yes\""), "asks first");
    assert_eq!(node.get(&format!("/api/event-endpoints/{id}")).await.0, 200, "nothing deleted yet");
    let (status, to, _) = b.post(&format!("/events/{id}/delete"), &[("confirm", "yes")]).await;
    assert_eq!((status, to.as_str()), (303, "/events?done=deleted"));
    assert_eq!(node.get(&format!("/api/event-endpoints/{id}")).await.0, 404);
    node.node.shutdown().await;
}
