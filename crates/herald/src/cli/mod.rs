//! The subcommands, one module each.

pub mod admin;
pub mod crowd_check;
pub mod dry_run;
pub mod export;
pub mod import;
pub mod job;
pub mod node_api;
pub mod run;
pub mod send;
pub mod serve;
pub mod user;
