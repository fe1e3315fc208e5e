//! What deferring a message writes beside the message itself, worked out once for both
//! backends' batch writes: its variables as JSON and the trace detail naming the release time.

use crate::error::{Result, StoreError};
use crate::model::DeferredMessage;

pub(crate) struct DeferredRow<'a> {
    pub message: &'a DeferredMessage,
    pub variables_json: String,
    /// The `deferred` trace event's detail.
    pub detail: String,
}

impl<'a> DeferredRow<'a> {
    pub fn of(message: &'a DeferredMessage) -> Result<Self> {
        Ok(Self {
            message,
            variables_json: serde_json::to_string(&message.variables)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            detail: format!("quiet hours: released at {}", message.release_at.to_rfc3339()),
        })
    }
}
