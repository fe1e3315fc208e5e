//! HTTP: a trivial axum handler (the limit) against herald's `POST /send`, under the same load
//! from the shared load generator: C keep-alive connections for a fixed time.

use crate::load::{Load, Measured, SEQ, Target};
use crate::node::BenchNode;
use crate::report::{Row, millis, per_sec, thousands};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;
use std::time::Duration;

/// The same request for both targets: austin's `/send` with one receiver, its bizId and receiver
/// unique per request.
fn send_target(url: String, key: &str, template_id: i64) -> Target {
    let body = json!({"code": "send", "messageTemplateId": template_id,
                      "messageParam": {"bizId": format!("bench-{SEQ}"), "receiver": format!("139{SEQ}"),
                                       "variables": {"name": "Li", "code": "4821"}}});
    let headers = vec![("Content-Type", "application/json".to_owned()), ("X-API-Key", key.to_owned())];
    Target { url, headers, body: body.to_string() }
}

/// An axum server answering `POST /noop` with a tiny JSON; its URL.
async fn noop_server() -> anyhow::Result<(String, tokio::task::JoinHandle<()>)> {
    let app = Router::new().route("/noop", post(|| async { Json(json!({"code": "0", "msg": "ok"})) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/noop", listener.local_addr()?);
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((url, server))
}

pub async fn run(load: &Load) -> anyhow::Result<Vec<Row>> {
    let (noop_url, server) = noop_server().await?;
    let node = BenchNode::start().await?;
    let spec = json!({"name": "bench", "channel": "outbox", "msgType": 30,
                      "content": {"text": "{$name}, your code is {$code}"}});
    let template_id = node.template(&spec).await?;
    let limit = load.measure(&send_target(noop_url, &node.key, template_id)).await?;
    let send = send_target(node.url("/send"), &node.key, template_id);
    let herald = load.measure(&send).await?;
    check_after_load(&send).await;
    server.abort();
    node.shutdown().await;
    Ok(rows(load, &limit, &herald))
}

/// Whether herald still answers `/send` once the load has ended. wrk's end closes its
/// connections with requests in flight; herald's handlers dropped mid-transaction have been
/// seen to leave a pooled SQLite connection inside a transaction ("attempted to call
/// begin_with at non-zero transaction depth"), after which `/send` answers 500.
async fn check_after_load(send: &Target) {
    let answer = crate::load::answer(send).await;
    if !answer.starts_with("200") {
        eprintln!("herald's /send after the load ended (connections closed mid-request) answers: {answer}");
    }
}

fn rows(load: &Load, limit: &Measured, herald: &Measured) -> Vec<Row> {
    let latency = |label: &str, of: fn(&Measured) -> Duration| {
        let (l, h) = (of(limit), of(herald));
        Row::new(
            &format!("HTTP: {label} latency"),
            millis(l),
            millis(h),
            Some(h.as_secs_f64() / l.as_secs_f64()),
            "same load; ratio above 1 = herald slower".to_owned(),
        )
    };
    vec![
        Row::new(
            "HTTP: requests/s",
            per_sec(limit.rate, "req"),
            per_sec(herald.rate, "req"),
            Some(herald.rate / limit.rate),
            format!(
                "{} on loopback, against this process; limit = axum `POST /noop` returning tiny JSON ({} requests); \
                 herald = `POST /send`, 1 receiver, to the outbox channel, its workers delivering meanwhile ({} \
                 requests)",
                load.describe(),
                thousands(limit.requests as f64),
                thousands(herald.requests as f64)
            ),
        ),
        latency("p50", |m| m.p50),
        latency("p99", |m| m.p99),
    ]
}
