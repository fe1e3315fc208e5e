//! Crowd files in an S3-compatible bucket (AWS S3, MinIO, ...), for clusters: a crowd
//! uploaded through one node can be streamed by any other.
//!
//! Every node keeps a local cache directory. A save streams the upload into it under the
//! size limit and validates it there (the same code as [`LocalCrowdStore`], so the same
//! `TooLarge` / `Invalid` outcomes), then uploads the file as `{prefix}{crowd_id}.csv` with a
//! multipart upload, one part at a time from disk. An open checks the object, reuses the
//! node's cached copy when it has the object's size, and otherwise downloads the object,
//! streaming, to a temporary name that is renamed into place. Nothing is ever held whole
//! in memory, and a failed save leaves nothing in the bucket or the cache.

use crate::model::CrowdFormat;
use crate::private_fs::{create_private_dir, private_file_options};
use crate::s3_config::{MIN_PART_SIZE, S3Config};
use crate::store::{BodyStream, CrowdStore, LocalCrowdStore, ReadSeek, SavedCrowd, StoreError};
use async_trait::async_trait;
use futures::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, WriteMultipart};
use secrecy::ExposeSecret;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

/// Parts uploaded at once; at most this many parts plus one are buffered in memory.
const UPLOAD_CONCURRENCY: usize = 2;
/// How much of the cached file one read hands to the uploader.
const READ_CHUNK: usize = 256 * 1024;

/// Crowd files as `s3://{bucket}/{prefix}{crowd_id}.csv`, with a per-node cache directory.
#[derive(Clone)]
pub struct S3CrowdStore {
    s3: Arc<AmazonS3>,
    bucket: String,
    prefix: String,
    part_size: usize,
    /// The cache directory, laid out as a local store: `<crowd_id>.csv`.
    cache: LocalCrowdStore,
}

impl fmt::Debug for S3CrowdStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3CrowdStore")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("part_size", &self.part_size)
            .field("cache_dir", &self.cache.dir())
            .finish()
    }
}

fn config_error(msg: String) -> StoreError {
    StoreError::Io(io::Error::new(io::ErrorKind::InvalidInput, msg))
}

/// Any object storage failure that is not a missing object.
fn s3_error(e: object_store::Error) -> StoreError {
    StoreError::Io(io::Error::other(e))
}

/// `open`/`delete` errors: a missing object is a missing crowd.
fn s3_lookup_error(e: object_store::Error, crowd_id: &str) -> StoreError {
    match e {
        object_store::Error::NotFound { .. } => StoreError::NotFound { id: crowd_id.to_string() },
        other => s3_error(other),
    }
}

async fn remove_if_present(path: &Path) -> io::Result<()> {
    match tokio::fs::remove_file(path).await {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Removes a file unless disarmed, also when the future that owns it is dropped.
struct RemoveOnDrop {
    path: PathBuf,
    armed: bool,
}

impl RemoveOnDrop {
    fn new(path: PathBuf) -> Self {
        Self { path, armed: true }
    }

    fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if self.armed
            && let Err(e) = std::fs::remove_file(&self.path)
            && e.kind() != io::ErrorKind::NotFound
        {
            tracing::warn!(path = %self.path.display(), error = %e, "could not remove a crowd cache file");
        }
    }
}

/// A multipart upload that is aborted (its parts deleted) unless it completed, also when
/// the save future is dropped midway.
struct PendingUpload(Option<WriteMultipart>);

impl Drop for PendingUpload {
    fn drop(&mut self) {
        if let Some(writer) = self.0.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(async move {
                if let Err(e) = writer.abort().await {
                    tracing::warn!(error = %e, "could not abort an interrupted crowd upload");
                }
            });
        }
    }
}

/// Deletes an object whose multipart upload was being completed when the save future was
/// dropped: the completion may have reached the server although its answer never came.
struct DeleteOnDrop {
    s3: Arc<AmazonS3>,
    location: Option<ObjectPath>,
}

impl Drop for DeleteOnDrop {
    fn drop(&mut self) {
        if let Some(location) = self.location.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            let s3 = Arc::clone(&self.s3);
            runtime.spawn(async move {
                if let Err(e) = s3.delete(&location).await {
                    tracing::warn!(error = %e, %location, "could not delete the object of an interrupted crowd upload");
                }
            });
        }
    }
}

impl S3CrowdStore {
    /// A store for `config`. Checks the configuration; makes no request.
    pub fn new(config: S3Config) -> Result<Self, StoreError> {
        if config.part_size_bytes < MIN_PART_SIZE {
            return Err(config_error(format!(
                "crowd S3 part_size_bytes is {}, below S3's minimum of {MIN_PART_SIZE}",
                config.part_size_bytes
            )));
        }
        // The prefix must make valid keys: no empty or `..` segments, nothing S3 cannot name.
        let probe = format!("{}{}.csv", config.prefix, Uuid::nil());
        if ObjectPath::parse(&probe).map(|p| p.as_ref() != probe).unwrap_or(true) {
            return Err(config_error(format!("crowd S3 prefix `{}` does not make valid object keys", config.prefix)));
        }
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&config.bucket)
            .with_region(&config.region)
            .with_access_key_id(&config.access_key_id)
            .with_secret_access_key(config.secret_access_key.expose_secret())
            .with_allow_http(config.allow_http);
        if let Some(endpoint) = &config.endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        let s3 = builder.build().map_err(|e| config_error(format!("crowd S3 storage: {e}")))?;
        Ok(Self {
            s3: Arc::new(s3),
            bucket: config.bucket,
            prefix: config.prefix,
            part_size: config.part_size_bytes,
            cache: LocalCrowdStore::new(config.local_cache_dir),
        })
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The object key of `crowd_id` (`{prefix}{crowd_id}.csv`), which must be a UUID in
    /// its canonical lowercase form, as [`LocalCrowdStore::path_of`] requires.
    pub fn key_of(&self, crowd_id: &str) -> Result<String, StoreError> {
        self.cache.path_of(crowd_id)?;
        Ok(format!("{}{crowd_id}.csv", self.prefix))
    }

    /// This node's cached copy of `crowd_id` (present or not).
    pub fn cache_path_of(&self, crowd_id: &str) -> Result<PathBuf, StoreError> {
        self.cache.path_of(crowd_id)
    }

    pub fn cache_dir(&self) -> &Path {
        self.cache.dir()
    }

    fn object_path(&self, crowd_id: &str) -> Result<ObjectPath, StoreError> {
        let key = self.key_of(crowd_id)?;
        ObjectPath::parse(&key).map_err(|e| config_error(format!("object key `{key}`: {e}")))
    }

    /// Uploads `file` to `location` in parts, reading it from disk as parts are needed.
    async fn upload(&self, file: &Path, location: &ObjectPath) -> Result<u64, StoreError> {
        let upload = self.s3.put_multipart(location).await.map_err(s3_error)?;
        let mut pending = PendingUpload(Some(WriteMultipart::new_with_chunk_size(upload, self.part_size)));
        let sent = async {
            let writer = pending.0.as_mut().expect("the upload is pending");
            let mut file = tokio::fs::File::open(file).await?;
            let mut buf = vec![0u8; READ_CHUNK];
            let mut sent = 0u64;
            loop {
                writer.wait_for_capacity(UPLOAD_CONCURRENCY).await.map_err(s3_error)?;
                let n = file.read(&mut buf).await?;
                if n == 0 {
                    return Ok::<_, StoreError>(sent);
                }
                writer.write(&buf[..n]);
                sent += n as u64;
            }
        }
        .await;
        let writer = pending.0.take().expect("the upload is pending");
        match sent {
            Ok(sent) => {
                let mut interrupted = DeleteOnDrop { s3: Arc::clone(&self.s3), location: Some(location.clone()) };
                // `finish` aborts the upload itself when completing it fails.
                let finished = writer.finish().await;
                interrupted.location = None;
                finished.map(|_| sent).map_err(s3_error)
            }
            Err(e) => {
                if let Err(abort) = writer.abort().await {
                    tracing::warn!(error = %abort, %location, "could not abort a failed crowd upload");
                }
                Err(e)
            }
        }
    }

    /// Streams the object to `target` through a temporary file renamed into place.
    async fn download(&self, crowd_id: &str, location: &ObjectPath, target: &Path) -> Result<(), StoreError> {
        let dir = self.cache.dir().to_path_buf();
        tokio::task::spawn_blocking(move || create_private_dir(&dir)).await.map_err(std::io::Error::other)??;
        let temp = RemoveOnDrop::new(self.cache.dir().join(format!(".download-{crowd_id}-{}.part", Uuid::new_v4())));
        let got = self.s3.get(location).await.map_err(|e| s3_lookup_error(e, crowd_id))?;
        let expected = got.meta.size;
        let mut body = got.into_stream();
        let mut file = private_file_options().write(true).create_new(true).open(&temp.path).await?;
        let mut size = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(s3_error)?;
            size += chunk.len() as u64;
            file.write_all(&chunk).await?;
        }
        if size != expected {
            return Err(StoreError::Io(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("crowd `{crowd_id}` download ended after {size} of {expected} bytes"),
            )));
        }
        file.flush().await?;
        file.sync_all().await?;
        drop(file);
        tokio::fs::rename(&temp.path, target).await?;
        temp.disarm();
        tracing::info!(crowd_id, size_bytes = size, "crowd file downloaded to the local cache");
        Ok(())
    }
}

#[async_trait]
impl CrowdStore for S3CrowdStore {
    async fn save(&self, body: BodyStream<'_>, max_bytes: u64, opts: &CrowdFormat) -> Result<SavedCrowd, StoreError> {
        // Streamed to the cache directory under the limit and validated there; a refused
        // file never reaches the bucket and leaves nothing on disk.
        let saved = self.cache.save(body, max_bytes, opts).await?;
        let cached = RemoveOnDrop::new(self.cache.path_of(&saved.crowd_id)?);
        let location = self.object_path(&saved.crowd_id)?;
        let uploaded = self.upload(&cached.path, &location).await?;
        if uploaded != saved.size_bytes {
            // The cache file changed under us: never keep a crowd whose object differs.
            if let Err(e) = self.s3.delete(&location).await {
                tracing::warn!(error = %e, %location, "could not delete a mismatched crowd object");
            }
            return Err(StoreError::Io(io::Error::other(format!(
                "crowd upload sent {uploaded} bytes, the validated file has {}",
                saved.size_bytes
            ))));
        }
        // The uploading node keeps its copy as the cached one.
        cached.disarm();
        tracing::info!(crowd_id = saved.crowd_id, bucket = self.bucket, %location, "crowd file uploaded");
        Ok(saved)
    }

    async fn open(&self, crowd_id: &str) -> Result<Box<dyn ReadSeek + Send>, StoreError> {
        let location = self.object_path(crowd_id)?;
        let cached = self.cache.path_of(crowd_id)?;
        let meta = match self.s3.head(&location).await {
            Ok(meta) => meta,
            Err(e) => {
                let e = s3_lookup_error(e, crowd_id);
                if matches!(e, StoreError::NotFound { .. }) {
                    // Deleted through another node: drop this node's stale copy.
                    remove_if_present(&cached).await?;
                }
                return Err(e);
            }
        };
        // Ids are never reused and objects never rewritten, so a complete copy (the size
        // matches; copies appear by rename only) is the object.
        let fresh = matches!(tokio::fs::metadata(&cached).await, Ok(m) if m.len() == meta.size);
        if !fresh {
            self.download(crowd_id, &location, &cached).await?;
        }
        let file = tokio::fs::File::open(&cached).await?;
        Ok(Box::new(file.into_std().await))
    }

    async fn delete(&self, crowd_id: &str) -> Result<(), StoreError> {
        let location = self.object_path(crowd_id)?;
        let cached = self.cache.path_of(crowd_id)?;
        // S3 deletes are idempotent; look first so a missing crowd is reported as such.
        let found = self.s3.head(&location).await.map_err(|e| s3_lookup_error(e, crowd_id));
        remove_if_present(&cached).await?;
        found?;
        self.s3.delete(&location).await.map_err(s3_error)?;
        tracing::info!(crowd_id, %location, "crowd file deleted");
        Ok(())
    }
}
