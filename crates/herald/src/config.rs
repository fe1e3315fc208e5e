//! herald's configuration: built-in defaults, then a TOML file (config/herald.toml documents
//! every key), then `HERALD_` environment variables (`HERALD_SERVER__LISTEN=0.0.0.0:8080`).

use anyhow::{Context, bail};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use herald_channels::webhook::WebhookConfig;
use herald_core::InvalidSetting;
pub use herald_scheduler::{SchedulerConfig, StreamerConfig};
pub use herald_worker::WorkerConfig;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub bus: BusConfig,
    pub redis: RedisConfig,
    pub crowd: CrowdConfig,
    pub scheduler: SchedulerConfig,
    pub streamer: StreamerConfig,
    pub worker: WorkerConfig,
    pub webhook: WebhookSettings,
    pub channels: ChannelsConfig,
    pub security: SecurityConfig,
    pub retention: RetentionConfig,
    pub jobs: JobsConfig,
    pub alarms: AlarmsConfig,
    pub policies: PoliciesConfig,
    pub sample_data: SampleDataConfig,
    pub console: ConsoleConfig,
    pub status_events: crate::status_events::StatusEventsConfig,
    pub receipt_pulls: crate::receipt_pulls::ReceiptPullsConfig,
    pub log: LogConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    pub listen: String,
    pub max_json_bytes: usize,
    /// A client must send a request's whole header within this, or its connection is closed
    /// (slowloris).
    pub header_read_timeout_secs: u64,
    /// A request, body included, must be answered within this, or it gets a 408. Crowd
    /// uploads of the size limit must fit in it on the slowest link served.
    pub request_timeout_secs: u64,
    /// Connections served at once; more wait in the kernel's accept queue.
    pub max_connections: usize,
    /// herald's address as SMS providers and mail readers reach it (`https://herald.example.com`,
    /// a path allowed): the base of SMS reply callback URLs and of marketing mail's one-click
    /// unsubscribe links. Unset: marketing mail carries no `List-Unsubscribe`.
    pub public_url: Option<String>,
}

impl ServerConfig {
    fn validate(&self) -> Result<(), InvalidSetting> {
        InvalidSetting::check_range("max_json_bytes", self.max_json_bytes, 1024, 64 * 1024 * 1024)?;
        InvalidSetting::check_range("header_read_timeout_secs", self.header_read_timeout_secs, 1, 3_600)?;
        InvalidSetting::check_range("request_timeout_secs", self.request_timeout_secs, 1, 86_400)?;
        InvalidSetting::check_range("max_connections", self.max_connections, 1, 1_000_000)?;
        match &self.public_url {
            Some(url) => check_public_url(url).map_err(|reason| InvalidSetting::new("public_url", reason)),
            None => Ok(()),
        }
    }
}

/// A public URL is an absolute http(s) URL with a host and nothing a link cannot end with.
fn check_public_url(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url.trim()).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "https" | "http") || !parsed.has_host() {
        return Err(format!("{url:?} must be an https:// (or http://) URL with a host"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() || !parsed.username().is_empty() {
        return Err(format!("{url:?} must hold no query, fragment or user name"));
    }
    Ok(())
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            max_json_bytes: 2 * 1024 * 1024,
            header_read_timeout_secs: 10,
            request_timeout_secs: 300,
            max_connections: 1024,
            public_url: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    pub url: String,
    /// SQLite only: `normal` (survives crashes; a power loss may drop the newest commits,
    /// which checkpoints and the ledger replay) or `full` (an fsync per commit; slower).
    pub sqlite_durability: herald_store::Durability,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self { url: "sqlite://data/herald.sqlite".into(), sqlite_durability: herald_store::Durability::Normal }
    }
}

impl DatabaseConfig {
    pub fn is_postgres(&self) -> bool {
        self.url.starts_with("postgres://") || self.url.starts_with("postgresql://")
    }

    /// The SQLite file the url names.
    pub fn sqlite_path(&self) -> anyhow::Result<PathBuf> {
        match self.url.strip_prefix("sqlite://") {
            Some(path) if !path.is_empty() => Ok(PathBuf::from(path)),
            _ if self.is_postgres() => bail!("database.url: a PostgreSQL url has no SQLite file"),
            _ => bail!("database.url: {:?} is neither sqlite://PATH nor postgres://...", self.url),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BusConfig {
    /// `sqlite` (a queue table in the SQLite database; embedded mode) or `kafka`.
    pub kind: BusKind,
    /// Required with `kind = "kafka"`.
    #[serde(skip_serializing)]
    pub kafka: Option<herald_bus::KafkaConfig>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BusKind {
    #[default]
    Sqlite,
    Kafka,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedisConfig {
    /// `redis://host:6379`: what every node shares and needs fast (dedup windows, rate
    /// buckets, provider tokens, the delivery ledger's hot window). Required with PostgreSQL.
    pub url: Option<String>,
    /// Prefix of every key herald writes.
    pub key_prefix: Option<String>,
    /// How long finished message ids stay in Redis, sparing redelivered batches a database
    /// lookup; 0 turns the hot window off.
    pub ledger_hot_window_secs: u64,
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self { url: None, key_prefix: None, ledger_hot_window_secs: 86_400 }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CrowdConfig {
    /// Crowd files in embedded mode (and S3's local cache when `s3` is set).
    pub dir: PathBuf,
    pub max_upload_bytes: u64,
    /// Crowd files in an S3-compatible store, shared by every node.
    #[serde(skip_serializing)]
    pub s3: Option<herald_crowd::S3Config>,
}

impl Default for CrowdConfig {
    fn default() -> Self {
        Self { dir: "data/crowds".into(), max_upload_bytes: 512 * 1024 * 1024, s3: None }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookSettings {
    /// Signs each request (X-Herald-Signature) when set. Prefer the environment variable.
    #[serde(skip_serializing)]
    pub signing_secret: Option<secrecy::SecretString>,
    pub timeout_ms: Option<u64>,
    pub attempts: Option<u32>,
    pub backoff_ms: Option<u64>,
}

impl WebhookSettings {
    pub fn resolve(&self) -> WebhookConfig {
        let d = WebhookConfig::default();
        WebhookConfig {
            signing_secret: self.signing_secret.clone(),
            timeout_ms: self.timeout_ms.unwrap_or(d.timeout_ms),
            attempts: self.attempts.unwrap_or(d.attempts),
            backoff_ms: self.backoff_ms.unwrap_or(d.backoff_ms),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChannelsConfig {
    /// Per provider request, in milliseconds.
    pub timeout_ms: u64,
    /// Largest provider response read, in bytes.
    pub max_response_bytes: usize,
    /// Allow provider and webhook URLs on loopback, link-local and private addresses.
    pub allow_private_networks: bool,
    /// Wait before retrying a failed housekeeping job (token refresh), in seconds.
    pub housekeeping_retry_secs: i64,
}

impl ChannelsConfig {
    fn validate(&self) -> Result<(), InvalidSetting> {
        InvalidSetting::check_range("timeout_ms", self.timeout_ms, 1, 600_000)?;
        InvalidSetting::check_range("housekeeping_retry_secs", self.housekeeping_retry_secs, 1, 86_400)
    }
}

impl Default for ChannelsConfig {
    fn default() -> Self {
        Self {
            timeout_ms: 10_000,
            max_response_bytes: 1024 * 1024,
            allow_private_networks: false,
            housekeeping_retry_secs: 60,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecurityConfig {
    /// base64 of 32 bytes: seals channel-account secrets. Prefer HERALD_SECURITY__SEALING_KEY.
    #[serde(skip_serializing)]
    pub sealing_key: Option<secrecy::SecretString>,
    /// Used when no sealing_key is set; created with a fresh key (mode 0600) when missing.
    pub sealing_key_file: PathBuf,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        Self { sealing_key: None, sealing_key_file: "data/herald.key".into() }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PoliciesConfig {
    /// The crowd column holding a recipient's IANA time zone, for quiet hours.
    pub timezone_column: String,
    /// Dedup rules per channel for templates that set none, e.g.
    /// `[policies.dedup.sms] content = { limit = 1, windowSecs = 300 }`.
    pub dedup: std::collections::HashMap<herald_core::ChannelKind, herald_core::dedup::DedupRules>,
}

impl Default for PoliciesConfig {
    fn default() -> Self {
        Self { timezone_column: "timezone".into(), dedup: Default::default() }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionConfig {
    /// Trace, ledger and outbox rows older than this many days are deleted, and fires that no
    /// run, job run or schedule still names.
    pub days: i64,
    /// When the retention job runs (Quartz cron, UTC).
    pub cron: String,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self { days: 30, cron: "0 30 3 * * ?".into() }
    }
}

/// Which commands scheduled jobs may run on this node: none unless enabled and listed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobsConfig {
    /// Command jobs run at all on this node.
    pub commands_enabled: bool,
    /// Programs a command job may run, written as jobs give them (e.g. `/usr/local/bin/backup`).
    pub allowed_commands: Vec<String>,
    /// Command jobs may ask for a `sh -c` script instead of a listed program.
    pub allow_shell: bool,
}

impl JobsConfig {
    pub fn policy(&self) -> herald_core::scheduled_job::CommandPolicy {
        herald_core::scheduled_job::CommandPolicy {
            enabled: self.commands_enabled,
            allowed: self.allowed_commands.clone(),
            allow_shell: self.allow_shell,
        }
    }
}

/// Where housekeeping that fails (a token refresh, a receipt pull, retention, a quiet-hours
/// release) raises an alarm: a template and its receivers, as a job's alarms name them. Off
/// when no template is given.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlarmsConfig {
    /// The template sent (a robot's, an email's, a webhook's), through its channel and account.
    pub template_id: Option<i64>,
    /// As the template's channel names them.
    pub receivers: Vec<String>,
    /// After an alarm, the same failure stays quiet this many minutes.
    pub quiet_mins: u32,
    /// A message when the housekeeping succeeds again.
    pub recovery: bool,
    /// When the daily report goes to the same receivers (Quartz cron, read in UTC): how each
    /// job's and housekeeping schedule's fires of the last day went. Off when absent.
    pub daily_report_cron: Option<String>,
}

impl Default for AlarmsConfig {
    fn default() -> Self {
        Self { template_id: None, receivers: Vec::new(), quiet_mins: 60, recovery: true, daily_report_cron: None }
    }
}

impl AlarmsConfig {
    /// The alarm housekeeping failures raise; None when off.
    pub fn spec(&self) -> Option<herald_core::scheduled_job::AlarmSpec> {
        Some(herald_core::scheduled_job::AlarmSpec {
            template_id: self.template_id?,
            receivers: self.receivers.clone(),
            on: vec![herald_core::scheduled_job::AlarmRule::Failure],
            failure_rate: None,
            stuck_after_secs: None,
            quiet_mins: self.quiet_mins,
            recovery: self.recovery,
        })
    }

    /// The daily report's cron, when it is on (a template is named too).
    pub fn daily_report(&self) -> Option<&str> {
        self.template_id.and(self.daily_report_cron.as_deref())
    }

    fn validate(&self) -> Result<(), InvalidSetting> {
        if let Some(cron) = &self.daily_report_cron {
            if self.template_id.is_none() {
                return Err(InvalidSetting::new("daily_report_cron", "needs template_id: the report goes through it"));
            }
            herald_core::cron::CronSchedule::parse(cron, "UTC")
                .map_err(|e| InvalidSetting::new("daily_report_cron", e.to_string()))?;
        }
        match self.spec().and_then(|spec| spec.problems().into_iter().next()) {
            Some(fault) => Err(InvalidSetting::new(fault.field.trim_start_matches("alarms."), fault.message)),
            None => Ok(()),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SampleDataConfig {
    pub load: bool,
    pub dir: PathBuf,
}

impl Default for SampleDataConfig {
    fn default() -> Self {
        Self { load: true, dir: "sample-data".into() }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsoleConfig {
    /// A console session ends this many hours after login.
    pub session_hours: i64,
    /// `auto` (Secure when the request came over https, e.g. `X-Forwarded-Proto: https` from a
    /// TLS proxy), `always` or `never`.
    pub secure_cookies: herald_api::console::CookieSecurity,
    /// Run-now asks for a confirmation when the crowd has at least this many rows.
    pub confirm_run_rows: i64,
    /// How long the setup link printed at a first start stays valid, in hours.
    pub setup_link_hours: i64,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        let d = herald_api::console::ConsoleSettings::default();
        Self {
            session_hours: d.session_ttl.num_hours(),
            secure_cookies: d.secure_cookies,
            confirm_run_rows: d.confirm_run_rows,
            setup_link_hours: d.setup_link_ttl.num_hours(),
        }
    }
}

impl ConsoleConfig {
    fn validate(&self) -> Result<(), InvalidSetting> {
        InvalidSetting::check_range("session_hours", self.session_hours, 1, 24 * 366)?;
        InvalidSetting::check_range("confirm_run_rows", self.confirm_run_rows, 0, i64::MAX)?;
        InvalidSetting::check_range("setup_link_hours", self.setup_link_hours, 1, 24 * 366)
    }

    pub fn settings(&self) -> herald_api::console::ConsoleSettings {
        herald_api::console::ConsoleSettings {
            session_ttl: chrono::Duration::hours(self.session_hours),
            secure_cookies: self.secure_cookies,
            confirm_run_rows: self.confirm_run_rows,
            setup_link_ttl: chrono::Duration::hours(self.setup_link_hours),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `pretty` for people, `json` for log pipelines.
    pub format: String,
    /// An env-filter directive; RUST_LOG wins when set.
    pub filter: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self { format: "pretty".into(), filter: "info,sqlx=warn,tower_http=info".into() }
    }
}

impl Config {
    /// The defaults with every file this node writes under `dir`, an ephemeral port and no
    /// sample data: a node of its own (tests, benchmarks).
    pub fn in_dir(dir: &Path) -> Config {
        let mut config = Config::default();
        config.database.url = format!("sqlite://{}", dir.join("herald.sqlite").display());
        config.crowd.dir = dir.join("crowds");
        config.server.listen = "127.0.0.1:0".into();
        config.sample_data.load = false;
        config.security.sealing_key_file = dir.join("herald.key");
        config
    }

    /// Defaults, then `file` (required to exist when given explicitly), then the environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) => {
                if !path.exists() {
                    bail!("config file {} does not exist", path.display());
                }
                figment = figment.merge(Toml::file(path));
            }
            None => figment = figment.merge(Toml::file("config/herald.toml")),
        }
        // Only HERALD_<SECTION>__<KEY> is configuration: other HERALD_ variables (the CLI's
        // HERALD_API_KEY and HERALD_URL, a test harness's HERALD_TEST_*) are not this node's.
        figment = figment.merge(Env::prefixed("HERALD_").split("__").filter(|key| key.as_str().contains('.')));
        if figment.find_value("ui").is_ok() {
            bail!("ui: this section (HERALD_UI__*) is now called [console] (HERALD_CONSOLE__*); rename it");
        }
        let config: Config = figment.extract().context("reading configuration")?;
        config.validate()?;
        Ok(config)
    }

    /// Refuses values out of range, naming the key; nothing is clamped quietly.
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        self.server.validate().map_err(|e| e.in_section("server"))?;
        self.scheduler.validate().map_err(|e| e.in_section("scheduler"))?;
        self.streamer.validate().map_err(|e| e.in_section("streamer"))?;
        self.worker.validate().map_err(|e| e.in_section("worker"))?;
        self.channels.validate().map_err(|e| e.in_section("channels"))?;
        self.alarms.validate().map_err(|e| e.in_section("alarms"))?;
        self.console.validate().map_err(|e| e.in_section("console"))?;
        self.status_events.validate().map_err(|e| e.in_section("status_events"))?;
        self.receipt_pulls.validate().map_err(|e| e.in_section("receipt_pulls"))
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closures return figment::Error
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_file_and_client_variables_are_ignored() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("herald.toml", "[server]\nlisten = \"127.0.0.1:9000\"\n[worker]\nmax_attempts = 3\n")?;
            jail.set_env("HERALD_SERVER__LISTEN", "0.0.0.0:7000");
            jail.set_env("HERALD_API_KEY", "hk_not_config");
            jail.set_env("HERALD_TEST_POSTGRES_URL", "postgres://elsewhere");
            let config = Config::load(Some(Path::new("herald.toml"))).expect("loads");
            assert_eq!(config.server.listen, "0.0.0.0:7000");
            assert_eq!(config.worker.max_attempts, 3);
            assert_eq!(config.streamer.batch_size, 100);
            Ok(())
        });
    }

    #[test]
    fn the_shipped_config_files_parse() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config");
        let embedded = Config::load(Some(&root.join("herald.toml"))).expect("config/herald.toml");
        assert!(!embedded.database.is_postgres());
        assert_eq!(embedded.bus.kind, BusKind::Sqlite);
        let cluster = Config::load(Some(&root.join("cluster.toml"))).expect("config/cluster.toml");
        assert!(cluster.database.is_postgres());
        assert_eq!(cluster.bus.kind, BusKind::Kafka);
        assert_eq!(cluster.bus.kafka.expect("kafka").group_id, "herald-workers");
        assert!(cluster.crowd.s3.is_some() && cluster.redis.url.is_some());
        assert_eq!(cluster.redis.ledger_hot_window_secs, 86_400);
    }

    #[test]
    fn per_channel_dedup_defaults_read_as_documented() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "h.toml",
                "[policies.dedup.sms]\ncontent = { limit = 1, windowSecs = 300 }\nfrequency = { limitPerDay = 5 }\n",
            )?;
            let config = Config::load(Some(Path::new("h.toml"))).expect("loads");
            let sms = config.policies.dedup[&herald_core::ChannelKind::Sms];
            assert_eq!(sms, herald_core::dedup::DedupRules::austin());
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_are_refused() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("herald.toml", "[server]\nlisen = \"x\"\n")?;
            let err = Config::load(Some(Path::new("herald.toml"))).unwrap_err();
            assert!(format!("{err:#}").contains("lisen"), "{err:#}");
            Ok(())
        });
    }

    #[test]
    fn values_out_of_range_are_refused_naming_the_key() {
        for (file, key) in [
            ("[streamer]\nbatch_size = 0\n", "streamer.batch_size"),
            ("[streamer]\nbatch_size = 101\n", "streamer.batch_size"),
            ("[streamer]\npublish_window = 0\n", "streamer.publish_window"),
            ("[worker]\nworkers_per_channel = 0\n", "worker.workers_per_channel"),
            ("[worker]\nsends_in_flight = 0\n", "worker.sends_in_flight"),
            ("[scheduler]\nclaim_batch = 0\n", "scheduler.claim_batch"),
            ("[channels]\nhousekeeping_retry_secs = 0\n", "channels.housekeeping_retry_secs"),
            ("[console]\nsession_hours = 0\n", "console.session_hours"),
            ("[ui]\nsession_hours = 12\n", "ui"),
            ("[server]\nmax_connections = 0\n", "server.max_connections"),
            ("[server]\npublic_url = \"herald.example.com\"\n", "server.public_url"),
            ("[server]\npublic_url = \"ftp://herald.example.com\"\n", "server.public_url"),
            ("[server]\npublic_url = \"https://herald.example.com/?a=1\"\n", "server.public_url"),
            ("[worker]\nclaim_secs = 1\n", "worker.claim_secs"),
            ("[scheduler]\nshard_lease_secs = 1\n", "scheduler.shard_lease_secs"),
            ("[alarms]\ndaily_report_cron = \"0 0 9 * * ?\"\n", "alarms.daily_report_cron"),
            (
                "[alarms]\ntemplate_id = 1\nreceivers = [\"a\"]\ndaily_report_cron = \"0 0 25 * * ?\"\n",
                "alarms.daily_report_cron",
            ),
        ] {
            figment::Jail::expect_with(|jail| {
                jail.create_file("h.toml", file)?;
                let err = Config::load(Some(Path::new("h.toml"))).unwrap_err();
                assert!(format!("{err:#}").starts_with(&format!("{key}: ")), "{file}: {err:#}");
                Ok(())
            });
        }
    }

    #[test]
    fn database_urls_name_their_backend() {
        let db = DatabaseConfig { url: "postgres://x".into(), ..Default::default() };
        assert!(db.is_postgres());
        assert!(db.sqlite_path().unwrap_err().to_string().contains("PostgreSQL"));
        let db = DatabaseConfig { url: "sqlite://data/h.sqlite".into(), ..Default::default() };
        assert_eq!(db.sqlite_path().unwrap(), PathBuf::from("data/h.sqlite"));
    }
}
