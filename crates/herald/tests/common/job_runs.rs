//! A scheduled job's run log as the API answers it, waited for.

use herald_testkit::node::TestNode;
use serde_json::Value;
use std::time::Duration;

/// The job's run log, oldest first, once `count` attempts have ended (panics after 15 s).
pub async fn ended_runs(node: &TestNode, id: i64, count: usize) -> Vec<Value> {
    for _ in 0..600 {
        let (_, page) = node.get(&format!("/api/jobs/{id}/runs")).await;
        let mut runs = page["items"].as_array().cloned().unwrap_or_default();
        runs.retain(|r| r["outcome"] != "running");
        if runs.len() >= count {
            runs.reverse();
            return runs;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{count} runs of job {id} never ended");
}
