//! `/metrics` in Prometheus text, and the HTTP layer's own counts. Counters and histograms are
//! recorded where things happen (fires and housekeeping in the scheduler, rows in the streamer,
//! deliveries, provider latency, retries and policy drops in the worker, requests here); what
//! describes the state now (runs by status, bus depth per topic) is read at scrape time. The
//! node installs the recorder and hands its renderer in; without one `/metrics` is a 404.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use herald_core::ChannelKind;
use std::sync::Arc;
use std::time::Instant;

/// Renders every recorded metric as Prometheus text.
pub type RenderMetrics = Arc<dyn Fn() -> String + Send + Sync>;

#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text", body = String, content_type = "text/plain")))]
pub(crate) async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let render = state.metrics.clone().ok_or_else(|| ApiError::NotFound("metrics are not enabled".into()))?;
    for (status, count) in state.store.count_runs_by_status().await? {
        metrics::gauge!("herald_runs", "status" => status).set(count as f64);
    }
    for channel in ChannelKind::ALL {
        // A bus that cannot say (a Kafka hiccup) leaves the last figures standing.
        if let Ok(stats) = state.bus.stats(&herald_core::topic_for(channel)).await {
            let topic = channel.as_str();
            for (state, value) in [
                ("ready", stats.ready),
                ("delayed", stats.delayed),
                ("in_flight", stats.in_flight),
                ("dead", stats.dead),
            ] {
                metrics::gauge!("herald_bus_messages", "topic" => topic, "state" => state).set(value as f64);
            }
        }
    }
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], render()).into_response())
}

/// Counts each request by route (the pattern, never the raw path), method and status, and
/// records its latency.
pub(crate) async fn track_http(request: Request, next: Next) -> Response {
    let route =
        request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()).unwrap_or_else(|| "unmatched".into());
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::histogram!("herald_http_request_duration_seconds", "route" => route.clone(), "method" => method.clone())
        .record(started.elapsed().as_secs_f64());
    metrics::counter!("herald_http_requests_total", "route" => route, "method" => method, "status" => status)
        .increment(1);
    response
}
