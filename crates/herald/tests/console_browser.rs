//! The admin console in a real headless Chromium (Debian's chromium and chromium-driver, driven
//! with fantoccini) against a real `herald serve`: an operator's crowd send from setup link to
//! trace, bad input shown next to its field with the API's own words, and every page rendering
//! with no console error and no request to another host. A failing test leaves a screenshot in
//! target/console-screenshots/.

mod common;
mod console;

use common::fake_wecom;
use console::browser::Browser;
use console::browser::with_browser_reading;
use console::{Console, PASSWORD, crowd_with_bad_row, with_browser};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_runs_a_crowd_send_from_the_browser() {
    // Run-now asks for a confirmation from 10 rows on, so this crowd of 20 asks. The node has no
    // worker: the run page shows the run published and waiting until a worker process starts.
    let console = Console::start_roles("[console]\nconfirm_run_rows = 10\n", "api,scheduler").await;
    let setup = console.setup_link.clone().expect("a first start prints a setup link");
    let setup_path = setup.trim_start_matches(&console.base).to_string();
    let csv = console.dir.path().join("crowd.csv");
    std::fs::write(&csv, crowd_with_bad_row(20, 12)).unwrap();

    with_browser("an_operator_runs_a_crowd_send_from_the_browser", &console.base, async |b| {
        // The setup link makes the first user and logs in; logging out and in again works.
        b.goto(&setup_path).await;
        b.assert_clean().await;
        b.fill("#name", "admin").await;
        b.fill("#password", PASSWORD).await;
        b.fill("#password2", PASSWORD).await;
        b.click("#setup-submit").await;
        b.find("#outcomes-chart").await;
        assert_eq!(b.text("#current-user").await, "admin");
        b.click("#logout").await;
        b.find("#login-form").await;
        b.login("admin", PASSWORD).await;
        b.find("#outcomes-chart").await;
        b.assert_clean().await;

        // Upload a crowd with one bad row and read the report.
        b.goto("/crowds").await;
        b.find("#file").await.send_keys(csv.to_str().unwrap()).await.unwrap();
        b.click("#upload").await;
        b.find("#crowd-report").await;
        assert_eq!(b.text("#report-rows").await, "21");
        assert_eq!(b.text("#report-valid").await, "20");
        assert_eq!(b.text("#report-bad").await, "1");
        assert_eq!(b.text("#bad-rows .bad-line").await, "12", "the bad row by its line number");
        b.shot("crowd-report").await;
        b.assert_clean().await;

        // A template on that crowd with a cron: the preview renders the first row, the cron
        // field words the expression and lists the next five fires.
        b.click("#use-crowd").await;
        b.wait_path("/templates/new").await;
        b.fill("#name", "Weekday digest").await;
        let keys = b.client.find_all(fantoccini::Locator::Css("#content-rows input")).await.unwrap();
        let values = b.client.find_all(fantoccini::Locator::Css("#content-rows textarea")).await.unwrap();
        keys[0].clear().await.unwrap();
        keys[0].send_keys("title").await.unwrap();
        values[0].send_keys("Hi {$name}").await.unwrap();
        keys[1].clear().await.unwrap();
        keys[1].send_keys("body").await.unwrap();
        values[1].send_keys("Your code is {$code}").await.unwrap();
        b.wait_text("#content-preview-fields", |t| t.contains("Your code is 000007")).await;
        assert_eq!(b.text("#preview-receiver").await, common::receiver(1));
        assert!(b.text("#content-preview-fields").await.contains("Hi 用户1"));
        b.fill("#timezone", "Asia/Shanghai").await;
        b.fill("#cron", "0 30 9 ? * 2-6").await;
        let words = b.wait_text("#cron-description", |t| t.contains("09:30")).await;
        assert!(words.contains("Monday"), "{words}");
        let fires = b.client.find_all(fantoccini::Locator::Css("#cron-next-fires li")).await.unwrap();
        assert_eq!(fires.len(), 5);
        assert!(fires[0].text().await.unwrap().ends_with("09:30:00 CST"));
        b.shot("template-edit").await;
        b.assert_clean().await;
        b.click("#save-template").await;
        b.wait_text("#notice", |t| t == "Template created.").await;
        let template_path = b.path().await;
        b.click("#start").await;
        b.wait_text("#status", |t| t == "running").await;
        assert!(b.text("#next-fire").await.contains("09:30:00 CST"));

        // Run now: 21 rows asks first. The run streams and waits for a worker; once one starts,
        // the live page's bar reaches 100% without a reload (the marker set on the page stays).
        b.click("#run-now").await;
        assert!(b.text("#confirm-text").await.contains("21"));
        b.click("#confirm-run").await;
        let run_path = b.wait_path("/runs/").await;
        b.wait_text("#run-status", |t| t == "published").await;
        assert_eq!(b.text("#run-batches").await, "1");
        assert_eq!(b.text("#run-percent").await, "4%", "only the bad row is final");
        b.script("window.heraldTestMarker = 'same page'; return null;").await;
        let _worker = console.start_worker();
        b.wait_text("#run-percent", |t| t == "100%").await;
        assert_eq!(b.script("return window.heraldTestMarker || null;").await, json!("same page"), "no reload");
        assert_eq!(b.path().await, run_path);
        assert_eq!(b.text("#run-status").await, "completed");
        assert_eq!(b.find("#run-bar").await.attr("value").await.unwrap().as_deref(), Some("100"));
        assert_eq!(b.text("#run-delivered").await, "20");
        assert_eq!(b.text("#run-rows-invalid").await, "1");
        assert_eq!(b.text("#run-rows-read").await, "21");
        b.shot("run").await;
        b.assert_clean().await;
        let run_id = run_path.trim_start_matches("/runs/").to_string();

        // One receiver's trace.
        b.goto("/trace").await;
        b.fill("#q", &common::receiver(5)).await;
        b.click("#trace-submit").await;
        let messages = b.text("#receiver-messages").await;
        let outbox = console.api_get(&format!("/api/outbox?runId={run_id}&receiver={}", common::receiver(5))).await;
        let message_id = outbox["items"][0]["messageId"].as_str().expect("row 5 was delivered").to_string();
        assert!(message_id.ends_with(&format!("-r{run_id}-5")), "{message_id}");
        assert!(messages.contains(&message_id) && messages.contains("sent"), "{messages}");
        assert!(messages.contains("Weekday digest"), "the template by name: {messages}");
        b.click(&format!("#receiver-messages a[href='/trace?q={message_id}']")).await;
        let events = b.wait_text("#trace-events", |t| t.contains("sent")).await;
        assert!(events.contains("accepted"), "{events}");
        b.shot("trace").await;
        b.assert_clean().await;

        // The dashboard counts the run's deliveries in its chart.
        b.goto("/").await;
        assert_eq!(b.text("#total-sent b").await, "20");
        b.shot("dashboard").await;
        b.goto(&template_path).await;
        b.find("#template-status").await;
        b.assert_clean().await;
    })
    .await;
    // Neither the password nor the setup link's token reached the server's log.
    let log = console.log();
    let token = setup_path.trim_start_matches("/setup/");
    assert!(!log.contains(PASSWORD) && !log.contains(token), "a secret in the log");
    assert!(log.contains("console login"), "the log records logins by name");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_cancels_a_run_and_nothing_more_of_it_is_sent() {
    // No worker: the run is published and waits, as a wrong send caught in time would.
    let console = Console::start_roles("", "api,scheduler").await;
    console.add_user("ops", PASSWORD);
    let crowd_id = console.api_crowd(common::crowd_csv(30)).await;
    let (status, template) =
        console.api_post("/api/templates", &common::outbox_template("Wrong", &crowd_id, None)).await;
    assert_eq!(status, 201, "{template}");
    let path = format!("/api/templates/{}/run", template["id"]);
    let (status, run) = console.api_post(&path, &json!({})).await;
    assert_eq!(status, 202, "{run}");
    let run_id = run["runId"].as_i64().unwrap();

    with_browser("an_operator_cancels_a_run_and_nothing_more_of_it_is_sent", &console.base, async |b| {
        b.login("ops", PASSWORD).await;
        b.find("#outcomes-chart").await;
        b.goto(&format!("/runs/{run_id}")).await;
        b.wait_text("#run-status", |t| t == "published").await;
        // Cancel asks first, saying what it stops; "No" goes back with nothing changed.
        b.click("#cancel-run").await;
        let asked = b.text("#confirm-text").await;
        assert!(asked.contains("30 rows read") && asked.contains("end as cancelled"), "{asked}");
        b.shot("run-cancel-confirm").await;
        b.assert_clean().await;
        b.click("a.button.secondary").await;
        b.wait_text("#run-status", |t| t == "published").await;
        b.click("#cancel-run").await;
        b.click("#confirm-cancel").await;
        b.wait_text("#notice", |t| t.starts_with("Run cancelled")).await;
        assert_eq!(b.text("#run-status").await, "cancelled");
        let buttons = b.client.find_all(fantoccini::Locator::Css("#cancel-run")).await.unwrap();
        assert!(buttons.is_empty(), "an ended run offers no cancel");
        b.assert_clean().await;

        // A worker starts: every queued message of the run ends cancelled, none is delivered.
        let _worker = console.start_worker();
        b.goto(&format!("/runs/{run_id}")).await;
        for _ in 0..100 {
            if b.text("#run-dropped").await == "30" {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            b.goto(&format!("/runs/{run_id}")).await;
        }
        assert_eq!(b.text("#run-dropped").await, "30", "{}", console.log());
        assert_eq!(b.text("#run-delivered").await, "0");
        b.shot("run-cancelled").await;
        b.assert_clean().await;
    })
    .await;
    let outbox = console.api_get(&format!("/api/outbox?runId={run_id}")).await;
    assert_eq!(outbox["items"], json!([]), "the outbox (this channel's receiver) got nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_pauses_a_run_its_messages_wait_and_resuming_sends_each_once() {
    let console = Console::start_roles("", "api,scheduler").await;
    console.add_user("ops", PASSWORD);
    let crowd_id = console.api_crowd(common::crowd_csv(30)).await;
    let (status, template) =
        console.api_post("/api/templates", &common::outbox_template("Hold on", &crowd_id, None)).await;
    assert_eq!(status, 201, "{template}");
    let path = format!("/api/templates/{}/run", template["id"]);
    let (status, run) = console.api_post(&path, &json!({})).await;
    assert_eq!(status, 202, "{run}");
    let run_id = run["runId"].as_i64().unwrap();
    let outbox = format!("/api/outbox?runId={run_id}");

    with_browser("an_operator_pauses_a_run_its_messages_wait_and_resuming_sends_each_once", &console.base, async |b| {
        b.login("ops", PASSWORD).await;
        b.find("#outcomes-chart").await;
        b.goto(&format!("/runs/{run_id}")).await;
        b.wait_text("#run-status", |t| t == "published").await;
        b.click("#pause-run").await;
        b.wait_text("#notice", |t| t.starts_with("Run paused")).await;
        assert_eq!(b.text("#run-status").await, "paused");
        b.find("#resume-run").await;

        // A worker starts: it holds the run's messages instead of sending them.
        let _worker = console.start_worker();
        b.wait_text("#run-held", |t| t == "30").await;
        assert_eq!(b.text("#run-delivered").await, "0");
        b.shot("run-paused").await;
        b.assert_clean().await;
        assert_eq!(console.api_get(&outbox).await["items"], json!([]), "nothing reached the outbox");

        b.click("#resume-run").await;
        b.wait_text("#notice", |t| t.starts_with("Run resumed")).await;
        b.wait_text("#run-delivered", |t| t == "30").await;
        assert_eq!(b.text("#run-held").await, "0");
        b.wait_text("#run-status", |t| t == "completed").await;
        let buttons = b.client.find_all(fantoccini::Locator::Css("#pause-run, #resume-run")).await.unwrap();
        b.goto(&format!("/runs/{run_id}")).await;
        let after = b.client.find_all(fantoccini::Locator::Css("#pause-run, #resume-run")).await.unwrap();
        assert!(after.is_empty(), "an ended run offers neither ({} before reload)", buttons.len());
        b.shot("run-resumed").await;
        b.assert_clean().await;
    })
    .await;
    let sent = console.api_get(&format!("{outbox}&limit=100")).await;
    assert_eq!(sent["items"].as_array().unwrap().len(), 30, "each row once in the outbox: {sent}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_shows_the_api_message_next_to_its_field() {
    let console = Console::start("").await;
    console.add_user("ops", PASSWORD);
    let crowd_id = console.api_crowd(common::crowd_csv(3)).await;
    // What the REST API says about a bad cron and a placeholder the crowd lacks.
    let (status, refused) = console
        .api_post(
            "/api/templates",
            &json!({"name": "x", "channel": "outbox", "content": {"text": "Hi {$nickname}"},
                    "schedule": {"cron": "0 0 9 * *", "timezone": "UTC"}, "crowdId": crowd_id}),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    let message_of = |field: &str| {
        refused["errors"].as_array().unwrap().iter().find(|e| e["field"] == field).unwrap()["message"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (cron_message, content_message) = (message_of("schedule.cron"), message_of("content"));

    with_browser("bad_input_shows_the_api_message_next_to_its_field", &console.base, async |b| {
        b.login("ops", "not the password").await;
        assert_eq!(b.text("#login-error").await, "wrong user name or password");
        b.login("nobody", PASSWORD).await;
        assert_eq!(b.text("#login-error").await, "wrong user name or password");
        b.login("ops", PASSWORD).await;
        b.find("#outcomes-chart").await;

        b.goto(&format!("/templates/new?crowd={crowd_id}")).await;
        b.fill("#name", "Refused").await;
        let values = b.client.find_all(fantoccini::Locator::Css("#content-rows textarea")).await.unwrap();
        values[0].send_keys("Hi {$nickname}").await.unwrap();
        // As typed: the previews already say what is wrong.
        b.fill("#cron", "0 0 9 * *").await;
        assert_eq!(b.wait_text("#cron-preview-error", |t| !t.is_empty()).await, cron_message);
        assert_eq!(b.wait_text(".content-preview-error", |t| !t.is_empty()).await, content_message);
        // And on submit, next to each field, in the API's words.
        b.click("#save-template").await;
        assert_eq!(b.text("#cron-error").await, cron_message);
        assert_eq!(b.text("#content-error").await, content_message);
        assert!(content_message.contains("{$nickname}"), "{content_message}");
        assert_eq!(b.find("#cron").await.prop("value").await.unwrap().as_deref(), Some("0 0 9 * *"), "input kept");
        b.shot("template-errors").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_page_reads_in_the_browsers_language_before_anyone_picks_one() {
    let console = Console::start("").await;
    console.add_user("ops", PASSWORD);
    for (languages, language) in [("zh-CN,zh", "zh-CN"), ("en-US,en", "en")] {
        let name = format!("login_page_in_{language}");
        with_browser_reading(&name, &console.base, languages, async |b| {
            b.goto("/login").await;
            b.find("#login-form").await;
            assert_reads(b, language, "/login").await;
            for width in [1400, 800] {
                b.set_width(width).await;
                b.assert_clean().await;
                b.assert_accessible().await;
                b.assert_fits_width().await;
                let shot = format!("_login-{language}-{width}.png");
                b.screenshot(&console::browser::ui_screenshot_dir().join(shot)).await;
            }
            // A wrong password is refused in the same language.
            b.fill("#name", "ops").await;
            b.fill("#password", "not the password at all").await;
            b.click("#login-submit").await;
            let refused = b.wait_text("#login-error", |t| !t.is_empty()).await;
            let chinese = refused.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
            assert_eq!(chinese, language == "zh-CN", "{refused}");
        })
        .await;
    }
}

/// Checks that the page reads in `language`: its `lang` attribute, Chinese text in the page when
/// Chinese (English pages may show Chinese data, and the language picker names 简体中文), and no
/// text the catalogues lacked.
async fn assert_reads(b: &Browser, language: &str, page: &str) {
    let found = b
        .script(
            "return {lang: document.documentElement.lang, text: document.body.innerText, \
             chinese: /[\\u4e00-\\u9fff]/.test(document.querySelector('main').innerText)};",
        )
        .await;
    assert_eq!(found["lang"], language, "{page}");
    let text = found["text"].as_str().unwrap_or_default();
    assert!(!text.contains("Unknown localization key"), "{page} in {language}: a text missing from the catalogue");
    if language == "zh-CN" {
        assert_eq!(found["chinese"], true, "{page} reads Chinese");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_renders_clean_and_accounts_keep_secrets_write_only() {
    let console = Console::start("").await;
    console.add_user("ops", PASSWORD);
    let crowd_id = console.api_crowd(common::crowd_csv(5)).await;
    let spec = common::outbox_template("Pages", &crowd_id, Some("0 0 9 * * ?"));
    let (status, template) = console.api_post("/api/templates", &spec).await;
    assert_eq!(status, 201, "{template}");
    let template_id = template["id"].as_i64().unwrap();
    let (status, run) = console.api_post(&format!("/api/templates/{template_id}/run"), &json!({})).await;
    assert_eq!(status, 202, "{run}");
    let run_id = run["runId"].as_i64().unwrap();
    for _ in 0..100 {
        if console.api_get(&format!("/api/runs/{run_id}")).await["status"] == "completed" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let job = json!({"name": "nightly-sync", "http": {"method": "POST", "url": format!("{}/hook?token=t0k3n", console.base),
        "headers": {"Authorization": "Bearer job-secret"}}, "schedule": {"type": "cron", "cron": "0 0 2 * * ?", "timezone": "Asia/Shanghai"}});
    let (status, job) = console.api_post("/api/jobs", &job).await;
    assert_eq!(status, 201, "{job}");
    let job_id = job["id"].as_i64().unwrap();
    const SECRET: &str = "corp-secret-0123456789abcdef";
    let (wecom, _fake) = fake_wecom::start(SECRET).await;

    with_browser("every_page_renders_clean_and_accounts_keep_secrets_write_only", &console.base, async |b| {
        b.goto("/login").await;
        b.find("#login-form").await;
        b.assert_accessible().await;
        b.login("ops", PASSWORD).await;
        b.find("#outcomes-chart").await;
        let pages = [
            "/".to_string(),
            "/?range=week".into(),
            "/templates".into(),
            "/templates?q=pag&status=stopped".into(),
            "/templates/new".into(),
            format!("/templates/{template_id}"),
            "/crowds".into(),
            format!("/crowds/{crowd_id}"),
            "/runs".into(),
            format!("/runs?template={template_id}"),
            format!("/runs/{run_id}"),
            "/trace".into(),
            format!("/trace?q={}", common::receiver(1)),
            "/accounts".into(),
            "/accounts/new".into(),
            "/schedules".into(),
            "/jobs".into(),
            format!("/jobs/{job_id}"),
            "/policies".into(),
            "/suppressions".into(),
            "/outbox".into(),
            "/users".into(),
            "/keys".into(),
            "/api-reference".into(),
            "/profile".into(),
        ];
        // Chinese first, then English (which the rest of the test reads), each picked on /profile.
        let chinese_widths = [1400, 800];
        for (language, widths) in [("zh-CN", &chinese_widths[..]), ("en", &console::browser::WIDTHS[..])] {
            b.set_width(1366).await;
            b.goto("/profile").await;
            b.select("#language", language).await;
            b.click("#save-language").await;
            b.wait_text("#notice", |t| !t.is_empty()).await;
            for &width in widths {
                b.set_width(width).await;
                for page in &pages {
                    b.goto(page).await;
                    b.find("main h1").await;
                    b.assert_clean().await;
                    b.assert_accessible().await;
                    b.assert_fits_width().await;
                    assert_reads(b, language, page).await;
                    let name: String = page.replace(&crowd_id, "crowd").chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
                    let shot = format!("{name}-{language}-{width}.png");
                    b.screenshot(&console::browser::ui_screenshot_dir().join(shot)).await;
                }
            }
        }
        b.set_width(1366).await;
        // A test send from the template page: sent once to the receiver typed, with the first row.
        b.goto(&format!("/templates/{template_id}")).await;
        b.fill("#receiver", "qa-browser").await;
        b.click("#send-test").await;
        let answer = b.wait_text("#account-result", |t| !t.is_empty()).await;
        assert!(answer.starts_with("sent (message test-"), "{answer}");
        let outbox = console.api_get(&format!("/api/outbox?templateId={template_id}&receiver=qa-browser")).await;
        assert_eq!(outbox["items"].as_array().unwrap().len(), 1, "{outbox}");
        b.assert_clean().await;
        // The content form follows the channel: its own fields, labelled, keeping what was typed.
        b.goto("/templates/new").await;
        b.select("#channel", "email").await;
        b.fill("#content-subject", "Hello {$name}").await;
        b.select("#channel", "webhook").await;
        b.find("#content-url").await;
        let kept = b.script("return document.querySelector('#content-rows input[name=content_key][value=subject]')?.parentElement.querySelector('textarea')?.value ?? null;").await;
        assert_eq!(kept, json!("Hello {$name}"), "the subject typed for email stays, as a field of its own");
        b.assert_accessible().await;
        b.assert_clean().await;
        // The check finds what it is for: a button with no name is a serious violation.
        b.script("document.querySelector('main').insertAdjacentHTML('beforeend', '<button id=\"axe-probe\"></button>'); return 1;").await;
        let found = b.accessibility_violations().await;
        assert_eq!(found[0]["rule"], "button-name", "{found}");
        // The run page tells who started it, how long it took, what failed and its shards.
        b.goto(&format!("/runs/{run_id}")).await;
        let started = b.text("#run-started").await;
        assert!(started.contains("by hand (run now)") && started.contains("took "), "{started}");
        // Its funnel: the 5 rows accepted and sent, as bars against the accepted.
        assert_eq!(b.text("#funnel-accepted td").await, "5");
        assert_eq!(b.text("#funnel-sent td").await, "5");
        let bar = b.script("return document.querySelector('#funnel-sent progress').value;").await;
        assert_eq!(bar, json!(5));
        assert_eq!(b.text("#funnel-delivered td").await, "no receipts yet");
        assert_eq!(b.text("#run-no-failures").await, "None failed.");
        let shards = b.text("#run-shards").await;
        assert!(
            shards.to_lowercase().contains("held by") && shards.contains("0 done 5 1"),
            "its one shard, streamed: {shards}"
        );

        // The runs list names each run's template and filters by template, status and day.
        b.goto("/runs").await;
        assert!(b.text("table.runs").await.contains("Pages"), "template names, not ids");
        b.select("#filter-template", &template_id.to_string()).await;
        b.select("#filter-status", "cancelled").await;
        b.click("#filter-runs").await;
        b.wait_text("table.runs", |t| t.contains("No runs.")).await;
        b.goto(&format!("/runs?template={template_id}&from=2000-01-01&to=2999-12-31")).await;
        assert!(b.text("table.runs").await.contains(&format!("#{run_id}")));
        b.goto("/runs?status=bogus").await;
        let refused = b.text("#filter-error").await;
        assert!(refused.starts_with("status") && refused.contains("paused"), "{refused}");
        b.goto("/runs?from=yesterday").await;
        assert!(b.text("#filter-error").await.starts_with("from"));
        b.assert_clean().await;

        // The chart was drawn by Chart.js (a canvas with a chart attached), not left blank.
        b.goto("/").await;
        b.find("#outcomes-chart").await;
        let drawn =
            b.script("return !!(window.Chart && Chart.getChart(document.getElementById('outcomes-chart')));").await;
        assert_eq!(drawn, json!(true));
        // The schedules page lists housekeeping beside the template's schedule.
        b.goto("/schedules").await;
        let kinds = b.text("#schedules").await;
        for kind in ["template", "quiet_release", "retention"] {
            assert!(kinds.contains(kind), "{kind} missing: {kinds}");
        }
        assert!(kinds.contains("Pages"), "the template by name: {kinds}");
        b.select("#filter-kind", "retention").await;
        b.click("#schedule-filter button").await;
        let retention = b.wait_text("#schedules", |t| !t.contains("quiet_release")).await;
        assert!(retention.contains("retention") && !retention.contains("Pages"), "{retention}");

        // A channel account: created from the form, its secret shown masked, a test send.
        b.goto("/accounts/new").await;
        b.fill("#name", "corp-app").await;
        // The channel's own fields replace the JSON box when the channel is picked.
        b.select("#channel", "wecom_app").await;
        b.find("#cfg-corpId").await;
        b.fill("#cfg-corpId", fake_wecom::CORP_ID).await;
        b.fill("#cfg-corpSecret", SECRET).await;
        b.fill("#cfg-agentId", "1000002").await;
        b.fill("#cfg-baseUrl", &wecom).await;
        b.click("#save-account").await;
        assert_eq!(b.wait_text("#notice", |t| t == "Account created.").await, "Account created.");
        let shown = b.find("#cfg-corpSecret").await.prop("value").await.unwrap().unwrap_or_default();
        assert!(shown.contains("****cdef") && !shown.contains(SECRET), "{shown}");
        // Saving with the mask keeps the secret: the test send still gets a token.
        b.click("#save-account").await;
        // The form posts and the page is replaced: wait for the new page's notice.
        assert_eq!(b.wait_text("#notice", |t| t == "Saved.").await, "Saved.");
        b.fill("#receiver", "zhangsan").await;
        b.click("#send-test").await;
        let result = b.wait_text("#account-result", |t| !t.is_empty()).await;
        assert!(result.starts_with("sent"), "{result}: {}", b.text("#test-result").await);
        b.assert_clean().await;
        b.goto("/schedules").await;
        assert!(b.text("#schedules").await.contains("token_refresh"));
        b.shot("schedules").await;
    })
    .await;
}
