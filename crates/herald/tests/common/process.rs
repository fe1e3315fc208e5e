//! Running `herald serve` as a real process for tests: a config file, the API key from its
//! first-start banner, and a guard that kills the process when the test ends.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Drop for Server {
    /// A failing test must not leave a server running.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub use herald_testkit::free_port;

pub fn write_config(dir: &Path, port: u16, lease_secs: u64) -> std::path::PathBuf {
    let path = dir.join("herald.toml");
    let toml = format!(
        r#"
[server]
listen = "127.0.0.1:{port}"
[database]
url = "sqlite://{db}"
[crowd]
dir = "{crowds}"
[scheduler]
poll_ms = 50
[streamer]
lease_secs = {lease_secs}
poll_ms = 50
[worker]
poll_ms = 20
visibility_secs = 3
retry_backoff_ms = 100
[channels]
allow_private_networks = true
[sample_data]
load = false
[security]
sealing_key_file = "{key}"
"#,
        key = dir.join("herald.key").display(),
        db = dir.join("herald.sqlite").display(),
        crowds = dir.join("crowds").display(),
    );
    std::fs::write(&path, toml).unwrap();
    path
}

/// Starts `herald serve`; returns the server and the API key if this start printed one.
pub async fn spawn(dir: &Path, config: &Path, port: u16) -> (Server, Option<String>) {
    spawn_with_env(dir, config, port, &[]).await
}

/// As `spawn`, with extra environment variables for the server.
pub async fn spawn_with_env(dir: &Path, config: &Path, port: u16, env: &[(&str, &str)]) -> (Server, Option<String>) {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("server.log")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(["serve", "--config"])
        .arg(config)
        .current_dir(dir)
        .env("RUST_LOG", "info,sqlx=warn")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("herald starts");
    let stdout = child.stdout.take().unwrap();
    let (key_tx, key_rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        // The key banner comes before the server logs "serving"; read stdout until EOF or key.
        // Reads to EOF so the pipe stays open for the server's whole life.
        let mut key_tx = Some(key_tx);
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(k) = line.split_whitespace().find(|w| w.starts_with("hk_"))
                && let Some(tx) = key_tx.take()
            {
                let _ = tx.send(Some(k.trim_matches('\'').to_string()));
            }
        }
        if let Some(tx) = key_tx {
            let _ = tx.send(None);
        }
    });
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    for _ in 0..400 {
        if http.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    // The banner is printed before the API answers, so it is in the pipe by now; a restart
    // prints none, and the reader answers None only at exit, hence the short wait.
    let key = tokio::time::timeout(Duration::from_millis(300), key_rx).await.ok().and_then(Result::ok).flatten();
    (Server { child, base }, key)
}
