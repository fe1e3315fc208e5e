//! Browser test harness for the admin console: a real `herald serve` on a free port (SQLite in a
//! temp dir), headless Chromium driven through Debian's chromedriver with fantoccini, and a
//! screenshot under target/console-screenshots/NAME.png when a test fails. A missing chromedriver
//! fails the test (scripts/test.sh installs it); it never skips.
#![allow(dead_code)]

pub mod browser;

use crate::common::process::{Server, free_port, write_config};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

pub use browser::with_browser;

/// A console user's password in these tests (the console asks for 10 characters or more).
pub const PASSWORD: &str = "correct horse battery";

/// A running `herald serve` and what its first start printed.
pub struct Console {
    pub dir: tempfile::TempDir,
    pub base: String,
    pub config: PathBuf,
    pub api_key: String,
    /// `http://…/setup/TOKEN`, printed because no console user existed.
    pub setup_link: Option<String>,
    pub http: reqwest::Client,
    server: Server,
}

impl Console {
    /// Starts a node with every role; `extra_toml` is appended to the test config (for example
    /// `[console]` settings).
    pub async fn start(extra_toml: &str) -> Console {
        Self::start_roles(extra_toml, "api,scheduler,worker").await
    }

    /// Starts a node with the given roles.
    pub async fn start_roles(extra_toml: &str, roles: &str) -> Console {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let config = write_config(dir.path(), port, 30);
        let mut text = std::fs::read_to_string(&config).unwrap();
        text.push_str(extra_toml);
        std::fs::write(&config, text).unwrap();
        let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_herald"))
            .args(["serve", "--roles", roles, "--config"])
            .arg(&config)
            .current_dir(dir.path())
            .env("RUST_LOG", "info,sqlx=warn")
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("herald starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        // Reads to EOF so the pipe stays open for the server's whole life.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let base = format!("http://127.0.0.1:{port}");
        let server = Server { child, base: base.clone() };
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        for _ in 0..400 {
            if http.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let (mut api_key, mut setup_link) = (None, None);
        while let Ok(line) = rx.recv_timeout(Duration::from_millis(500)) {
            for word in line.split_whitespace() {
                if word.starts_with("hk_") && api_key.is_none() {
                    api_key = Some(word.trim_matches('\'').to_string());
                }
                if word.contains("/setup/") {
                    setup_link = Some(word.to_string());
                }
            }
            if api_key.is_some() && setup_link.is_some() {
                break;
            }
        }
        let api_key = api_key.expect("a first start prints an API key");
        Console { dir, base, config, api_key, setup_link, http, server }
    }

    /// A second process on the same database with only the worker role, to deliver what the
    /// first one published; stopped when dropped.
    pub fn start_worker(&self) -> Server {
        let log = std::fs::File::create(self.dir.path().join("worker.log")).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_herald"))
            .args(["serve", "--roles", "worker", "--config"])
            .arg(&self.config)
            .current_dir(self.dir.path())
            .env("RUST_LOG", "info,sqlx=warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("the worker starts");
        Server { child, base: String::new() }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `herald user add NAME` with the password on standard input, as an operator would pipe it.
    pub fn add_user(&self, name: &str, password: &str) {
        use std::io::Write;
        let mut child = Command::new(env!("CARGO_BIN_EXE_herald"))
            .args(["user", "add", name, "--config"])
            .arg(&self.config)
            .current_dir(self.dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "user add: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// GETs an API path with the node's key; the answer's JSON.
    pub async fn api_get(&self, path: &str) -> serde_json::Value {
        let r = self.http.get(self.url(path)).header("X-API-Key", &self.api_key).send().await.unwrap();
        r.json().await.unwrap()
    }

    pub async fn api_post(&self, path: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
        let r = self.http.post(self.url(path)).header("X-API-Key", &self.api_key).json(body).send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or_default())
    }

    /// Uploads a crowd through the REST API; returns its id.
    pub async fn api_crowd(&self, csv: Vec<u8>) -> String {
        let (status, body) = crate::common::upload(&self.http, &self.base, &self.api_key, csv, None).await;
        assert_eq!(status, 201, "{body}");
        body["crowd"]["id"].as_str().unwrap().to_string()
    }

    /// The server's log so far, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }
}

/// A crowd of `rows` good rows (userId, name, code) with a blank receiver on line `bad_line`.
pub fn crowd_with_bad_row(rows: usize, bad_line: usize) -> String {
    let mut csv = String::from("userId,name,code\n");
    let mut line = 1;
    for n in 1..=rows {
        line += 1;
        if line == bad_line {
            csv.push_str(",nobody,000000\n");
            line += 1;
        }
        csv.push_str(&format!("{},用户{n},{:06}\n", crate::common::receiver(n), n * 7));
    }
    csv
}
