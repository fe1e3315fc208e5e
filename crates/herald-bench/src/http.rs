//! HTTP: a trivial axum handler (the limit) against herald's `POST /send`, driven by the same
//! loopback load: a few concurrent clients, each sending its requests one after another.

use crate::node::BenchNode;
use crate::report::{Row, millis, per_sec, rate, thousands};
use anyhow::ensure;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

pub struct Sizes {
    pub clients: usize,
    pub per_client: usize,
}

const WARM_UP_PER_CLIENT: usize = 50;

struct Load {
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Load {
    fn rate(&self) -> f64 {
        rate(self.latencies.len(), self.elapsed)
    }

    fn quantile(&self, q: f64) -> Duration {
        let i = ((self.latencies.len() as f64 * q).ceil() as usize).clamp(1, self.latencies.len()) - 1;
        self.latencies[i]
    }
}

/// The same body for both targets: austin's `/send` with one receiver (unique per request).
fn send_body(template_id: i64, client: usize, n: usize) -> Value {
    json!({"code": "send", "messageTemplateId": template_id,
           "messageParam": {"bizId": format!("bench-{client}-{n}"), "receiver": format!("138{client:02}{n:06}"),
                            "variables": {"name": "Li", "code": "4821"}}})
}

/// `clients` tasks, each with its own connection, sending `per_client` requests in turn.
async fn load(
    url: &str,
    key: &str,
    template_id: i64,
    clients: usize,
    per_client: usize,
    offset: usize,
) -> anyhow::Result<Load> {
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let (url, key) = (url.to_owned(), key.to_owned());
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                let mut latencies = Vec::with_capacity(per_client);
                for n in offset..offset + per_client {
                    let body = send_body(template_id, c, n);
                    let sent = Instant::now();
                    let r = http.post(&url).header("X-API-Key", &key).json(&body).send().await?;
                    let status = r.status();
                    let answer = r.bytes().await?;
                    latencies.push(sent.elapsed());
                    ensure!(status == 200, "{url}: {status} {}", String::from_utf8_lossy(&answer));
                }
                Ok(latencies)
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(clients * per_client);
    for task in tasks {
        latencies.extend(task.await??);
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    Ok(Load { elapsed, latencies })
}

async fn noop_server() -> anyhow::Result<(String, tokio::task::JoinHandle<()>)> {
    let app = Router::new().route("/noop", post(|| async { Json(json!({"code": "0", "msg": "ok"})) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/noop", listener.local_addr()?);
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((url, server))
}

pub async fn run(sizes: &Sizes) -> anyhow::Result<Vec<Row>> {
    let (noop_url, server) = noop_server().await?;
    let node = BenchNode::start().await?;
    let spec = json!({"name": "bench", "channel": "outbox", "msgType": 30,
                      "content": {"text": "{$name}, your code is {$code}"}});
    let template_id = node.template(&spec).await?;
    let send_url = node.url("/send");
    let (clients, per_client) = (sizes.clients, sizes.per_client);

    load(&noop_url, &node.key, template_id, clients, WARM_UP_PER_CLIENT, 0).await?;
    load(&send_url, &node.key, template_id, clients, WARM_UP_PER_CLIENT, 0).await?;
    let limit = load(&noop_url, &node.key, template_id, clients, per_client, WARM_UP_PER_CLIENT).await?;
    let herald = load(&send_url, &node.key, template_id, clients, per_client, WARM_UP_PER_CLIENT).await?;
    server.abort();
    node.shutdown().await;

    let total = thousands((clients * per_client) as f64);
    let ms = |d: Duration| d.as_secs_f64();
    let latency = |q: f64, label: &str| {
        let (l, h) = (limit.quantile(q), herald.quantile(q));
        Row::new(
            &format!("HTTP: {label} latency"),
            millis(l),
            millis(h),
            Some(ms(h) / ms(l)),
            "same load; ratio above 1 = herald slower".to_owned(),
        )
    };
    Ok(vec![
        Row::new(
            "HTTP: requests/s",
            per_sec(limit.rate(), "req"),
            per_sec(herald.rate(), "req"),
            Some(herald.rate() / limit.rate()),
            format!(
                "{clients} reqwest clients x {per_client} sequential requests ({total}) on loopback, same process; \
                 limit = axum `POST /noop` returning tiny JSON; herald = `POST /send`, 1 receiver, to the outbox \
                 channel (its workers deliver meanwhile)"
            ),
        ),
        latency(0.5, "p50"),
        latency(0.99, "p99"),
    ])
}
