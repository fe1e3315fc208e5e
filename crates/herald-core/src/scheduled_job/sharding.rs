//! Sharded and broadcast jobs (ElasticJob's sharding, xxl-job's broadcast): a fire's work split
//! into shards that run once each across the cluster, every shard told its index and the
//! count. What an admin writes, its checks, and how a shard reaches the call it makes.

use crate::field::FieldError;
use serde::{Deserialize, Serialize};

/// The most shards a fire is split into.
pub const MAX_SHARDS: u32 = 256;
/// In an HTTP job's URL or body: the shard's index, from 0.
pub const SHARD_INDEX_PLACEHOLDER: &str = "{$shardIndex}";
/// In an HTTP job's URL or body: how many shards the fire has.
pub const SHARD_TOTAL_PLACEHOLDER: &str = "{$shardTotal}";
/// Headers an HTTP job's sharded call carries.
pub const SHARD_INDEX_HEADER: &str = "herald-shard-index";
pub const SHARD_TOTAL_HEADER: &str = "herald-shard-total";

/// How a job's fire is split.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Sharding {
    pub mode: ShardMode,
    /// How many shards (2 to 256), for `shards`; a broadcast has one per node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ShardMode {
    /// `count` shards, each run once by whichever node takes it, spread across the nodes.
    Shards,
    /// One shard per node running jobs when the fire comes, each run on its own node.
    Broadcast,
}

/// Which shard a call is, as the call is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub total: u32,
}

impl Sharding {
    /// Faults, each naming its field.
    pub fn problems(&self) -> Vec<FieldError> {
        match (self.mode, self.count) {
            (ShardMode::Shards, None) => vec![FieldError::new("sharding.count", "give how many shards (2 to 256)")],
            (ShardMode::Shards, Some(n)) if !(2..=MAX_SHARDS).contains(&n) => {
                vec![FieldError::new("sharding.count", format!("{n} is not between 2 and {MAX_SHARDS}"))]
            }
            (ShardMode::Broadcast, Some(_)) => {
                vec![FieldError::new("sharding.count", "a broadcast has one shard per node; leave count out")]
            }
            _ => Vec::new(),
        }
    }

    /// How many shards a fire has when `live_nodes` nodes run jobs (at least one: the node
    /// that claimed it).
    pub fn shards_for(&self, live_nodes: usize) -> u32 {
        match self.mode {
            ShardMode::Shards => self.count.unwrap_or(2).clamp(2, MAX_SHARDS),
            ShardMode::Broadcast => u32::try_from(live_nodes).unwrap_or(MAX_SHARDS).clamp(1, MAX_SHARDS),
        }
    }
}

impl Shard {
    /// `text` with the shard placeholders filled in.
    pub fn fill(&self, text: &str) -> String {
        if !text.contains("{$shard") {
            return text.to_string();
        }
        text.replace(SHARD_INDEX_PLACEHOLDER, &self.index.to_string())
            .replace(SHARD_TOTAL_PLACEHOLDER, &self.total.to_string())
    }

    /// "2/4", as the run log shows it.
    pub fn label(&self) -> String {
        format!("{}/{}", self.index, self.total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sharding(mode: ShardMode, count: Option<u32>) -> Sharding {
        Sharding { mode, count }
    }

    #[test]
    fn counts_are_checked_naming_the_field() {
        assert!(sharding(ShardMode::Shards, Some(4)).problems().is_empty());
        assert!(sharding(ShardMode::Broadcast, None).problems().is_empty());
        for bad in [
            sharding(ShardMode::Shards, None),
            sharding(ShardMode::Shards, Some(1)),
            sharding(ShardMode::Shards, Some(MAX_SHARDS + 1)),
            sharding(ShardMode::Broadcast, Some(3)),
        ] {
            let problems = bad.problems();
            assert_eq!(problems.len(), 1, "{bad:?}");
            assert_eq!(problems[0].field, "sharding.count");
        }
    }

    #[test]
    fn a_broadcast_has_a_shard_per_live_node() {
        assert_eq!(sharding(ShardMode::Broadcast, None).shards_for(3), 3);
        assert_eq!(sharding(ShardMode::Broadcast, None).shards_for(0), 1);
        assert_eq!(sharding(ShardMode::Shards, Some(5)).shards_for(3), 5);
    }

    #[test]
    fn placeholders_take_the_shard() {
        let shard = Shard { index: 2, total: 4 };
        assert_eq!(shard.fill("/sync?part={$shardIndex}&of={$shardTotal}"), "/sync?part=2&of=4");
        assert_eq!(shard.fill("{\"a\":1}"), "{\"a\":1}");
        assert_eq!(shard.label(), "2/4");
    }
}
