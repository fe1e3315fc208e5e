//! Planning a run: its crowd file is split into shards, byte ranges of about `shard_bytes` that
//! start at row boundaries, so streamers on every node can share the run. Splitting reads the
//! file once, streaming, to count the rows before each shard: message ids number rows across
//! the whole file.

use crate::crowd_file::{OpenCrowd, StreamError, open_crowd, transient};
use herald_core::Clock;
use herald_crowd::{CrowdStore, split_offsets};
use herald_store::{RunLease, ShardPlan, Store};
use std::sync::Arc;

/// Splits leased runs into shards and stores the plan.
pub(crate) struct Planner {
    pub store: Arc<dyn Store>,
    pub crowds: Arc<dyn CrowdStore>,
    pub clock: Arc<dyn Clock>,
    /// A run's crowd file is split into shards of about this many bytes...
    pub shard_bytes: u64,
    /// ...but never more than this many.
    pub max_shards: usize,
}

impl Planner {
    pub async fn plan(&self, lease: &RunLease) -> Result<(), StreamError> {
        let OpenCrowd { file, format, size_bytes } =
            open_crowd(self.store.as_ref(), self.crowds.as_ref(), &lease.crowd_id).await?;
        let count = shard_count(size_bytes, self.shard_bytes, self.max_shards);
        let shards = tokio::task::spawn_blocking(move || split_offsets(file, &format, count))
            .await
            .map_err(|e| StreamError::Fatal(format!("crowd splitter crashed: {e}")))?
            .map_err(|e| StreamError::Fatal(format!("crowd file unreadable: {e}")))?;
        let plans = shards
            .iter()
            .map(|s| {
                let checkpoint = serde_json::to_value(s.start).map_err(|e| StreamError::Fatal(e.to_string()))?;
                Ok(ShardPlan { checkpoint, end_offset: s.end_offset.map(|e| e as i64) })
            })
            .collect::<Result<Vec<_>, StreamError>>()?;
        let planned = self.store.plan_run(lease, &plans, self.clock.now()).await.map_err(|e| transient(&e))?;
        if planned {
            tracing::info!(shards = plans.len(), "run planned");
        } else {
            tracing::warn!("planning lease lost; another streamer planned the run");
        }
        Ok(())
    }
}

/// How many shards a file of `size_bytes` gets.
fn shard_count(size_bytes: u64, shard_bytes: u64, max_shards: usize) -> usize {
    let wanted = size_bytes.div_ceil(shard_bytes.max(1)).max(1);
    usize::try_from(wanted).unwrap_or(usize::MAX).clamp(1, max_shards.max(1))
}

#[cfg(test)]
mod tests {
    use super::shard_count;

    #[test]
    fn shard_count_follows_the_file_size_within_bounds() {
        assert_eq!(shard_count(0, 1024, 8), 1);
        assert_eq!(shard_count(1, 1024, 8), 1);
        assert_eq!(shard_count(1024, 1024, 8), 1);
        assert_eq!(shard_count(1025, 1024, 8), 2);
        assert_eq!(shard_count(1 << 40, 1024, 8), 8);
        assert_eq!(shard_count(5000, 0, 0), 1);
    }
}
