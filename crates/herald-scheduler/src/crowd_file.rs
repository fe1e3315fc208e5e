//! A run's crowd file, opened for the planner and the streamer alike, and how a failure to go
//! on with a run is told apart: fatal (the file is gone) or passing (the database is busy).

use herald_crowd::{CrowdFormat, CrowdStore, ReadSeek};
use herald_store::CrowdRepo;

/// A crowd file opened for reading, with how to read it.
pub(crate) struct OpenCrowd {
    pub file: Box<dyn ReadSeek + Send>,
    pub format: CrowdFormat,
    pub size_bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum StreamError {
    /// The run cannot go on (crowd file gone or unreadable): mark it failed.
    #[error("{0}")]
    Fatal(String),
    /// A passing fault (database busy, bus down): keep the run for a later attempt.
    #[error("{0}")]
    Transient(String),
}

pub(crate) fn transient(e: &dyn std::fmt::Display) -> StreamError {
    StreamError::Transient(e.to_string())
}

/// Opens a run's crowd file, read in the format it was uploaded with.
pub(crate) async fn open_crowd(
    store: &dyn CrowdRepo,
    crowds: &dyn CrowdStore,
    crowd_id: &str,
) -> Result<OpenCrowd, StreamError> {
    let crowd = store.get_crowd(crowd_id).await.map_err(|e| transient(&e))?;
    let file = crowds.open(crowd_id).await.map_err(|e| StreamError::Fatal(format!("crowd file {crowd_id}: {e}")))?;
    let format = CrowdFormat::with_receiver_column(crowd.receiver_column);
    Ok(OpenCrowd { file, format, size_bytes: crowd.size_bytes.max(0) as u64 })
}
