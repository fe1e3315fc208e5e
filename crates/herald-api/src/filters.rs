//! The filters of the list endpoints and console lists, read from query text: a search, and
//! values that must be one of a known set (a template's status, a channel, a schedule's kind),
//! refused with the field named and the values it takes. Blank means "any", as a console form
//! sends it.

use crate::error::ApiError;
use herald_core::SuppressionSource;
use herald_core::listing::clip;
use herald_core::{ChannelKind, ScheduleKind, TemplateStatus};
use herald_store::{
    AccountFilter, CrowdFilter, JobRunOutcome, ScheduleFilter, SuppressionFilter, TemplateFilter, Window,
};

/// `value` as the one of `all` whose name it is; None when absent or blank.
pub(crate) fn one_of<T: Copy>(
    field: &str,
    value: Option<&str>,
    all: &[T],
    name: impl Fn(T) -> &'static str,
) -> Result<Option<T>, ApiError> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    match all.iter().copied().find(|t| name(*t) == value) {
        Some(found) => Ok(Some(found)),
        None => Err(ApiError::field(
            field,
            format!(
                "{:?} is not a {field}: give one of {}",
                clip(value, 40),
                all.iter().map(|t| name(*t)).collect::<Vec<_>>().join(", ")
            ),
        )),
    }
}

/// A search: None when absent or blank.
fn search(q: Option<&str>) -> Option<String> {
    q.map(str::trim).filter(|q| !q.is_empty()).map(str::to_string)
}

pub(crate) fn channel(value: Option<&str>) -> Result<Option<ChannelKind>, ApiError> {
    one_of("channel", value, &ChannelKind::ALL, ChannelKind::as_str)
}

pub(crate) fn templates(
    q: Option<&str>,
    status: Option<&str>,
    channel_name: Option<&str>,
    window: Window,
) -> Result<TemplateFilter, ApiError> {
    Ok(TemplateFilter {
        search: search(q),
        status: one_of("status", status, &TemplateStatus::ALL, TemplateStatus::as_str)?,
        channel: channel(channel_name)?,
        crowd_id: None,
        window,
    })
}

pub(crate) fn accounts(q: Option<&str>, channel_name: Option<&str>, window: Window) -> Result<AccountFilter, ApiError> {
    Ok(AccountFilter { search: search(q), channel: channel(channel_name)?, window })
}

pub(crate) fn crowds(q: Option<&str>, window: Window) -> CrowdFilter {
    CrowdFilter { search: search(q), window }
}

/// `kind` is a schedule kind, or `housekeeping` for every kind that is not a template's or a
/// job's.
pub(crate) fn schedules(kind: Option<&str>, window: Window) -> Result<ScheduleFilter, ApiError> {
    if kind == Some(HOUSEKEEPING) {
        return Ok(ScheduleFilter { housekeeping: true, window, ..ScheduleFilter::default() });
    }
    let kind = one_of("kind", kind, &ScheduleKind::ALL, ScheduleKind::as_str)?;
    Ok(ScheduleFilter { kind, window, ..ScheduleFilter::default() })
}

/// The pseudo-kind of schedule lists that means every housekeeping schedule.
pub(crate) const HOUSEKEEPING: &str = "housekeeping";

/// A run log's outcome filter: one of the outcomes, or any when absent.
pub(crate) fn run_outcome(name: Option<&str>) -> Result<Option<JobRunOutcome>, ApiError> {
    one_of("outcome", name, &JobRunOutcome::ALL, |o| o.as_str())
}

/// The suppression list's filter: `channel` is a channel or `all` (entries covering every
/// channel); `source` one of the sources.
pub(crate) fn suppressions(
    q: Option<&str>,
    channel_name: Option<&str>,
    source: Option<&str>,
    window: Window,
) -> Result<SuppressionFilter, ApiError> {
    let channel = match channel_name.map(str::trim).filter(|c| !c.is_empty()) {
        None => None,
        Some(name) => Some(crate::suppressions::channel_choice(Some(name))?),
    };
    Ok(SuppressionFilter {
        search: search(q),
        channel,
        source: one_of("source", source, &SuppressionSource::ALL, SuppressionSource::as_str)?,
        window,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_is_any_and_an_unknown_value_is_refused_naming_the_field_and_the_choices() {
        assert_eq!(channel(None).unwrap(), None);
        assert_eq!(channel(Some(" ")).unwrap(), None);
        assert_eq!(channel(Some("sms")).unwrap(), Some(ChannelKind::Sms));
        let refused = schedules(Some("nightly"), Window::ALL).unwrap_err().to_string();
        assert!(
            refused.contains("kind") && refused.contains("\"nightly\"") && refused.contains("token_refresh"),
            "{refused}"
        );
        let refused = templates(None, Some(&"x".repeat(1000)), None, Window::ALL).unwrap_err().to_string();
        assert!(refused.contains("status") && refused.contains("stopped, running") && refused.len() < 200, "{refused}");
    }
}
