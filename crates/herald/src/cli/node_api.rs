//! Calling a running node's HTTP API from the command line: its address and API key as
//! arguments, and the answer printed as indented JSON, exiting 1 when the node refused.

use anyhow::Context;
use clap::Args;
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
        let url = format!("{}{path}", self.url.trim_end_matches('/'));
        let http = reqwest::Client::new();
        let request = match body {
            Some(body) => http.post(&url).json(body),
            None => http.get(&url),
        };
        let response =
            request.header("X-API-Key", &self.api_key).send().await.with_context(|| format!("calling {url}"))?;
        let status = response.status();
        let text = response.text().await?;
        let pretty = serde_json::from_str::<Value>(&text).map(|v| format!("{v:#}")).unwrap_or(text);
        println!("{pretty}");
        Ok(if status.is_success() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
    }
}
