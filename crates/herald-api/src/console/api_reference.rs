//! The API reference page: the node's own OpenAPI description (`/openapi.json`) read out as
//! HTML, operation by operation and type by type, with nothing loaded from elsewhere.

use super::language::filters;
use super::language::text_with;
use super::render::{Chrome, PageResult, ok};
use super::session::Session;
use crate::AppState;
use askama::Template;
use axum::routing::get;
use axum::{Extension, Router};
use serde_json::Value;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/api-reference", get(page))
}

struct Operation {
    anchor: String,
    method: String,
    path: String,
    summary: String,
    open: bool,
    params: Vec<Field>,
    body: Option<String>,
    responses: Vec<(String, String, Option<String>)>,
}

struct Group {
    tag: String,
    description: String,
    operations: Vec<Operation>,
}

/// A parameter or a property: name, where or type, required, description.
struct Field {
    name: String,
    kind: String,
    required: bool,
    description: String,
}

struct Type {
    name: String,
    description: String,
    fields: Vec<Field>,
    shape: String,
}

#[derive(Template)]
#[template(path = "console/api_reference.html")]
struct ReferencePage {
    chrome: Chrome,
    version: String,
    description: String,
    groups: Vec<Group>,
    types: Vec<Type>,
}

async fn page(Extension(session): Extension<Session>) -> PageResult {
    let doc = crate::openapi::document();
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let mut groups: Vec<Group> = doc["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| Group { tag: text(&t["name"]), description: text(&t["description"]), operations: Vec::new() })
        .collect();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            let tag = op["tags"][0].as_str().unwrap_or("operations");
            if let Some(group) = groups.iter_mut().find(|g| g.tag == tag) {
                group.operations.push(operation(method, path, op));
            }
        }
    }
    let types =
        doc["components"]["schemas"].as_object().into_iter().flatten().map(|(n, s)| schema_type(n, s)).collect();
    Ok(ok(&ReferencePage {
        chrome: Chrome::new(&session, "/api-reference"),
        version: text(&doc["info"]["version"]),
        description: text(&doc["info"]["description"]),
        groups,
        types,
    }))
}

fn operation(method: &str, path: &str, op: &Value) -> Operation {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let params = op["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| Field {
            name: text(&p["name"]),
            kind: format!("{}, {}", text(&p["in"]), type_name(&p["schema"])),
            required: p["required"].as_bool().unwrap_or(false),
            description: text(&p["description"]),
        })
        .collect();
    let body = op["requestBody"]["content"]
        .as_object()
        .and_then(|c| c.iter().next())
        .map(|(content_type, media)| format!("{} ({content_type})", type_name(&media["schema"])));
    let responses = op["responses"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(status, r)| {
            let schema = r["content"].as_object().and_then(|c| c.values().next()).map(|m| type_name(&m["schema"]));
            (status.clone(), text(&r["description"]), schema.filter(|s| !s.is_empty()))
        })
        .collect();
    Operation {
        anchor: format!("{method}-{path}").replace(['/', '{', '}'], "-"),
        method: method.to_uppercase(),
        path: path.to_string(),
        summary: text(&op["description"]),
        open: op["security"].as_array().is_some_and(|s| s.iter().all(|r| r.as_object().is_some_and(|o| o.is_empty()))),
        params,
        body,
        responses,
    }
}

fn schema_type(name: &str, schema: &Value) -> Type {
    let mut fields = Vec::new();
    let parts: Vec<&Value> = match schema["allOf"].as_array() {
        Some(parts) => parts.iter().collect(),
        None => vec![schema],
    };
    for part in parts {
        let required: Vec<&str> = part["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        for (field, s) in part["properties"].as_object().into_iter().flatten() {
            fields.push(Field {
                name: field.clone(),
                kind: type_name(s),
                required: required.contains(&field.as_str()),
                description: s["description"].as_str().unwrap_or_default().to_string(),
            });
        }
    }
    let shape = match schema["enum"].as_array() {
        Some(values) => {
            let values = values.iter().map(Value::to_string).collect::<Vec<_>>().join(", ");
            text_with("apiref-one-of", &[("values", &values)])
        }
        None if fields.is_empty() => type_name(schema),
        None => String::new(),
    };
    Type {
        name: name.to_string(),
        description: schema["description"].as_str().unwrap_or_default().to_string(),
        fields,
        shape,
    }
}

/// A schema in a few words: a type's name, `array of X`, or its JSON type.
fn type_name(schema: &Value) -> String {
    if let Some(reference) = schema["$ref"].as_str() {
        return reference.rsplit('/').next().unwrap_or_default().to_string();
    }
    if let Some(one_of) = schema["oneOf"].as_array() {
        return joined(one_of.iter().map(type_name), "apiref-either");
    }
    if let Some(all_of) = schema["allOf"].as_array() {
        return joined(all_of.iter().map(type_name), "apiref-both");
    }
    let kinds: Vec<String> = match &schema["type"] {
        Value::String(kind) => vec![kind.clone()],
        Value::Array(kinds) => kinds.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        _ => {
            return if schema.as_object().is_some_and(|o| o.is_empty()) {
                super::language::text("apiref-any")
            } else {
                String::new()
            };
        }
    };
    let shown = kinds.into_iter().map(|kind| match kind.as_str() {
        "array" => text_with("apiref-array-of", &[("item", &type_name(&schema["items"]))]),
        "object" if schema["additionalProperties"].is_object() => {
            text_with("apiref-map-of", &[("value", &type_name(&schema["additionalProperties"]))])
        }
        _ => match schema["format"].as_str() {
            Some(format) => format!("{kind} ({format})"),
            None => kind,
        },
    });
    joined(shown, "apiref-either")
}

/// Type names joined two by two by `key` (`a or b or c`).
fn joined(names: impl IntoIterator<Item = String>, key: &str) -> String {
    names
        .into_iter()
        .reduce(|first, second| text_with(key, &[("first", &first), ("second", &second)]))
        .unwrap_or_default()
}
