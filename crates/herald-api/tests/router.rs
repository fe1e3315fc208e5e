//! The API router on its own, without a node: an embedded store, bus and crowd directory behind
//! `AppState`, requests sent with `tower::ServiceExt::oneshot`. Authentication, the austin send
//! API's answer and its effect on the bus and the trace, and refusals that name their field.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{TimeZone, Utc};
use herald_api::{ApiLimits, AppState, router};
use herald_bus::{Bus, SqliteBus};
use herald_channels::account::BuildContext;
use herald_channels::http::{HttpSettings, OutboundHttp};
use herald_channels::registry::AccountChannels;
use herald_channels::sealing::Sealer;
use herald_channels::tokens::{MemoryTokenCache, Tokens};
use herald_core::{ChannelKind, Clock, DeliveryJob, TestClock, topic_for};
use herald_crowd::LocalCrowdStore;
use herald_store::{InstallationRepo, LedgerRepo, SqliteStore};
use serde_json::{Value, json};
use std::sync::Arc;
use tower::ServiceExt;

struct Api {
    app: axum::Router,
    key: String,
    store: Arc<SqliteStore>,
    bus: Arc<SqliteBus>,
    _dir: tempfile::TempDir,
}

impl Api {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(&dir.path().join("h.sqlite")).await.unwrap());
        let clock = Arc::new(TestClock::new(Utc.with_ymd_and_hms(2026, 4, 1, 12, 0, 0).unwrap()));
        let bus = Arc::new(SqliteBus::new(store.writer().clone(), clock.clone(), 5));
        let http = OutboundHttp::new(HttpSettings::default()).unwrap();
        let tokens = Tokens::new(Arc::new(MemoryTokenCache::default()), clock.clone());
        let sealer = Sealer::from_key_file(&dir.path().join("herald.key")).unwrap();
        let accounts = AccountChannels::new(store.clone(), sealer, BuildContext { http, tokens, clock: clock.clone() });
        let key = herald_api::ensure_api_key(store.as_ref(), clock.now()).await.unwrap().expect("a first key");
        let installation = store.installation().await.unwrap();
        let accounts = Arc::new(accounts);
        let state = AppState {
            channels: herald_channels::Channels::new().with_accounts(accounts.clone()),
            installation,
            login_guard: Default::default(),
            store: store.clone(),
            bus: bus.clone(),
            intake: herald_api::intake::Intake::start(store.clone(), bus.clone(), clock.clone()),
            crowds: Arc::new(LocalCrowdStore::new(dir.path().join("crowds"))),
            clock,
            limits: ApiLimits::default(),
            accounts,
            console: Default::default(),
            readiness: Default::default(),
            metrics: None,
            dedup: store.clone(),
            policy_defaults: Default::default(),
            commands: Default::default(),
        };
        Self { app: router(state), key, store, bus, _dir: dir }
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>, key: Option<&str>) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(key) = key {
            request = request.header("X-API-Key", key);
        }
        let body = match body {
            Some(json) => {
                request = request.header("Content-Type", "application/json");
                Body::from(json.to_string())
            }
            None => Body::empty(),
        };
        let response = self.app.clone().oneshot(request.body(body).unwrap()).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call("POST", path, Some(body), Some(&self.key.clone())).await
    }

    async fn outbox_template(&self) -> i64 {
        let (status, body) = self
            .post("/api/templates", json!({"name": "hello", "channel": "outbox", "content": {"text": "Hi {$name}"}}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_i64().unwrap()
    }
}

#[tokio::test]
async fn every_api_route_wants_a_key_and_healthz_does_not() {
    let api = Api::start().await;
    assert_eq!(api.call("GET", "/healthz", None, None).await.0, StatusCode::OK);
    for (method, path) in [("GET", "/api/templates"), ("GET", "/api/runs"), ("POST", "/send"), ("POST", "/batchSend")] {
        let (status, body) = api.call(method, path, Some(json!({})), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}: {body}");
        let (status, _) = api.call(method, path, Some(json!({})), Some("hk_not-a-key")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path} with a wrong key");
    }
}

#[tokio::test]
async fn send_answers_austins_shape_and_puts_one_job_on_the_bus_after_tracing_it() {
    let api = Api::start().await;
    let template = api.outbox_template().await;
    let request = json!({"code": "send", "messageTemplateId": template,
        "messageParam": {"bizId": "order-7", "receiver": "13800000000, 13800000001,13800000000", "variables": {"name": "Li"}}});
    let (status, body) = api.post("/send", request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["code"], "0");
    let sent = body["data"].as_array().unwrap();
    assert_eq!(sent.len(), 2, "receivers de-duplicated as austin does: {body}");
    assert!(sent.iter().all(|m| m["bizId"] == "order-7" && m["messageId"].is_string()));

    let claims = api.bus.claim(&topic_for(ChannelKind::Outbox), 10, std::time::Duration::from_secs(60)).await.unwrap();
    assert_eq!(claims.len(), 1, "one param, one job");
    let job: DeliveryJob = serde_json::from_slice(&claims[0].payload).unwrap();
    assert_eq!(job.batch.recipients().count(), 2);
    for m in sent {
        let trace = api.store.trace_of(m["messageId"].as_str().unwrap()).await.unwrap();
        assert_eq!(trace.len(), 1, "accepted, recorded before the job went on the bus");
        assert_eq!(trace[0].event, "accepted");
    }
}

#[tokio::test]
async fn refusals_name_the_field_in_austins_codes_and_publish_nothing() {
    let api = Api::start().await;
    let template = api.outbox_template().await;
    let cases = [
        (
            json!({"code": "send", "messageTemplateId": 999, "messageParam": {"receiver": "a", "variables": {"name": "x"}}}),
            StatusCode::NOT_FOUND,
            "A0002",
            "999",
        ),
        (
            json!({"code": "send", "messageTemplateId": template}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "A0001",
            "messageParam",
        ),
        (
            json!({"code": "recall", "messageTemplateId": template, "messageParam": {"receiver": "a"}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "A0001",
            "code",
        ),
        (
            json!({"code": "send", "messageTemplateId": template, "messageParam": {"receiver": "a", "variables": {}}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "A0001",
            "{$name}",
        ),
    ];
    for (request, status, code, named) in cases {
        let (got, body) = api.post("/send", request.clone()).await;
        assert_eq!((got, body["code"].as_str()), (status, Some(code)), "{request}: {body}");
        assert!(body["msg"].as_str().unwrap().contains(named), "{request}: {body}");
    }
    let stats = api.bus.stats(&topic_for(ChannelKind::Outbox)).await.unwrap();
    assert_eq!(stats.ready, 0, "nothing published for a refused request");
}
