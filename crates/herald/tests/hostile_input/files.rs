//! Finding 19: the data directory, database, key file and crowd files are owner-only, checked
//! on the files a real node creates.

use super::*;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

#[tokio::test]
async fn data_database_key_and_crowd_files_are_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut config = test_config(dir.path());
    config.database.url = format!("sqlite://{}", data.join("herald.sqlite").display());
    config.crowd.dir = data.join("crowds");
    config.security.sealing_key_file = data.join("herald.key");
    let node = TestNode::start(&config, Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap()).await;
    let crowd = node.crowd(crowd_csv(3)).await;

    assert_eq!(mode(&data), 0o700, "data directory");
    assert_eq!(mode(&data.join("crowds")), 0o700, "crowd directory");
    assert_eq!(mode(&data.join("herald.sqlite")), 0o600, "database");
    for side in ["herald.sqlite-wal", "herald.sqlite-shm"] {
        if data.join(side).exists() {
            assert_eq!(mode(&data.join(side)), 0o600, "{side}");
        }
    }
    assert_eq!(mode(&data.join("herald.key")), 0o600, "key file");
    assert_eq!(mode(&data.join("crowds").join(format!("{crowd}.csv"))), 0o600, "crowd file");
}

/// A database an older herald created world-readable is made owner-only at the next start.
#[tokio::test]
async fn an_existing_world_readable_database_is_tightened() {
    let dir = tempfile::tempdir().unwrap();
    let config = test_config(dir.path());
    let db = dir.path().join("herald.sqlite");
    std::fs::write(&db, b"").unwrap();
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let _node = TestNode::start(&config, Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap()).await;
    assert_eq!(mode(&db), 0o600);
}
