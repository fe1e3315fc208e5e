//! `{$name}` placeholders in template content, as austin writes them: finding the names a
//! template needs, and rendering content for one receiver's variables.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("placeholder {{${0}}} has no value")]
    Missing(String),
}

/// Calls `on_name` for every placeholder in `text`, in order.
fn scan<'a>(text: &'a str, mut on_piece: impl FnMut(Piece<'a>)) {
    let mut rest = text;
    while let Some(start) = rest.find("{$") {
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) if is_name(&after[..end]) => {
                on_piece(Piece::Text(&rest[..start]));
                on_piece(Piece::Name(&after[..end]));
                rest = &after[end + 1..];
            }
            _ => {
                on_piece(Piece::Text(&rest[..start + 2]));
                rest = after;
            }
        }
    }
    on_piece(Piece::Text(rest));
}

enum Piece<'a> {
    Text(&'a str),
    Name(&'a str),
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == '.')
}

/// Every placeholder name used anywhere in `content` (string values, at any depth).
pub fn placeholder_names(content: &Value) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    visit_strings(content, &mut |s| {
        scan(s, |piece| {
            if let Piece::Name(name) = piece {
                names.insert(name.to_string());
            }
        })
    });
    names
}

fn visit_strings(value: &Value, f: &mut impl FnMut(&str)) {
    match value {
        Value::String(s) => f(s),
        Value::Array(items) => items.iter().for_each(|v| visit_strings(v, f)),
        Value::Object(map) => map.values().for_each(|v| visit_strings(v, f)),
        _ => {}
    }
}

/// Replaces every placeholder in `text`; a name without a value is an error.
pub fn render_str(text: &str, vars: &BTreeMap<String, String>) -> Result<String, RenderError> {
    let mut out = String::with_capacity(text.len());
    let mut missing = None;
    scan(text, |piece| match piece {
        Piece::Text(t) => out.push_str(t),
        Piece::Name(name) => match vars.get(name) {
            Some(v) => out.push_str(v),
            None => {
                missing.get_or_insert_with(|| name.to_string());
            }
        },
    });
    match missing {
        Some(name) => Err(RenderError::Missing(name)),
        None => Ok(out),
    }
}

/// Renders every string inside `content` for one receiver.
pub fn render(content: &Value, vars: &BTreeMap<String, String>) -> Result<Value, RenderError> {
    Ok(match content {
        Value::String(s) => Value::String(render_str(s, vars)?),
        Value::Array(items) => Value::Array(items.iter().map(|v| render(v, vars)).collect::<Result<_, _>>()?),
        Value::Object(map) => Value::Object(
            map.iter().map(|(k, v)| Ok((k.clone(), render(v, vars)?))).collect::<Result<_, RenderError>>()?,
        ),
        other => other.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn finds_names_at_any_depth() {
        let content = json!({"title": "Hi {$name}", "body": {"lines": ["{$code} left", "{$name}"]}});
        let names: Vec<_> = placeholder_names(&content).into_iter().collect();
        assert_eq!(names, ["code", "name"]);
    }

    #[test]
    fn renders_and_reports_missing() {
        let v = vars(&[("name", "王五"), ("n", "3")]);
        assert_eq!(render_str("你好 {$name}, {$n} new", &v).unwrap(), "你好 王五, 3 new");
        assert_eq!(render_str("{$x}", &v), Err(RenderError::Missing("x".into())));
    }

    #[test]
    fn leaves_non_placeholders_alone() {
        let v = vars(&[("a", "1")]);
        assert_eq!(render_str("{$} {$a b} ${a} {$a", &v).unwrap(), "{$} {$a b} ${a} {$a");
        assert_eq!(render_str("{$a}{$a}", &v).unwrap(), "11");
    }
}
