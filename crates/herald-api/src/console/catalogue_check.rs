//! Checks that every string the console shows comes from the message catalogues: both
//! languages hold the same keys, every key the templates and handlers ask for exists, the
//! Chinese catalogue is Chinese, and no template carries text of its own.

use super::language::Language;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files_in(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == extension))
        .collect();
    files.sort();
    files
}

/// Each message of a language's catalogue: key and its text (first line only).
fn messages(language: Language) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for file in files_in(&crate_dir().join("locales").join(language.tag()), "ftl") {
        for line in std::fs::read_to_string(&file).unwrap().lines() {
            let Some((key, value)) = line.split_once(" =") else { continue };
            let is_key = key.starts_with(|c: char| c.is_ascii_lowercase())
                && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if is_key {
                found.push((key.to_string(), value.trim().to_string()));
            }
        }
    }
    found
}

/// The keys a source asks for by name: `"key"|t`, `"key"|t1(..)`, `text("key")` and
/// `text_with("key", ..)`.
fn keys_asked_in(source: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let patterns: [(&str, &str); 3] = [("\"", "\"|t"), ("text(\"", "\")"), ("text_with(\"", "\"")];
    for (open, close) in patterns {
        let mut rest = source;
        while let Some(start) = rest.find(open) {
            let after = &rest[start + open.len()..];
            let Some(end) = after.find('"') else { break };
            let key = after[..end].to_string();
            // `form.text("name")` reads a form field, not the catalogue.
            let called_alone = !open.starts_with("text")
                || !rest[..start].ends_with(|c: char| c == '.' || c == '_' || c.is_alphanumeric());
            let closes = called_alone && (after[end..].starts_with(close) || close == "\"");
            if closes
                && !key.is_empty()
                && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            {
                keys.push(key);
            }
            rest = &after[end..];
        }
    }
    keys
}

fn sources() -> Vec<(PathBuf, String)> {
    let dirs = [crate_dir().join("templates/console"), crate_dir().join("src/console")];
    let mut all = Vec::new();
    for (dir, ext) in [(&dirs[0], "html"), (&dirs[1], "rs")] {
        for file in files_in(dir, ext) {
            if file.ends_with("catalogue_check.rs") || file.ends_with("language.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&file).unwrap();
            all.push((file, text));
        }
    }
    all
}

/// The keys of a language's catalogue.
pub(super) fn keys_of(language: Language) -> BTreeSet<String> {
    messages(language).into_iter().map(|(k, _)| k).collect()
}

#[test]
fn both_languages_hold_the_same_keys() {
    let (en, zh) = (keys_of(Language::English), keys_of(Language::Chinese));
    assert!(en.len() > 50, "the English catalogue is read ({} keys)", en.len());
    let only_en: Vec<_> = en.difference(&zh).collect();
    let only_zh: Vec<_> = zh.difference(&en).collect();
    assert!(only_en.is_empty() && only_zh.is_empty(), "only in en: {only_en:?}; only in zh-CN: {only_zh:?}");
}

#[test]
fn every_key_asked_for_is_in_both_catalogues() {
    let held = [keys_of(Language::English), keys_of(Language::Chinese)];
    let holds = |language: Language, key: &str| held[language as usize].contains(key);
    let mut missing = Vec::new();
    for (file, text) in sources() {
        for key in keys_asked_in(&text) {
            for language in Language::ALL {
                if !holds(language, &key) {
                    missing.push(format!("{} asks for {key}, missing in {}", file.display(), language.tag()));
                }
            }
        }
    }
    for (_, key) in super::render::TABS {
        assert!(holds(Language::Chinese, key) && holds(Language::English, key), "tab {key}");
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

/// Texts the same in both languages: names, codes and symbols.
const SAME_IN_BOTH: &[&str] = &[
    "herald", "API", "ID", "CSV", "JSON", "URL", "HTTP", "SMTP", "Webhook", "webhook", "cron", "Quartz", "IANA", "UTC",
    "OpenAPI", "·", "—",
];

#[test]
fn the_chinese_catalogue_is_chinese() {
    let is_cjk = |c: char| ('\u{4e00}'..='\u{9fff}').contains(&c) || ('\u{3000}'..='\u{303f}').contains(&c);
    let english: std::collections::HashMap<_, _> = messages(Language::English).into_iter().collect();
    let mut copied = Vec::new();
    for (key, value) in messages(Language::Chinese) {
        let same = english.get(&key) == Some(&value);
        let names_only = SAME_IN_BOTH.iter().any(|s| value.contains(s)) || key == "html-lang";
        if same
            && !value.is_empty()
            && !value.chars().any(is_cjk)
            && !names_only
            && value.chars().any(char::is_alphabetic)
        {
            copied.push(key);
        }
    }
    assert!(copied.is_empty(), "zh-CN copies English for {copied:?}");
}

/// The text of a template a reader sees: text between tags and the `placeholder`, `title`,
/// `aria-label` and `alt` attributes, with template expressions and tags removed.
fn visible_text(template: &str) -> Vec<String> {
    let mut text = template.to_string();
    for (open, close) in [("{#", "#}"), ("{%", "%}"), ("{{", "}}"), ("<script", "</script>"), ("<style", "</style>")] {
        text = strip_between(&text, open, close, " ");
    }
    let mut seen = Vec::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find('<') {
        seen.push(rest[..start].to_string());
        let Some(end) = rest[start..].find('>') else { break };
        let tag = &rest[start..start + end];
        for attribute in ["placeholder=\"", "title=\"", "aria-label=\"", "alt=\""] {
            if let Some(at) = tag.find(attribute) {
                let value = &tag[at + attribute.len()..];
                seen.push(value[..value.find('"').unwrap_or(value.len())].to_string());
            }
        }
        rest = &rest[start + end + 1..];
    }
    seen.push(rest.to_string());
    seen.into_iter().map(|s| s.trim().to_string()).filter(|s| has_words(s)).collect()
}

fn strip_between(text: &str, open: &str, close: &str, with: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(open) {
        out.push_str(&rest[..start]);
        out.push_str(with);
        match rest[start..].find(close) {
            Some(end) => rest = &rest[start + end + close.len()..],
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

/// Whether `s` holds a word of two letters or more that is not a name kept in both languages.
fn has_words(s: &str) -> bool {
    s.split(|c: char| !c.is_alphabetic())
        .any(|word| word.chars().count() >= 2 && !SAME_IN_BOTH.contains(&word) && !word.starts_with("nbsp"))
}

#[test]
fn templates_carry_no_text_of_their_own() {
    let mut found = Vec::new();
    for file in files_in(&crate_dir().join("templates/console"), "html") {
        for text in visible_text(&std::fs::read_to_string(&file).unwrap()) {
            found.push(format!("{}: {text:?}", file.file_name().unwrap().to_string_lossy()));
        }
    }
    assert!(found.is_empty(), "text outside the catalogues:\n{}", found.join("\n"));
}

#[test]
fn the_checks_see_text_and_keys() {
    assert_eq!(visible_text("<p>{{ \"a\"|t }}</p>"), Vec::<String>::new());
    assert_eq!(visible_text("<p title=\"Open it\">{{ x }} rows</p>"), vec!["Open it", "rows"]);
    assert_eq!(visible_text("{% if a %}<b>herald</b>{% endif %}"), Vec::<String>::new());
    let keys = keys_asked_in(
        "{{ \"run-title\"|t1(\"n\", 1) }} text(\"saved-ok\") text_with(\"a-b\", &[]) form.text(\"name\")",
    );
    assert_eq!(keys, vec!["run-title", "saved-ok", "a-b"]);
}
