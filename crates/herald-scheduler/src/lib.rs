//! herald-scheduler: the clock-driven side of herald. `FireClaimer` turns due schedule rows
//! into fire-ledger entries and runs, and runs housekeeping jobs (the quiet-hours release and
//! retention live here; token refresh is registered by the binary, which knows providers);
//! `JobRunner` runs scheduled jobs' fires (overlap rule, timeout, retries, run log), and
//! `ShardRunner` the shards of sharded and broadcast ones on every node;
//! `RunStreamer` plans each run into shards and streams the shards' rows onto the bus in
//! checkpointed batches.

mod alarms;
mod crowd_file;
mod daily_report;
mod fires;
mod job_shards;
mod jobs;
mod planner;
mod release;
mod retention;
mod scheduled_jobs;
mod streamer;

pub use alarms::{Alarms, Subject};
pub use daily_report::DailyReport;
pub use fires::{FireClaimer, SchedulerConfig};
pub use job_shards::ShardRunner;
pub use jobs::{Housekeeping, HousekeepingJob, JobError, housekeeping_name};
pub use release::QuietRelease;
pub use retention::Retention;
pub use scheduled_jobs::{Answer, Attempting, CallError, JobCall, JobRunner, MAX_OUTPUT_BYTES};
pub use streamer::{RunStreamer, StreamerConfig, StreamerParts};
