//! herald-api: the HTTP interface. `router` builds every route on one `AppState`: the
//! austin-compatible send API (`/send`, `/batchSend`), the admin API under `/api`, crowd
//! uploads, `/healthz`, `/readyz`, the OpenAPI description at `/openapi.json` (see `openapi`),
//! and the admin console at `/` (see `console`). API routes but those three need an API key;
//! console pages need a logged-in session. Providers' SMS reply callbacks and email
//! unsubscribe links (see `inbound`) carry their own tokens instead.

mod accounts;
mod auth;
pub mod console;
mod crowd_admin;
mod crowds;
#[cfg(test)]
mod decoder_props;
mod dry_run;
mod error;
mod extract;
mod filters;
mod funnel;
mod inbound;
pub mod intake;
mod job_children;
mod jobs;
mod json;
pub mod keys;
mod messages;
pub mod metrics;
pub mod openapi;
mod paging;
mod policies;
#[cfg(test)]
mod prop_json;
pub mod readiness;
mod recall;
mod recall_template;
mod receipts;
mod resend;
mod runs;
mod schedules;
mod send;
mod send_params;
mod status_events;
mod suppression_import;
mod suppressions;
mod template_test;
mod templates;

pub use auth::{create_api_key, ensure_api_key, hash_api_key, new_api_key};
pub use crowds::{crowd_record, record_crowd};
pub use error::ApiError;

use axum::Router;
use axum::routing::get;
use herald_bus::Bus;
use herald_core::Clock;
use herald_core::policies::PolicyDefaults;
use herald_crowd::CrowdStore;
use herald_store::{DedupStore, Store};
use std::sync::Arc;

/// Limits the API enforces.
#[derive(Debug, Clone)]
pub struct ApiLimits {
    /// Largest crowd upload, in bytes; larger gets a 413.
    pub max_upload_bytes: u64,
    /// Largest JSON request body, in bytes.
    pub max_json_bytes: usize,
}

impl Default for ApiLimits {
    fn default() -> Self {
        Self { max_upload_bytes: 512 * 1024 * 1024, max_json_bytes: 2 * 1024 * 1024 }
    }
}

/// Everything a handler needs, cloned cheaply per request.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub bus: Arc<dyn Bus>,
    /// Where the send API's accepted messages are recorded and published, in groups.
    pub intake: intake::Intake,
    pub crowds: Arc<dyn CrowdStore>,
    pub clock: Arc<dyn Clock>,
    pub limits: ApiLimits,
    /// Channel accounts: building, test sends, token refreshes.
    pub accounts: Arc<herald_channels::registry::AccountChannels>,
    /// Every channel the node delivers through, for a template's test send.
    pub channels: herald_channels::Channels,
    /// The admin console's sessions and confirmations.
    pub console: console::ConsoleSettings,
    /// Whose message ids the send API makes.
    pub installation: herald_core::Installation,
    /// Failed console logins, per client address and user, for throttling.
    pub login_guard: Arc<console::login_guard::LoginGuard>,
    /// What `/readyz` asks beyond the database and the bus.
    pub readiness: readiness::Readiness,
    /// Renders `/metrics`; None when the node records no metrics.
    pub metrics: Option<metrics::RenderMetrics>,
    /// The dedup windows the workers count in, which a dry run reads and never writes.
    pub dedup: Arc<dyn DedupStore>,
    /// The workers' defaults for templates that set no quiet window or dedup rules, which a dry
    /// run judges by as the workers do.
    pub policy_defaults: PolicyDefaults,
    /// Which commands this node's scheduled jobs may run, checked when a job is saved.
    pub commands: herald_core::scheduled_job::CommandPolicy,
}

pub fn router(state: AppState) -> Router {
    let protected = Router::new()
        .merge(send::router())
        .merge(recall::router())
        .merge(templates::router())
        .merge(template_test::router())
        .merge(dry_run::router())
        .merge(status_events::router())
        .merge(crowds::router(&state.limits))
        .merge(crowd_admin::router())
        .merge(runs::router())
        .merge(funnel::router())
        .merge(messages::router())
        .merge(receipts::router())
        .merge(accounts::router())
        .merge(schedules::router())
        .merge(jobs::router())
        .merge(policies::router())
        .merge(suppressions::router(&state.limits))
        .merge(keys::router())
        .route("/metrics", get(metrics::metrics))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), auth::require_api_key));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readiness::readyz))
        .route("/openapi.json", get(openapi::openapi_json))
        .merge(protected)
        .merge(inbound::router())
        .merge(console::router(&state))
        .fallback(no_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(axum::extract::DefaultBodyLimit::max(state.limits.max_json_bytes))
        .layer(axum::middleware::from_fn(metrics::track_http))
        .layer(tower_http::trace::TraceLayer::new_for_http().make_span_with(request_span))
        .with_state(state)
}

/// The request span, with a path that never holds a secret: a setup link's token, and an
/// inbound callback's or unsubscribe link's, is elided.
fn request_span(req: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let path = req.uri().path();
    let path = if path.starts_with("/setup/") { "/setup/…" } else { path };
    let prefix = inbound::TOKEN_PREFIXES.into_iter().find(|prefix| path.starts_with(prefix));
    let elided = prefix.map(|prefix| format!("{prefix}…"));
    tracing::debug_span!("request", method = %req.method(), path = %elided.as_deref().unwrap_or(path))
}

/// Unknown paths answer in the API's error shape, not with an empty body.
async fn no_route(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!("no route for {method} {}", herald_core::listing::clip(uri.path(), 200)))
}

async fn wrong_method(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::MethodNotAllowed(format!("{method} is not allowed on {}", herald_core::listing::clip(uri.path(), 200)))
}

#[utoipa::path(get, path = "/healthz", tag = "operations", security(()),
    responses((status = 200, description = "alive: the database answers", body = String, content_type = "text/plain")))]
async fn healthz(axum::extract::State(state): axum::extract::State<AppState>) -> Result<&'static str, ApiError> {
    state.store.count_api_keys().await?;
    Ok("ok")
}
