//! Deterministic message ids. A message's id depends only on where it came from (a run's row,
//! or an API request's receiver), so a redelivered batch carries the same ids and the delivery
//! ledger can recognise it. Every id starts with its installation's id, and the run ids in them
//! are never handed out twice, so an id is never reused: not after a template is deleted, not
//! after a database is recreated beside a Redis or Kafka that still holds the old ids.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::sync::Arc;

/// One installation of herald (one database): the prefix of every message id it makes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Installation(Arc<str>);

impl Installation {
    pub fn new(id: &str) -> Self {
        Self(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The message for data row `row` (1-based) of run `run_id`.
    pub fn run_row(&self, run_id: i64, row: u64) -> MessageId {
        MessageId(format!("{}{row}", self.run_prefix(run_id)))
    }

    /// What every message id of run `run_id` starts with; the row number follows.
    pub fn run_prefix(&self, run_id: i64) -> String {
        format!("{}-r{run_id}-", self.0)
    }

    /// The message for the `index`-th receiver of API request `request_id`.
    pub fn request(&self, request_id: &str, index: usize, receiver: &str) -> MessageId {
        let mut hasher = Sha256::new();
        hasher.update(request_id.as_bytes());
        hasher.update([0]);
        hasher.update(index.to_le_bytes());
        hasher.update([0]);
        hasher.update(receiver.as_bytes());
        let digest = hasher.finalize();
        MessageId(format!("{}-m{}", self.0, hex::encode(&digest[..12])))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
#[schema(value_type = String)]
pub struct MessageId(pub String);

impl MessageId {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The data row of a run message (`{installation}-r{run}-{row}`); None for API messages.
    pub fn row(&self) -> Option<u64> {
        self.run_row().map(|(_, _, row)| row)
    }

    /// A run message's prefix (`{installation}-r{run}-`, as [`Installation::run_prefix`] makes
    /// it), run and data row; None for API messages.
    pub fn run_row(&self) -> Option<(&str, i64, u64)> {
        let (head, row) = self.0.rsplit_once('-')?;
        let (_, run) = head.rsplit_once("-r")?;
        let prefix = &self.0[..head.len() + 1];
        Some((prefix, run.parse().ok()?, row.parse().ok()?))
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_deterministic_distinct_and_carry_their_installation() {
        let here = Installation::new("3f9c2a1b77d0");
        assert_eq!(here.run_row(7, 12).as_str(), "3f9c2a1b77d0-r7-12");
        let a = here.request("req", 0, "alice");
        assert_eq!(a, here.request("req", 0, "alice"));
        assert_ne!(a, here.request("req", 1, "alice"));
        assert_ne!(a, here.request("req2", 0, "alice"));
        assert!(a.as_str().starts_with("3f9c2a1b77d0-m"));
        assert_eq!(a.as_str().len(), 12 + 2 + 24);
        assert_eq!(here.run_row(7, 12).row(), Some(12));
        assert_eq!(here.run_row(7, 12).run_row(), Some((here.run_prefix(7).as_str(), 7, 12)));
        assert_eq!(a.row(), None);
        let elsewhere = Installation::new("a0a0a0a0a0a0");
        assert_ne!(here.run_row(1, 1), elsewhere.run_row(1, 1), "a recreated database makes new ids");
    }
}
