//! The plain data types of crowd files: format options, bad rows, reports and checkpoints.

use herald_core::CrowdRow;
use serde::{Deserialize, Serialize};

/// The receiver column austin's crowd files use.
pub const DEFAULT_RECEIVER_COLUMN: &str = "userId";
pub use herald_core::batching::MAX_RECEIVER_BYTES;
/// The most columns a crowd file may have. austin's crowd files carry a receiver and a few
/// variables; the cap keeps every per-column cost (validation, messages, the stored column
/// list) small.
pub const MAX_COLUMNS: usize = 1000;

/// How a crowd file is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrowdFormat {
    /// The header name of the receiver column; every other column is a variable.
    pub receiver_column: String,
    /// How many bad rows a [`ValidationReport`] lists (all are counted).
    pub max_reported_bad_rows: usize,
    /// The longest record accepted, in raw bytes. A longer one is a whole-file error: it
    /// almost always means an unclosed quote swallowed the rest of the file.
    pub max_record_bytes: u64,
}

impl Default for CrowdFormat {
    fn default() -> Self {
        Self {
            receiver_column: DEFAULT_RECEIVER_COLUMN.to_string(),
            max_reported_bad_rows: 100,
            max_record_bytes: 1 << 20,
        }
    }
}

impl CrowdFormat {
    /// The default format with another receiver column.
    pub fn with_receiver_column(column: impl Into<String>) -> Self {
        Self { receiver_column: column.into(), ..Self::default() }
    }
}

/// A data row that cannot be sent to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BadRow {
    /// 1-based physical line where the record starts; the header is on line 1.
    pub line: u64,
    /// 1-based index among the data rows, as [`CrowdRow::row`].
    pub row: u64,
    pub reason: String,
}

/// What one data row turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowOutcome {
    Valid(CrowdRow),
    Invalid(BadRow),
}

/// The result of validating a whole crowd file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ValidationReport {
    /// Data rows, valid and bad (blank lines are not rows).
    pub rows: u64,
    pub valid_rows: u64,
    pub bad_row_count: u64,
    /// The first [`CrowdFormat::max_reported_bad_rows`] bad rows.
    pub bad_rows: Vec<BadRow>,
    pub receiver_column: String,
    /// The variable columns in header order, the receiver column excluded.
    pub columns: Vec<String>,
}

/// A resumable position in a crowd file. The default is the start of the file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Checkpoint {
    /// Byte offset where reading continues (a record boundary).
    pub offset: u64,
    /// Data rows consumed before `offset`, valid and bad.
    pub rows_read: u64,
    /// The physical line number at `offset` (1-based).
    pub line: u64,
}

impl Checkpoint {
    /// Whether this is the start-of-file checkpoint.
    pub fn is_start(&self) -> bool {
        self.offset == 0
    }
}

/// One byte range of a crowd file, for readers working in parallel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Shard {
    /// Where the shard's first record starts, with the rows before it counted.
    pub start: Checkpoint,
    /// Where the next shard starts; `None` for the last shard.
    pub end_offset: Option<u64>,
}
