//! The herald binary's library half: configuration, assembling a node from it, and loading
//! the sample data. `main.rs` is only the CLI; tests start nodes through `Node` directly.

pub mod backends;
pub mod command_jobs;
pub mod config;
pub mod context;
pub mod db_clock;
pub mod heap_trim;
pub mod housekeeping;
pub mod job_calls;
pub mod metrics;
pub mod node;
pub mod receipt_pulls;
pub mod redis_wait;
pub mod seed;
pub mod serve;
pub mod status_events;

pub use config::Config;
pub use node::Node;
