//! The scaffold every fake provider builds on: an axum server on an ephemeral loopback port
//! with shared state the test can read and steer, and a queue of faults the fake answers with
//! instead of its usual reply. The provider-specific half (signature checks, error codes,
//! documented bodies) stays in each fake.

use axum::Router;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// State shared between a fake's handlers and the test.
pub type Shared<S> = Arc<Mutex<S>>;

/// What a fake's state offers the scaffold: its fault queue and its token expiry.
pub trait FakeState: Send + 'static {
    /// What the fake can answer instead of its usual reply.
    type Fault: Send;
    fn faults(&mut self) -> &mut Faults<Self::Fault>;
    /// Every token issued so far counts as expired from now on (a no-op for fakes without tokens).
    fn expire_tokens(&mut self) {}
}

/// Faults to answer with, one per call, in order.
#[derive(Debug)]
pub struct Faults<F>(VecDeque<F>);

impl<F> Default for Faults<F> {
    fn default() -> Self {
        Self(VecDeque::new())
    }
}

impl<F> Faults<F> {
    pub fn push(&mut self, fault: F) {
        self.0.push_back(fault);
    }

    /// The fault for this call, if one is queued.
    pub fn take_next(&mut self) -> Option<F> {
        self.0.pop_front()
    }
}

/// A running fake provider.
pub struct FakeServer<S> {
    /// `http://127.0.0.1:PORT`: the provider's base URL as the channel account names it.
    pub base_url: String,
    state: Shared<S>,
}

impl<S: FakeState> FakeServer<S> {
    /// Serves `routes` (built on the shared state) on an ephemeral port, for the test's lifetime.
    pub async fn start(state: S, routes: impl FnOnce(Shared<S>) -> Router) -> Self {
        let state: Shared<S> = Arc::new(Mutex::new(state));
        let app = routes(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        let base_url = format!("http://{}", listener.local_addr().expect("a bound address"));
        tokio::spawn(async move { axum::serve(listener, app).await.expect("the fake serves") });
        Self { base_url, state }
    }

    /// The state, for the test to read or change (a handler that panicked does not poison it).
    pub fn state(&self) -> MutexGuard<'_, S> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn fail_next(&self, fault: S::Fault) {
        self.state().faults().push(fault);
    }

    pub fn expire_tokens(&self) {
        self.state().expire_tokens();
    }
}

/// The state behind `shared`, for a fake's handlers.
pub fn lock<S>(shared: &Shared<S>) -> MutexGuard<'_, S> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}
