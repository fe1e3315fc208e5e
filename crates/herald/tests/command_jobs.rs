//! Command jobs, run for real: only what the node's configuration lets run, arguments never
//! through a shell, a clean environment, output captured and capped, an exit judged by its
//! code, and the whole process group killed at the timeout or when a newer fire replaces it;
//! a parent's output handed to its children, as a param is to a run now.

mod common;

use chrono::{DateTime, Duration, TimeZone, Utc};
use common::job_runs::ended_runs;
use common::*;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration as Wait;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap()
}

async fn node_running_commands(dir: &Path) -> TestNode {
    let mut config = test_config(dir);
    config.jobs.commands_enabled = true;
    config.jobs.allowed_commands = vec!["/bin/echo".into()];
    config.jobs.allow_shell = true;
    TestNode::start(&config, start()).await
}

fn script(name: &str, script: &str) -> Value {
    json!({"name": name, "command": {"program": script, "shell": true}, "schedule": {"type": "api"}})
}

/// Creates the job, runs it now and gives back its run log (oldest first) once `count`
/// attempts have ended.
async fn run(node: &TestNode, spec: &Value, count: usize) -> Vec<Value> {
    let (status, job) = node.post("/api/jobs", spec).await;
    assert_eq!(status, 201, "{job}");
    let id = job["id"].as_i64().unwrap();
    assert_eq!(node.post(&format!("/api/jobs/{id}/run"), &json!({})).await.0, 202);
    ended_runs(node, id, count).await
}

/// Whether process `pid` is gone (or only a zombie waiting for its parent).
fn gone(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())) {
        Err(_) => true,
        Ok(stat) => stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

async fn wait_gone(pid: &str) -> bool {
    for _ in 0..100 {
        if gone(pid) {
            return true;
        }
        tokio::time::sleep(Wait::from_millis(50)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_refuses_commands_it_does_not_run() {
    let dir = tempfile::tempdir().unwrap();
    let off = TestNode::start(&test_config(dir.path()), start()).await;
    let echo = json!({"name": "echo", "command": {"program": "/bin/echo"}, "schedule": {"type": "api"}});
    let (status, refused) = off.post("/api/jobs", &echo).await;
    assert_eq!((status, refused["errors"][0]["field"].as_str()), (422, Some("command")), "{refused}");
    drop(off);

    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.jobs.commands_enabled = true;
    config.jobs.allowed_commands = vec!["/bin/echo".into()];
    let node = TestNode::start(&config, start()).await;
    let cases = [
        (json!({"program": "/bin/rm", "args": ["-rf", "/"]}), "command.program"),
        (json!({"program": "echo hi", "shell": true}), "command.shell"),
        (json!({"program": "/bin/echo", "env": {"HERALD_NODE": "x"}}), "command.env.HERALD_NODE"),
    ];
    for (command, field) in cases {
        let spec = json!({"name": "bad", "command": command, "schedule": {"type": "api"}});
        let (status, refused) = node.post("/api/jobs", &spec).await;
        assert_eq!((status, refused["errors"][0]["field"].as_str()), (422, Some(field)), "{refused}");
    }
    let both = json!({"name": "both", "command": {"program": "/bin/echo"}, "http": {"url": "https://a.example"},
        "schedule": {"type": "api"}});
    assert_eq!(node.post("/api/jobs", &both).await.0, 422);
    let (status, _) = node.post("/api/jobs", &echo).await;
    assert_eq!(status, 201, "a listed program is taken");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_gets_its_arguments_as_they_are_a_clean_environment_and_a_capped_log() {
    let dir = tempfile::tempdir().unwrap();
    let node = node_running_commands(dir.path()).await;
    let marker = dir.path().join("pwned");
    let injected = format!("$(touch {})", marker.display());
    let echo = json!({"name": "echo", "command": {"program": "/bin/echo", "args": ["hello", injected]},
        "schedule": {"type": "api"}});
    let runs = run(&node, &echo, 1).await;
    assert_eq!((runs[0]["outcome"].as_str(), runs[0]["statusCode"].as_i64()), (Some("succeeded"), Some(0)));
    assert_eq!(runs[0]["output"].as_str(), Some(format!("hello {injected}\n").as_str()));
    assert!(!marker.exists(), "an argument is never read by a shell");

    // A variable of the node's own (not PATH, HOME, LANG or TZ) is not passed on.
    let (node_var, _) = std::env::vars()
        .find(|(name, _)| !["PATH", "HOME", "LANG", "TZ"].contains(&name.as_str()))
        .expect("the test process has variables");
    let mut env = script("env", &format!("echo \"$HERALD_JOB_NAME $HERALD_ATTEMPT $MODE ${{{node_var}:-unset}}\""));
    env["command"]["env"] = json!({"MODE": "full", "DB_PASSWORD": "pw"});
    let runs = run(&node, &env, 1).await;
    assert_eq!(runs[0]["output"], "env 1 full unset\n", "node variable {node_var}");
    let (_, shown) = node.get("/api/jobs?limit=10").await;
    assert_eq!(shown["items"][1]["command"]["env"]["DB_PASSWORD"], "********", "{shown}");

    let noisy = script("noisy", "head -c 100000 /dev/zero | tr '\\0' x; echo oops >&2; exit 3");
    let runs = run(&node, &noisy, 1).await;
    assert_eq!((runs[0]["outcome"].as_str(), runs[0]["statusCode"].as_i64()), (Some("failed"), Some(3)));
    assert_eq!(runs[0]["error"], "exited with 3");
    let output = runs[0]["output"].as_str().unwrap();
    assert_eq!(output.len(), herald_scheduler::MAX_OUTPUT_BYTES, "capped");
    let mut lenient = script("lenient", "exit 3");
    lenient["command"]["successCodes"] = json!([0, 3]);
    assert_eq!(run(&node, &lenient, 1).await[0]["outcome"], "succeeded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_is_killed_with_what_it_started_at_its_timeout_and_when_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let node = node_running_commands(dir.path()).await;
    let pids = dir.path().join("pids");
    std::fs::create_dir(&pids).unwrap();
    // The shell and a background sleep it started, both killed at the timeout.
    let sleeper = |name: &str, file: &str| {
        script(name, &format!("echo $$ > {0}.sh; sleep 30 & echo $! > {0}.bg; wait", pids.join(file).display()))
    };
    let mut slow = sleeper("slow", "slow");
    slow["timeoutMs"] = json!(500);
    let runs = run(&node, &slow, 1).await;
    assert_eq!(runs[0]["outcome"], "timed_out", "{runs:?}");
    for end in ["sh", "bg"] {
        let pid = std::fs::read_to_string(pids.join(format!("slow.{end}"))).unwrap();
        assert!(wait_gone(&pid).await, "the {end} process {pid} was killed");
    }

    let mut replaced = sleeper("replaced", "replaced");
    replaced["overlap"] = json!("replace");
    let (_, job) = node.post("/api/jobs", &replaced).await;
    let id = job["id"].as_i64().unwrap();
    node.post(&format!("/api/jobs/{id}/run"), &json!({})).await;
    let first = pids.join("replaced.bg");
    for _ in 0..200 {
        if std::fs::read_to_string(&first).is_ok_and(|p| !p.trim().is_empty()) {
            break;
        }
        tokio::time::sleep(Wait::from_millis(25)).await;
    }
    let first_bg = std::fs::read_to_string(&first).expect("the first run started");
    node.clock.set(start() + Duration::seconds(1));
    node.post(&format!("/api/jobs/{id}/run"), &json!({})).await;
    let runs = ended_runs(&node, id, 1).await;
    assert_eq!(runs[0]["outcome"], "replaced");
    assert!(wait_gone(&first_bg).await, "the replaced run's background process {first_bg} was killed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parent_passes_its_output_to_its_children_and_a_circle_of_children_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let node = node_running_commands(dir.path()).await;
    let receiver = herald_testkit::receiver::RecordingReceiver::start().await;
    let child = |name: &str| {
        json!({"name": name, "http": {"method": "POST", "url": format!("{}/{name}", receiver.url),
            "body": "{\"parent\": \"{$param}\"}"}, "schedule": {"type": "api"}})
    };
    for name in ["on-success", "always"] {
        assert_eq!(node.post("/api/jobs", &child(name)).await.0, 201);
    }
    let parent = json!({"name": "export", "command": {"program": "/bin/echo", "args": ["report \"42\""]},
        "schedule": {"type": "api"}, "children": [{"job": "on-success"}, {"job": "always", "on": "always"}]});
    run(&node, &parent, 1).await;
    assert!(receiver.wait_for(2, Wait::from_secs(10)).await, "both children called");
    let mut calls = receiver.received();
    calls.sort_by(|a, b| a.path.cmp(&b.path));
    for call in &calls {
        let body: Value = serde_json::from_slice(&call.body).expect("the child's body stays JSON");
        assert_eq!(body["parent"], "report \"42\"\n", "{}", call.path);
    }

    // A failed parent triggers only the child that runs always.
    let failing = json!({"name": "failing", "command": {"program": "exit 1", "shell": true},
        "schedule": {"type": "api"}, "children": [{"job": "on-success"}, {"job": "always", "on": "always"}]});
    node.clock.set(start() + Duration::minutes(1));
    run(&node, &failing, 1).await;
    assert!(receiver.wait_for(3, Wait::from_secs(10)).await);
    tokio::time::sleep(Wait::from_millis(500)).await;
    let paths: Vec<String> = receiver.received()[2..].iter().map(|c| c.path.clone()).collect();
    assert_eq!(paths, ["/always"]);

    // Run now with a param, as a child is given one.
    let (_, jobs) = node.get("/api/jobs?limit=10").await;
    let always = jobs["items"].as_array().unwrap().iter().find(|j| j["name"] == "always").unwrap()["id"].clone();
    node.clock.set(start() + Duration::minutes(2));
    let (status, _) = node.post(&format!("/api/jobs/{always}/run"), &json!({"param": "by hand"})).await;
    assert_eq!(status, 202);
    assert!(receiver.wait_for(4, Wait::from_secs(10)).await);
    let body: Value = serde_json::from_slice(&receiver.received()[3].body).unwrap();
    assert_eq!(body["parent"], "by hand");

    // always → export would close export → always → export; a missing child, a named parent.
    let mut circle = child("always");
    circle["children"] = json!([{"job": "export"}]);
    let (status, refused) = node.put(&format!("/api/jobs/{always}"), &circle).await;
    assert_eq!((status, refused["errors"][0]["field"].as_str()), (422, Some("children")), "{refused}");
    assert!(refused.to_string().contains("always → export → always"), "{refused}");
    let mut missing = child("lonely");
    missing["children"] = json!([{"job": "nobody"}]);
    let (status, refused) = node.post("/api/jobs", &missing).await;
    assert_eq!((status, refused["errors"][0]["field"].as_str()), (422, Some("children.0.job")), "{refused}");
    let (status, refused) = node.delete(&format!("/api/jobs/{always}")).await;
    assert_eq!(status, 409, "a child is not deleted from under its parent: {refused}");
    let (status, refused) = node.put(&format!("/api/jobs/{always}"), &child("renamed")).await;
    assert_eq!((status, refused["errors"][0]["field"].as_str()), (422, Some("name")), "{refused}");
}
