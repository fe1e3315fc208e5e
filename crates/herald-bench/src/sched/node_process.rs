//! One `herald serve` process on an embedded SQLite database the bench prepared: the shipped
//! config/herald.toml with paths and port pointed at a temp directory, roles api and scheduler
//! (no workers: template fires without a crowd send nothing).

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const ROLES: &str = "api,scheduler";
const START_TIMEOUT: Duration = Duration::from_secs(60);

pub struct NodeProcess {
    child: Child,
    log: PathBuf,
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn shipped_config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/herald.toml")
}

impl NodeProcess {
    /// Starts `herald` on `dir`/herald.sqlite and waits until its API answers.
    pub async fn start(herald: &Path, dir: &Path) -> anyhow::Result<Self> {
        let port = free_port()?;
        let log = dir.join("node.log");
        let child = Command::new(herald)
            .arg("--config")
            .arg(shipped_config())
            .args(["serve", "--roles", ROLES])
            .current_dir(dir)
            .env("HERALD_DATABASE__URL", format!("sqlite://{}", dir.join("herald.sqlite").display()))
            .env("HERALD_SERVER__LISTEN", format!("127.0.0.1:{port}"))
            .env("HERALD_CROWD__DIR", dir.join("crowds"))
            .env("HERALD_SECURITY__SEALING_KEY_FILE", dir.join("herald.key"))
            .env("HERALD_SAMPLE_DATA__LOAD", "false")
            .env("HERALD_LOG__FILTER", "warn")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log)?)
            .stderr(std::fs::File::create(dir.join("node.err"))?)
            .spawn()
            .with_context(|| format!("starting {}", herald.display()))?;
        let mut node = Self { child, log };
        node.wait_ready(port).await?;
        Ok(node)
    }

    async fn wait_ready(&mut self, port: u16) -> anyhow::Result<()> {
        let (http, url) = (reqwest::Client::new(), format!("http://127.0.0.1:{port}/healthz"));
        let started = tokio::time::Instant::now();
        while started.elapsed() < START_TIMEOUT {
            if let Some(status) = self.child.try_wait()? {
                bail!("herald exited ({status}) at start; see {}", self.log.display());
            }
            if http.get(&url).send().await.is_ok_and(|r| r.status().is_success()) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("herald did not answer /healthz within {START_TIMEOUT:?}; see {}", self.log.display())
    }

    pub fn pid(&self) -> String {
        self.child.id().to_string()
    }
}

/// The `herald` binary beside this bench (`cargo build -p herald` into the same target
/// directory), unless `given`.
pub fn herald_binary(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    let path = match given {
        Some(path) => path.to_path_buf(),
        None => std::env::current_exe()?.parent().context("the bench's directory")?.join("herald"),
    };
    if !path.exists() {
        bail!("{} is missing: build it into the same target directory (cargo build -p herald)", path.display());
    }
    Ok(path)
}
