//! Choosing the backends behind the traits from configuration: SQLite or PostgreSQL for
//! state, the SQLite queue or Kafka for the bus, a local directory or S3 for crowd files, and
//! the store and process or Redis for dedup windows, rate buckets, provider tokens and the
//! ledger's hot window. The pipeline code is the same whichever is chosen.

use crate::config::{BusKind, Config};
use anyhow::{Context, bail};
use herald_bus::{Bus, SqliteBus};
use herald_channels::redis_tokens::RedisTokenCache;
use herald_channels::tokens::{MemoryTokenCache, TokenCache};
use herald_core::Clock;
use herald_crowd::private_fs::{create_private_dir, ensure_private_file, tighten_if_present};
use herald_crowd::{CrowdStore, LocalCrowdStore};
use herald_store::redis_dedup::RedisDedup;
use herald_store::redis_ledger::RedisLedger;
use herald_store::redis_rate::RedisRates;
use herald_store::{DedupStore, LedgerRepo, LocalRates, PgStore, RateGate, SqliteStore, Store, redis_conn};
use std::sync::Arc;
use std::time::Duration;

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

    /// The pool's open connections, idle ones, and its maximum.
    pub fn pool_use(&self) -> (usize, usize, u32) {
        match self {
            Self::Sqlite(s) => {
                (s.pool().size() as usize, s.pool().num_idle(), s.pool().options().get_max_connections())
            }
            Self::Postgres(p) => {
                (p.pool().size() as usize, p.pool().num_idle(), p.pool().options().get_max_connections())
            }
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
    pub shared: Shared,
    /// The node's Redis connection, when configured (for `/readyz`).
    pub redis: Option<redis::aio::ConnectionManager>,
}

/// What a node's workers share with other nodes when Redis is configured, and keep in the
/// process (or the store) when not.
#[derive(Clone)]
pub struct Shared {
    pub rates: Arc<dyn RateGate>,
    pub tokens: Arc<dyn TokenCache>,
    /// The delivery ledger the pipeline uses: the store, behind Redis's hot window if any.
    pub ledger: Arc<dyn LedgerRepo>,
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
        create_private_dir(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    // SQLite gives its -wal and -shm files the database file's mode, so an owner-only
    // database keeps all three private.
    ensure_private_file(&path).with_context(|| format!("creating {}", path.display()))?;
    for suffix in ["-wal", "-shm"] {
        let mut side = path.clone().into_os_string();
        side.push(suffix);
        tighten_if_present(std::path::Path::new(&side)).with_context(|| format!("{}", path.display()))?;
    }
    let sqlite = SqliteStore::open_with(&path, config.database.sqlite_durability).await;
    Ok(Database::Sqlite(sqlite.with_context(|| format!("opening {}", path.display()))?))
}

pub async fn open(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Backends> {
    refuse_unbuilt(config)?;
    let database = open_database(config).await?;
    let store = database.store();
    let redis = match &config.redis.url {
        Some(url) => {
            let client = redis::Client::open(url.as_str()).context("redis.url")?;
            Some(redis_conn::connect(client).await.context("redis.url: connecting to Redis")?)
        }
        None => None,
    };
    let prefix = config.redis.key_prefix.clone().unwrap_or_else(|| "herald".into());
    let dedup: Arc<dyn DedupStore> = match (&redis, &database) {
        (Some(conn), _) => Arc::new(RedisDedup::new(conn.clone(), &prefix)),
        (None, Database::Sqlite(s)) => Arc::new(s.clone()),
        (None, Database::Postgres(_)) => {
            bail!("redis.url: with PostgreSQL, dedup windows live in Redis; set redis.url")
        }
    };
    let shared = match redis.clone() {
        Some(conn) => {
            let window = config.redis.ledger_hot_window_secs;
            let ledger: Arc<dyn LedgerRepo> = match window {
                0 => store.clone(),
                secs => Arc::new(RedisLedger::new(store.clone(), conn.clone(), &prefix, Duration::from_secs(secs))),
            };
            Shared {
                rates: Arc::new(RedisRates::new(conn.clone(), &prefix)),
                tokens: Arc::new(RedisTokenCache::new(conn, &prefix, clock.clone())),
                ledger,
            }
        }
        None => Shared {
            rates: Arc::new(LocalRates::default()),
            tokens: Arc::new(MemoryTokenCache::default()),
            ledger: store.clone(),
        },
    };
    let bus: Arc<dyn Bus> = match (config.bus.kind, &database) {
        (BusKind::Sqlite, Database::Sqlite(s)) => {
            Arc::new(SqliteBus::new(s.writer().clone(), clock, config.worker.max_attempts))
        }
        (BusKind::Sqlite, Database::Postgres(_)) => {
            bail!("bus.kind: the sqlite bus needs a SQLite database; use kafka")
        }
        (BusKind::Kafka, _) => kafka_bus(config)?,
    };
    let crowds = crowd_store(config)?;
    Ok(Backends { database, store, dedup, bus, crowds, shared, redis })
}

/// Refuses, before anything connects, a setting whose backend this binary was built without:
/// the cluster backends are the cargo features `kafka` and `s3` (`cluster`), which the embedded
/// default's build leaves out.
pub fn refuse_unbuilt(config: &Config) -> anyhow::Result<()> {
    let missing = if config.bus.kind == BusKind::Kafka && !cfg!(feature = "kafka") {
        Some(("bus.kind = \"kafka\"", "kafka"))
    } else if config.crowd.s3.is_some() && !cfg!(feature = "s3") {
        Some(("[crowd.s3]", "s3"))
    } else {
        None
    };
    match missing {
        Some((setting, feature)) => bail!(
            "{setting}: this herald was built without the `{feature}` feature (the embedded default leaves \
             the cluster backends out); build it with `cargo build --release -p herald --features cluster`"
        ),
        None => Ok(()),
    }
}

#[cfg(feature = "kafka")]
fn kafka_bus(config: &Config) -> anyhow::Result<Arc<dyn Bus>> {
    let kafka = config.bus.kafka.clone().context("bus.kafka: bus.kind = \"kafka\" needs [bus.kafka] settings")?;
    Ok(Arc::new(herald_bus::KafkaBus::new(kafka).context("bus.kafka")?))
}

#[cfg(not(feature = "kafka"))]
fn kafka_bus(_: &Config) -> anyhow::Result<Arc<dyn Bus>> {
    unreachable!("`open` calls refuse_unbuilt first, which refuses bus.kind = \"kafka\" in this build")
}

fn crowd_store(config: &Config) -> anyhow::Result<Arc<dyn CrowdStore>> {
    create_private_dir(&config.crowd.dir).with_context(|| format!("creating {}", config.crowd.dir.display()))?;
    match &config.crowd.s3 {
        Some(s3) => s3_crowds(s3.clone()),
        None => Ok(Arc::new(LocalCrowdStore::new(config.crowd.dir.clone()))),
    }
}

#[cfg(feature = "s3")]
fn s3_crowds(config: herald_crowd::S3Config) -> anyhow::Result<Arc<dyn CrowdStore>> {
    Ok(Arc::new(herald_crowd::S3CrowdStore::new(config).context("crowd.s3")?))
}

#[cfg(not(feature = "s3"))]
fn s3_crowds(_: herald_crowd::S3Config) -> anyhow::Result<Arc<dyn CrowdStore>> {
    unreachable!("`open` calls refuse_unbuilt first, which refuses [crowd.s3] in this build")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The embedded default's build (`cargo run`) refuses the cluster backends by name; a
    /// `--features cluster` build (the test suite's) takes them.
    #[test]
    fn a_backend_left_out_of_the_build_is_refused_naming_the_feature() {
        let dir = std::path::Path::new("/nonexistent");
        let kafka = Config {
            bus: crate::config::BusConfig { kind: BusKind::Kafka, ..Default::default() },
            ..Config::in_dir(dir)
        };
        let mut s3 = Config::in_dir(dir);
        s3.crowd.s3 = Some(
            serde_json::from_value(serde_json::json!({
                "bucket": "b", "access_key_id": "a", "secret_access_key": "s", "local_cache_dir": "/nonexistent"
            }))
            .unwrap(),
        );
        for (config, feature, built) in
            [(kafka, "`kafka`", cfg!(feature = "kafka")), (s3, "`s3`", cfg!(feature = "s3"))]
        {
            match refuse_unbuilt(&config) {
                Ok(()) => assert!(built, "{feature} is not built in, yet accepted"),
                Err(e) => {
                    assert!(!built, "{feature} is built in, yet refused: {e}");
                    assert!(e.to_string().contains(feature) && e.to_string().contains("--features cluster"), "{e}");
                }
            }
        }
        assert!(refuse_unbuilt(&Config::in_dir(dir)).is_ok());
    }
}
