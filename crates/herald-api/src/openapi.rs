//! The API's OpenAPI 3.1 description, made from the handlers' `#[utoipa::path]` annotations and
//! the types they take and answer: served at `/openapi.json` and shown by the console's API
//! reference page. Every operation but the probes needs an API key; every error answers
//! [`ErrorBody`], added here once as each operation's `default` response.

use crate::error::ErrorBody;
use crate::{
    accounts, crowd_admin, crowds, dry_run, funnel, jobs, keys, messages, policies, recall, receipts, runs, schedules,
    send, status_events, suppressions, template_test, templates,
};
use axum::Json;
use serde_json::Value;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "herald",
        description = "Scheduled sends to crowds over email, SMS, DingTalk, WeCom, Feishu, Getui \
            and webhooks, with austin's send API. Give an API key as `X-API-Key` or \
            `Authorization: Bearer`; a `send` key calls only /send, /batchSend and /recall.",
    ),
    paths(
        send::send, send::batch_send, recall::recall,
        templates::list, templates::create, templates::read, templates::update, templates::remove,
        templates::start, templates::stop, templates::run_now, templates::fires, template_test::test,
        dry_run::dry_run,
        crowds::list, crowds::upload, crowds::read, crowd_admin::bad_rows, crowd_admin::rename,
        crowd_admin::remove, crowd_admin::download,
        runs::list, runs::read, runs::shards, runs::cancel, runs::pause, runs::resume, runs::resend, policies::run_states,
        funnel::run_funnel, funnel::template_funnel,
        messages::outbox, messages::trace, policies::messages, receipts::unmatched,
        accounts::list, accounts::create, accounts::read, accounts::update, accounts::remove,
        accounts::test_send, accounts::refresh_token,
        schedules::list, schedules::fires, schedules::runs, schedules::alarms,
        jobs::list, jobs::create, jobs::read, jobs::update, jobs::remove, jobs::pause, jobs::resume,
        jobs::run_now, jobs::runs,
        policies::discards, policies::discard, policies::undiscard, policies::rates, policies::set_rate,
        suppressions::list, suppressions::add, suppressions::remove, suppressions::import,
        keys::list, keys::create, keys::revoke,
        status_events::list, status_events::create, status_events::read, status_events::update,
        status_events::remove, status_events::rotate, status_events::replay,
        crate::metrics::metrics, crate::healthz, crate::readiness::readyz, openapi_json,
    ),
    components(schemas(ErrorBody)),
    modifiers(&Conventions),
    tags(
        (name = "send", description = "austin's send API"),
        (name = "templates", description = "message templates and their schedules"),
        (name = "crowds", description = "uploaded audiences"),
        (name = "runs", description = "runs and their progress"),
        (name = "messages", description = "what was sent, and each message's trace"),
        (name = "accounts", description = "channel accounts (secrets masked)"),
        (name = "schedules", description = "every schedule the scheduler fires"),
        (name = "jobs", description = "scheduled jobs (HTTP calls on a cadence) and their run log"),
        (name = "policies", description = "the discard list and flow control"),
        (name = "suppressions", description = "the suppression list: receivers who opted out"),
        (name = "keys", description = "API keys"),
        (name = "events", description = "status events out: signed, batched webhooks of what happened to messages and runs"),
        (name = "operations", description = "probes, metrics and this description"),
    )
)]
pub struct ApiDoc;

/// The description as served, with the crate's version.
pub fn document() -> Value {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    let mut value = serde_json::to_value(&doc).unwrap_or_default();
    close_only_requests(&mut value);
    value
}

/// This description.
#[utoipa::path(get, path = "/openapi.json", tag = "operations", security(()),
    responses((status = 200, description = "the OpenAPI description", content_type = "application/json")))]
pub(crate) async fn openapi_json() -> Json<Value> {
    Json(document())
}

/// What every operation shares: the key schemes, and the error body as the default response.
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme("apiKey", SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key"))));
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        let error = error_response();
        for item in doc.paths.paths.values_mut() {
            for op in operations(item) {
                if op.security.is_none() {
                    op.security = Some(vec![
                        utoipa::openapi::security::SecurityRequirement::new("apiKey", Vec::<String>::new()),
                        utoipa::openapi::security::SecurityRequirement::new("bearer", Vec::<String>::new()),
                    ]);
                }
                op.responses.responses.entry("default".into()).or_insert_with(|| RefOr::T(error.clone()));
            }
        }
    }
}

/// A request type refuses unknown fields (`additionalProperties: false`); an answer that
/// flattens it into a larger object (a template with its id and times) must not inherit that,
/// so wherever such a type is a part of an `allOf` it is inlined there without it.
fn close_only_requests(value: &mut Value) {
    let closed: serde_json::Map<String, Value> = value["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, schema)| schema["additionalProperties"] == Value::Bool(false))
        .map(|(name, schema)| {
            let mut open = schema.clone();
            open.as_object_mut().map(|o| o.remove("additionalProperties"));
            (format!("#/components/schemas/{name}"), open)
        })
        .collect();
    open_all_of_parts(value, &closed);
}

fn open_all_of_parts(value: &mut Value, closed: &serde_json::Map<String, Value>) {
    match value {
        Value::Object(object) => {
            if let Some(Value::Array(parts)) = object.get_mut("allOf") {
                for part in parts.iter_mut() {
                    if let Some(open) = part["$ref"].as_str().and_then(|r| closed.get(r)) {
                        *part = open.clone();
                    }
                }
            }
            object.values_mut().for_each(|v| open_all_of_parts(v, closed));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| open_all_of_parts(v, closed)),
        _ => {}
    }
}

fn error_response() -> Response {
    let schema = RefOr::Ref(utoipa::openapi::Ref::from_schema_name(ErrorBody::name()));
    ResponseBuilder::new()
        .description("refused or failed: austin's code and a message naming the field, line or value")
        .content("application/json", utoipa::openapi::content::ContentBuilder::new().schema(Some(schema)).build())
        .build()
}

fn operations(item: &mut utoipa::openapi::PathItem) -> impl Iterator<Item = &mut Operation> {
    [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch, &mut item.head]
        .into_iter()
        .filter_map(Option::as_mut)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// Every path the API routes (the console's pages live in a subfolder), read from the sources.
    fn routed_paths() -> BTreeSet<String> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let mut paths = BTreeSet::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let source = std::fs::read_to_string(entry.unwrap().path()).unwrap_or_default();
            for piece in source.split(".route(\"").skip(1) {
                let path = piece.split('"').next().unwrap();
                paths.insert(path.to_string());
            }
        }
        paths
    }

    #[test]
    fn every_api_route_is_described_and_nothing_else() {
        let described: BTreeSet<String> = document()["paths"].as_object().unwrap().keys().cloned().collect();
        assert_eq!(described, routed_paths());
    }

    #[test]
    fn every_operation_answers_errors_in_the_error_body_and_names_its_security() {
        let doc = document();
        let open = ["/healthz", "/readyz", "/openapi.json"];
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let default = &op["responses"]["default"]["content"]["application/json"]["schema"]["$ref"];
                assert_eq!(default, "#/components/schemas/ErrorBody", "{method} {path}");
                let security = op["security"].as_array().unwrap();
                assert_eq!(
                    open.contains(&path.as_str()),
                    security.iter().all(|s| s.as_object().unwrap().is_empty()),
                    "{method} {path}"
                );
            }
        }
        assert!(doc["components"]["schemas"]["TemplateSpec"].is_object());
    }

    #[test]
    fn a_request_type_refuses_unknown_fields_but_an_answer_that_flattens_it_does_not() {
        let doc = document();
        assert_eq!(doc["components"]["schemas"]["TemplateSpec"]["additionalProperties"], false);
        let parts = doc["components"]["schemas"]["Template"]["allOf"].as_array().unwrap();
        assert!(parts.iter().all(|p| p.get("$ref").is_none() && p.get("additionalProperties").is_none()), "{parts:?}");
        assert!(parts.iter().any(|p| p["properties"]["name"].is_object()));
    }
}
