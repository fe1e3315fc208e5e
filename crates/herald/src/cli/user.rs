//! `herald user add|passwd|list|disable|enable`: console users without a running node.
//! The password comes from `HERALD_USER_PASSWORD`, else a prompt on a terminal (typed twice,
//! not echoed), else the first line of standard input. There is no default password.

use herald::config::Config;
use herald_store::{PgStore, SqliteStore, StoreError, UserRepo};
use std::io::{BufRead, IsTerminal};
use std::path::Path;
use std::process::ExitCode;

pub const PASSWORD_ENV: &str = "HERALD_USER_PASSWORD";

async fn open(config_file: Option<&Path>) -> anyhow::Result<Box<dyn Users>> {
    let config = Config::load(config_file)?;
    if config.database.is_postgres() {
        return Ok(Box::new(PgStore::connect(&config.database.url).await?));
    }
    let path = config.database.sqlite_path()?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    Ok(Box::new(SqliteStore::open(&path).await?))
}

/// The user repository of either backend, closable.
#[async_trait::async_trait]
trait Users: UserRepo {
    async fn close_db(&self);
}

#[async_trait::async_trait]
impl Users for SqliteStore {
    async fn close_db(&self) {
        self.close().await
    }
}

#[async_trait::async_trait]
impl Users for PgStore {
    async fn close_db(&self) {
        self.close().await
    }
}

fn read_password() -> anyhow::Result<String> {
    if let Ok(password) = std::env::var(PASSWORD_ENV) {
        return Ok(password);
    }
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Password again: ")?;
        anyhow::ensure!(first == again, "the two passwords differ");
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn checked_password() -> anyhow::Result<String> {
    let password = read_password()?;
    if let Some(problem) = herald_api::console::password_problem(&password) {
        anyhow::bail!("password: {problem}");
    }
    Ok(password)
}

pub async fn add(config_file: Option<&Path>, name: &str) -> anyhow::Result<ExitCode> {
    let name = name.trim();
    anyhow::ensure!(
        !name.is_empty() && name.chars().count() <= 100 && !name.chars().any(char::is_control),
        "user name: must be 1 to 100 printable characters"
    );
    let password = checked_password()?;
    let hash = herald_api::console::hash_password(password).await?;
    let store = open(config_file).await?;
    let created = store.create_user(name, &hash, chrono::Utc::now()).await;
    store.close_db().await;
    match created {
        Ok(_) => {
            println!("created console user {name:?}; log in at the node's / page");
            Ok(ExitCode::SUCCESS)
        }
        Err(StoreError::Conflict(msg)) => anyhow::bail!("{msg}; `herald user passwd {name}` sets a new password"),
        Err(e) => Err(e.into()),
    }
}

pub async fn passwd(config_file: Option<&Path>, name: &str) -> anyhow::Result<ExitCode> {
    let password = checked_password()?;
    let hash = herald_api::console::hash_password(password).await?;
    let store = open(config_file).await?;
    let set = store.set_user_password(name.trim(), &hash, chrono::Utc::now()).await;
    store.close_db().await;
    match set {
        Ok(()) => {
            println!("new password set for {name:?}; its sessions were ended");
            Ok(ExitCode::SUCCESS)
        }
        Err(StoreError::NotFound { .. }) => anyhow::bail!("no console user named {name:?}"),
        Err(e) => Err(e.into()),
    }
}

pub async fn list(config_file: Option<&Path>) -> anyhow::Result<ExitCode> {
    let store = open(config_file).await?;
    let users = store.list_users(herald_store::Window::ALL).await;
    store.close_db().await;
    println!("{:<32} {:<20} STATE", "NAME", "ADDED (UTC)");
    for u in users? {
        let state = if u.disabled_at.is_some() { "disabled" } else { "active" };
        println!("{:<32} {:<20} {state}", u.name, u.created_at.format("%Y-%m-%d %H:%M:%S"));
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn set_disabled(config_file: Option<&Path>, name: &str, disabled: bool) -> anyhow::Result<ExitCode> {
    let store = open(config_file).await?;
    let set = store.set_user_disabled(name.trim(), disabled, chrono::Utc::now()).await;
    store.close_db().await;
    match set {
        Ok(()) if disabled => println!("disabled console user {name:?}; its sessions were ended"),
        Ok(()) => println!("enabled console user {name:?}"),
        Err(StoreError::NotFound { .. }) => anyhow::bail!("no console user named {name:?}"),
        Err(StoreError::Conflict(msg)) => anyhow::bail!("{msg}"),
        Err(e) => return Err(e.into()),
    }
    Ok(ExitCode::SUCCESS)
}
