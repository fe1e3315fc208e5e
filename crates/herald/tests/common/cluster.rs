//! A herald cluster of separate processes for tests, brought up by `scripts/local-cluster.sh`
//! (the same script an operator uses): PostgreSQL, Redis, the Kafka mock, moto, N nodes.
//! Dropping the guard takes the whole cluster down and drops its database.

use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

pub struct LocalCluster {
    pub dir: tempfile::TempDir,
    pub api_key: String,
    pub database_url: String,
    vars: HashMap<String, String>,
    http: reqwest::Client,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/local-cluster.sh")
}

fn run_script(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let output = Command::new("bash")
        .arg(script())
        .args(args)
        .env("HERALD_BIN", env!("CARGO_BIN_EXE_herald"))
        .env("HERALD_KAFKA_MOCK_BIN", env!("CARGO_BIN_EXE_herald-kafka-mock"))
        .envs(env.iter().copied())
        .output()
        .expect("bash scripts/local-cluster.sh");
    assert!(
        output.status.success(),
        "local-cluster.sh {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

impl LocalCluster {
    /// Starts `nodes` nodes; `env` reaches the script and every node (HERALD_* settings,
    /// NODE_ROLES).
    pub fn up(nodes: usize, env: &[(&str, &str)]) -> LocalCluster {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_str().unwrap().to_string();
        let started = std::time::Instant::now();
        run_script(&["up", &path, "--nodes", &nodes.to_string()], env);
        println!("cluster of {nodes} nodes up in {:?}", started.elapsed());
        let vars = read_env(&dir.path().join("cluster.env"));
        LocalCluster {
            api_key: vars["API_KEY"].clone(),
            database_url: vars["DATABASE_URL"].clone(),
            vars,
            dir,
            http: reqwest::Client::new(),
        }
    }

    pub fn url(&self, node: usize) -> String {
        self.vars[&format!("NODE_{node}_URL")].clone()
    }

    pub fn pid(&self, node: usize) -> u32 {
        let vars = read_env(&self.dir.path().join("cluster.env"));
        vars[&format!("NODE_{node}_PID")].parse().unwrap()
    }

    /// The node whose process id is `pid`, if it belongs to this cluster.
    pub fn node_of_pid(&self, pid: u32) -> Option<usize> {
        (1..=self.vars["NODES"].parse().unwrap()).find(|&i| self.pid(i) == pid)
    }

    /// Starts node `node` again, as it was first started; waits until it answers.
    pub fn start(&self, node: usize) {
        run_script(&["start", self.dir.path().to_str().unwrap(), &node.to_string()], &[]);
    }

    /// The node's API as a client sees it.
    pub fn api(&self, node: usize) -> herald_testkit::node::ApiClient {
        herald_testkit::node::ApiClient::new(&self.url(node), &self.api_key)
    }

    pub fn kill(&self, node: usize, signal: &str) {
        run_script(&["kill", self.dir.path().to_str().unwrap(), &node.to_string(), signal], &[]);
    }

    /// Whether the node's process is running (a killed one may linger as a zombie until its
    /// parent, init, reaps it: that counts as dead).
    pub fn alive(&self, node: usize) -> bool {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid(node))).unwrap_or_default();
        let state = stat.rsplit_once(") ").and_then(|(_, rest)| rest.chars().next());
        state.is_some_and(|s| s != 'Z' && s != 'X')
    }

    pub fn log(&self, node: usize) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("node-{node}.log"))).unwrap_or_default()
    }

    pub async fn get(&self, node: usize, path: &str) -> (u16, Value) {
        let r = self.http.get(format!("{}{path}", self.url(node))).header("X-API-Key", &self.api_key).send().await;
        let r = r.unwrap_or_else(|e| panic!("GET {path} on node {node}: {e}"));
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, node: usize, path: &str, body: &Value) -> (u16, Value) {
        let r = self.http.post(format!("{}{path}", self.url(node))).header("X-API-Key", &self.api_key).json(body);
        let r = r.send().await.unwrap_or_else(|e| panic!("POST {path} on node {node}: {e}"));
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    pub async fn upload(&self, node: usize, csv: Vec<u8>) -> String {
        let (status, body) = super::upload(&self.http, &self.url(node), &self.api_key, csv, None).await;
        assert_eq!(status, 201, "{body}");
        body["crowd"]["id"].as_str().unwrap().to_string()
    }

    pub async fn wait_run(&self, node: usize, run_id: i64, timeout: Duration, done: impl Fn(&Value) -> bool) -> Value {
        super::wait_run(&self.http, &self.url(node), &self.api_key, run_id, timeout, done).await
    }

    pub async fn outbox_of_run(&self, node: usize, run_id: i64) -> Vec<Value> {
        super::outbox_of_run(&self.http, &self.url(node), &self.api_key, run_id).await
    }

    /// A direct connection to the cluster's database, for ledger checks.
    pub async fn database(&self) -> sqlx::PgConnection {
        <sqlx::PgConnection as sqlx::Connection>::connect(&self.database_url).await.unwrap()
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        let dir = self.dir.path().to_str().unwrap().to_string();
        if std::env::var_os("HERALD_TEST_KEEP_CLUSTER").is_some() {
            // For a post-mortem: the processes stop, the logs and state stay.
            let _ = Command::new("bash").arg(script()).args(["down", &dir]).status();
            eprintln!("cluster kept in {}", self.dir.path().display());
            std::mem::forget(std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap()));
            return;
        }
        if std::thread::panicking() {
            for i in 1..=self.vars["NODES"].parse().unwrap_or(0) {
                eprintln!("{}", log_digest(i, &self.log(i)));
            }
        }
        let _ = Command::new("bash").arg(script()).args(["down", &dir]).status();
    }
}

fn read_env(path: &Path) -> HashMap<String, String> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The process id inside a node id (`host-pid-xxxx`) or a lease owner (`host-pid-xxxx/streamer-n`).
pub fn pid_in_node_id(id: &str) -> Option<u32> {
    let node = id.split('/').next()?;
    let mut parts = node.rsplitn(3, '-');
    parts.next()?;
    parts.next()?.parse().ok()
}

/// A node's log, short enough to read in a CI report: how often each warning and error was
/// logged, its last lines (newest first) without the Kafka assignment chatter, then that chatter's
/// last lines on their own.
fn log_digest(node: usize, log: &str) -> String {
    let mut faults: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for line in log.lines().filter(|l| l.contains("\"level\":\"WARN\"") || l.contains("\"level\":\"ERROR\"")) {
        let message = line.split("\"message\":\"").nth(1).and_then(|m| m.split('"').next()).unwrap_or(line);
        *faults.entry(message.chars().take(120).collect()).or_default() += 1;
    }
    let faults: Vec<String> = faults.iter().map(|(m, n)| format!("{n:>6} x {m}")).collect();
    let is_rebalance = |l: &&str| l.contains("kafka partitions");
    let tail: Vec<&str> = log.lines().rev().filter(|l| !is_rebalance(l)).take(15).collect();
    // Which partitions this node's consumers took and gave up last: a batch left undelivered
    // after a node died may sit on a partition no live member was given.
    let moves: Vec<&str> = log.lines().rev().filter(is_rebalance).take(24).collect();
    format!(
        "--- node {node}: warnings and errors ---\n{}\n--- node {node}: last lines, newest first ---\n{}\n\
         --- node {node}: last partition moves, newest first ---\n{}",
        faults.join("\n"),
        tail.join("\n"),
        moves.join("\n")
    )
}
