//! The shipped configuration files document every setting the code reads, and nothing the code
//! ignores. Every key of `Config` (its defaults serialized, and the Kafka settings
//! `config/cluster.toml` documents) appears in `config/herald.toml` or, for `[bus.kafka]`, in
//! `config/cluster.toml`, set or commented out; and each file with every commented-out key
//! uncommented loads (every section refuses unknown keys), so a documented key no code reads
//! fails here.

use figment::providers::Format;
use herald::Config;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn read(file: &str) -> String {
    std::fs::read_to_string(root().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// The dotted keys of a serialized config: objects are walked, anything else (and an empty
/// map, whose keys are the user's) is a leaf.
fn code_keys(value: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, child) in map {
                let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                code_keys(child, &path, out);
            }
        }
        _ => {
            out.insert(prefix.to_string());
        }
    }
}

/// A config file with its commented-out settings and sections uncommented (prose stays a comment).
fn uncommented(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let bare = line.trim_start_matches('#').trim_start();
        let setting = bare.starts_with('[')
            || bare
                .split_once(" = ")
                .is_some_and(|(k, _)| !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        if line.starts_with('#') && setting {
            // A trailing remark after two spaces is a comment, not part of the value.
            out.push_str(bare.split("  #").next().unwrap_or(bare));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// The dotted keys a config file names, set or commented out.
fn documented_keys(text: &str) -> BTreeSet<String> {
    let parsed: serde_json::Map<String, Value> =
        figment::Figment::from(figment::providers::Toml::string(&uncommented(text)))
            .extract()
            .unwrap_or_else(|e| panic!("the documented keys do not parse as TOML: {e}"));
    let mut keys = BTreeSet::new();
    code_keys(&serde_json::to_value(parsed).unwrap(), "", &mut keys);
    keys
}

#[test]
fn every_key_the_code_reads_is_documented() {
    let mut code = serde_json::to_value(Config::default()).unwrap();
    let cluster = Config::load(Some(&root().join("config/cluster.toml"))).expect("config/cluster.toml loads");
    code["bus"]["kafka"] = serde_json::to_value(cluster.bus.kafka.expect("cluster.toml sets [bus.kafka]")).unwrap();
    let mut read_by_code = BTreeSet::new();
    code_keys(&code, "", &mut read_by_code);

    let mut documented = documented_keys(&read("config/herald.toml"));
    documented
        .extend(documented_keys(&read("config/cluster.toml")).into_iter().filter(|k| k.starts_with("bus.kafka.")));
    // A map the user fills (per-channel dedup rules, librdkafka overrides) is documented by an example entry.
    let undocumented: Vec<&String> = read_by_code
        .iter()
        .filter(|k| !documented.contains(*k) && !documented.iter().any(|d| d.starts_with(&format!("{k}."))))
        .collect();
    assert!(undocumented.is_empty(), "read by the code, documented in neither config file: {undocumented:?}");
}

#[test]
fn every_documented_key_is_read_by_the_code() {
    for file in ["config/herald.toml", "config/cluster.toml"] {
        let all = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
        std::fs::write(all.path(), uncommented(&read(file))).unwrap();
        Config::load(Some(all.path()))
            .unwrap_or_else(|e| panic!("{file} with every setting uncommented does not load: {e:#}"));
    }
}
