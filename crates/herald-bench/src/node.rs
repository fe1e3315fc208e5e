//! A herald node started in-process on a temp directory (embedded mode: SQLite state and
//! bus, local crowd files), with the shipped defaults except paths, port, sample data and
//! private network targets (allowed, so the webhook channel reaches the bench's loopback
//! receiver).

use anyhow::{Context, ensure};
use herald::config::Config;
use herald::node::{Node, Roles};
use herald_core::SystemClock;
use herald_store::Durability;
use serde_json::Value;
use std::sync::Arc;

pub struct BenchNode {
    pub node: Node,
    pub base: String,
    pub key: String,
    pub http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl BenchNode {
    pub async fn start() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let mut config = Config::in_dir(dir.path());
        config.channels.allow_private_networks = true;
        let node = Node::start(&config, Roles::ALL, Arc::new(SystemClock)).await?;
        let key = node.new_api_key.clone().context("a fresh database gets an API key")?;
        let base = format!("http://{}", node.addr.context("the api role listens")?);
        Ok(Self { node, base, key, http: reqwest::Client::new(), _dir: dir })
    }

    /// The SQLite durability the node runs with (herald's default).
    pub fn durability() -> Durability {
        Config::default().database.sqlite_durability
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        let r = self.http.get(self.url(path)).header("X-API-Key", &self.key).send().await?;
        Ok(r.error_for_status()?.json().await?)
    }

    /// POSTs JSON and expects `status`; returns the answer.
    pub async fn post(&self, path: &str, body: &Value, status: u16) -> anyhow::Result<Value> {
        let r = self.http.post(self.url(path)).header("X-API-Key", &self.key).json(body).send().await?;
        let got = r.status().as_u16();
        let answer: Value = r.json().await.unwrap_or(Value::Null);
        ensure!(got == status, "POST {path}: {got} {answer}");
        Ok(answer)
    }

    /// Uploads a crowd CSV; returns its id.
    pub async fn upload_crowd(&self, csv: Vec<u8>) -> anyhow::Result<String> {
        let part = reqwest::multipart::Part::bytes(csv).file_name("crowd.csv").mime_str("text/csv")?;
        let form = reqwest::multipart::Form::new().part("file", part);
        let r = self.http.post(self.url("/api/crowds")).header("X-API-Key", &self.key).multipart(form).send().await?;
        let status = r.status().as_u16();
        let body: Value = r.json().await?;
        ensure!(status == 201, "upload: {status} {body}");
        body["crowd"]["id"].as_str().map(str::to_owned).context("crowd id")
    }

    /// Creates a template; returns its id.
    pub async fn template(&self, spec: &Value) -> anyhow::Result<i64> {
        let body = self.post("/api/templates", spec, 201).await?;
        body["id"].as_i64().context("template id")
    }

    pub async fn shutdown(self) {
        self.node.shutdown().await;
    }
}
