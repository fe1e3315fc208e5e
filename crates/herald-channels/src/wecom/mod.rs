//! WeCom: the group robot and app messages.

pub mod app;
pub mod robot;
