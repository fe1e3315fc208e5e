//! herald-scheduler: the clock-driven side of herald. `FireClaimer` turns due schedule rows
//! into fire-ledger entries and runs; `RunStreamer` streams each run's crowd file onto the bus
//! in checkpointed batches.

mod fires;
mod housekeeping;
mod streamer;

pub use fires::{FireClaimer, FireClaimerConfig};
pub use housekeeping::{Housekeeping, HousekeepingJob, TOKEN_REFRESH};
pub use streamer::{RunStreamer, StreamerConfig};
