//! `herald migrate` and `herald apikey create`: database chores that need no running node.

use herald::config::Config;
use herald_store::{ApiKeyRepo, SqliteStore};
use std::path::Path;
use std::process::ExitCode;

async fn open(config_file: Option<&Path>) -> anyhow::Result<SqliteStore> {
    let config = Config::load(config_file)?;
    let path = config.database.sqlite_path()?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    Ok(SqliteStore::open(&path).await?)
}

pub async fn migrate(config_file: Option<&Path>) -> anyhow::Result<ExitCode> {
    let store = open(config_file).await?;
    store.close().await;
    println!("database is up to date");
    Ok(ExitCode::SUCCESS)
}

pub async fn create_api_key(config_file: Option<&Path>, label: &str) -> anyhow::Result<ExitCode> {
    let store = open(config_file).await?;
    let key = herald_api::new_api_key();
    store.insert_api_key(&herald_api::hash_api_key(&key), label, chrono::Utc::now()).await?;
    store.close().await;
    println!("{key}");
    Ok(ExitCode::SUCCESS)
}
