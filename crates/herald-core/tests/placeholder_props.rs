//! Generated content for the placeholder renderer: any text and variables render without
//! panicking; with every name given, rendering succeeds and leaves no placeholder it knows; a
//! missing name is the one reported. Cases follow `PROPTEST_CASES` (256 by default);
//! `scripts/fuzz-props.sh` runs a million.

use herald_core::placeholders::{RenderError, placeholder_names, render, render_str};
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Value, json};
use std::collections::BTreeMap;

fn config() -> Config {
    Config { failure_persistence: None, ..Config::default() }
}

/// Text rich in `{$`, `}` and names.
fn template_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("{$".to_string()),
        Just("}".to_string()),
        Just("$".to_string()),
        Just("{".to_string()),
        "[a-z_.-]{0,5}",
        ".{0,3}",
        "[a-c]{1,2}".prop_map(|n| format!("{{${n}}}")),
    ];
    prop::collection::vec(piece, 0..20).prop_map(|p| p.concat())
}

fn variables() -> impl Strategy<Value = BTreeMap<String, String>> {
    prop::collection::btree_map("[a-c]{1,2}", ".{0,6}", 0..6)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn rendering_any_text_succeeds_exactly_when_every_name_is_given(text in template_text(), vars in variables()) {
        let content = json!({ "t": text, "list": [text.clone()] });
        let names = placeholder_names(&content);
        let missing: Vec<&String> = names.iter().filter(|n| !vars.contains_key(*n)).collect();
        match render_str(&text, &vars) {
            Ok(out) => {
                prop_assert!(missing.is_empty(), "rendered despite missing {missing:?}");
                // Values are inserted, never read as placeholders themselves.
                let empty: BTreeMap<String, String> = vars.keys().map(|k| (k.clone(), String::new())).collect();
                let bare = render_str(&text, &empty).unwrap();
                prop_assert!(out.len() >= bare.len());
                if !text.contains("{$") {
                    prop_assert_eq!(&out, &text, "text without placeholders is unchanged");
                }
            }
            Err(RenderError::Missing(name)) => {
                prop_assert!(missing.contains(&&name), "{name} reported, missing {missing:?}");
            }
        }
        let rendered = render(&content, &vars);
        prop_assert_eq!(rendered.is_ok(), missing.is_empty());
        if let Ok(Value::Object(fields)) = rendered {
            prop_assert_eq!(fields.len(), 2, "the content keeps its shape");
        }
    }

    #[test]
    fn any_json_content_is_scanned_without_panic(text in ".{0,64}", depth in 0usize..40) {
        let mut content = json!(text);
        for _ in 0..depth {
            content = json!({ "k": [content] });
        }
        let names = placeholder_names(&content);
        let vars: BTreeMap<String, String> = names.iter().map(|n| (n.clone(), "v".to_string())).collect();
        prop_assert!(render(&content, &vars).is_ok());
    }
}
