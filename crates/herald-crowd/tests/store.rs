//! The local crowd store: streamed saves under a size limit, validation from disk, UUID
//! names and nothing left behind on failure.

use bytes::Bytes;
use futures::stream;
use herald_crowd::{
    Checkpoint, CrowdError, CrowdFormat, CrowdReader, CrowdStore, LocalCrowdStore, RowOutcome, StoreError, body_stream,
};
use std::path::Path;

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

#[tokio::test]
async fn a_good_file_is_saved_under_a_fresh_uuid_with_its_report() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalCrowdStore::new(dir.path().join("crowds"));
    let body: [&[u8]; 3] = [b"userId,na", "me\nu1,张三\n,x\nu3".as_bytes(), b",c\n"];
    let saved = store.save(chunks(&body), 1024, &CrowdFormat::default()).await.unwrap();

    assert!(uuid::Uuid::try_parse(&saved.crowd_id).is_ok());
    assert_eq!(saved.size_bytes, body.iter().map(|b| b.len() as u64).sum::<u64>());
    assert_eq!((saved.report.rows, saved.report.valid_rows, saved.report.bad_row_count), (3, 2, 1));
    assert_eq!(saved.report.bad_rows[0].line, 3);
    assert_eq!(saved.report.columns, ["name"]);
    assert_eq!(files_in(&dir.path().join("crowds")), [format!("{}.csv", saved.crowd_id)]);
    let path = store.path_of(&saved.crowd_id).unwrap();
    assert_eq!(std::fs::read(path).unwrap(), body.concat());
}

#[tokio::test]
async fn a_saved_file_can_be_opened_and_streamed() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalCrowdStore::new(dir.path().to_path_buf());
    let saved = store.save(chunks(&[b"userId,n\nu1,a\nu2,b\n"]), 1024, &CrowdFormat::default()).await.unwrap();
    let file = store.open(&saved.crowd_id).await.unwrap();
    let rows: Vec<_> = CrowdReader::open(file, &CrowdFormat::default(), Checkpoint::default())
        .unwrap()
        .map(|r| match r.unwrap() {
            RowOutcome::Valid(row) => row.receiver,
            RowOutcome::Invalid(b) => panic!("{b:?}"),
        })
        .collect();
    assert_eq!(rows, ["u1", "u2"]);
}

#[tokio::test]
async fn too_large_is_refused_and_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalCrowdStore::new(dir.path().to_path_buf());
    let err = store
        .save(chunks(&[b"userId,n\n", b"u1,aaaaaaaa\n", b"u2,bbbbbbbb\n"]), 20, &CrowdFormat::default())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::TooLarge { limit: 20 }), "{err:?}");
    assert!(files_in(dir.path()).is_empty(), "{:?}", files_in(dir.path()));
}

#[tokio::test]
async fn exactly_the_limit_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalCrowdStore::new(dir.path().to_path_buf());
    let body = b"userId\nu1\n";
    let saved = store.save(chunks(&[body]), body.len() as u64, &CrowdFormat::default()).await;
    assert_eq!(saved.unwrap().report.valid_rows, 1);
}

#[tokio::test]
async fn a_bad_header_is_refused_and_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalCrowdStore::new(dir.path().to_path_buf());
    let err = store.save(chunks(&[b"phone,n\n1,a\n"]), 1024, &CrowdFormat::default()).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(CrowdError::MissingReceiverColumn { .. })), "{err:?}");
    assert!(files_in(dir.path()).is_empty(), "{:?}", files_in(dir.path()));
}

#[tokio::test]
async fn a_failing_body_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalCrowdStore::new(dir.path().to_path_buf());
    let items: Vec<Result<Bytes, std::io::Error>> =
        vec![Ok(Bytes::from_static(b"userId\n")), Err(std::io::Error::other("client went away"))];
    let err = store.save(body_stream(stream::iter(items)), 1024, &CrowdFormat::default()).await.unwrap_err();
    assert!(matches!(err, StoreError::Body(_)), "{err:?}");
    assert!(files_in(dir.path()).is_empty(), "{:?}", files_in(dir.path()));
}

#[test]
fn path_of_refuses_anything_but_a_uuid() {
    let store = LocalCrowdStore::new("/data/crowds".into());
    let id = uuid::Uuid::new_v4().to_string();
    assert_eq!(store.path_of(&id).unwrap(), Path::new("/data/crowds").join(format!("{id}.csv")));
    for bad in [
        "../etc/passwd",
        "",
        "a/b",
        &id.to_uppercase(),
        &format!("{{{id}}}"),
        &format!("../{id}"),
        &id.replace('-', ""),
    ] {
        assert!(matches!(store.path_of(bad), Err(StoreError::InvalidId { .. })), "{bad:?} accepted");
    }
}

#[tokio::test]
async fn delete_removes_the_file_and_open_then_reports_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalCrowdStore::new(dir.path().to_path_buf());
    let saved = store.save(chunks(&[b"userId\nu1\n"]), 1024, &CrowdFormat::default()).await.unwrap();
    store.delete(&saved.crowd_id).await.unwrap();
    assert!(files_in(dir.path()).is_empty());
    assert!(matches!(store.open(&saved.crowd_id).await, Err(StoreError::NotFound { .. })));
    assert!(matches!(store.delete(&saved.crowd_id).await, Err(StoreError::NotFound { .. })));
    assert!(matches!(store.delete("../x").await, Err(StoreError::InvalidId { .. })));
}

#[tokio::test]
async fn the_store_is_usable_as_a_trait_object() {
    let dir = tempfile::tempdir().unwrap();
    let store: std::sync::Arc<dyn CrowdStore> = std::sync::Arc::new(LocalCrowdStore::new(dir.path().to_path_buf()));
    let saved = store.save(chunks(&[b"userId\nu1\n"]), 1024, &CrowdFormat::default()).await.unwrap();
    assert_eq!(saved.report.rows, 1);
}
