//! Grouping crowd rows into bus batches: at most 100 receivers per batch, and rows whose
//! variables are equal merged into one item, as austin's batch send does.

use crate::ids::{Installation, MessageId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// austin's limit on receivers per send param, and herald's batch size.
pub const MAX_RECEIVERS_PER_BATCH: usize = 100;

/// The longest receiver accepted, in bytes, from a crowd file or the send API alike: longer
/// than any phone number, address, user id or push cid.
pub const MAX_RECEIVER_BYTES: usize = 256;

/// One valid data row of a crowd file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrowdRow {
    /// 1-based index among the file's data rows (the header is not counted).
    pub row: u64,
    pub receiver: String,
    pub variables: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    pub receiver: String,
    pub message_id: MessageId,
}

/// Receivers that share the same variables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchItem {
    pub variables: BTreeMap<String, String>,
    pub recipients: Vec<Recipient>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    pub items: Vec<BatchItem>,
}

impl Batch {
    pub fn receiver_count(&self) -> usize {
        self.items.iter().map(|i| i.recipients.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Every receiver of the batch, in order.
    pub fn recipients(&self) -> impl Iterator<Item = &Recipient> {
        self.items.iter().flat_map(|i| &i.recipients)
    }
}

/// Collects rows until a batch is full.
#[derive(Debug)]
pub struct Batcher {
    installation: Installation,
    run_id: i64,
    limit: usize,
    batch: Batch,
    count: usize,
}

impl Batcher {
    pub fn new(installation: Installation, run_id: i64) -> Self {
        Self::with_limit(installation, run_id, MAX_RECEIVERS_PER_BATCH)
    }

    pub fn with_limit(installation: Installation, run_id: i64, limit: usize) -> Self {
        assert!(limit > 0, "batch limit must be positive");
        Self { installation, run_id, limit, batch: Batch::default(), count: 0 }
    }

    /// Adds a row; returns a full batch when this row filled it.
    pub fn push(&mut self, row: CrowdRow) -> Option<Batch> {
        let message_id: MessageId = self.installation.run_row(self.run_id, row.row);
        let recipient = Recipient { message_id, receiver: row.receiver };
        match self.batch.items.iter_mut().find(|i| i.variables == row.variables) {
            Some(item) => item.recipients.push(recipient),
            None => self.batch.items.push(BatchItem { variables: row.variables, recipients: vec![recipient] }),
        }
        self.count += 1;
        (self.count >= self.limit).then(|| self.take())
    }

    /// The rows collected since the last full batch, if any.
    pub fn finish(&mut self) -> Option<Batch> {
        (self.count > 0).then(|| self.take())
    }

    pub fn pending(&self) -> usize {
        self.count
    }

    fn take(&mut self) -> Batch {
        self.count = 0;
        std::mem::take(&mut self.batch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(n: u64, who: &str, city: &str) -> CrowdRow {
        CrowdRow { row: n, receiver: who.into(), variables: [("city".to_string(), city.to_string())].into() }
    }

    #[test]
    fn merges_equal_variables_and_caps_at_limit() {
        let mut b = Batcher::with_limit(Installation::new("i1"), 1, 3);
        assert!(b.push(row(1, "a", "x")).is_none());
        assert!(b.push(row(2, "b", "y")).is_none());
        let full = b.push(row(3, "c", "x")).expect("full");
        assert_eq!(full.items.len(), 2);
        assert_eq!(full.items[0].recipients.len(), 2);
        assert_eq!(full.items[0].recipients[1].message_id.as_str(), "i1-r1-3");
        assert_eq!(full.receiver_count(), 3);
        assert!(b.finish().is_none());
        b.push(row(4, "d", "x"));
        assert_eq!(b.finish().unwrap().receiver_count(), 1);
    }

    #[test]
    fn default_limit_is_austins_hundred() {
        let mut b = Batcher::new(Installation::new("i1"), 9);
        let batches: Vec<_> = (1..=250).filter_map(|n| b.push(row(n, "r", "same"))).collect();
        assert_eq!(batches.len(), 2);
        assert_eq!(batches[0].items.len(), 1);
        assert_eq!(b.finish().unwrap().receiver_count(), 50);
    }
}
