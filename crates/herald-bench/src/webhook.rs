//! Webhook delivery end to end: a run on the webhook channel to a bare in-process receiver that
//! counts what it gets, beside that receiver's own capacity under the shared load generator.

use crate::e2e::{Channel, one_run};
use crate::load::{Load, SEQ, Target};
use crate::node::BenchNode;
use crate::report::{Row, per_sec, secs, thousands};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// After a run completes, time for any late repeat to reach the receiver before it is counted.
const SETTLE: Duration = Duration::from_millis(200);

/// An axum server on 127.0.0.1 answering every `POST /hook` 200 with an empty body (any 2xx is a
/// delivery to herald's webhook channel), counting the requests.
struct Receiver {
    url: String,
    received: Arc<AtomicU64>,
    server: tokio::task::JoinHandle<()>,
}

impl Receiver {
    async fn start() -> anyhow::Result<Self> {
        let received = Arc::new(AtomicU64::new(0));
        let app = Router::new().route("/hook", post(count)).with_state(received.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/hook", listener.local_addr()?);
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { url, received, server })
    }

    fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }
}

async fn count(State(received): State<Arc<AtomicU64>>) -> StatusCode {
    received.fetch_add(1, Ordering::Relaxed);
    StatusCode::OK
}

/// A request shaped as herald's webhook channel sends one row of the run (its body fields and
/// headers), unique per request.
fn webhook_target(url: &str) -> Target {
    let message_id = format!("0a1b2c3d4e5f-r1-{SEQ}");
    let body = json!({"messageId": message_id, "templateId": 1, "runId": 1, "receiver": format!("139{SEQ}"),
                      "msgType": 30, "content": {"url": url, "title": "Hi 用户1", "body": "Your code is 000007"}});
    let headers = vec![("Content-Type", "application/json".to_owned()), ("Idempotency-Key", message_id)];
    Target { url: url.to_owned(), headers, body: body.to_string() }
}

/// The receiver's capacity under `load`, then a `rows`-row run to it through `node`.
pub async fn run(node: &BenchNode, rows: usize, load: &Load) -> anyhow::Result<Row> {
    let receiver = Receiver::start().await?;
    let capacity = load.measure(&webhook_target(&receiver.url)).await?;
    let before = receiver.received();
    let run = one_run(node, rows, &Channel::Webhook { url: &receiver.url }).await?;
    tokio::time::sleep(SETTLE).await;
    let got = receiver.received() - before;
    receiver.server.abort();

    let one_per_row = got == rows as u64;
    if !one_per_row {
        eprintln!("webhook receiver got {got} requests for {rows} rows");
    }
    let check = if one_per_row { "exactly one per row" } else { "NOT one per row" };
    let delivered = run.completed_rate();
    Ok(Row::new(
        "end to end (embedded): webhook, run-now -> all delivered (completed)",
        per_sec(capacity.rate, "req"),
        format!("{} ({})", per_sec(delivered, "rows"), secs(run.completed)),
        Some(delivered / capacity.rate),
        format!(
            "{}-row crowd, webhook channel (one POST per row) to a bare axum receiver on 127.0.0.1 in this process, \
             answering 200; published after {}; the receiver got {} requests ({check}); limit = the same receiver \
             under {}, requests shaped as herald's",
            thousands(rows as f64),
            secs(run.published),
            thousands(got as f64),
            load.describe()
        ),
    ))
}
