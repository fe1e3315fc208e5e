//! A funnel as the console shows it: one bar per stage (a `<progress>` against the accepted
//! messages, so no inline style is needed under the page's CSP), the drops by reason and the
//! failure reasons ranked, every word from the catalogue.

use super::language::text;
use super::render::thousands;
use super::trace_page::state_word;
use herald_core::funnel::Funnel;

pub(crate) struct FunnelView {
    /// The most any bar counts to: the accepted messages (at least 1).
    pub max: i64,
    pub stages: Vec<Stage>,
    /// Dropped messages by reason, worded.
    pub dropped: Vec<(String, String)>,
    /// Failure reasons, the most frequent first, with their counts.
    pub failures: Vec<(String, String)>,
}

pub(crate) struct Stage {
    /// The stage's id on the page, which is also its label's catalogue key (`funnel-sent`).
    pub id: &'static str,
    pub label: String,
    /// The count as a number for the bar; None when not known (no receipts yet).
    pub value: Option<i64>,
    pub shown: String,
}

impl FunnelView {
    pub fn of(funnel: &Funnel) -> Self {
        let dropped_total: i64 = funnel.dropped.values().sum();
        let stage = |id: &'static str, value: Option<i64>| Stage {
            id,
            label: text(id),
            value,
            shown: value.map(thousands).unwrap_or_else(|| text("funnel-no-receipts")),
        };
        Self {
            max: funnel.accepted.max(1),
            stages: vec![
                stage("funnel-accepted", Some(funnel.accepted)),
                stage("funnel-dropped", Some(dropped_total)),
                stage("funnel-held", Some(funnel.held)),
                stage("funnel-in-flight", Some(funnel.in_flight)),
                stage("funnel-sent", Some(funnel.sent)),
                stage("funnel-failed", Some(funnel.failed)),
                stage("funnel-delivered", funnel.delivered),
                stage("funnel-read", funnel.read),
                stage("funnel-undelivered", funnel.undelivered),
            ],
            dropped: funnel.dropped.iter().map(|(state, n)| (state_word(state), thousands(*n))).collect(),
            failures: funnel.failures.iter().map(|f| (f.reason.clone(), thousands(f.count))).collect(),
        }
    }
}
