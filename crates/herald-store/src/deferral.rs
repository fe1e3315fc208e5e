//! What holding a message writes beside the message itself, worked out once for both backends'
//! batch writes: its variables as JSON, whether it waits for its run's resume, when it is due,
//! and the trace event (with its detail) that says why it is held.

use crate::error::{Result, StoreError};
use crate::model::DeferredMessage;
use chrono::{DateTime, TimeZone, Utc};
use herald_core::{PAUSED_REASON, RUN_CONTROL_SEEN_WITHIN, TraceEvent};

pub(crate) struct DeferredRow<'a> {
    pub message: &'a DeferredMessage,
    pub variables_json: String,
    /// Held until its run is resumed (not due before).
    pub paused: bool,
    pub release_at: DateTime<Utc>,
    /// `deferred` for quiet hours, `paused` for a paused run.
    pub event: TraceEvent,
    pub detail: String,
}

impl<'a> DeferredRow<'a> {
    /// A message deferred to the end of its quiet hours.
    pub fn quiet_hours(message: &'a DeferredMessage) -> Result<Self> {
        Ok(Self {
            message,
            variables_json: variables_json(message)?,
            paused: false,
            release_at: message.release_at,
            event: TraceEvent::Deferred,
            detail: format!("quiet hours: released at {}", message.release_at.to_rfc3339()),
        })
    }

    /// A message held for its paused run: due when the run is resumed, or as a resume's are
    /// when the run was resumed before the hold was written (`still_paused` false).
    pub fn paused(message: &'a DeferredMessage, still_paused: bool, now: DateTime<Utc>) -> Result<Self> {
        Ok(Self {
            message,
            variables_json: variables_json(message)?,
            paused: still_paused,
            release_at: if still_paused { until_resumed() } else { due_after_resume(now) },
            event: TraceEvent::Paused,
            detail: PAUSED_REASON.to_string(),
        })
    }
}

/// The due time of a message held for a paused run: later than any release looks, so the
/// release's index scan never reaches it; a resume sets it to the resume's time.
pub(crate) fn until_resumed() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(9999, 1, 1, 0, 0, 0).single().expect("a valid date")
}

/// When messages held for a run resumed at `now` are due: once every worker has seen the
/// resume (`RUN_CONTROL_SEEN_WITHIN`), so none of them is held a second time by a worker that
/// still sees the pause.
pub(crate) fn due_after_resume(now: DateTime<Utc>) -> DateTime<Utc> {
    now + chrono::Duration::from_std(RUN_CONTROL_SEEN_WITHIN).unwrap_or_default()
}

fn variables_json(message: &DeferredMessage) -> Result<String> {
    serde_json::to_string(&message.variables).map_err(|e| StoreError::Corrupt(e.to_string()))
}
