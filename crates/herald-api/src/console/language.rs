//! The console's languages: English and Simplified Chinese, every string the pages show kept in
//! Fluent catalogues (`locales/<tag>/*.ftl`, compiled into the binary). A request reads in the
//! user's pick, else the browser's `Accept-Language`, else English; templates translate through
//! the `t` filters below, handlers through `text` and `text_with`.

use axum::extract::Request;
use axum::http::header::ACCEPT_LANGUAGE;
use axum::middleware::Next;
use axum::response::Response;
use fluent_langneg::{NegotiationStrategy, accepted_languages, negotiate_languages};
use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader, langid, static_loader};
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Display;

static_loader! {
    static CATALOGUES = {
        locales: "./locales",
        fallback_language: "en",
        // Arguments are shown as they are, without Unicode isolation marks around them.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// A language the console speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Language {
    English,
    Chinese,
}

static ENGLISH: LanguageIdentifier = langid!("en");
static CHINESE: LanguageIdentifier = langid!("zh-CN");

impl Language {
    pub const ALL: [Language; 2] = [Language::English, Language::Chinese];

    /// The BCP 47 tag, as stored and as the page's `lang` attribute.
    pub fn tag(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::Chinese => "zh-CN",
        }
    }

    /// The language's name in itself, for the picker.
    pub fn own_name(self) -> &'static str {
        match self {
            Language::English => "English",
            Language::Chinese => "简体中文",
        }
    }

    pub fn from_tag(tag: &str) -> Option<Language> {
        Language::ALL.into_iter().find(|l| l.tag().eq_ignore_ascii_case(tag))
    }

    fn id(self) -> &'static LanguageIdentifier {
        match self {
            Language::English => &ENGLISH,
            Language::Chinese => &CHINESE,
        }
    }

    /// The best match for an `Accept-Language` header (`zh`, `zh-CN` and `zh-Hans` read
    /// Chinese); English when nothing matches.
    pub fn preferred(accept_language: &str) -> Language {
        let requested = accepted_languages::parse(accept_language);
        let available = [ENGLISH.clone(), CHINESE.clone()];
        let found = negotiate_languages(&requested, &available, Some(&available[0]), NegotiationStrategy::Lookup);
        match found.first() {
            Some(id) if **id == CHINESE => Language::Chinese,
            _ => Language::English,
        }
    }
}

tokio::task_local! {
    /// The language of the request being answered.
    static LANGUAGE: Language;
}

/// The language of the request being answered; English outside a console request.
pub(crate) fn current() -> Language {
    LANGUAGE.try_with(|l| *l).unwrap_or(Language::English)
}

/// Answers `next` in `language`.
pub(crate) async fn speaking<F: std::future::Future>(language: Language, next: F) -> F::Output {
    LANGUAGE.scope(language, next).await
}

/// Reads every console request in the browser's language (the login check switches to the
/// user's own pick).
pub(crate) async fn from_browser(req: Request, next: Next) -> Response {
    let accept = req.headers().get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
    speaking(Language::preferred(accept), next.run(req)).await
}

/// The catalogue's text for `key` in the request's language (the key itself when missing,
/// which the catalogue test refuses).
pub(crate) fn text(key: &str) -> String {
    CATALOGUES.lookup(current().id(), key)
}

/// The catalogue's text for `key` with its arguments; a whole number is passed as a number so
/// a message can choose its plural (a name such as "007" stays as written).
pub(crate) fn text_with(key: &str, args: &[(&str, &dyn Display)]) -> String {
    let args: HashMap<Cow<'static, str>, FluentValue> =
        args.iter().map(|(name, value)| (Cow::Owned(name.to_string()), fluent_value(*value))).collect();
    CATALOGUES.lookup_with_args(current().id(), key, &args)
}

fn fluent_value(value: &dyn Display) -> FluentValue<'static> {
    let shown = value.to_string();
    // Only a text that reads back the same ("42", not "007" or "+5") becomes a number, and only
    // one a Fluent number (an f64) holds exactly.
    match shown.parse::<i64>() {
        Ok(n) if n.to_string() == shown && n.unsigned_abs() < 1 << 53 => FluentValue::from(n),
        _ => FluentValue::from(shown),
    }
}

/// The template filters: `{{ "key"|t }}`, `{{ "key"|t1("name", value) }}`,
/// `{{ "key"|t2("a", x, "b", y) }}`. A module holding templates imports this as `filters`.
pub(crate) mod filters {
    use std::fmt::Display;

    #[askama::filter_fn]
    pub fn t<K: Display>(key: K, _: &dyn askama::Values) -> askama::Result<String> {
        Ok(super::text(&key.to_string()))
    }

    #[askama::filter_fn]
    pub fn t1<K: Display, V: Display>(key: K, _: &dyn askama::Values, name: &str, value: V) -> askama::Result<String> {
        Ok(super::text_with(&key.to_string(), &[(name, &value)]))
    }

    #[askama::filter_fn]
    pub fn t2<K: Display, V: Display, W: Display>(
        key: K,
        _: &dyn askama::Values,
        name: &str,
        value: V,
        other: &str,
        other_value: W,
    ) -> askama::Result<String> {
        Ok(super::text_with(&key.to_string(), &[(name, &value), (other, &other_value)]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_browser_language_is_matched_to_one_the_console_speaks() {
        assert_eq!(Language::preferred("zh-CN,zh;q=0.9,en;q=0.8"), Language::Chinese);
        assert_eq!(Language::preferred("zh"), Language::Chinese);
        assert_eq!(Language::preferred("en-GB,en;q=0.9"), Language::English);
        assert_eq!(Language::preferred("fr-FR, de"), Language::English, "unknown ones read English");
        assert_eq!(Language::preferred(""), Language::English);
        assert_eq!(Language::preferred(";;;,=,zh-@@"), Language::English, "garbage is ignored");
        assert_eq!(Language::from_tag("zh-cn"), Some(Language::Chinese));
        assert_eq!(Language::from_tag("de"), None);
    }

    #[tokio::test]
    async fn text_reads_the_request_language_and_passes_numbers_for_plurals() {
        assert_eq!(text("nav-runs"), "Runs", "English outside a request");
        assert_eq!(speaking(Language::Chinese, async { text("nav-runs") }).await, "发送记录");
        assert_eq!(text_with("rows-count", &[("count", &1)]), "1 row");
        assert_eq!(text_with("rows-count", &[("count", &3)]), "3 rows");
        assert_eq!(text_with("pager-page", &[("page", &"007")]), "page 007", "names stay as written");
        let id = 9_007_199_254_740_993_i64;
        assert_eq!(text_with("pager-page", &[("page", &id)]), format!("page {id}"), "beyond an f64");
    }
}
