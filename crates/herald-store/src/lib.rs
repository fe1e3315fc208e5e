//! herald-store: herald's state (templates, crowds, schedules and the fire ledger, runs, the
//! delivery ledger, outbox and trace) behind small repository traits. The embedded backend is
//! one SQLite file; the cluster backend implements the same traits on PostgreSQL, with Redis
//! for what nodes share and need fast: dedup windows, rate buckets, the ledger's hot window.

mod console;
mod dedup;
mod error;
mod model;
mod policy_json;
pub mod postgres;
pub mod rate;
pub mod redis_conn;
pub mod redis_dedup;
pub mod redis_ledger;
pub mod redis_rate;
mod repos;
pub mod sqlite;
mod time;

pub use console::{ConsoleRepo, HourlyCount, SessionUser, UserRecord, UserRepo};
pub use dedup::DedupStore;
pub use error::StoreError;
pub use model::*;
pub use postgres::PgStore;
pub use rate::{LocalRates, RateGate, Throttle};
pub use repos::*;
pub use sqlite::{Durability, SqliteStore};
