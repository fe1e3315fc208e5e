//! The process's metrics recorder: Prometheus, installed once and shared by every node the
//! process runs (tests run several), rendered by the API's `/metrics`.

use herald_api::metrics::RenderMetrics;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::{Arc, OnceLock};

/// Histogram buckets in seconds: from a fast local call to a minute-late fire.
const BUCKETS: [f64; 14] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The renderer of this process's metrics; None when another recorder was installed first.
pub fn renderer() -> Option<RenderMetrics> {
    let handle = HANDLE
        .get_or_init(|| {
            let installed = PrometheusBuilder::new().set_buckets(&BUCKETS).and_then(|b| b.install_recorder());
            installed.map_err(|e| tracing::warn!(error = %e, "metrics recorder not installed; /metrics is off")).ok()
        })
        .clone()?;
    Some(Arc::new(move || {
        handle.run_upkeep();
        handle.render()
    }))
}

/// `render`, first noting the database pool's use: `herald_db_pool_connections` by state
/// (`in_use`, `idle`) and `herald_db_pool_max_connections`, so an exhausted pool shows.
pub fn with_pool_use(render: RenderMetrics, database: &crate::backends::Database) -> RenderMetrics {
    let database = database.clone();
    Arc::new(move || {
        let (size, idle, max) = database.pool_use();
        metrics::gauge!("herald_db_pool_connections", "state" => "in_use").set(size.saturating_sub(idle) as f64);
        metrics::gauge!("herald_db_pool_connections", "state" => "idle").set(idle as f64);
        metrics::gauge!("herald_db_pool_max_connections").set(max as f64);
        render()
    })
}
