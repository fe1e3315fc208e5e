//! The alert rules and the dashboard under deploy/ name only metrics herald records: each
//! `herald_*` name in them (less a histogram's `_bucket`, `_count` or `_sum`) is a metric name
//! some crate's source records, so a renamed metric cannot leave an alert silently dead.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every `herald_…` token of `text`, with a histogram's series suffix removed.
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (at, _) in text.match_indices("herald_") {
        let name: String =
            text[at..].chars().take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_').collect();
        let base = ["_bucket", "_count", "_sum"].iter().find_map(|s| name.strip_suffix(s)).unwrap_or(&name);
        names.insert(base.to_string());
    }
    names
}

/// The metric names recorded in the crates' sources (`counter!("…"`, `gauge!("…"`, `histogram!("…"`).
fn recorded() -> BTreeSet<String> {
    let mut sources = String::new();
    let mut dirs = vec![root().join("crates")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() && path.file_name().is_some_and(|n| n != "target" && n != "tests") {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                sources.push_str(&std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    ["counter!(\"", "gauge!(\"", "histogram!(\""]
        .iter()
        .flat_map(|m| {
            sources.match_indices(m).map(|(at, _)| sources[at + m.len()..].split('"').next().unwrap().to_string())
        })
        .collect()
}

#[test]
fn alerts_and_dashboard_name_only_recorded_metrics() {
    let recorded = recorded();
    assert!(recorded.len() >= 10, "metrics recorded in the sources: {recorded:?}");
    for file in ["deploy/prometheus/alerts.yml", "deploy/grafana/herald.json"] {
        let text = std::fs::read_to_string(root().join(file)).unwrap();
        if file.ends_with(".json") {
            serde_json::from_str::<serde_json::Value>(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        }
        let named = metric_names(&text);
        assert!(!named.is_empty(), "{file} names no metric");
        let unknown: Vec<&String> = named.iter().filter(|n| !recorded.contains(*n)).collect();
        assert!(
            unknown.is_empty(),
            "{file} names metrics herald does not record: {unknown:?} (recorded: {recorded:?})"
        );
    }
}
