//! The subcommands, one module each.

pub mod admin;
pub mod crowd_check;
pub mod send;
pub mod serve;
pub mod user;
