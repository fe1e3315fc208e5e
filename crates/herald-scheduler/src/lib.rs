//! herald-scheduler: the clock-driven side of herald. `FireClaimer` turns due schedule rows
//! into fire-ledger entries and runs; `RunStreamer` plans each run into shards and streams the
//! shards' rows onto the bus in checkpointed batches.

mod fires;
mod housekeeping;
mod planner;
mod streamer;

pub use fires::{FireClaimer, FireClaimerConfig};
pub use housekeeping::{Housekeeping, HousekeepingJob, TOKEN_REFRESH};
pub use streamer::{RunStreamer, StreamerConfig};
