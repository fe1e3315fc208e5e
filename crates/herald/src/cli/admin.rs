//! `herald migrate` and `herald apikey create|list|revoke`: database chores that need no
//! running node.

use anyhow::bail;
use herald::backends::{Database, open_database};
use herald::config::Config;
use herald_store::{ApiKeyScope, Revoked};
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

pub async fn create_api_key(config_file: Option<&Path>, name: &str, scope: &str) -> anyhow::Result<ExitCode> {
    let Some(scope) = ApiKeyScope::parse(scope) else {
        bail!("--scope: {scope:?} is not a scope; give admin or send");
    };
    let store = open(config_file).await?;
    let (_, key) = herald_api::create_api_key(store.store().as_ref(), name, scope, chrono::Utc::now()).await?;
    store.close().await;
    println!("{key}");
    Ok(ExitCode::SUCCESS)
}

pub async fn list_api_keys(config_file: Option<&Path>) -> anyhow::Result<ExitCode> {
    let store = open(config_file).await?;
    let keys = store.store().list_api_keys(10_000, 0).await?;
    store.close().await;
    let when = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| t.format("%Y-%m-%d %H:%M").to_string());
    println!(
        "{:>5}  {:<12} {:<6} {:<17} {:<17} {:<17} name",
        "id", "prefix", "scope", "created", "last used", "revoked"
    );
    for k in keys {
        println!(
            "{:>5}  {:<12} {:<6} {:<17} {:<17} {:<17} {}",
            k.id,
            if k.prefix.is_empty() { "-" } else { &k.prefix },
            k.scope.as_str(),
            k.created_at.format("%Y-%m-%d %H:%M"),
            when(k.last_used_at).unwrap_or_else(|| "never".into()),
            when(k.revoked_at).unwrap_or_else(|| "-".into()),
            k.name.escape_debug(),
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn revoke_api_key(config_file: Option<&Path>, id: i64) -> anyhow::Result<ExitCode> {
    let store = open(config_file).await?;
    let revoked = store.store().revoke_api_key(id, chrono::Utc::now()).await?;
    store.close().await;
    match revoked {
        Revoked::Revoked => println!("API key {id} revoked"),
        Revoked::Already => println!("API key {id} was revoked already"),
        Revoked::NotFound => bail!("no API key with id {id}"),
        Revoked::LastAdmin => bail!("API key {id} is the last usable admin key; create another admin key first"),
    }
    Ok(ExitCode::SUCCESS)
}
