//! Assembling a herald node from its configuration: the store, bus and crowd storage behind
//! their traits, the channels, and the long-running tasks (API server, fire claimer, run
//! streamers, workers). `shutdown` lets every task finish the batch in hand; `abort` drops
//! them mid-work, as a crash would.

use crate::backends::{self, Backends, Database, Shared};
use crate::config::Config;
pub use crate::context::Context;
use crate::housekeeping::TokenRefresh;
use crate::serve::ServeLimits;
use anyhow::Context as _;
use herald_api::readiness::Readiness;
use herald_api::{ApiLimits, AppState};
use herald_channels::BuildContext;
use herald_channels::Channels;
use herald_channels::http::{HttpSettings, OutboundHttp};
use herald_channels::outbox::OutboxChannel;
use herald_channels::registry::AccountChannels;
use herald_channels::sealing::Sealer;
use herald_channels::tokens::Tokens;
use herald_channels::webhook::WebhookChannel;
use herald_core::{Clock, ScheduleKind, topic_for};
use herald_scheduler::{
    Alarms, DailyReport, FireClaimer, Housekeeping, JobRunner, QuietRelease, Retention, RunStreamer, ShardRunner,
    StreamerParts,
};
use herald_store::{DedupStore, Store};
use herald_worker::{Pipeline, PipelineParts, PolicyDefaults, Worker};
use secrecy::ExposeSecret;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Which long-running tasks a node runs.
#[derive(Debug, Clone, Copy)]
pub struct Roles {
    pub api: bool,
    pub scheduler: bool,
    pub worker: bool,
}

impl Roles {
    pub const ALL: Roles = Roles { api: true, scheduler: true, worker: true };

    /// Parses `api,scheduler,worker` (any subset).
    pub fn parse(list: &str) -> anyhow::Result<Self> {
        let mut roles = Roles { api: false, scheduler: false, worker: false };
        for role in list.split(',').map(str::trim).filter(|r| !r.is_empty()) {
            match role {
                "api" => roles.api = true,
                "scheduler" => roles.scheduler = true,
                "worker" => roles.worker = true,
                other => anyhow::bail!("unknown role {other:?}; roles are api, scheduler, worker"),
            }
        }
        if !(roles.api || roles.scheduler || roles.worker) {
            anyhow::bail!("--roles names no role");
        }
        Ok(roles)
    }
}

/// A running node.
pub struct Node {
    pub context: Context,
    /// Where the API listens, when the node has the api role.
    pub addr: Option<SocketAddr>,
    /// The API key created at this start, when the database had none: show it once.
    pub new_api_key: Option<String>,
    /// The console's one-time setup link token, when no console user exists yet: show it once
    /// as `http://ADDR/setup/TOKEN`.
    pub setup_token: Option<String>,
    /// This node's name in fire ledgers and leases: host, process id and a random suffix.
    pub id: String,
    database: Database,
    dedup: Arc<dyn DedupStore>,
    shared: Shared,
    /// What `/readyz` asks beyond the database and the bus.
    readiness: Readiness,
    shutdown: CancellationToken,
    tasks: JoinSet<()>,
}

/// `/readyz`'s checks beyond the database and the bus: Redis answering a PING, when configured.
fn readiness(redis: Option<redis::aio::ConnectionManager>) -> Readiness {
    let Some(conn) = redis else { return Readiness::default() };
    Readiness::default().with(
        "redis",
        Arc::new(move || {
            let mut conn = conn.clone();
            Box::pin(async move {
                redis::cmd("PING").query_async::<String>(&mut conn).await.map(|_| ()).map_err(|e| e.to_string())
            })
        }),
    )
}

/// `host-pid-xxxx`: unique per process, and readable in a fire ledger or a lease.
fn node_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "herald".to_string());
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    format!("{host}-{}-{}", std::process::id(), &suffix[..4])
}

impl Node {
    pub async fn start(config: &Config, roles: Roles, clock: Arc<dyn Clock>) -> anyhow::Result<Node> {
        let Backends { database, store, dedup, bus, crowds, shared, redis } =
            backends::open(config, clock.clone()).await?;
        let new_api_key = herald_api::ensure_api_key(store.as_ref(), clock.now()).await?;
        let accounts = Arc::new(account_channels(config, store.clone(), clock.clone(), &shared)?);
        let context = Context { store, bus, crowds, clock, accounts };
        let mut node = Node {
            context,
            addr: None,
            new_api_key,
            setup_token: None,
            id: node_id(),
            database,
            dedup,
            shared,
            readiness: readiness(redis),
            shutdown: CancellationToken::new(),
            tasks: JoinSet::new(),
        };
        crate::heap_trim::start();
        // Node-wide housekeeping: release deferred messages every minute, prune daily.
        let now = node.context.clock.now();
        let store = &node.context.store;
        store.ensure_housekeeping(ScheduleKind::QuietRelease.as_str(), "0 * * * * ?", now).await?;
        store.ensure_housekeeping(ScheduleKind::Retention.as_str(), &config.retention.cron, now).await?;
        store.ensure_housekeeping(ScheduleKind::ReceiptPull.as_str(), &config.receipt_pulls.cron, now).await?;
        match config.alarms.daily_report() {
            Some(cron) => store.ensure_housekeeping(ScheduleKind::DailyReport.as_str(), cron, now).await?,
            None => store.remove_housekeeping(ScheduleKind::DailyReport.as_str()).await?,
        }
        if config.sample_data.load {
            crate::seed::load_sample_data(&node.context, &config.sample_data.dir, config.crowd.max_upload_bytes)
                .await?;
        }
        if roles.scheduler {
            node.spawn_scheduler(config);
        }
        if roles.worker {
            node.spawn_workers(config)?;
            node.spawn_status_events(config);
        }
        if roles.api {
            node.setup_token =
                herald_api::console::ensure_setup_link(node.context.store.as_ref(), &config.console.settings(), now)
                    .await?;
            node.spawn_api(config).await?;
        }
        Ok(node)
    }

    fn spawn_scheduler(&mut self, config: &Config) {
        let (store, bus, clock) = (self.context.store.clone(), self.context.bus.clone(), self.context.clock.clone());
        let token_refresh = TokenRefresh { accounts: self.context.accounts.clone() };
        let release = QuietRelease { store: store.clone(), bus: bus.clone(), clock: clock.clone() };
        let retention = Retention {
            store: store.clone(),
            dedup: self.dedup.clone(),
            clock: clock.clone(),
            days: config.retention.days,
        };
        let receipt_pulls = crate::receipt_pulls::ReceiptPulls {
            store: store.clone(),
            accounts: self.context.accounts.clone(),
            clock: clock.clone(),
            max_calls_per_account: config.receipt_pulls.max_calls_per_account,
            cursors: Default::default(),
        };
        let alarms = Alarms::new(store.clone(), bus.clone(), clock.clone(), self.id.clone());
        let mut housekeeping = Housekeeping::new()
            .with_job(ScheduleKind::TokenRefresh, Arc::new(token_refresh))
            .with_job(ScheduleKind::QuietRelease, Arc::new(release))
            .with_job(ScheduleKind::Retention, Arc::new(retention))
            .with_job(ScheduleKind::ReceiptPull, Arc::new(receipt_pulls))
            .retry_after(chrono::Duration::seconds(config.channels.housekeeping_retry_secs))
            .on_node(&self.id);
        if let Some(spec) = config.alarms.spec() {
            let report =
                DailyReport { store: store.clone(), clock: clock.clone(), alarms: alarms.clone(), spec: spec.clone() };
            housekeeping =
                housekeeping.with_alarms(alarms.clone(), spec).with_job(ScheduleKind::DailyReport, Arc::new(report));
        }
        let calls = crate::job_calls::JobCalls {
            http: self.context.accounts.context().http.clone(),
            commands: crate::command_jobs::CommandJobs { policy: config.jobs.policy() },
        };
        let lease = config.scheduler.shard_lease();
        let jobs = JobRunner::new(store.clone(), clock.clone(), Arc::new(calls), self.id.clone())
            .with_alarms(alarms)
            .with_node_ttl(lease);
        let shards = ShardRunner::new(jobs.clone(), lease, config.scheduler.job_slots);
        self.tasks.spawn(shards.run(self.shutdown.clone()));
        let claimer = FireClaimer::new(store.clone(), clock.clone(), self.id.clone(), config.scheduler.clone())
            .with_housekeeping(housekeeping)
            .with_jobs(jobs);
        self.tasks.spawn(claimer.run(self.shutdown.clone()));
        let parts = StreamerParts { store, bus, crowds: self.context.crowds.clone(), clock };
        for n in 0..config.streamer.streamers {
            let owner = format!("{}/streamer-{n}", self.id);
            let streamer = RunStreamer::new(parts.clone(), owner, config.streamer.clone());
            self.tasks.spawn(streamer.run(self.shutdown.clone()));
        }
    }

    /// Every channel this node delivers through: outbox, webhook and the account-based ones. The
    /// workers send through them, and the API's test sends too.
    fn channels(&self, config: &Config) -> Channels {
        let deliveries: Arc<dyn herald_store::LedgerRepo> = self.context.store.clone();
        Channels::new()
            .with_accounts(self.context.accounts.clone())
            .with(Arc::new(OutboxChannel::new(deliveries, self.context.clock.clone())))
            .with(Arc::new(WebhookChannel::new(config.webhook.resolve(), self.context.accounts.context().http.clone())))
    }

    fn spawn_workers(&mut self, config: &Config) -> anyhow::Result<()> {
        let w = &config.worker;
        let channels = self.channels(config);
        let channels_kinds = channels.kinds();
        let pipeline = Arc::new(Pipeline::new(PipelineParts {
            store: self.context.store.clone(),
            ledger: self.shared.ledger.clone(),
            dedup: self.dedup.clone(),
            rates: self.shared.rates.clone(),
            channels,
            clock: self.context.clock.clone(),
            concurrency: w.sends_in_flight,
            holder: self.id.clone(),
            claim_ttl: w.claim_ttl(),
            defaults: policy_defaults(config),
        }));
        // A worker per topic this node can deliver through; idle topics cost nothing.
        for channel in channels_kinds {
            for _ in 0..w.workers_per_channel {
                let worker = Worker::new(self.context.bus.clone(), pipeline.clone(), topic_for(channel), w.clone());
                self.tasks.spawn(worker.run(self.shutdown.clone()));
            }
        }
        Ok(())
    }

    /// The status-event dispatcher: posts what the store's triggers queued to the endpoints.
    fn spawn_status_events(&mut self, config: &Config) {
        let accounts = &self.context.accounts;
        let dispatcher = crate::status_events::Dispatcher {
            store: self.context.store.clone(),
            http: accounts.context().http.clone(),
            sealer: accounts.sealer().clone(),
            clock: self.context.clock.clone(),
            holder: self.id.clone(),
            config: config.status_events.clone(),
        };
        self.tasks.spawn(dispatcher.run(self.shutdown.clone()));
    }

    async fn spawn_api(&mut self, config: &Config) -> anyhow::Result<()> {
        let listener = tokio::net::TcpListener::bind(&config.server.listen)
            .await
            .with_context(|| format!("server.listen: cannot listen on {}", config.server.listen))?;
        self.addr = Some(listener.local_addr()?);
        let Context { store, bus, crowds, clock, accounts } = self.context.clone();
        let limits =
            ApiLimits { max_upload_bytes: config.crowd.max_upload_bytes, max_json_bytes: config.server.max_json_bytes };
        let installation = store.installation().await?;
        let channels = self.channels(config);
        let intake = herald_api::intake::Intake::start(store.clone(), bus.clone(), clock.clone());
        let state = AppState {
            channels,
            store,
            bus,
            intake,
            crowds,
            clock,
            accounts,
            limits,
            console: config.console.settings(),
            installation,
            login_guard: Default::default(),
            readiness: self.readiness.clone(),
            metrics: crate::metrics::renderer().map(|render| crate::metrics::with_pool_use(render, &self.database)),
            dedup: self.dedup.clone(),
            policy_defaults: policy_defaults(config),
            commands: config.jobs.policy(),
        };
        let app = herald_api::router(state);
        let limits = ServeLimits {
            header_read_timeout: std::time::Duration::from_secs(config.server.header_read_timeout_secs),
            request_timeout: std::time::Duration::from_secs(config.server.request_timeout_secs),
            max_connections: config.server.max_connections,
        };
        self.tasks.spawn(crate::serve::serve(listener, app, limits, self.shutdown.clone()));
        Ok(())
    }

    /// Clean stop: every task finishes its batch in hand and checkpoints, then the database
    /// is closed.
    pub async fn shutdown(mut self) {
        self.shutdown.cancel();
        while self.tasks.join_next().await.is_some() {}
        self.database.close().await;
    }

    /// A crash, in process: every task is dropped wherever it is, with no checkpoint.
    pub async fn abort(mut self) {
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
        self.database.close().await;
    }
}

/// The send-time policies' defaults for templates that set none: the workers apply them, and
/// the API's dry run judges by them.
fn policy_defaults(config: &Config) -> PolicyDefaults {
    PolicyDefaults {
        quiet_window: Default::default(),
        timezone_column: config.policies.timezone_column.clone(),
        dedup: config.policies.dedup.clone(),
    }
}

/// The channel-account registry: sealing key, outbound HTTP policy, the node's token cache
/// and rate gate.
fn account_channels(
    config: &Config,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    shared: &Shared,
) -> anyhow::Result<AccountChannels> {
    let sealer = match &config.security.sealing_key {
        Some(key) => Sealer::from_base64(key.expose_secret()).context("security.sealing_key")?,
        None => Sealer::from_key_file(&config.security.sealing_key_file).context("security.sealing_key_file")?,
    };
    let http = OutboundHttp::new(HttpSettings {
        timeout_ms: config.channels.timeout_ms,
        max_response_bytes: config.channels.max_response_bytes,
        allow_private_networks: config.channels.allow_private_networks,
    })
    .context("building the provider HTTP client")?;
    let ctx = BuildContext { http, tokens: Tokens::new(shared.tokens.clone(), clock.clone()), clock };
    log_public_url(config.server.public_url.as_deref());
    Ok(AccountChannels::new(store.clone(), sealer, ctx)
        .with_rates(shared.rates.clone())
        .with_public_url(config.server.public_url.as_deref())
        .with_bounces(store))
}

/// Says once, at start, whether marketing mail offers one-click unsubscribe.
fn log_public_url(public_url: Option<&str>) {
    match public_url {
        None => tracing::info!(
            "server.public_url is not set: marketing mail carries no List-Unsubscribe header, and SMS reply \
             callback URLs are shown as paths"
        ),
        Some(url) if !url.trim_start().starts_with("https://") => tracing::warn!(
            public_url = %url,
            "server.public_url is not https: mailbox providers ignore one-click unsubscribe links over http"
        ),
        Some(url) => tracing::info!(public_url = %url, "marketing mail offers one-click unsubscribe"),
    }
}
