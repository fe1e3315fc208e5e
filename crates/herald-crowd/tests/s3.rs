//! The S3 crowd store against a real S3 API server: moto's, run from Python as a child
//! process per test (`python3 -m pip install 'moto[server]'`). Nodes are simulated by
//! stores with their own cache directories over one bucket.
#![cfg(feature = "s3")]

mod common;

use bytes::Bytes;
use futures::{StreamExt, stream};
use herald_crowd::{
    Checkpoint, CrowdError, CrowdFormat, CrowdReader, CrowdStore, LocalCrowdStore, MIN_PART_SIZE, RowOutcome, S3Config,
    S3CrowdStore, StoreError, body_stream, split_offsets,
};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// moto, with the crowd store's view of it.
struct Moto(herald_testkit::Moto);

impl Moto {
    async fn start() -> Moto {
        Moto(herald_testkit::Moto::start().await)
    }

    /// Creates a bucket with a plain unsigned PUT (object_store cannot create buckets).
    async fn bucket(&self, name: &str) -> Bucket {
        Bucket { url: self.0.create_bucket(name).await }
    }

    fn config(&self, bucket: &str, cache: &Path) -> S3Config {
        S3Config {
            endpoint: Some(self.0.url.clone()),
            bucket: bucket.to_string(),
            region: "us-east-1".to_string(),
            access_key_id: "herald-test".to_string(),
            secret_access_key: "herald-test-secret".into(),
            prefix: "crowds/".to_string(),
            allow_http: true,
            local_cache_dir: cache.to_path_buf(),
            part_size_bytes: MIN_PART_SIZE,
        }
    }

    /// A store as one node sees it: its own cache directory.
    fn node(&self, bucket: &str, cache: &Path) -> S3CrowdStore {
        S3CrowdStore::new(self.config(bucket, cache)).unwrap()
    }
}

/// A bucket inspected with plain HTTP, independently of the store under test.
struct Bucket {
    url: String,
}

fn xml_values(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    xml.split(&open).skip(1).map(|s| s.split(&close).next().unwrap().to_string()).collect()
}

impl Bucket {
    async fn keys(&self) -> Vec<String> {
        let xml = reqwest::get(format!("{}?list-type=2", self.url)).await.unwrap().text().await.unwrap();
        assert!(xml.contains("<ListBucketResult"), "{xml}");
        xml_values(&xml, "Key")
    }

    /// Multipart uploads started and neither completed nor aborted.
    async fn pending_uploads(&self) -> Vec<String> {
        let xml = reqwest::get(format!("{}?uploads", self.url)).await.unwrap().text().await.unwrap();
        assert!(xml.contains("<ListMultipartUploadsResult"), "{xml}");
        xml_values(&xml, "UploadId")
    }

    async fn assert_empty_uploads(&self) {
        assert_eq!(self.pending_uploads().await, Vec::<String>::new(), "multipart uploads left in the bucket");
    }

    async fn assert_empty(&self) {
        assert_eq!(self.keys().await, Vec::<String>::new(), "objects left in the bucket");
        self.assert_empty_uploads().await;
    }

    /// Parts uploaded so far to the pending multipart uploads.
    async fn uploaded_parts(&self) -> usize {
        let xml = reqwest::get(format!("{}?uploads", self.url)).await.unwrap().text().await.unwrap();
        let mut parts = 0;
        for (key, id) in xml_values(&xml, "Key").into_iter().zip(xml_values(&xml, "UploadId")) {
            let url = format!("{}/{key}?uploadId={id}", self.url);
            parts += xml_values(&reqwest::get(url).await.unwrap().text().await.unwrap(), "PartNumber").len();
        }
        parts
    }

    /// Waits for background clean-up (aborts, deletes) to leave the bucket empty.
    async fn assert_emptied_soon(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.keys().await.is_empty() && self.pending_uploads().await.is_empty() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.assert_empty().await;
    }

    /// (size, ETag) of an object.
    async fn head(&self, key: &str) -> Option<(u64, String)> {
        let r = reqwest::Client::new().head(format!("{}/{key}", self.url)).send().await.unwrap();
        if r.status() == reqwest::StatusCode::NOT_FOUND {
            return None;
        }
        assert!(r.status().is_success(), "{r:?}");
        let size = r.headers()["content-length"].to_str().unwrap().parse().unwrap();
        let etag = r.headers()["etag"].to_str().unwrap().trim_matches('"').to_string();
        Some((size, etag))
    }

    async fn get(&self, key: &str) -> Vec<u8> {
        let r = reqwest::get(format!("{}/{key}", self.url)).await.unwrap();
        assert!(r.status().is_success(), "{r:?}");
        r.bytes().await.unwrap().to_vec()
    }
}

fn chunks(parts: &[&[u8]]) -> herald_crowd::BodyStream<'static> {
    let items: Vec<Result<Bytes, std::io::Error>> = parts.iter().map(|p| Ok(Bytes::copy_from_slice(p))).collect();
    body_stream(stream::iter(items))
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

fn all_rows(file: impl Read + std::io::Seek, from: Checkpoint) -> Vec<(RowOutcome, Checkpoint)> {
    let mut reader = CrowdReader::open(file, &CrowdFormat::default(), from).unwrap();
    let mut out = Vec::new();
    while let Some(item) = reader.next() {
        out.push((item.unwrap(), reader.checkpoint()));
    }
    out
}

fn key(id: &str) -> String {
    format!("crowds/{id}.csv")
}

#[tokio::test]
async fn a_saved_crowd_round_trips_with_the_same_rows_as_the_local_store() {
    let moto = Moto::start().await;
    let bucket = moto.bucket("herald").await;
    let dir = tempfile::tempdir().unwrap();
    let s3 = moto.node("herald", &dir.path().join("cache"));
    let local = LocalCrowdStore::new(dir.path().join("local"));
    let file = common::tricky_file();
    let parts: Vec<&[u8]> = file.chunks(7).collect();

    let saved = s3.save(chunks(&parts), 1 << 20, &CrowdFormat::default()).await.unwrap();
    let saved_locally = local.save(chunks(&parts), 1 << 20, &CrowdFormat::default()).await.unwrap();
    assert!(uuid::Uuid::try_parse(&saved.crowd_id).is_ok());
    assert_eq!(saved.size_bytes, file.len() as u64);
    assert_eq!(saved.report, saved_locally.report);
    assert!(saved.report.bad_row_count > 0 && saved.report.valid_rows > 0, "{:?}", saved.report);

    assert_eq!(bucket.keys().await, [key(&saved.crowd_id)]);
    assert_eq!(bucket.get(&key(&saved.crowd_id)).await, file);
    assert_eq!(s3.key_of(&saved.crowd_id).unwrap(), key(&saved.crowd_id));

    let from_s3 = all_rows(s3.open(&saved.crowd_id).await.unwrap(), Checkpoint::default());
    let from_local = all_rows(local.open(&saved_locally.crowd_id).await.unwrap(), Checkpoint::default());
    assert_eq!(from_s3, from_local);
    assert_eq!(from_s3.len() as u64, saved.report.rows);
    bucket.assert_empty_uploads().await;
}

#[tokio::test]
async fn a_crowd_uploaded_on_node_a_streams_on_node_b() {
    let moto = Moto::start().await;
    moto.bucket("shared").await;
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let node_a = moto.node("shared", dir_a.path());
    let node_b = moto.node("shared", dir_b.path());

    let body = "userId,name\nu1,张三\nu2,李四\nu3,王五\n";
    let saved = node_a.save(chunks(&[body.as_bytes()]), 1024, &CrowdFormat::default()).await.unwrap();
    assert!(files_in(dir_b.path()).is_empty());

    let receivers = |rows: Vec<(RowOutcome, Checkpoint)>| -> Vec<String> {
        rows.into_iter()
            .map(|(o, _)| match o {
                RowOutcome::Valid(r) => format!("{}:{}", r.receiver, r.variables["name"]),
                RowOutcome::Invalid(b) => panic!("{b:?}"),
            })
            .collect()
    };
    let rows = receivers(all_rows(node_b.open(&saved.crowd_id).await.unwrap(), Checkpoint::default()));
    assert_eq!(rows, ["u1:张三", "u2:李四", "u3:王五"]);

    // Node B now has its own copy, reused by the next open (no new download, same inode).
    let cached = node_b.cache_path_of(&saved.crowd_id).unwrap();
    assert_eq!(files_in(dir_b.path()), [format!("{}.csv", saved.crowd_id)]);
    assert_eq!(std::fs::read(&cached).unwrap(), body.as_bytes());
    let inode = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&cached).unwrap());
    let again = receivers(all_rows(node_b.open(&saved.crowd_id).await.unwrap(), Checkpoint::default()));
    assert_eq!(again, rows);
    assert_eq!(std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&cached).unwrap()), inode);

    // A damaged copy (wrong size) is replaced by a fresh download.
    std::fs::write(&cached, b"userId,name\nu1").unwrap();
    let repaired = receivers(all_rows(node_b.open(&saved.crowd_id).await.unwrap(), Checkpoint::default()));
    assert_eq!(repaired, rows);
    assert_eq!(files_in(dir_b.path()), [format!("{}.csv", saved.crowd_id)]);

    // Through the trait object the API uses.
    let dyn_b: std::sync::Arc<dyn CrowdStore> = std::sync::Arc::new(node_b.clone());
    let via_trait = receivers(all_rows(dyn_b.open(&saved.crowd_id).await.unwrap(), Checkpoint::default()));
    assert_eq!(via_trait, rows);
}

/// `rows` generated rows, streamed 1,000 at a time; returns the body and its length.
fn generated(rows: u64) -> (herald_crowd::BodyStream<'static>, u64) {
    let header: &[u8] = b"userId,name,city,note\n";
    let block = move |b: u64| -> Bytes {
        let mut s = String::new();
        for i in b * 1000..((b + 1) * 1000).min(rows) {
            s.push_str(&format!("user-{i:08},name {i},city-{},\"note, with a comma {i}\"\n", i % 97));
        }
        Bytes::from(s)
    };
    let blocks = rows.div_ceil(1000);
    let len = header.len() as u64 + (0..blocks).map(|b| block(b).len() as u64).sum::<u64>();
    let body = stream::iter(std::iter::once(Bytes::from_static(header)).chain((0..blocks).map(block)))
        .map(Ok::<_, std::io::Error>);
    (body_stream(body), len)
}

#[tokio::test]
async fn a_200k_row_crowd_uploads_in_several_parts_and_reads_back_whole() {
    let moto = Moto::start().await;
    let bucket = moto.bucket("big").await;
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let node_a = moto.node("big", dir_a.path());
    let node_b = moto.node("big", dir_b.path());

    let (body, len) = generated(200_000);
    let parts = len.div_ceil(MIN_PART_SIZE as u64);
    assert!(parts >= 3, "the generated file ({len} bytes) should need several parts");
    let saved = node_a.save(body, 64 << 20, &CrowdFormat::default()).await.unwrap();
    assert_eq!((saved.size_bytes, saved.report.rows, saved.report.valid_rows), (len, 200_000, 200_000));

    let (size, etag) = bucket.head(&key(&saved.crowd_id)).await.expect("the object exists");
    assert_eq!(size, len);
    // S3 (and moto) tag a multipart object `<md5 of part md5s>-<part count>`.
    assert!(etag.ends_with(&format!("-{parts}")), "etag {etag} should name {parts} parts");
    bucket.assert_empty_uploads().await;

    let file = node_b.open(&saved.crowd_id).await.unwrap();
    let mut reader = CrowdReader::open(file, &CrowdFormat::default(), Checkpoint::default()).unwrap();
    let (mut count, mut last) = (0u64, String::new());
    for row in reader.by_ref() {
        match row.unwrap() {
            RowOutcome::Valid(r) => last = r.receiver,
            RowOutcome::Invalid(b) => panic!("{b:?}"),
        }
        count += 1;
    }
    assert_eq!(count, 200_000);
    assert_eq!(last, "user-00199999");
    assert_eq!(reader.checkpoint().offset, len);
    assert_eq!(std::fs::metadata(node_b.cache_path_of(&saved.crowd_id).unwrap()).unwrap().len(), len);
}

#[tokio::test]
async fn a_save_dropped_in_the_middle_of_its_upload_leaves_nothing_behind() {
    let moto = Moto::start().await;
    let bucket = moto.bucket("cancelled").await;
    let dir = tempfile::tempdir().unwrap();
    let store = moto.node("cancelled", dir.path());
    let (body, len) = generated(600_000);
    assert!(len > 6 * MIN_PART_SIZE as u64, "{len}");

    // As when an uploading client goes away: the request future is dropped mid-upload.
    let format = CrowdFormat::default();
    let mut save = Box::pin(store.save(body, 64 << 20, &format));
    let part_uploaded = async {
        while bucket.uploaded_parts().await == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::select! {
        result = &mut save => panic!("the save ended ({result:?}) before its first part was seen"),
        () = part_uploaded => {}
    }
    drop(save);
    assert!(files_in(dir.path()).is_empty(), "{:?}", files_in(dir.path()));
    bucket.assert_emptied_soon().await;
}

#[tokio::test]
async fn too_large_is_refused_and_leaves_nothing_in_the_bucket_or_on_disk() {
    let moto = Moto::start().await;
    let bucket = moto.bucket("limits").await;
    let dir = tempfile::tempdir().unwrap();
    let store = moto.node("limits", dir.path());
    let err = store
        .save(chunks(&[b"userId,n\n", b"u1,aaaaaaaa\n", b"u2,bbbbbbbb\n"]), 20, &CrowdFormat::default())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::TooLarge { limit: 20 }), "{err:?}");
    assert!(files_in(dir.path()).is_empty(), "{:?}", files_in(dir.path()));
    bucket.assert_empty().await;

    // Exactly the limit is accepted.
    let body = b"userId\nu1\n";
    let saved = store.save(chunks(&[body]), body.len() as u64, &CrowdFormat::default()).await.unwrap();
    assert_eq!(bucket.keys().await, [key(&saved.crowd_id)]);
}

#[tokio::test]
async fn an_invalid_or_failing_upload_leaves_nothing_behind() {
    let moto = Moto::start().await;
    let bucket = moto.bucket("refusals").await;
    let dir = tempfile::tempdir().unwrap();
    let store = moto.node("refusals", dir.path());

    let err = store.save(chunks(&[b"phone,n\n1,a\n"]), 1024, &CrowdFormat::default()).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(CrowdError::MissingReceiverColumn { .. })), "{err:?}");
    let err = store.save(chunks(&[b""]), 1024, &CrowdFormat::default()).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(CrowdError::Empty)), "{err:?}");

    let items: Vec<Result<Bytes, std::io::Error>> =
        vec![Ok(Bytes::from_static(b"userId\n")), Err(std::io::Error::other("client went away"))];
    let err = store.save(body_stream(stream::iter(items)), 1024, &CrowdFormat::default()).await.unwrap_err();
    assert!(matches!(err, StoreError::Body(_)), "{err:?}");

    assert!(files_in(dir.path()).is_empty(), "{:?}", files_in(dir.path()));
    bucket.assert_empty().await;

    // The bucket refusing the upload: a store pointed at a bucket that does not exist.
    let missing = moto.node("no-such-bucket", dir.path());
    let err = missing.save(chunks(&[b"userId\nu1\n"]), 1024, &CrowdFormat::default()).await.unwrap_err();
    assert!(matches!(err, StoreError::Io(_)), "{err:?}");
    assert!(files_in(dir.path()).is_empty(), "{:?}", files_in(dir.path()));
    bucket.assert_empty().await;
}

#[tokio::test]
async fn delete_removes_the_object_and_the_cached_copies() {
    let moto = Moto::start().await;
    let bucket = moto.bucket("deletes").await;
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let node_a = moto.node("deletes", dir_a.path());
    let node_b = moto.node("deletes", dir_b.path());
    let keep = node_a.save(chunks(&[b"userId\nu0\n"]), 1024, &CrowdFormat::default()).await.unwrap();
    let saved = node_a.save(chunks(&[b"userId\nu1\n"]), 1024, &CrowdFormat::default()).await.unwrap();
    drop(node_b.open(&saved.crowd_id).await.unwrap());
    assert_eq!(files_in(dir_b.path()), [format!("{}.csv", saved.crowd_id)]);

    node_a.delete(&saved.crowd_id).await.unwrap();
    assert_eq!(bucket.keys().await, [key(&keep.crowd_id)]);
    assert!(bucket.head(&key(&saved.crowd_id)).await.is_none());
    assert_eq!(files_in(dir_a.path()), [format!("{}.csv", keep.crowd_id)]);

    // Node B learns of the deletion on its next open and drops its stale copy.
    assert!(matches!(node_b.open(&saved.crowd_id).await, Err(StoreError::NotFound { .. })));
    assert!(files_in(dir_b.path()).is_empty(), "{:?}", files_in(dir_b.path()));
    assert!(matches!(node_a.open(&saved.crowd_id).await, Err(StoreError::NotFound { .. })));
    assert!(matches!(node_b.delete(&saved.crowd_id).await, Err(StoreError::NotFound { .. })));
    assert!(matches!(node_a.delete("../x").await, Err(StoreError::InvalidId { .. })));
}

#[tokio::test]
async fn ids_other_than_canonical_uuids_are_refused_without_a_request() {
    // No server: a refused id must not reach the network.
    let dir = tempfile::tempdir().unwrap();
    let config = S3Config {
        endpoint: Some(format!("http://127.0.0.1:{}", herald_testkit::free_port())),
        bucket: "b".to_string(),
        region: "us-east-1".to_string(),
        access_key_id: "k".to_string(),
        secret_access_key: "s".into(),
        prefix: "crowds/".to_string(),
        allow_http: true,
        local_cache_dir: dir.path().to_path_buf(),
        part_size_bytes: MIN_PART_SIZE,
    };
    let store = S3CrowdStore::new(config).unwrap();
    let id = uuid::Uuid::new_v4().to_string();
    assert_eq!(store.key_of(&id).unwrap(), format!("crowds/{id}.csv"));
    for bad in [
        "../etc/passwd",
        "",
        "a/b",
        &id.to_uppercase(),
        &format!("{{{id}}}"),
        &format!("../{id}"),
        &id.replace('-', ""),
        &format!("{id}/../x"),
    ] {
        assert!(matches!(store.key_of(bad), Err(StoreError::InvalidId { .. })), "{bad:?} accepted");
        assert!(matches!(store.open(bad).await, Err(StoreError::InvalidId { .. })), "{bad:?} opened");
        assert!(matches!(store.delete(bad).await, Err(StoreError::InvalidId { .. })), "{bad:?} deleted");
    }
}

#[tokio::test]
async fn a_reader_resumes_from_a_checkpoint_on_an_s3_opened_file() {
    let moto = Moto::start().await;
    moto.bucket("resume").await;
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let node_a = moto.node("resume", dir_a.path());
    let node_b = moto.node("resume", dir_b.path());
    let file = common::tricky_file();
    let saved = node_a.save(chunks(&[&file]), 1 << 20, &CrowdFormat::default()).await.unwrap();
    let full = all_rows(node_a.open(&saved.crowd_id).await.unwrap(), Checkpoint::default());
    assert!(full.len() >= 6, "{full:?}");

    // A streamer on node A stops after each row in turn; node B resumes from there.
    for stop in 0..full.len() {
        let checkpoint = full[stop].1;
        let rest = all_rows(node_b.open(&saved.crowd_id).await.unwrap(), checkpoint);
        assert_eq!(rest, full[stop + 1..], "resuming after row {stop}");
    }

    // Shards computed on the S3-opened file cover every row once.
    let shards = split_offsets(node_b.open(&saved.crowd_id).await.unwrap(), &CrowdFormat::default(), 3).unwrap();
    let mut sharded = Vec::new();
    for shard in &shards {
        let file = node_b.open(&saved.crowd_id).await.unwrap();
        let reader = CrowdReader::open_range(file, &CrowdFormat::default(), shard.start, shard.end_offset).unwrap();
        sharded.extend(reader.map(|r| r.unwrap()));
    }
    assert_eq!(sharded, full.into_iter().map(|(o, _)| o).collect::<Vec<_>>());
}

#[test]
fn the_config_reads_snake_case_with_defaults_refuses_unknown_keys_and_hides_the_secret() {
    let config: S3Config = serde_json::from_value(serde_json::json!({
        "bucket": "crowds",
        "access_key_id": "AKIA",
        "secret_access_key": "very-secret",
        "local_cache_dir": "/var/cache/herald/crowds",
    }))
    .unwrap();
    assert_eq!(config.endpoint, None);
    assert_eq!(config.region, "us-east-1");
    assert_eq!(config.prefix, "crowds/");
    assert!(!config.allow_http);
    assert_eq!(config.local_cache_dir, PathBuf::from("/var/cache/herald/crowds"));
    assert_eq!(config.part_size_bytes, herald_crowd::DEFAULT_PART_SIZE);
    let debug = format!("{config:?}");
    assert!(!debug.contains("very-secret") && debug.contains("REDACTED"), "{debug}");

    let typo = serde_json::from_value::<S3Config>(serde_json::json!({
        "bucket": "crowds",
        "access_key_id": "AKIA",
        "secret_access_key": "s",
        "local_cache_dir": "/c",
        "secretAccessKey": "s",
    }));
    assert!(typo.unwrap_err().to_string().contains("secretAccessKey"));

    let store = S3CrowdStore::new(config.clone()).unwrap();
    assert!(!format!("{store:?}").contains("very-secret"));
    let small_parts = S3CrowdStore::new(S3Config { part_size_bytes: 1 << 20, ..config.clone() });
    assert!(matches!(small_parts, Err(StoreError::Io(_))));
    for prefix in ["/crowds/", "a//b/", "../"] {
        let bad = S3CrowdStore::new(S3Config { prefix: prefix.to_string(), ..config.clone() });
        assert!(bad.is_err(), "prefix {prefix:?} accepted");
    }
    for prefix in ["", "crowds/", "herald/prod/crowds/", "crowd-"] {
        let store = S3CrowdStore::new(S3Config { prefix: prefix.to_string(), ..config.clone() }).unwrap();
        assert_eq!(store.key_of(&uuid::Uuid::nil().to_string()).unwrap(), format!("{prefix}{}.csv", uuid::Uuid::nil()));
    }
}
