//! Shared test harness of the binary crate: the in-process node from herald-testkit, plus
//! multi-process clusters and herald serve as a process.
#![allow(dead_code, unused_imports)]

#[cfg(feature = "cluster")]
pub mod cluster;
pub mod console_login;
pub mod fake_robot;
pub mod fake_wecom;
pub mod job_runs;
pub mod process;
pub mod redis;
pub mod run_control;
pub mod trace;

pub use herald_testkit::node::*;
