//! What the run-control tests (pause, resume, cancel) share: a webhook crowd run to a recording
//! receiver, an embedded node as a process with its CLI, a three-node sending cluster, and how
//! many sends each can have in flight (what may still arrive after a pause's or cancel's answer).

#[cfg(feature = "cluster")]
use super::cluster::LocalCluster;
use super::process::*;
use herald_testkit::RecordingReceiver;
use herald_testkit::node::{ApiClient, crowd_csv, webhook_template};
use serde_json::json;
use std::process::{Command, Output};

/// The embedded node's webhook sends in flight: `worker.sends_in_flight` (8) x
/// `worker.workers_per_channel` (2 by default).
pub const EMBEDDED_IN_FLIGHT: usize = 8 * 2;
/// A cluster node's: 8 x 4 (config/cluster.toml), three nodes.
#[cfg(feature = "cluster")]
pub const CLUSTER_IN_FLIGHT: usize = 3 * 8 * 4;

/// Starts a run now of a `rows`-row crowd through the webhook channel to `receiver`.
pub async fn webhook_run(api: &ApiClient, name: &str, rows: usize, receiver: &RecordingReceiver) -> i64 {
    let crowd = api.crowd(crowd_csv(rows)).await;
    let template = api.template(&webhook_template(name, &crowd, &format!("{}/hook", receiver.url))).await;
    api.run_now(template).await
}

/// The embedded default as a process, in `dir`, with its first admin key.
pub struct EmbeddedNode {
    pub server: Server,
    pub key: String,
    pub api: ApiClient,
}

impl EmbeddedNode {
    pub async fn start(dir: &std::path::Path) -> Self {
        let port = free_port();
        let config = write_config(dir, port, 5);
        let (server, key) = spawn(dir, &config, port).await;
        let key = key.expect("first start prints a key");
        let api = ApiClient::new(&server.base, &key);
        Self { server, key, api }
    }

    /// Runs the `herald` CLI against this node.
    pub fn cli(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_herald"))
            .args(args)
            .args(["--url", &self.server.base])
            .env("HERALD_API_KEY", &self.key)
            .output()
            .expect("the CLI runs")
    }

    /// `herald run VERB` of the ended run `run_id` fails (exit 1) saying why (`only a run that
    /// has not ended can be PARTICIPLE`), and the API answers 404 to VERB on an unknown run.
    pub async fn refuses_an_ended_and_an_unknown_run(&self, run_id: i64, verb: &str, participle: &str) {
        let again = self.cli(&["run", verb, &run_id.to_string()]);
        assert_eq!(again.status.code(), Some(1), "{again:?}");
        let again = String::from_utf8_lossy(&again.stdout);
        assert!(again.contains(&format!("only a run that has not ended can be {participle}")), "{again}");
        let (status, body) =
            self.api.call(reqwest::Method::POST, &format!("/api/runs/999999/{verb}"), Some(&json!({}))).await;
        assert_eq!(status, 404, "{body}");
    }
}

/// Three cluster nodes that may send to a local receiver, with small shards and short leases
/// so all three stream and send.
#[cfg(feature = "cluster")]
pub fn sending_cluster() -> LocalCluster {
    LocalCluster::up(
        3,
        &[
            ("HERALD_CHANNELS__ALLOW_PRIVATE_NETWORKS", "true"),
            ("HERALD_STREAMER__SHARD_BYTES", "65536"),
            ("HERALD_STREAMER__LEASE_SECS", "3"),
        ],
    )
}
