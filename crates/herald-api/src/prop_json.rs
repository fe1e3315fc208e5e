//! Generated JSON for the request decoders' property tests: arbitrary values (odd numbers,
//! control characters, deep nesting) put into one field of an otherwise valid body. Case
//! counts follow `PROPTEST_CASES` (256 by default); `scripts/fuzz-props.sh` runs a million.

use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Number, Value, json};

/// proptest's defaults (cases from `PROPTEST_CASES`), without failure files in the tree.
pub fn config() -> Config {
    Config { failure_persistence: None, ..Config::default() }
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        prop::sample::select(vec![0.0, -0.0, 1e-300, 5e-324, 1e300, -1.0, 0.5, 1e6, 1e6 + 1.0, 1e-6])
            .prop_map(|f| json!(f)),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,24}",
        "[a-z0-9,{}$ ]{0,40}",
        Just(String::new()),
        "[0-9]{1,3}".prop_map(|n| format!("{{${n}}}")),
        (0usize..3).prop_map(|n| ["send", "outbox", "HTTP://x/"][n].to_string()),
        (1usize..400).prop_map(|n| "r,".repeat(n)),
    ]
}

/// Any JSON value, nested up to three levels.
pub fn json_value() -> impl Strategy<Value = Value> {
    let leaf =
        prop_oneof![Just(Value::Null), any::<bool>().prop_map(Value::Bool), number(), text().prop_map(Value::String)];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(text(), inner, 0..5).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// `base` with the field at `path` (object keys; numbers index arrays) set to `value`.
pub fn with_field(base: &Value, path: &[&str], value: Value) -> Value {
    let mut body = base.clone();
    let mut at = &mut body;
    for (n, seg) in path.iter().enumerate() {
        let last = n + 1 == path.len();
        at = match seg.parse::<usize>() {
            Ok(i) if at.is_array() => &mut at[i],
            _ if last => {
                at[*seg] = Value::Null;
                &mut at[*seg]
            }
            _ => &mut at[*seg],
        };
    }
    *at = value;
    body
}

/// How serde_path_to_error and the API write a path: `a.b[0].c`.
pub fn rendered(path: &[&str]) -> String {
    let mut out = String::new();
    for seg in path {
        if seg.parse::<usize>().is_ok() {
            out.push_str(&format!("[{seg}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(seg);
        }
    }
    out
}

#[test]
fn paths_are_set_and_rendered() {
    let base = json!({"a": {"b": [1, {"c": 2}]}});
    assert_eq!(with_field(&base, &["a", "b", "1", "c"], json!(3)), json!({"a": {"b": [1, {"c": 3}]}}));
    assert_eq!(with_field(&base, &["z"], json!(null)), json!({"a": {"b": [1, {"c": 2}]}, "z": null}));
    assert_eq!(rendered(&["a", "b", "1", "c"]), "a.b[1].c");
}
