//! Crowd file storage: the `CrowdStore` trait and its local-directory implementation, which
//! streams uploads to disk under a size limit, validates them from disk and names them by
//! a fresh UUID.

use crate::error::CrowdError;
use crate::model::{CrowdFormat, ValidationReport};
use crate::private_fs::{create_private_dir, private_file_options};
use crate::validate::validate;
use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::{BoxStream, Stream, StreamExt, TryStreamExt};
use serde::Serialize;
use std::io::{self, Read, Seek};
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

/// A blocking reader a crowd file can be streamed and resumed from.
pub trait ReadSeek: Read + Seek {}
impl<T: Read + Seek + ?Sized> ReadSeek for T {}

/// The error type of an upload body.
pub type BodyError = Box<dyn std::error::Error + Send + Sync>;
/// An upload body: chunks of the file as they arrive.
pub type BodyStream<'a> = BoxStream<'a, Result<Bytes, BodyError>>;

/// Boxes any byte stream (an axum body, a file, a test vector) into a [`BodyStream`].
pub fn body_stream<'a, S, E>(stream: S) -> BodyStream<'a>
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'a,
    E: Into<BodyError> + 'a,
{
    stream.map_err(Into::into).boxed()
}

/// A stored, validated crowd file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SavedCrowd {
    pub crowd_id: String,
    pub size_bytes: u64,
    pub report: ValidationReport,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the crowd file is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("the crowd file is invalid: {0}")]
    Invalid(#[source] CrowdError),
    #[error("reading the uploaded body failed: {0}")]
    Body(#[source] BodyError),
    #[error("`{id}` is not a crowd id")]
    InvalidId { id: String },
    #[error("crowd `{id}` does not exist")]
    NotFound { id: String },
    #[error("crowd storage failed: {0}")]
    Io(#[from] io::Error),
}

impl From<CrowdError> for StoreError {
    fn from(e: CrowdError) -> Self {
        match e {
            CrowdError::Io(io) => StoreError::Io(io),
            other => StoreError::Invalid(other),
        }
    }
}

/// Where crowd files live. Ids are UUID strings chosen by the store, never by a client.
#[async_trait]
pub trait CrowdStore: Send + Sync {
    /// Streams `body` into storage, refusing more than `max_bytes`, validates it and keeps
    /// it when its header is usable (bad rows are reported, not fatal).
    async fn save(&self, body: BodyStream<'_>, max_bytes: u64, opts: &CrowdFormat) -> Result<SavedCrowd, StoreError>;

    /// A blocking reader over a stored crowd file, for `CrowdReader`.
    async fn open(&self, crowd_id: &str) -> Result<Box<dyn ReadSeek + Send>, StoreError>;

    async fn delete(&self, crowd_id: &str) -> Result<(), StoreError>;
}

/// Crowd files as `<crowd_id>.csv` in one local directory (embedded mode, or a shared
/// directory in a cluster).
#[derive(Debug, Clone)]
pub struct LocalCrowdStore {
    dir: PathBuf,
}

impl LocalCrowdStore {
    /// A store in `dir`; the directory is created on the first save.
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of `crowd_id`, which must be a UUID in its canonical lowercase form.
    pub fn path_of(&self, crowd_id: &str) -> Result<PathBuf, StoreError> {
        let canonical = Uuid::try_parse(crowd_id).map(|u| u.to_string());
        if canonical.as_deref() != Ok(crowd_id) {
            return Err(StoreError::InvalidId { id: crowd_id.to_string() });
        }
        Ok(self.dir.join(format!("{crowd_id}.csv")))
    }

    /// Streams the body to `path`; returns its size.
    async fn write_body(path: &Path, mut body: BodyStream<'_>, max_bytes: u64) -> Result<u64, StoreError> {
        let mut file = private_file_options().write(true).create_new(true).open(path).await?;
        let mut size = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(StoreError::Body)?;
            size += chunk.len() as u64;
            if size > max_bytes {
                return Err(StoreError::TooLarge { limit: max_bytes });
            }
            file.write_all(&chunk).await?;
        }
        file.flush().await?;
        file.sync_all().await?;
        Ok(size)
    }
}

/// Removes a temporary upload unless disarmed, also when the save future is dropped.
struct TempFile {
    path: PathBuf,
    keep: bool,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.keep
            && let Err(e) = std::fs::remove_file(&self.path)
            && e.kind() != io::ErrorKind::NotFound
        {
            tracing::warn!(path = %self.path.display(), error = %e, "could not remove a temporary crowd upload");
        }
    }
}

#[async_trait]
impl CrowdStore for LocalCrowdStore {
    async fn save(&self, body: BodyStream<'_>, max_bytes: u64, opts: &CrowdFormat) -> Result<SavedCrowd, StoreError> {
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || create_private_dir(&dir)).await.map_err(io::Error::other)??;
        let crowd_id = Uuid::new_v4().to_string();
        let temp = TempFile { path: self.dir.join(format!(".upload-{crowd_id}.part")), keep: false };
        let size_bytes = Self::write_body(&temp.path, body, max_bytes).await?;

        let (path, opts_owned) = (temp.path.clone(), opts.clone());
        let report = tokio::task::spawn_blocking(move || {
            let file = std::fs::File::open(&path)?;
            validate(file, &opts_owned, |_| {})
        })
        .await
        .map_err(io::Error::other)??;

        let final_path = self.path_of(&crowd_id)?;
        tokio::fs::rename(&temp.path, &final_path).await?;
        let mut temp = temp;
        temp.keep = true;
        tracing::info!(crowd_id, size_bytes, rows = report.rows, bad_rows = report.bad_row_count, "crowd file saved");
        Ok(SavedCrowd { crowd_id, size_bytes, report })
    }

    async fn open(&self, crowd_id: &str) -> Result<Box<dyn ReadSeek + Send>, StoreError> {
        let path = self.path_of(crowd_id)?;
        match tokio::fs::File::open(&path).await {
            Ok(file) => Ok(Box::new(file.into_std().await)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(StoreError::NotFound { id: crowd_id.to_string() }),
            Err(e) => Err(e.into()),
        }
    }

    async fn delete(&self, crowd_id: &str) -> Result<(), StoreError> {
        let path = self.path_of(crowd_id)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(StoreError::NotFound { id: crowd_id.to_string() }),
            Err(e) => Err(e.into()),
        }
    }
}
