//! `herald migrate` and `herald apikey create`: database chores that need no running node.

use herald::backends::{Database, open_database};
use herald::config::Config;
use std::path::Path;
use std::process::ExitCode;

/// Opens the configured database (SQLite or PostgreSQL), running pending migrations.
async fn open(config_file: Option<&Path>) -> anyhow::Result<Database> {
    open_database(&Config::load(config_file)?).await
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
    store.store().insert_api_key(&herald_api::hash_api_key(&key), label, chrono::Utc::now()).await?;
    store.close().await;
    println!("{key}");
    Ok(ExitCode::SUCCESS)
}
