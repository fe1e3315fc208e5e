//! DingTalk: the custom group robot and work notices.

pub mod robot;
pub mod work_notice;
