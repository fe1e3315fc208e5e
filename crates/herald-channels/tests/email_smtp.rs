//! Email over SMTP against a real SMTP server: scripts/smtp-sink.py, an aiosmtpd server that
//! writes each received message, parsed, to a directory. Needs python3 and aiosmtpd
//! (`python3 -m pip install aiosmtpd`); without them these tests fail rather than skip.

use herald_channels::http::{HttpSettings, OutboundHttp};
use herald_channels::tokens::Tokens;
use herald_channels::{BuildContext, BuildError, Built, ChannelAccount, OutgoingMessage, SendResult};
use herald_core::{ChannelKind, MessageId, SystemClock};
use serde_json::{Value, json};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const REJECTED: &str = "nobody@example.org";
const DEFERRED: &str = "busy@example.org";

/// The sink process; killed when dropped.
struct Sink {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/smtp-sink.py")
}

fn start_sink() -> Sink {
    let probe = Command::new("python3").args(["-c", "import aiosmtpd"]).output();
    match probe {
        Err(e) => panic!("python3 is needed for the SMTP tests and could not be run: {e}"),
        Ok(out) if !out.status.success() => panic!(
            "aiosmtpd is needed for the SMTP tests: run `python3 -m pip install aiosmtpd` ({})",
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Ok(_) => {}
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let log = std::fs::File::create(dir.path().join("sink.log")).unwrap();
    let child = Command::new("python3")
        .arg(script())
        .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--dir"])
        .arg(dir.path().join("mail"))
        .args(["--reject", REJECTED, "--tempfail", DEFERRED])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn python3 scripts/smtp-sink.py");
    let mut sink = Sink { child, port, dir };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return sink;
        }
        if let Some(status) = sink.child.try_wait().unwrap() {
            let log = std::fs::read_to_string(sink.dir.path().join("sink.log")).unwrap_or_default();
            panic!("smtp-sink exited with {status} before listening:\n{log}");
        }
        assert!(Instant::now() < deadline, "smtp-sink did not listen on port {port} within 20 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Sink {
    fn config(&self) -> Value {
        json!({"host": "127.0.0.1", "port": self.port, "security": "plain",
            "from": "Herald 通知 <noreply@herald.test>", "timeoutMs": 5000})
    }

    /// The messages received so far, parsed by the sink.
    fn received(&self) -> Vec<Value> {
        let Ok(entries) = std::fs::read_dir(self.dir.path().join("mail")) else { return Vec::new() };
        entries
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
            .collect()
    }
}

/// The sink listens on loopback, which the address policy refuses unless private networks are
/// allowed (as a node's tests allow them).
fn context() -> BuildContext {
    context_with(HttpSettings { allow_private_networks: true, ..HttpSettings::default() })
}

fn context_with(settings: HttpSettings) -> BuildContext {
    let clock = Arc::new(SystemClock);
    BuildContext { http: OutboundHttp::new(settings).unwrap(), tokens: Tokens::in_memory(clock.clone()), clock }
}

fn account(config: Value) -> ChannelAccount {
    ChannelAccount { id: 3, name: "mail".into(), channel: ChannelKind::Email, config }
}

fn build(config: Value) -> Built {
    herald_channels::build(&account(config), &context()).expect("email channel builds")
}

fn mail(to: &str, content: Value) -> OutgoingMessage {
    OutgoingMessage {
        message_id: MessageId("r9-42".into()),
        template_id: 2,
        run_id: Some(9),
        receiver: to.into(),
        msg_type: 20,
        content,
    }
}

#[tokio::test]
async fn text_and_html_arrive_as_alternatives_with_a_cjk_subject() {
    let sink = start_sink();
    let built = build(sink.config());
    built.healthcheck.await.expect("NOOP against the sink");
    let content = json!({"subject": "验证码 1234 — 欢迎加入", "text": "你好 Alice，验证码是 1234。",
        "html": "<p>你好 <b>Alice</b>，验证码是 1234。</p>"});
    let result = built.channel.send(&mail("alice@example.org", content)).await;
    let SendResult::Sent { detail: Some(detail) } = result else { panic!("expected Sent, got {result:?}") };
    assert!(detail.starts_with("250") && detail.contains("queued as"), "{detail}");

    let received = sink.received();
    assert_eq!(received.len(), 1, "{received:?}");
    let m = &received[0];
    assert!(detail.contains(m["queueId"].as_str().unwrap()), "{detail}");
    assert_eq!(m["rcptTos"], json!(["alice@example.org"]));
    assert_eq!(m["mailFrom"], "noreply@herald.test");
    assert_eq!(m["from"], "Herald 通知 <noreply@herald.test>");
    assert_eq!(m["to"], "alice@example.org");
    assert_eq!(m["subject"], "验证码 1234 — 欢迎加入");
    assert_eq!(m["contentType"], "multipart/alternative");
    assert_eq!(m["text"].as_str().unwrap().trim_end(), "你好 Alice，验证码是 1234。");
    assert_eq!(m["html"].as_str().unwrap().trim_end(), "<p>你好 <b>Alice</b>，验证码是 1234。</p>");
    assert_eq!(m["messageId"], "<r9-42.herald@herald.test>");
}

#[tokio::test]
async fn html_only_is_a_single_html_part() {
    let sink = start_sink();
    let channel = build(sink.config()).channel;
    let result = channel.send(&mail("bob@example.org", json!({"subject": "Report", "html": "<h1>Q3</h1>"}))).await;
    assert!(matches!(result, SendResult::Sent { .. }), "{result:?}");
    let m = &sink.received()[0];
    assert_eq!(m["contentType"], "text/html");
    assert_eq!(m["html"].as_str().unwrap().trim_end(), "<h1>Q3</h1>");
    assert_eq!(m["text"], Value::Null);
}

#[tokio::test]
async fn rejected_recipient_is_permanent_with_the_code() {
    let sink = start_sink();
    let channel = build(sink.config()).channel;
    match channel.send(&mail(REJECTED, json!({"subject": "x", "text": "y"}))).await {
        SendResult::Permanent { reason } => {
            assert!(reason.contains("550"), "{reason}");
            assert!(reason.contains("mailbox unavailable"), "{reason}");
        }
        other => panic!("expected Permanent, got {other:?}"),
    }
    assert!(sink.received().is_empty());
}

#[tokio::test]
async fn deferred_recipient_is_retryable_with_the_code() {
    let sink = start_sink();
    let channel = build(sink.config()).channel;
    match channel.send(&mail(DEFERRED, json!({"subject": "x", "text": "y"}))).await {
        SendResult::Retryable { reason, .. } => assert!(reason.contains("451"), "{reason}"),
        other => panic!("expected Retryable, got {other:?}"),
    }
}

#[tokio::test]
async fn unreachable_server_is_retryable_and_fails_the_healthcheck() {
    let config = json!({"host": "127.0.0.1", "port": free_port(), "security": "plain",
        "from": "noreply@herald.test", "timeoutMs": 2000});
    let built = build(config);
    assert!(built.healthcheck.await.is_err());
    let result = built.channel.send(&mail("alice@example.org", json!({"subject": "x", "text": "y"}))).await;
    assert!(matches!(result, SendResult::Retryable { .. }), "{result:?}");
}

#[tokio::test]
async fn bad_receiver_and_content_are_permanent_without_a_connection() {
    let config = json!({"host": "127.0.0.1", "port": free_port(), "security": "plain", "from": "noreply@herald.test"});
    let channel = build(config).channel;
    for (to, content, expect) in [
        ("not an address", json!({"subject": "x", "text": "y"}), "receiver"),
        ("a@example.org", json!({"text": "y"}), "subject"),
        ("a@example.org", json!({"subject": "x"}), "html or text"),
    ] {
        match channel.send(&mail(to, content)).await {
            SendResult::Permanent { reason } => assert!(reason.contains(expect), "{reason}"),
            other => panic!("expected Permanent, got {other:?}"),
        }
    }
}

#[test]
fn config_errors_name_the_field_and_hide_the_password() {
    let refuse = |config: Value| match herald_channels::build(&account(config), &context()) {
        Err(e @ BuildError::Config { .. }) => e.to_string(),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("config should be refused"),
    };
    assert!(refuse(json!({"host": "smtp.example.com"})).contains("from"));
    assert!(refuse(json!({"from": "a@example.com"})).contains("host"));
    assert!(refuse(json!({"host": "smtp.example.com", "from": "not a mailbox"})).contains("config.from"));
    assert!(refuse(json!({"host": "h", "from": "a@b.c", "security": "ssl"})).contains("security"));
    assert!(refuse(json!({"host": "h", "from": "a@b.c", "password": "pw"})).contains("username"));
    assert!(refuse(json!({"host": "h", "from": "a@b.c", "username": "u"})).contains("password"));
    assert!(refuse(json!({"host": "h", "from": "a@b.c", "tls": true})).contains("tls"));

    let config: herald_channels::email::EmailConfig = serde_json::from_value(json!({"host": "smtp.example.com",
        "username": "mailer", "password": "hunter2-very-secret", "from": "a@example.com"}))
    .unwrap();
    let debug = format!("{config:?}");
    assert!(!debug.contains("hunter2-very-secret"), "{debug}");
    assert!(debug.contains("mailer"), "{debug}");
    // With credentials and STARTTLS the channel builds without connecting.
    let config = json!({"host": "smtp.example.com", "username": "mailer", "password": "hunter2-very-secret",
        "from": "a@example.com"});
    herald_channels::build(&account(config), &context()).expect("builds");
}

/// The address policy HTTP providers follow holds for SMTP too: an account pointing at a
/// loopback or private host cannot send or test-connect (no port scanning through it).
#[tokio::test]
async fn a_private_smtp_host_is_refused_unless_private_networks_are_allowed() {
    let sink = start_sink();
    for host in ["127.0.0.1", "localhost"] {
        let mut config = sink.config();
        config["host"] = json!(host);
        let built = herald_channels::build(&account(config), &context_with(HttpSettings::default())).unwrap();
        let refused = built.healthcheck.await.unwrap_err();
        assert!(refused.contains("loopback, private or reserved"), "{host}: {refused}");
        let result = built.channel.send(&mail("alice@example.org", json!({"subject": "s", "text": "t"}))).await;
        assert!(
            matches!(&result, SendResult::Permanent { reason } if reason.contains("resolves only to")),
            "{result:?}"
        );
    }
    assert!(sink.received().is_empty(), "nothing reached the sink");
}
