//! `S3Config`: where and how crowd files are kept in an S3-compatible bucket (`[crowd.s3]`).
//! Always compiled, so a configuration naming S3 parses, and is refused with a clear message,
//! in a build without the `s3` feature; the store itself is in `s3.rs`.

use secrecy::SecretString;
use serde::Deserialize;
use std::path::PathBuf;

/// The smallest part S3 accepts in a multipart upload (all parts but the last).
pub const MIN_PART_SIZE: usize = 5 * 1024 * 1024;
/// The default multipart part size.
pub const DEFAULT_PART_SIZE: usize = 8 * 1024 * 1024;

fn default_region() -> String {
    "us-east-1".to_string()
}

fn default_prefix() -> String {
    "crowds/".to_string()
}

fn default_part_size() -> usize {
    DEFAULT_PART_SIZE
}

/// Where and how crowd files are kept in object storage (`[crowd.s3]` in herald's config).
/// `Debug` shows the secret access key as `[REDACTED]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Config {
    /// The S3 API endpoint, e.g. `http://minio:9000`; AWS itself when absent. With an
    /// endpoint, requests are path-style (`{endpoint}/{bucket}/{key}`).
    #[serde(default)]
    pub endpoint: Option<String>,
    pub bucket: String,
    #[serde(default = "default_region")]
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: SecretString,
    /// Prepended to `{crowd_id}.csv` to form the object key; `crowds/` by default.
    #[serde(default = "default_prefix")]
    pub prefix: String,
    /// Allows a plain `http://` endpoint (MinIO or moto on a private network).
    #[serde(default)]
    pub allow_http: bool,
    /// This node's directory for uploads in progress and downloaded copies.
    pub local_cache_dir: PathBuf,
    /// Multipart part size in bytes, at least 5 MiB (S3's minimum); 8 MiB by default.
    #[serde(default = "default_part_size")]
    pub part_size_bytes: usize,
}
