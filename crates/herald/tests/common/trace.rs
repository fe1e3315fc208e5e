//! A message's trace as the API shows it: its events, waiting for one, and its receipts.

use super::TestNode;
use serde_json::Value;
use std::time::Duration;

/// The message's trace events, oldest first.
pub async fn events(node: &TestNode, id: &str) -> Vec<Value> {
    node.get(&format!("/api/trace/{id}")).await.1["events"].as_array().cloned().unwrap_or_default()
}

/// Waits up to ten seconds for the message's first `event`.
pub async fn wait_for(node: &TestNode, id: &str, event: &str) -> Value {
    for _ in 0..200 {
        if let Some(found) = events(node, id).await.into_iter().find(|e| e["event"] == event) {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{id} never reached {event}");
}

/// The message's receipt events: (event, detail).
pub async fn receipts(node: &TestNode, id: &str) -> Vec<(String, String)> {
    let all = events(node, id).await;
    all.iter()
        .filter(|e| ["delivered", "undelivered", "read"].contains(&e["event"].as_str().unwrap()))
        .map(|e| (e["event"].as_str().unwrap().into(), e["detail"].as_str().unwrap_or_default().into()))
        .collect()
}
