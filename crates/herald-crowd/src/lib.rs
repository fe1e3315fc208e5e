//! herald-crowd: crowd CSV files (austin's format: a header row, a receiver column, every
//! other column a `{$name}` variable). Streaming validation with line-numbered bad rows,
//! row reading that resumes from a byte-offset checkpoint, splitting into row-aligned
//! shards, and crowd storage. Nothing here holds more than one record of a file in memory.

mod error;
mod header;
mod model;
mod parser;
mod reader;
mod store;
mod validate;

pub use error::CrowdError;
pub use herald_core::CrowdRow;
pub use model::{
    BadRow, Checkpoint, CrowdFormat, DEFAULT_RECEIVER_COLUMN, MAX_RECEIVER_BYTES, RowOutcome, Shard, ValidationReport,
};
pub use reader::{CrowdReader, split_offsets};
pub use store::{BodyError, BodyStream, CrowdStore, LocalCrowdStore, ReadSeek, SavedCrowd, StoreError, body_stream};
pub use validate::validate;
