//! moto's S3 API server as a child process (`python3 -m pip install 'moto[server]'`), on a free
//! local port, killed when dropped; it also exits when its stdin closes, so even a killed test
//! process leaves none behind.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PIP_INSTALL: &str = "python3 -m pip install 'moto[server]'";

const LAUNCHER: &str = r#"
import os, sys, threading
try:
    from moto.server import main
except ImportError as e:
    print(f"HERALD-TEST: moto's server is not installed ({e})", file=sys.stderr, flush=True)
    sys.exit(3)
def watch_parent():
    sys.stdin.read()
    os._exit(0)
threading.Thread(target=watch_parent, daemon=True).start()
main(["-H", "127.0.0.1", "-p", sys.argv[1]])
"#;

/// A running moto S3 server.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    _log_dir: tempfile::TempDir,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    /// Starts moto (up to three tries: a port can be taken between asking and binding); panics
    /// with its output and the install line when it cannot.
    pub async fn start() -> Moto {
        let mut last_log = String::new();
        for _attempt in 0..3 {
            match Self::try_start().await {
                Ok(moto) => return moto,
                Err(log) => last_log = log,
            }
        }
        panic!(
            "moto's S3 server did not start; these tests need python3 with moto's server \
             (install it with `{PIP_INSTALL}`). Its output:\n{last_log}"
        );
    }

    async fn try_start() -> Result<Moto, String> {
        let port = crate::free_port();
        let log_dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let log_path = log_dir.path().join("moto.log");
        let log = std::fs::File::create(&log_path).map_err(|e| e.to_string())?;
        let child = Command::new("python3")
            .args(["-c", LAUNCHER, &port.to_string()])
            .stdin(Stdio::piped())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("could not run python3 ({e}); install moto's server with `{PIP_INSTALL}`"));
        let mut moto = Moto { child, url: format!("http://127.0.0.1:{port}"), _log_dir: log_dir };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = moto.child.try_wait() {
                let out = std::fs::read_to_string(&log_path).unwrap_or_default();
                return Err(format!("(exited with {status})\n{out}"));
            }
            if client.get(&moto.url).send().await.is_ok_and(|r| r.status().is_success()) {
                return Ok(moto);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let out = std::fs::read_to_string(&log_path).unwrap_or_default();
        Err(format!("(no answer within 60 s)\n{out}"))
    }

    /// Creates a bucket with a plain unsigned PUT (object_store cannot create buckets); returns
    /// its URL.
    pub async fn create_bucket(&self, name: &str) -> String {
        let url = format!("{}/{name}", self.url);
        let response = reqwest::Client::new().put(&url).send().await.expect("moto answers");
        assert!(response.status().is_success(), "creating bucket {name}: {response:?}");
        url
    }
}
