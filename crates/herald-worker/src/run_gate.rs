//! Whether a run may still send. A worker reads a run's state from the store at most
//! `RUN_CONTROL_SEEN_WITHIN` before each send of it (herald-core's rule), so once a pause or
//! cancel has been committed that long (its answer waits for it), no send of that run starts on
//! any node; the sends already in flight finish. A cancelled run stays cancelled, so that answer
//! is kept without reading again; a pause can end, so it is read again like an open run.
//! Whether a run resends another's failed messages never changes, so that is read once.

use herald_core::{RUN_CONTROL_SEEN_WITHIN, RunSendState};
use herald_store::{RunRepo, StoreError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Runs not asked about for this long are forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(60);
/// Runs whose resend mark is kept; past this many the marks are read afresh.
const MAX_RESEND_MARKS: usize = 10_000;

pub struct RunGate {
    runs: Arc<dyn RunRepo>,
    seen: Mutex<HashMap<i64, Seen>>,
    /// Whether each run asked about resends another run's failed messages.
    resends: Mutex<HashMap<i64, bool>>,
    /// One read at a time: concurrent sends of a run share it.
    reading: tokio::sync::Mutex<()>,
}

#[derive(Clone, Copy)]
struct Seen {
    state: RunSendState,
    /// When the read that saw it was sent: what it says held at least from then.
    read_at: Instant,
}

impl Seen {
    fn current(&self) -> bool {
        self.state == RunSendState::Cancelled || self.read_at.elapsed() < RUN_CONTROL_SEEN_WITHIN
    }
}

impl RunGate {
    pub fn new(runs: Arc<dyn RunRepo>) -> Self {
        Self { runs, seen: Mutex::default(), resends: Mutex::default(), reading: tokio::sync::Mutex::new(()) }
    }

    /// Whether `run_id`'s messages may be sent, as of at most `RUN_CONTROL_SEEN_WITHIN` ago. A
    /// run the store no longer has is open (its template's checks decide).
    pub async fn state(&self, run_id: i64) -> Result<RunSendState, StoreError> {
        if let Some(seen) = self.current(run_id) {
            return Ok(seen);
        }
        let _one = self.reading.lock().await;
        if let Some(seen) = self.current(run_id) {
            return Ok(seen);
        }
        let read_at = Instant::now();
        let state = match self.runs.run_send_state(run_id).await {
            Ok(state) => state,
            Err(StoreError::NotFound { .. }) => RunSendState::Open,
            Err(e) => return Err(e),
        };
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        seen.retain(|_, s| s.read_at.elapsed() < FORGET_AFTER);
        seen.insert(run_id, Seen { state, read_at });
        Ok(state)
    }

    /// Whether `run_id` resends the failed messages of an earlier run (a run the store no
    /// longer has does not).
    pub async fn is_resend(&self, run_id: i64) -> Result<bool, StoreError> {
        if let Some(known) = self.resends.lock().unwrap_or_else(PoisonError::into_inner).get(&run_id) {
            return Ok(*known);
        }
        let resend = match self.runs.resend_of_run(run_id).await {
            Ok(parent) => parent.is_some(),
            Err(StoreError::NotFound { .. }) => false,
            Err(e) => return Err(e),
        };
        let mut marks = self.resends.lock().unwrap_or_else(PoisonError::into_inner);
        if marks.len() >= MAX_RESEND_MARKS {
            marks.clear();
        }
        marks.insert(run_id, resend);
        Ok(resend)
    }

    fn current(&self, run_id: i64) -> Option<RunSendState> {
        let seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        seen.get(&run_id).filter(|s| s.current()).map(|s| s.state)
    }
}
