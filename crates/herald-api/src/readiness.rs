//! `/readyz`: whether this node can do its work now. The database and the bus are always asked;
//! the node adds what else it depends on (Redis in a cluster). Each check has two seconds; the
//! answer names each check's result, and is 503 when any failed, so a load balancer stops
//! sending to a node that cannot serve. `/healthz` only says the process answers.

use crate::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures::future::{BoxFuture, join_all};

use std::sync::Arc;
use std::time::Duration;

/// How long one check may take before it counts as failed.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// One dependency's check: Ok when it answers.
pub type Probe = Arc<dyn Fn() -> BoxFuture<'static, Result<(), String>> + Send + Sync>;

/// The checks a node adds to the database's and the bus's.
#[derive(Clone, Default)]
pub struct Readiness {
    probes: Vec<(&'static str, Probe)>,
}

impl Readiness {
    pub fn with(mut self, name: &'static str, probe: Probe) -> Self {
        self.probes.push((name, probe));
        self
    }
}

fn database(state: &AppState) -> Probe {
    let store = state.store.clone();
    Arc::new(move || {
        let store = store.clone();
        Box::pin(async move { store.count_api_keys().await.map(|_| ()).map_err(|e| e.to_string()) })
    })
}

fn bus(state: &AppState) -> Probe {
    let bus = state.bus.clone();
    Arc::new(move || {
        let bus = bus.clone();
        Box::pin(async move {
            bus.stats(&herald_core::topic_for(herald_core::ChannelKind::Outbox))
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
    })
}

/// Whether the node is ready, and each check's answer (`ok` or why not).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ReadyAnswer {
    ready: bool,
    checks: std::collections::BTreeMap<String, String>,
}

#[utoipa::path(get, path = "/readyz", tag = "operations", security(()),
    responses((status = 200, description = "ready: each check says ok", body = ReadyAnswer),
        (status = 503, description = "not ready: the failing checks say why", body = ReadyAnswer)))]
pub(crate) async fn readyz(State(state): State<AppState>) -> Response {
    let mut probes = vec![("database", database(&state)), ("bus", bus(&state))];
    probes.extend(state.readiness.probes.iter().cloned());
    let results = join_all(probes.iter().map(|(name, probe)| async move {
        let result = match tokio::time::timeout(CHECK_TIMEOUT, probe()).await {
            Ok(result) => result,
            Err(_) => Err(format!("no answer within {} s", CHECK_TIMEOUT.as_secs())),
        };
        (*name, result)
    }))
    .await;
    let ready = results.iter().all(|(_, r)| r.is_ok());
    let checks = results
        .into_iter()
        .map(|(name, r)| {
            (name.to_string(), r.err().map(|e| herald_core::listing::clip(&e, 200)).unwrap_or_else(|| "ok".into()))
        })
        .collect();
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(ReadyAnswer { ready, checks })).into_response()
}
