//! Whether a run may still send. A worker reads a run's status from the store at most
//! `CANCEL_SEEN_WITHIN` before each send of it (herald-core's rule), so once a cancel has been
//! committed that long (the cancel's answer waits for it), no send of that run starts on any
//! node; the sends already in flight finish. A cancelled run stays cancelled, so that answer is
//! kept without reading again.

use herald_core::{CANCEL_SEEN_WITHIN, RunStatus};
use herald_store::{RunRepo, StoreError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Runs not asked about for this long are forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(60);

pub struct RunGate {
    runs: Arc<dyn RunRepo>,
    seen: Mutex<HashMap<i64, Seen>>,
    /// One read at a time: concurrent sends of a run share it.
    reading: tokio::sync::Mutex<()>,
}

#[derive(Clone, Copy)]
struct Seen {
    cancelled: bool,
    /// When the read that saw it was sent: what it says held at least from then.
    read_at: Instant,
}

impl Seen {
    fn current(&self) -> bool {
        self.cancelled || self.read_at.elapsed() < CANCEL_SEEN_WITHIN
    }
}

impl RunGate {
    pub fn new(runs: Arc<dyn RunRepo>) -> Self {
        Self { runs, seen: Mutex::default(), reading: tokio::sync::Mutex::new(()) }
    }

    /// Whether `run_id` was cancelled, as of at most `CANCEL_SEEN_WITHIN` ago. A run the store
    /// no longer has is not cancelled (its template's checks decide).
    pub async fn cancelled(&self, run_id: i64) -> Result<bool, StoreError> {
        if let Some(seen) = self.current(run_id) {
            return Ok(seen);
        }
        let _one = self.reading.lock().await;
        if let Some(seen) = self.current(run_id) {
            return Ok(seen);
        }
        let read_at = Instant::now();
        let cancelled = match self.runs.run_status(run_id).await {
            Ok(status) => status == RunStatus::Cancelled,
            Err(StoreError::NotFound { .. }) => false,
            Err(e) => return Err(e),
        };
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        seen.retain(|_, s| s.read_at.elapsed() < FORGET_AFTER);
        seen.insert(run_id, Seen { cancelled, read_at });
        Ok(cancelled)
    }

    fn current(&self, run_id: i64) -> Option<bool> {
        let seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        seen.get(&run_id).filter(|s| s.current()).map(|s| s.cancelled)
    }
}
