//! Grouping crowd rows into bus batches: at most 100 receivers per batch, and rows whose
//! variables are equal merged into one item, as austin's batch send does.

use crate::ids::{Installation, MessageId};
use indexmap::IndexMap;
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

/// Collects rows until a batch is full. Rows with equal variables share an item, found by
/// hashing the variables: comparing each row with every item before it cost the crowd stream
/// about 50 map comparisons a row when variables differ (names, codes), a fifth of a streaming
/// node's own CPU in a profile of the cluster's fan-out.
#[derive(Debug)]
pub struct Batcher {
    installation: Installation,
    run_id: i64,
    limit: usize,
    /// The batch's items in the order their variables first came, keyed by them.
    items: IndexMap<BTreeMap<String, String>, Vec<Recipient>>,
    count: usize,
}

impl Batcher {
    pub fn new(installation: Installation, run_id: i64) -> Self {
        Self::with_limit(installation, run_id, MAX_RECEIVERS_PER_BATCH)
    }

    pub fn with_limit(installation: Installation, run_id: i64, limit: usize) -> Self {
        assert!(limit > 0, "batch limit must be positive");
        Self { installation, run_id, limit, items: IndexMap::new(), count: 0 }
    }

    /// Adds a row; returns a full batch when this row filled it.
    pub fn push(&mut self, row: CrowdRow) -> Option<Batch> {
        let message_id: MessageId = self.installation.run_row(self.run_id, row.row);
        let recipient = Recipient { message_id, receiver: row.receiver };
        self.items.entry(row.variables).or_default().push(recipient);
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
        let items = self.items.drain(..).map(|(variables, recipients)| BatchItem { variables, recipients }).collect();
        Batch { items }
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
    fn a_row_joins_the_item_of_its_variables_however_many_items_came_between() {
        let mut b = Batcher::new(Installation::new("i1"), 1);
        for n in 1..=98 {
            assert!(b.push(row(n, &format!("r{n}"), &format!("city{n}"))).is_none());
        }
        assert!(b.push(row(99, "again", "city3")).is_none());
        let full = b.push(row(100, "last", "city100")).expect("full");
        assert_eq!(full.items.len(), 99);
        let cities: Vec<&str> = full.items.iter().map(|i| i.variables["city"].as_str()).collect();
        assert_eq!((cities[0], cities[2], cities[98]), ("city1", "city3", "city100"), "first-seen order");
        let joined: Vec<&str> = full.items[2].recipients.iter().map(|r| r.receiver.as_str()).collect();
        assert_eq!(joined, ["r3", "again"]);
        assert!(b.finish().is_none());
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
