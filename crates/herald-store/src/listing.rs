//! What a list reader asks the store for: a window of rows and the filters of each list
//! (templates, crowds, channel accounts, schedules), so every list is paged and filtered in SQL
//! rather than read whole.

use herald_core::{ChannelKind, ScheduleKind, TemplateStatus};

/// `limit` rows from `offset` on, in the list's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub offset: i64,
    pub limit: i64,
}

impl Window {
    /// Every row (for callers that need the whole list, such as tests and small lookups).
    pub const ALL: Window = Window { offset: 0, limit: i64::MAX };

    /// The first `limit` rows.
    pub fn first(limit: i64) -> Self {
        Self { offset: 0, limit }
    }
}

impl Default for Window {
    fn default() -> Self {
        Self::ALL
    }
}

/// Which templates a list is after, by id.
#[derive(Debug, Clone, Default)]
pub struct TemplateFilter {
    /// Part of the name (any case), or the exact id.
    pub search: Option<String>,
    pub status: Option<TemplateStatus>,
    pub channel: Option<ChannelKind>,
    /// Only templates sending to this crowd.
    pub crowd_id: Option<String>,
    pub window: Window,
}

/// Which crowds a list is after, newest first.
#[derive(Debug, Clone, Default)]
pub struct CrowdFilter {
    /// Part of the uploaded file's name (any case), or the exact crowd id.
    pub search: Option<String>,
    pub window: Window,
}

/// Which channel accounts a list is after, by id.
#[derive(Debug, Clone, Default)]
pub struct AccountFilter {
    /// Part of the name (any case), or the exact id.
    pub search: Option<String>,
    pub channel: Option<ChannelKind>,
    pub window: Window,
}

/// Which schedules a list is after, by id.
#[derive(Debug, Clone, Default)]
pub struct ScheduleFilter {
    pub kind: Option<ScheduleKind>,
    /// Only this schedule.
    pub id: Option<i64>,
    /// Only housekeeping's (not a template's or a job's).
    pub housekeeping: bool,
    pub window: Window,
}

/// Which runs of a job's run log a list is after, newest first.
#[derive(Debug, Clone, Default)]
pub struct JobRunFilter {
    pub job_id: i64,
    pub outcome: Option<crate::model::JobRunOutcome>,
    pub window: Window,
}

/// Which suppression-list entries a list is after, newest first.
#[derive(Debug, Clone, Default)]
pub struct SuppressionFilter {
    /// Part of the receiver (any case).
    pub search: Option<String>,
    /// Only entries for this channel; `Some(None)` for entries covering every channel.
    pub channel: Option<Option<ChannelKind>>,
    pub source: Option<herald_core::SuppressionSource>,
    pub window: Window,
}

/// A template's name by id; deleted templates keep theirs, for the runs they left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateName {
    pub id: i64,
    pub name: String,
    pub deleted: bool,
}

/// A search as the two values a list query binds: a case-folded `LIKE` pattern matching the
/// text anywhere, with `%`, `_` and `\` in it taken literally (the queries say `ESCAPE '\'`),
/// and the text itself, to match an id exactly. Both None for a blank search.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchTerms {
    pub pattern: Option<String>,
    pub exact: Option<String>,
}

impl SearchTerms {
    pub fn of(search: Option<&str>) -> Self {
        let Some(text) = search.map(str::trim).filter(|s| !s.is_empty()) else {
            return Self::default();
        };
        let mut pattern = String::with_capacity(text.len() + 2);
        pattern.push('%');
        for c in text.to_lowercase().chars() {
            if matches!(c, '%' | '_' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push('%');
        Self { pattern: Some(pattern), exact: Some(text.to_string()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_matches_its_text_anywhere_and_literally() {
        let terms = |s: &str| {
            let t = SearchTerms::of(Some(s));
            (t.pattern.unwrap_or_default(), t.exact.unwrap_or_default())
        };
        assert_eq!(SearchTerms::of(None), SearchTerms::default());
        assert_eq!(SearchTerms::of(Some("  ")), SearchTerms::default());
        assert_eq!(terms(" Nightly "), ("%nightly%".into(), "Nightly".into()));
        assert_eq!(terms("50%_off\\"), ("%50\\%\\_off\\\\%".into(), "50%_off\\".into()));
        assert_eq!(terms("提醒"), ("%提醒%".into(), "提醒".into()));
    }
}
