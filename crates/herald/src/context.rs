//! What every role of a node shares: the backends behind their traits, the clock and the
//! channel accounts.

use herald_channels::registry::AccountChannels;
use herald_core::Clock;
use herald_store::Store;
use std::sync::Arc;

/// The shared half of a node. The API builds its own `AppState` from it.
#[derive(Clone)]
pub struct Context {
    pub store: Arc<dyn Store>,
    pub bus: Arc<dyn herald_bus::Bus>,
    pub crowds: Arc<dyn herald_crowd::CrowdStore>,
    pub clock: Arc<dyn Clock>,
    pub accounts: Arc<AccountChannels>,
}
