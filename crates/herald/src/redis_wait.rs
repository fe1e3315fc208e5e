//! Starting while Redis is away: a node configured with Redis that cannot reach it at start
//! serves `/healthz` (alive) and `/readyz` (503, naming Redis and why) on its address, and
//! everything else 503, while it tries Redis again every few seconds; once Redis answers it
//! starts as usual. A load balancer sees a live but not-ready node instead of a crash loop.

use axum::Json;
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often Redis is tried again.
const RETRY_EVERY: Duration = Duration::from_secs(2);
/// How long one try may take.
const TRY_TIMEOUT: Duration = Duration::from_secs(3);

/// Why Redis at `url` does not answer a PING, or None when it does.
pub async fn redis_unreachable(url: &str) -> Option<String> {
    let client = match redis::Client::open(url) {
        Ok(client) => client,
        Err(e) => return Some(format!("redis.url: {e}")),
    };
    let ping = async {
        let mut conn = client.get_multiplexed_async_connection().await?;
        redis::cmd("PING").query_async::<String>(&mut conn).await
    };
    match tokio::time::timeout(TRY_TIMEOUT, ping).await {
        Ok(Ok(_)) => None,
        Ok(Err(e)) => Some(format!("Redis does not answer: {}", e.kind_name())),
        Err(_) => Some(format!("Redis does not answer within {} s", TRY_TIMEOUT.as_secs())),
    }
}

trait KindName {
    fn kind_name(&self) -> String;
}

impl KindName for redis::RedisError {
    /// The error without the URL (which may hold a password).
    fn kind_name(&self) -> String {
        if self.is_connection_refusal() {
            "connection refused".into()
        } else if self.is_timeout() {
            "timed out".into()
        } else {
            format!("{:?}", self.kind())
        }
    }
}

/// Serves the not-ready answers on `listen` until Redis at `url` answers (true), or `stop` ends
/// first (false). The listener is closed when this returns.
pub async fn wait_for_redis(
    listen: &str,
    url: &str,
    stop: impl std::future::Future<Output = ()>,
) -> anyhow::Result<bool> {
    let Some(first) = redis_unreachable(url).await else { return Ok(true) };
    tracing::warn!(reason = %first, "Redis is not reachable; serving not-ready until it is");
    let reason = Arc::new(Mutex::new(first));
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("server.listen: cannot listen on {listen}: {e}"))?;
    let shown = reason.clone();
    let app = axum::Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get(move || {
                let why = shown.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
                async move { (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"ready": false, "checks": {"redis": why}}))) }
            }),
        )
        .fallback(|| async {
            let body = json!({"code": "B0001", "msg": "the node is starting: Redis is not reachable yet"});
            (StatusCode::SERVICE_UNAVAILABLE, Json(body))
        });
    let done = tokio_util::sync::CancellationToken::new();
    let server = axum::serve(listener, app).with_graceful_shutdown(done.clone().cancelled_owned());
    let serving = tokio::spawn(async move { server.await });
    let retry = async {
        loop {
            tokio::time::sleep(RETRY_EVERY).await;
            match redis_unreachable(url).await {
                None => return,
                Some(why) => *reason.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = why,
            }
        }
    };
    let answered = tokio::select! {
        _ = retry => true,
        _ = stop => false,
    };
    done.cancel();
    let _ = serving.await;
    if answered {
        tracing::info!("Redis answers; starting");
    }
    Ok(answered)
}
