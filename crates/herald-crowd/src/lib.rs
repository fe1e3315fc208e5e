//! herald-crowd: crowd CSV files (austin's format: a header row, a receiver column, every
//! other column a `{$name}` variable). Streaming validation with line-numbered bad rows,
//! row reading that resumes from a byte-offset checkpoint, splitting into row-aligned
//! shards, and crowd storage (a local directory, or an S3-compatible bucket). Nothing here
//! holds a whole file in memory: parsing holds one record, S3 uploads a few parts.

mod error;
mod header;
mod model;
mod parser;
pub mod private_fs;
mod reader;
mod s3;
mod store;
mod validate;

pub use error::CrowdError;
pub use herald_core::CrowdRow;
pub use model::{
    BadRow, Checkpoint, CrowdFormat, DEFAULT_RECEIVER_COLUMN, MAX_COLUMNS, MAX_RECEIVER_BYTES, RowOutcome, Shard,
    ValidationReport,
};
pub use reader::{CrowdReader, split_offsets};
pub use s3::{DEFAULT_PART_SIZE, MIN_PART_SIZE, S3Config, S3CrowdStore};
pub use store::{BodyError, BodyStream, CrowdStore, LocalCrowdStore, ReadSeek, SavedCrowd, StoreError, body_stream};
pub use validate::validate;
