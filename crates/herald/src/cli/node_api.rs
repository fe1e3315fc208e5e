//! Calling a running node's HTTP API from the command line: its address and API key as
//! arguments, and the answer printed as indented JSON, exiting 1 when the node refused.

use anyhow::Context;
use clap::Args;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct NodeArgs {
    /// The node's base URL.
    #[arg(long, env = "HERALD_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// An API key (shown at the node's first start, or from `herald apikey create`).
    #[arg(long, env = "HERALD_API_KEY", hide_env_values = true)]
    pub api_key: String,
}

impl NodeArgs {
    /// Calls `path` with `body` (a POST) or without (a GET) and prints the answer.
    pub async fn call(&self, path: &str, body: Option<&Value>) -> anyhow::Result<ExitCode> {
        let method = if body.is_some() { Method::POST } else { Method::GET };
        self.send(method, path, body).await
    }

    /// Calls `path` with `method` and `body`, if any, and prints the answer (an empty answer,
    /// such as a delete's, prints nothing).
    pub async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> anyhow::Result<ExitCode> {
        let (status, text) = self.fetch_text(method, path, body).await?;
        let pretty = serde_json::from_str::<Value>(&text).map(|v| format!("{v:#}")).unwrap_or(text);
        if !pretty.is_empty() {
            println!("{pretty}");
        }
        Ok(if status.is_success() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
    }

    /// Calls `path` and reads the answer as JSON (null when empty), with its status.
    pub async fn fetch(&self, method: Method, path: &str, body: Option<&Value>) -> anyhow::Result<(StatusCode, Value)> {
        let (status, text) = self.fetch_text(method, path, body).await?;
        let value =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        Ok((status, value))
    }

    async fn fetch_text(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<(StatusCode, String)> {
        let url = format!("{}{path}", self.url.trim_end_matches('/'));
        let mut request = reqwest::Client::new().request(method, &url);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response =
            request.header("X-API-Key", &self.api_key).send().await.with_context(|| format!("calling {url}"))?;
        let status = response.status();
        Ok((status, response.text().await?))
    }
}
