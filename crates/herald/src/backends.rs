//! Choosing the backends behind the traits from configuration: SQLite or PostgreSQL for
//! state, the SQLite queue or Kafka for the bus, a local directory or S3 for crowd files, and
//! the store or Redis for dedup windows. The pipeline code is the same whichever is chosen.

use crate::config::{BusKind, Config};
use anyhow::{Context, bail};
use herald_bus::{Bus, KafkaBus, SqliteBus};
use herald_core::Clock;
use herald_crowd::{CrowdStore, LocalCrowdStore, S3CrowdStore};
use herald_store::redis_dedup::RedisDedup;
use herald_store::{DedupStore, PgStore, SqliteStore, Store};
use std::sync::Arc;

/// The database a node holds, to close it on shutdown.
#[derive(Clone)]
pub enum Database {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

impl Database {
    pub fn store(&self) -> Arc<dyn Store> {
        match self {
            Self::Sqlite(s) => Arc::new(s.clone()),
            Self::Postgres(p) => Arc::new(p.clone()),
        }
    }

    pub async fn close(&self) {
        match self {
            Self::Sqlite(s) => s.close().await,
            Self::Postgres(p) => p.close().await,
        }
    }
}

pub struct Backends {
    pub database: Database,
    pub store: Arc<dyn Store>,
    pub dedup: Arc<dyn DedupStore>,
    pub bus: Arc<dyn Bus>,
    pub crowds: Arc<dyn CrowdStore>,
}

/// Opens (and migrates) the configured database: PostgreSQL for a `postgres://` url, else the
/// SQLite file.
pub async fn open_database(config: &Config) -> anyhow::Result<Database> {
    if config.database.is_postgres() {
        let pg = PgStore::connect(&config.database.url).await.context("database.url: connecting to PostgreSQL")?;
        return Ok(Database::Postgres(pg));
    }
    let path = config.database.sqlite_path()?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let sqlite = SqliteStore::open_with(&path, config.database.sqlite_durability).await;
    Ok(Database::Sqlite(sqlite.with_context(|| format!("opening {}", path.display()))?))
}

pub async fn open(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Backends> {
    let database = open_database(config).await?;
    let store = database.store();
    let dedup: Arc<dyn DedupStore> = match (&config.redis.url, &database) {
        (Some(url), _) => {
            let client = redis::Client::open(url.as_str()).context("redis.url")?;
            let prefix = config.redis.key_prefix.clone().unwrap_or_else(|| "herald".into());
            Arc::new(RedisDedup::connect(client, &prefix).await.context("redis.url: connecting to Redis")?)
        }
        (None, Database::Sqlite(s)) => Arc::new(s.clone()),
        (None, Database::Postgres(_)) => {
            bail!("redis.url: with PostgreSQL, dedup windows live in Redis; set redis.url")
        }
    };
    let bus: Arc<dyn Bus> = match (config.bus.kind, &database) {
        (BusKind::Sqlite, Database::Sqlite(s)) => {
            Arc::new(SqliteBus::new(s.pool().clone(), clock, config.worker.max_attempts))
        }
        (BusKind::Sqlite, Database::Postgres(_)) => {
            bail!("bus.kind: the sqlite bus needs a SQLite database; use kafka")
        }
        (BusKind::Kafka, _) => {
            let kafka =
                config.bus.kafka.clone().context("bus.kafka: bus.kind = \"kafka\" needs [bus.kafka] settings")?;
            Arc::new(KafkaBus::new(kafka).context("bus.kafka")?)
        }
    };
    std::fs::create_dir_all(&config.crowd.dir).with_context(|| format!("creating {}", config.crowd.dir.display()))?;
    let crowds: Arc<dyn CrowdStore> = match &config.crowd.s3 {
        Some(s3) => Arc::new(S3CrowdStore::new(s3.clone()).context("crowd.s3")?),
        None => Arc::new(LocalCrowdStore::new(config.crowd.dir.clone())),
    };
    Ok(Backends { database, store, dedup, bus, crowds })
}
