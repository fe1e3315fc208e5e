//! A handling's claims on the messages it sends, kept alive while it works. The keeper extends
//! them well before they lapse; before each send it checks that the claim still stands (the
//! fencing token), so a holder that was paused past its claims (a long stop, SIGSTOP) never sends
//! a message another handling may have taken over. Every claim a handling writes lasts a claim's
//! time from when it is written, and the keeper counts from the earliest end among them.

use herald_core::{Clock, MessageId};
use herald_store::{ClaimRepo, SendClaim, StoreError};
use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::Mutex as AsyncMutex;

/// The claims of one handling of one batch.
pub struct ClaimKeeper {
    claims: Arc<dyn ClaimRepo>,
    clock: Arc<dyn Clock>,
    holder: String,
    token: i64,
    ttl: chrono::Duration,
    state: Mutex<KeeperState>,
    /// One extension at a time.
    extending: AsyncMutex<()>,
}

struct KeeperState {
    /// Ids claimed and not yet final.
    open: HashSet<MessageId>,
    /// Ids whose claim was found taken over: never sent by this handling.
    lost: HashSet<MessageId>,
    /// When the earliest of the open claims ends; `None` before the first is held.
    until: Option<chrono::DateTime<chrono::Utc>>,
}

impl ClaimKeeper {
    pub fn new(claims: Arc<dyn ClaimRepo>, clock: Arc<dyn Clock>, holder: String, ttl: chrono::Duration) -> Self {
        let state = KeeperState { open: HashSet::new(), lost: HashSet::new(), until: None };
        let token = rand::random();
        Self { claims, clock, holder, token, ttl, state: Mutex::new(state), extending: AsyncMutex::new(()) }
    }

    /// A claim with this handling's token lasting a claim's time from now. Each claiming round
    /// takes a fresh one: a round after a long wait must not write a claim that already ended.
    pub fn claim(&self) -> SendClaim {
        SendClaim { holder: self.holder.clone(), token: self.token, until: self.clock.now() + self.ttl }
    }

    pub fn token(&self) -> i64 {
        self.token
    }

    fn state(&self) -> std::sync::MutexGuard<'_, KeeperState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Ids this handling now holds, under `claim`.
    pub fn hold(&self, ids: impl IntoIterator<Item = MessageId>, claim: &SendClaim) {
        let mut state = self.state();
        state.open.extend(ids);
        state.until = Some(state.until.map_or(claim.until, |until| until.min(claim.until)));
    }

    /// Ids whose outcome is recorded or that were handed back: no longer kept.
    pub fn done<'a>(&self, ids: impl IntoIterator<Item = &'a MessageId>) {
        let mut state = self.state();
        for id in ids {
            state.open.remove(id);
        }
    }

    /// Extends every open claim; ids no longer held by this token become lost.
    pub async fn extend(&self) -> Result<(), StoreError> {
        let _one = self.extending.lock().await;
        let open: Vec<MessageId> = self.state().open.iter().cloned().collect();
        let until = self.clock.now() + self.ttl;
        let kept: HashSet<MessageId> = self.claims.extend_sends(&open, self.token, until).await?.into_iter().collect();
        let mut state = self.state();
        for id in open.into_iter().filter(|id| !kept.contains(id)) {
            // Finished meanwhile (its claim ended with its outcome), or taken over.
            if state.open.remove(&id) {
                state.lost.insert(id);
            }
        }
        state.until = Some(until);
        Ok(())
    }

    /// Whether this handling may send `id` now: its claim stands. A claim whose time is short
    /// is extended first (a holder resumed after a pause finds out here it lost it).
    pub async fn may_send(&self, id: &MessageId) -> Result<bool, StoreError> {
        let stale = { self.state().until.is_none_or(|until| self.clock.now() + self.ttl / 3 >= until) };
        if stale {
            self.extend().await?;
        }
        let state = self.state();
        let standing = state.until.is_some_and(|until| self.clock.now() < until);
        Ok(state.open.contains(id) && !state.lost.contains(id) && standing)
    }

    /// Extends the claims every third of their time until the future it races ends.
    pub async fn keep_alive(&self) {
        let every = (self.ttl / 3).to_std().unwrap_or(std::time::Duration::from_secs(10));
        loop {
            tokio::time::sleep(every).await;
            if let Err(e) = self.extend().await {
                tracing::warn!(error = %e, "extending send claims failed; sends check their claim before going out");
            }
        }
    }
}
