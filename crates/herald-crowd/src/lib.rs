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
#[cfg(feature = "s3")]
mod s3;
mod s3_config;
mod store;
mod subset;
mod validate;

pub use error::CrowdError;
pub use herald_core::CrowdRow;
pub use model::{
    BadRow, Checkpoint, CrowdFormat, DEFAULT_RECEIVER_COLUMN, MAX_COLUMNS, MAX_RECEIVER_BYTES, RowOutcome, Shard,
    ValidationReport,
};
pub use reader::{CrowdReader, split_offsets};
#[cfg(feature = "s3")]
pub use s3::S3CrowdStore;
pub use s3_config::{DEFAULT_PART_SIZE, MIN_PART_SIZE, S3Config};
pub use store::{BodyError, BodyStream, CrowdStore, LocalCrowdStore, ReadSeek, SavedCrowd, StoreError, body_stream};
pub use subset::write_subset;
pub use validate::validate;
