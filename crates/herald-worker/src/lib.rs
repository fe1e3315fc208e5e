//! herald-worker: the consume-side pipeline. Each bus message is one batch; it goes through
//! the stages in `pipeline` (skip what the ledger already finished, render per receiver,
//! send through the channel, record outcomes) and is acked only after its outcomes are stored.

mod claims;
mod commit;
mod limits;
mod merge;
mod pipeline;
mod policies;
mod run_gate;
mod send;
mod worker;

pub use limits::ChannelLimits;
pub use pipeline::{Attempt, BatchReport, Pipeline, PipelineParts};
pub use policies::{PolicyDefaults, Verdict};
pub use worker::{Worker, WorkerConfig};
