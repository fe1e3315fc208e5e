//! Deterministic message ids. A message's id depends only on where it came from (a run's row,
//! or an API request's receiver), so a redelivered batch carries the same ids and the delivery
//! ledger can recognise it.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MessageId(pub String);

impl MessageId {
    /// The message for data row `row` (1-based) of run `run_id`.
    pub fn for_run_row(run_id: i64, row: u64) -> Self {
        Self(format!("r{run_id}-{row}"))
    }

    /// The message for the `index`-th receiver of API request `request_id`.
    pub fn for_request(request_id: &str, index: usize, receiver: &str) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(request_id.as_bytes());
        hasher.update([0]);
        hasher.update(index.to_le_bytes());
        hasher.update([0]);
        hasher.update(receiver.as_bytes());
        let digest = hasher.finalize();
        Self(format!("m{}", hex::encode(&digest[..12])))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The data row of a run message (`r{run}-{row}`); None for API messages.
    pub fn row(&self) -> Option<u64> {
        self.0.strip_prefix('r')?.split_once('-')?.1.parse().ok()
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
    fn ids_are_deterministic_and_distinct() {
        assert_eq!(MessageId::for_run_row(7, 12).as_str(), "r7-12");
        let a = MessageId::for_request("req", 0, "alice");
        assert_eq!(a, MessageId::for_request("req", 0, "alice"));
        assert_ne!(a, MessageId::for_request("req", 1, "alice"));
        assert_ne!(a, MessageId::for_request("req2", 0, "alice"));
        assert_eq!(a.as_str().len(), 25);
        assert_eq!(MessageId::for_run_row(7, 12).row(), Some(12));
        assert_eq!(a.row(), None);
    }
}
