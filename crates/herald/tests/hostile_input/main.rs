//! Hostile input on the inbound side, each case from the December 2026 security review: rates
//! that used to panic the workers, answers that grew with the input, slow clients, login
//! guessing, files readable by others, the API's answers to malformed requests, and a proxy
//! named in the environment.

#[path = "../common/mod.rs"]
mod common;

mod amplification;
mod edge;
mod files;
mod login;
mod proxy;
mod rates;
mod shape;

use chrono::{TimeZone, Utc};
use common::*;
use serde_json::{Value, json};

async fn started() -> (tempfile::TempDir, TestNode) {
    let dir = tempfile::tempdir().unwrap();
    let node = TestNode::start(&test_config(dir.path()), Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap()).await;
    (dir, node)
}

/// Status, body bytes and body as JSON (Null when it is not JSON).
async fn raw(r: reqwest::RequestBuilder) -> (u16, usize, Value) {
    let r = r.send().await.expect("request");
    let status = r.status().as_u16();
    let bytes = r.bytes().await.unwrap();
    (status, bytes.len(), serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// An outbox template without placeholders.
async fn plain_template(node: &TestNode) -> i64 {
    node.template(json!({"name": "plain", "channel": "outbox", "content": {"body": "hello"}})).await
}

/// How many outbox entries a template has, after giving the workers `settle` to act.
async fn outbox_count(node: &TestNode, template: i64, settle: std::time::Duration) -> usize {
    tokio::time::sleep(settle).await;
    let (_, body) = node.get(&format!("/api/outbox?templateId={template}&limit=1000")).await;
    body["items"].as_array().map_or(0, Vec::len)
}
