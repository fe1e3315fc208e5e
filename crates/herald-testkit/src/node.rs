//! An in-process herald node on a temp directory with a test clock, an HTTP client that
//! carries the node's API key, and helpers for crowds, templates, runs and the outbox.

use chrono::{DateTime, Utc};
use herald::config::Config;
use herald::node::{Node, Roles};
use herald_core::TestClock;
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// A config for tests: everything under `dir`, an ephemeral port, fast polling.
pub fn test_config(dir: &Path) -> Config {
    let mut config = Config::in_dir(dir);
    config.channels.allow_private_networks = true;
    config.scheduler.poll_ms = 20;
    config.streamer.poll_ms = 20;
    config.worker.poll_ms = 20;
    config.worker.retry_backoff_ms = 50;
    config
}

pub struct TestNode {
    pub node: Node,
    pub clock: Arc<TestClock>,
    pub base: String,
    pub key: String,
    pub http: reqwest::Client,
}

impl TestNode {
    pub async fn start(config: &Config, start: DateTime<Utc>) -> TestNode {
        let clock = Arc::new(TestClock::new(start));
        let node = Node::start(config, Roles::ALL, clock.clone()).await.expect("node starts");
        let key = node.new_api_key.clone().expect("a fresh database gets a key");
        let base = format!("http://{}", node.addr.expect("api role listens"));
        TestNode { node, clock, base, key, http: reqwest::Client::new() }
    }

    /// The message id of data row `row` of run `run_id` on this node.
    pub async fn row_id(&self, run_id: i64, row: u64) -> String {
        let installation = self.node.context.store.installation().await.expect("the installation id");
        installation.run_row(run_id, row).to_string()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self.http.get(self.url(path)).header("X-API-Key", &self.key).send().await.expect("GET");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let r = self.http.post(self.url(path)).header("X-API-Key", &self.key).json(body).send().await.expect("POST");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn put(&self, path: &str, body: &Value) -> (u16, Value) {
        let r = self.http.put(self.url(path)).header("X-API-Key", &self.key).json(body).send().await.expect("PUT");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn patch(&self, path: &str, body: &Value) -> (u16, Value) {
        let r = self.http.patch(self.url(path)).header("X-API-Key", &self.key).json(body).send().await.expect("PATCH");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        let r = self.http.delete(self.url(path)).header("X-API-Key", &self.key).send().await.expect("DELETE");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Uploads CSV bytes; returns (status, body).
    pub async fn upload(&self, csv: Vec<u8>, receiver_column: Option<&str>) -> (u16, Value) {
        upload(&self.http, &self.base, &self.key, csv, receiver_column).await
    }

    /// Uploads and returns the crowd id, asserting success.
    pub async fn crowd(&self, csv: Vec<u8>) -> String {
        let (status, body) = self.upload(csv, None).await;
        assert_eq!(status, 201, "{body}");
        body["crowd"]["id"].as_str().unwrap().to_string()
    }

    pub async fn template(&self, spec: Value) -> i64 {
        let (status, body) = self.post("/api/templates", &spec).await;
        assert_eq!(status, 201, "{body}");
        body["id"].as_i64().unwrap()
    }

    /// Polls a run until `done` holds for it, or panics after `timeout`.
    pub async fn wait_run(&self, run_id: i64, timeout: Duration, done: impl Fn(&Value) -> bool) -> Value {
        wait_run(&self.http, &self.base, &self.key, run_id, timeout, done).await
    }

    /// Every outbox entry of a run, paged.
    pub async fn outbox_of_run(&self, run_id: i64) -> Vec<Value> {
        outbox_of_run(&self.http, &self.base, &self.key, run_id).await
    }
}

pub async fn upload(
    http: &reqwest::Client,
    base: &str,
    key: &str,
    csv: Vec<u8>,
    receiver_column: Option<&str>,
) -> (u16, Value) {
    let mut form = reqwest::multipart::Form::new();
    if let Some(column) = receiver_column {
        form = form.text("receiverColumn", column.to_string());
    }
    let part = reqwest::multipart::Part::bytes(csv).file_name("../../etc/crowd.csv").mime_str("text/csv").unwrap();
    form = form.part("file", part);
    let r =
        http.post(format!("{base}/api/crowds")).header("X-API-Key", key).multipart(form).send().await.expect("upload");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

pub async fn wait_run(
    http: &reqwest::Client,
    base: &str,
    key: &str,
    run_id: i64,
    timeout: Duration,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let r = http.get(format!("{base}/api/runs/{run_id}")).header("X-API-Key", key).send().await;
        if let Ok(r) = r
            && let Ok(run) = r.json::<Value>().await
            && done(&run)
        {
            return run;
        }
        if tokio::time::Instant::now() > deadline {
            let run = http.get(format!("{base}/api/runs/{run_id}")).header("X-API-Key", key).send().await;
            let last = match run {
                Ok(r) => r.text().await.unwrap_or_default(),
                Err(e) => e.to_string(),
            };
            panic!("run {run_id} did not get there within {timeout:?}; last: {last}");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

pub async fn outbox_of_run(http: &reqwest::Client, base: &str, key: &str, run_id: i64) -> Vec<Value> {
    let mut all = Vec::new();
    let mut after = 0;
    loop {
        let url = format!("{base}/api/outbox?runId={run_id}&afterId={after}&limit=1000");
        let page: Value = http.get(url).header("X-API-Key", key).send().await.unwrap().json().await.unwrap();
        let items = page["items"].as_array().unwrap();
        all.extend(items.iter().cloned());
        match page["nextAfterId"].as_i64() {
            Some(next) => after = next,
            None => return all,
        }
    }
}

/// A crowd of `rows` rows: userId, name, code; row n has receiver 1390000000n.
pub fn crowd_csv(rows: usize) -> Vec<u8> {
    let mut csv = String::from("userId,name,code\n");
    for n in 1..=rows {
        csv.push_str(&format!("{},用户{n},{:06}\n", receiver(n), n * 7 % 1_000_000));
    }
    csv.into_bytes()
}

pub fn receiver(n: usize) -> String {
    format!("139{n:08}")
}

pub fn outbox_template(name: &str, crowd_id: &str, cron: Option<&str>) -> Value {
    let mut spec = json!({
        "name": name,
        "channel": "outbox",
        "content": {"title": "Hi {$name}", "body": "Your code is {$code}"},
        "crowdId": crowd_id,
    });
    if let Some(cron) = cron {
        spec["schedule"] = json!({"cron": cron, "timezone": "Asia/Shanghai"});
    }
    spec
}

/// A webhook template sending each row to `url` (a recording receiver), unscheduled.
pub fn webhook_template(name: &str, crowd_id: &str, url: &str) -> Value {
    json!({
        "name": name,
        "channel": "webhook",
        "content": {"url": url, "text": "Hi {$name}, your code is {$code}"},
        "crowdId": crowd_id,
    })
}

/// A node's API as a client sees it: base URL and key (for nodes running as processes).
#[derive(Clone)]
pub struct ApiClient {
    pub base: String,
    pub key: String,
    pub http: reqwest::Client,
}

impl ApiClient {
    pub fn new(base: &str, key: &str) -> Self {
        Self { base: base.to_string(), key: key.to_string(), http: reqwest::Client::new() }
    }

    pub async fn call(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> (u16, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.base)).header("X-API-Key", &self.key);
        if let Some(body) = body {
            request = request.json(body);
        }
        let r = request.send().await.expect("the node answers");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Uploads a crowd; returns its id.
    pub async fn crowd(&self, csv: Vec<u8>) -> String {
        let (status, body) = upload(&self.http, &self.base, &self.key, csv, None).await;
        assert_eq!(status, 201, "{body}");
        body["crowd"]["id"].as_str().expect("a crowd id").to_string()
    }

    /// Creates a template; returns its id.
    pub async fn template(&self, spec: &Value) -> i64 {
        let (status, body) = self.call(reqwest::Method::POST, "/api/templates", Some(spec)).await;
        assert_eq!(status, 201, "{body}");
        body["id"].as_i64().expect("a template id")
    }

    /// Runs a template now; returns the run id.
    pub async fn run_now(&self, template_id: i64) -> i64 {
        let (status, body) =
            self.call(reqwest::Method::POST, &format!("/api/templates/{template_id}/run"), Some(&json!({}))).await;
        assert!(status < 300, "{status} {body}");
        body["runId"].as_i64().expect("a run id")
    }

    pub async fn wait_run(&self, run_id: i64, timeout: Duration, done: impl Fn(&Value) -> bool) -> Value {
        wait_run(&self.http, &self.base, &self.key, run_id, timeout, done).await
    }
}
