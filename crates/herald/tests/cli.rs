//! The CLI as a user runs it: `crowd check` on good and bad files, `migrate`, `apikey create|list|revoke`,
//! `user add` and `user passwd`, and `send`, `job`, `export` and `import` against running nodes.

mod common;

use chrono::{TimeZone, Utc};
use common::*;
use herald_store::UserRepo;
use serde_json::{Value, json};
use std::process::Command;

fn herald() -> Command {
    Command::new(env!("CARGO_BIN_EXE_herald"))
}

/// An operator can tell a binary built for a cluster from the embedded default's build.
#[test]
fn the_version_names_the_commit_and_the_cluster_backends_built_in() {
    let out = herald().arg("--version").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let backends = match (cfg!(feature = "kafka"), cfg!(feature = "s3")) {
        (true, true) => "kafka, s3",
        (true, false) => "kafka",
        (false, true) => "s3",
        (false, false) => "none",
    };
    assert!(stdout.starts_with(&format!("herald {} (commit ", env!("CARGO_PKG_VERSION"))), "{stdout}");
    assert!(stdout.trim_end().ends_with(&format!("; cluster backends: {backends})")), "{stdout}");
}

#[test]
fn crowd_check_prints_the_report_and_fails_on_bad_rows() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.csv");
    std::fs::write(&good, crowd_csv(2_000)).unwrap();
    let out = herald().args(["crowd", "check"]).arg(&good).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("rows: 2000 (2000 valid, 0 bad)"), "{stdout}");
    assert!(stdout.contains("variable columns: name, code"), "{stdout}");

    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "userId,name\n1,a\n,b\n3,c,d\n").unwrap();
    let out = herald().args(["crowd", "check"]).arg(&bad).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("rows: 3 (1 valid, 2 bad)"), "{stdout}");
    assert!(stdout.contains("line 3:") && stdout.contains("line 4:"), "{stdout}");

    let unusable = dir.path().join("phones.csv");
    std::fs::write(&unusable, "phone\n1\n").unwrap();
    let out = herald().args(["crowd", "check"]).arg(&unusable).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("userId"));
    let out = herald().args(["crowd", "check", "--receiver-column", "phone"]).arg(&unusable).output().unwrap();
    assert!(out.status.success());

    let out = herald().args(["crowd", "check", "/no/such/file.csv"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/such/file.csv"));
}

#[test]
fn migrate_and_apikey_create_work_on_a_fresh_directory() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("h.toml");
    std::fs::write(&config, format!("[database]\nurl = \"sqlite://{}\"\n", dir.path().join("db/h.sqlite").display()))
        .unwrap();
    let out = herald().arg("migrate").arg("--config").arg(&config).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(dir.path().join("db/h.sqlite").exists());
    let out = herald().args(["apikey", "create", "--config"]).arg(&config).output().unwrap();
    let key = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(key.starts_with("hk_") && key.len() == 67, "{key}");

    // A send key, listed by prefix and scope, then revoked; the only admin key is kept.
    let apikey = |args: &[&str]| herald().arg("apikey").args(args).arg("--config").arg(&config).output().unwrap();
    let out = apikey(&["create", "--name", "shop", "--scope", "send"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let send_key = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let listed = String::from_utf8_lossy(&apikey(&["list"]).stdout).to_string();
    let shop = listed.lines().find(|l| l.ends_with(" shop")).unwrap_or_else(|| panic!("{listed}"));
    assert!(shop.contains(&send_key[..11]) && shop.contains(" send "), "{listed}");
    assert!(!listed.contains(&send_key), "a key is printed once, when made");
    let id = shop.split_whitespace().next().unwrap();
    assert!(apikey(&["revoke", id]).status.success());
    let listed = String::from_utf8_lossy(&apikey(&["list"]).stdout).to_string();
    // id, prefix, scope, created (date, time), last used ("never"), revoked (date, time), name.
    assert_eq!(listed.lines().find(|l| l.ends_with(" shop")).unwrap().split_whitespace().count(), 9, "{listed}");
    let only_admin = listed.lines().nth(1).unwrap().split_whitespace().next().unwrap().to_string();
    let refused = apikey(&["revoke", &only_admin]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("last usable admin key"));
    let bad = apikey(&["create", "--scope", "root"]);
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("--scope"));

    let missing = herald().args(["migrate", "--config", "/no/such/herald.toml"]).output().unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("does not exist"));
}

#[tokio::test]
async fn user_add_takes_the_password_from_the_environment_or_stdin_and_stores_only_a_hash() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.sqlite");
    let config = dir.path().join("h.toml");
    std::fs::write(&config, format!("[database]\nurl = \"sqlite://{}\"\n", db.display())).unwrap();
    let user = |args: &[&str], password_env: Option<&str>, stdin: &str| {
        let mut cmd = herald();
        cmd.arg("user").args(args).arg("--config").arg(&config).env_remove("HERALD_USER_PASSWORD");
        if let Some(p) = password_env {
            cmd.env("HERALD_USER_PASSWORD", p);
        }
        let mut child = cmd
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let out = user(&["add", "ann"], Some("a long enough password"), "");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = user(&["add", "bob"], None, "short\n");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 10 characters"));
    let out = user(&["add", "bob"], None, "");
    assert!(!out.status.success(), "no default password");
    let out = user(&["add", "ann"], None, "another long password\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("exists already"));
    let out = user(&["passwd", "ann"], None, "another long password\n");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = user(&["passwd", "nobody"], None, "another long password\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no console user named"));
    let out = user(&["disable", "ann"], None, "");
    assert!(
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("last enabled user"),
        "ann is the only one"
    );
    let out = user(&["add", "carl"], Some("a long enough password"), "");
    assert!(out.status.success());
    let out = user(&["disable", "ann"], None, "");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let listed = String::from_utf8_lossy(&user(&["list"], None, "").stdout).to_string();
    let states: Vec<(&str, &str)> = listed
        .lines()
        .skip(1)
        .map(|l| (l.split_whitespace().next().unwrap(), l.split_whitespace().last().unwrap()))
        .collect();
    assert_eq!(states, [("ann", "disabled"), ("carl", "active")], "{listed}");
    assert!(user(&["enable", "ann"], None, "").status.success());

    let store = herald_store::SqliteStore::open(&db).await.unwrap();
    let ann = store.user_by_name("ann").await.unwrap().expect("ann was created");
    assert!(ann.password_hash.starts_with("$argon2id$") && !ann.password_hash.contains("another"));
    assert!(store.user_by_name("bob").await.unwrap().is_none());
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_calls_a_running_node() {
    let dir = tempfile::tempdir().unwrap();
    let node = TestNode::start(&test_config(dir.path()), Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap()).await;
    let id = node.template(json!({"name": "otp", "channel": "outbox", "content": {"text": "code {$code}"}})).await;
    let (base, key) = (node.base.clone(), node.key.clone());
    let out = tokio::task::spawn_blocking(move || {
        herald()
            .args(["send", "--url", &base, "-t", &id.to_string(), "-r", "13800000009", "-v", "code=7788"])
            .env("HERALD_API_KEY", key)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout} {}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("\"code\": \"0\""), "{stdout}");

    let base = node.base.clone();
    let out = tokio::task::spawn_blocking(move || {
        herald().args(["send", "--url", &base, "--api-key", "hk_wrong", "-t", "1", "-r", "1"]).output().unwrap()
    })
    .await
    .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("A0005"));
    node.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_commands_add_run_and_list_a_job_from_a_toml_file() {
    let dir = tempfile::tempdir().unwrap();
    let node = TestNode::start(&test_config(dir.path()), Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap()).await;
    let receiver = herald_testkit::receiver::RecordingReceiver::start().await;
    let file = dir.path().join("ping.toml");
    let toml = format!(
        "name = \"ping\"\n[http]\nmethod = \"POST\"\nurl = \"{}/ping\"\n[schedule]\ntype = \"cron\"\ncron = \"0 0 9 * * ?\"\ntimezone = \"Asia/Shanghai\"\n",
        receiver.url
    );
    std::fs::write(&file, toml).unwrap();
    let (base, key) = (node.base.clone(), node.key.clone());
    let job = move |args: Vec<String>| {
        let (base, key) = (base.clone(), key.clone());
        async move {
            tokio::task::spawn_blocking(move || {
                let out =
                    herald().arg("job").args(&args).args(["--url", &base]).env("HERALD_API_KEY", key).output().unwrap();
                (out.status.success(), String::from_utf8_lossy(&out.stdout).to_string())
            })
            .await
            .unwrap()
        }
    };
    let (ok, added) = job(vec!["add".into(), file.display().to_string()]).await;
    assert!(ok, "{added}");
    let added: Value = serde_json::from_str(&added).unwrap();
    assert_eq!(added["nextFireAt"], "2026-06-01T01:00:00Z", "09:00 in Shanghai");
    let id = added["id"].to_string();
    let (ok, asked) = job(vec!["run".into(), id.clone()]).await;
    assert!(ok, "{asked}");
    assert!(receiver.wait_for(1, std::time::Duration::from_secs(10)).await, "the run called the receiver");
    let mut runs = Value::Null;
    for _ in 0..100 {
        let (_, out) = job(vec!["runs".into(), id.clone(), "--outcome".into(), "succeeded".into()]).await;
        runs = serde_json::from_str(&out).unwrap();
        if runs["items"].as_array().is_some_and(|items| !items.is_empty()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(runs["items"][0]["statusCode"], 200, "{runs}");
    let (ok, listed) = job(vec!["list".into()]).await;
    assert!(ok && listed.contains("\"ping\""), "{listed}");
    let (ok, housekeeping) = job(vec!["housekeeping".into()]).await;
    let housekeeping: Value = serde_json::from_str(&housekeeping).unwrap();
    let kinds: Vec<&str> =
        housekeeping["items"].as_array().unwrap().iter().map(|s| s["kind"].as_str().unwrap()).collect();
    assert!(ok && kinds.contains(&"retention") && !kinds.contains(&"job"), "{kinds:?}");
    let retention = housekeeping["items"].as_array().unwrap().iter().find(|s| s["kind"] == "retention").unwrap();
    let (ok, logged) = job(vec!["runs".into(), retention["id"].to_string(), "--schedule".into()]).await;
    assert!(ok && logged.contains("\"items\""), "{logged}");
    let (ok, alarms) = job(vec!["alarms".into()]).await;
    assert!(ok && alarms.contains("\"items\": []"), "{alarms}");
    let (ok, _) = job(vec!["delete".into(), id.clone()]).await;
    assert!(ok);
    let (ok, gone) = job(vec!["show".into(), id]).await;
    assert!(!ok && gone.contains("not found"), "{gone}");
    assert_eq!(receiver.count(), 1);
    node.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_and_import_carry_templates_and_jobs_between_nodes_without_their_secrets() {
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let at = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
    let a = TestNode::start(&test_config(dir_a.path()), at).await;
    let b = TestNode::start(&test_config(dir_b.path()), at).await;
    a.template(json!({"name": "otp", "channel": "outbox", "content": {"text": "code {$code}"}})).await;
    let job = |name: &str, headers: Value| json!({"name": name, "http": {"url": "https://crm.example/ping", "headers": headers}, "schedule": {"type": "fixed_rate", "everySecs": 60}});
    assert_eq!(a.post("/api/jobs", &job("open", json!({"X-Trace": "1"}))).await.0, 201);
    let (_, secret) = a.post("/api/jobs", &job("secret", json!({"Authorization": "Bearer s3cret"}))).await;
    a.post(&format!("/api/jobs/{}/pause", secret["id"]), &json!({})).await;

    let file = dir_a.path().join("all.toml");
    let cli = |node: &TestNode, args: Vec<String>| {
        let (base, key) = (node.base.clone(), node.key.clone());
        tokio::task::spawn_blocking(move || {
            let out = herald().args(&args).args(["--url", &base]).env("HERALD_API_KEY", key).output().unwrap();
            (
                out.status.success(),
                format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
            )
        })
    };
    let shown = file.display().to_string();
    let (ok, out) =
        cli(&a, vec!["export".into(), "--format".into(), "toml".into(), "-o".into(), shown.clone()]).await.unwrap();
    assert!(ok, "{out}");
    let toml = std::fs::read_to_string(&file).unwrap();
    assert!(toml.contains("name = \"otp\"") && toml.contains("everySecs = 60"), "{toml}");
    assert!(!toml.contains("s3cret"), "no secret leaves the node: {toml}");

    // Into an empty node: the job whose secret stayed behind is refused, naming why.
    let (ok, out) = cli(&b, vec!["import".into(), shown.clone()]).await.unwrap();
    assert!(!ok, "{out}");
    assert!(out.contains("templates: 1 created") && out.contains("jobs: 1 created"), "{out}");
    assert!(out.contains("refused \"secret\"") && out.contains("masked"), "{out}");
    let (_, jobs) = b.get("/api/jobs").await;
    assert_eq!(jobs["items"][0]["name"], "open");
    assert_eq!(jobs["items"][0]["http"]["headers"]["X-Trace"], "1");

    // Back into the node it came from: everything is updated, the stored secret kept, the
    // paused job still paused.
    let (ok, out) = cli(&a, vec!["import".into(), shown]).await.unwrap();
    assert!(ok, "{out}");
    assert!(out.contains("templates: 0 created, 1 updated") && out.contains("jobs: 0 created, 2 updated"), "{out}");
    let (_, kept) = a.get(&format!("/api/jobs/{}", secret["id"])).await;
    assert_eq!(kept["enabled"], false);
    let got = a.node.context.store.get_job(secret["id"].as_i64().unwrap()).await.unwrap();
    assert_eq!(got.spec.http.as_ref().unwrap().headers["Authorization"], "Bearer s3cret");
    a.node.shutdown().await;
    b.node.shutdown().await;
}
