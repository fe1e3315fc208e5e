//! herald-store: herald's state (templates, crowds, schedules and the fire ledger, runs, the
//! delivery ledger, outbox and trace) behind small repository traits. The embedded backend is
//! one SQLite file; the cluster backend implements the same traits on PostgreSQL, with Redis
//! for what nodes share and need fast: dedup windows, rate buckets, the ledger's hot window.
//!
//! The repositories are written once, in `src/sql/`, and compiled into each backend module
//! (`sqlite`, `postgres`) over that backend's dialect: its time codec, write-transaction start,
//! row locks and batch writes. Domain rules (what a fire does, what counts into a run) are
//! herald-core's; the store writes down what they decide.

mod console;
mod dedup;
mod deferral;
mod error;
mod model;
mod policy_json;
// Each backend compiles the repositories in `src/sql/` over its own dialect; loading those files
// twice is the design, not a slip.
#[allow(clippy::duplicate_mod)]
pub mod listing;
pub mod postgres;
pub mod rate;
pub mod redis_conn;
pub mod redis_dedup;
pub mod redis_ledger;
pub mod redis_rate;
mod repos;
#[allow(clippy::duplicate_mod)]
pub mod sqlite;
mod status_events;
mod time;

pub use console::{ConsoleRepo, HourlyCount, SessionUser, UserRecord, UserRepo, UserSettings};
pub use dedup::DedupStore;
pub use error::StoreError;
pub use listing::*;
pub use model::*;
pub use postgres::PgStore;
pub use rate::{LocalRates, RateGate, Throttle};
pub use repos::*;
pub use sqlite::{Durability, SqliteStore};
pub use status_events::{EndpointSpec, EndpointTarget, EventEndpoint, QueuedEvent, ReplayWindow, StatusEventRepo};
