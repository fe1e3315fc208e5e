//! Assembling a herald node from its configuration: the store, bus and crowd storage behind
//! their traits, the channels, and the long-running tasks (API server, fire claimer, run
//! streamers, workers). `shutdown` lets every task finish the batch in hand; `abort` drops
//! them mid-work, as a crash would.

use crate::backends::{self, Backends, Database, Shared};
use crate::config::Config;
use crate::housekeeping::{QuietRelease, Retention, TokenRefresh};
use crate::serve::ServeLimits;
use anyhow::Context;
use herald_api::{ApiLimits, AppState};
use herald_channels::BuildContext;
use herald_channels::Channels;
use herald_channels::http::{HttpSettings, OutboundHttp};
use herald_channels::outbox::OutboxChannel;
use herald_channels::registry::AccountChannels;
use herald_channels::sealing::Sealer;
use herald_channels::tokens::Tokens;
use herald_channels::webhook::WebhookChannel;
use herald_core::job::schedule_kinds::{QUIET_RELEASE, RETENTION, TOKEN_REFRESH};
use herald_core::{Clock, topic_for};
use herald_scheduler::{FireClaimer, FireClaimerConfig, Housekeeping, RunStreamer, StreamerConfig};
use herald_store::{DedupStore, Store};
use herald_worker::{Pipeline, PipelineParts, PolicyDefaults, Worker, WorkerConfig};
use secrecy::ExposeSecret;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
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
    pub state: AppState,
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
    shutdown: CancellationToken,
    tasks: JoinSet<()>,
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
        let Backends { database, store, dedup, bus, crowds, shared } = backends::open(config, clock.clone()).await?;
        let new_api_key = herald_api::ensure_api_key(store.as_ref(), clock.now()).await?;
        let accounts = Arc::new(account_channels(config, store.clone(), clock.clone(), &shared)?);
        let state = AppState {
            store,
            bus,
            crowds,
            clock,
            limits: ApiLimits {
                max_upload_bytes: config.crowd.max_upload_bytes,
                max_json_bytes: config.server.max_json_bytes,
            },
            accounts,
            console: config.ui.settings(),
            login_guard: Default::default(),
        };
        let mut node = Node {
            state,
            addr: None,
            new_api_key,
            setup_token: None,
            id: node_id(),
            database,
            dedup,
            shared,
            shutdown: CancellationToken::new(),
            tasks: JoinSet::new(),
        };
        // Node-wide housekeeping: release deferred messages every minute, prune daily.
        let now = node.state.clock.now();
        node.state.store.ensure_housekeeping(QUIET_RELEASE, "0 * * * * ?", now).await?;
        node.state.store.ensure_housekeeping(RETENTION, &config.retention.cron, now).await?;
        if config.sample_data.load {
            crate::seed::load_sample_data(&node.state, &config.sample_data.dir).await?;
        }
        if roles.scheduler {
            node.spawn_scheduler(config);
        }
        if roles.worker {
            node.spawn_workers(config)?;
        }
        if roles.api {
            node.setup_token =
                herald_api::ui::ensure_setup_link(node.state.store.as_ref(), &node.state.console, now).await?;
            node.spawn_api(config).await?;
        }
        Ok(node)
    }

    fn spawn_scheduler(&mut self, config: &Config) {
        let s = &config.scheduler;
        let claimer = FireClaimer::new(
            self.state.store.clone(),
            self.state.clock.clone(),
            FireClaimerConfig {
                poll: Duration::from_millis(s.poll_ms),
                grace: chrono::Duration::seconds(s.misfire_grace_secs),
                batch: s.claim_batch,
                claimer: self.id.clone(),
            },
        );
        let (store, bus, clock) = (self.state.store.clone(), self.state.bus.clone(), self.state.clock.clone());
        let housekeeping = Housekeeping::new()
            .with_job(TOKEN_REFRESH, Arc::new(TokenRefresh { accounts: self.state.accounts.clone() }))
            .with_job(QUIET_RELEASE, Arc::new(QuietRelease { store: store.clone(), bus, clock: clock.clone() }))
            .with_job(
                RETENTION,
                Arc::new(Retention { store, dedup: self.dedup.clone(), clock, days: config.retention.days }),
            )
            .retry_after(chrono::Duration::seconds(config.channels.housekeeping_retry_secs.max(1)));
        let claimer = claimer.with_housekeeping(housekeeping);
        self.tasks.spawn(claimer.run(self.shutdown.clone()));
        for n in 0..config.streamer.streamers {
            let streamer = RunStreamer::new(
                self.state.store.clone(),
                self.state.bus.clone(),
                self.state.crowds.clone(),
                self.state.clock.clone(),
                format!("{}/streamer-{n}", self.id),
                StreamerConfig {
                    lease: chrono::Duration::seconds(config.streamer.lease_secs),
                    poll: Duration::from_millis(config.streamer.poll_ms),
                    batch_size: config.streamer.batch_size.clamp(1, herald_core::MAX_RECEIVERS_PER_BATCH),
                    shard_bytes: config.streamer.shard_bytes.max(1),
                    max_shards: config.streamer.max_shards.max(1),
                    publish_window: config.streamer.publish_window.max(1),
                },
            );
            self.tasks.spawn(streamer.run(self.shutdown.clone()));
        }
    }

    fn spawn_workers(&mut self, config: &Config) -> anyhow::Result<()> {
        let w = &config.worker;
        let deliveries: Arc<dyn herald_store::DeliveryRepo> = self.state.store.clone();
        let channels = Channels::new()
            .with_accounts(self.state.accounts.clone())
            .with(Arc::new(OutboxChannel::new(deliveries, self.state.clock.clone())))
            .with(Arc::new(WebhookChannel::new(config.webhook.resolve(), self.state.accounts.context().http.clone())));
        let channels_kinds = channels.kinds();
        let pipeline = Arc::new(Pipeline::new(PipelineParts {
            store: self.state.store.clone(),
            ledger: self.shared.ledger.clone(),
            dedup: self.dedup.clone(),
            rates: self.shared.rates.clone(),
            channels,
            clock: self.state.clock.clone(),
            concurrency: w.sends_in_flight,
            defaults: PolicyDefaults {
                quiet_window: Default::default(),
                timezone_column: config.policies.timezone_column.clone(),
                dedup: config.policies.dedup.clone(),
            },
        }));
        let worker_config = WorkerConfig {
            visibility: Duration::from_secs(w.visibility_secs),
            poll: Duration::from_millis(w.poll_ms),
            max_attempts: w.max_attempts,
            retry_backoff: Duration::from_millis(w.retry_backoff_ms),
        };
        // A worker per topic this node can deliver through; idle topics cost nothing.
        for channel in channels_kinds {
            for _ in 0..w.workers_per_channel.max(1) {
                let worker =
                    Worker::new(self.state.bus.clone(), pipeline.clone(), topic_for(channel), worker_config.clone());
                self.tasks.spawn(worker.run(self.shutdown.clone()));
            }
        }
        Ok(())
    }

    async fn spawn_api(&mut self, config: &Config) -> anyhow::Result<()> {
        let listener = tokio::net::TcpListener::bind(&config.server.listen)
            .await
            .with_context(|| format!("server.listen: cannot listen on {}", config.server.listen))?;
        self.addr = Some(listener.local_addr()?);
        let app = herald_api::router(self.state.clone());
        let limits = ServeLimits {
            header_read_timeout: Duration::from_secs(config.server.header_read_timeout_secs.max(1)),
            request_timeout: Duration::from_secs(config.server.request_timeout_secs.max(1)),
            max_connections: config.server.max_connections.max(1),
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
    Ok(AccountChannels::new(store, sealer, ctx).with_rates(shared.rates.clone()))
}
