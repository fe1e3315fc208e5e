//! `herald serve`: starts a node and runs it until SIGTERM or Ctrl-C, then shuts down cleanly
//! (each task finishes its batch in hand and checkpoints).

use herald::config::{Config, LogConfig};
use herald::node::{Node, Roles};
use herald_core::SystemClock;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

pub async fn run(config_file: Option<&Path>, roles: &str) -> anyhow::Result<ExitCode> {
    let config = Config::load(config_file)?;
    init_logging(&config.log);
    let roles = Roles::parse(roles)?;
    herald::backends::refuse_unbuilt(&config)?;
    // One clock for the cluster: the database's. Embedded mode uses the system clock.
    let clock: Arc<dyn herald_core::Clock> = if config.database.is_postgres() {
        let store = herald_store::PgStore::connect(&config.database.url).await?;
        herald::db_clock::DatabaseClock::start(store).await?
    } else {
        Arc::new(SystemClock)
    };
    if let Some(url) = &config.redis.url {
        // Not ready, but up, until Redis answers; Ctrl-C or SIGTERM still stop it.
        if !herald::redis_wait::wait_for_redis(&config.server.listen, url, wait_for_signal()).await? {
            tracing::info!("stopped before Redis answered");
            return Ok(ExitCode::SUCCESS);
        }
    }
    let node = Node::start(&config, roles, clock).await?;
    tracing::info!(node = %node.id, ?roles, "node started");
    {
        // Also on stdout, whatever the log filter: scripts wait for this line.
        use std::io::Write;
        let _ = writeln!(std::io::stdout().lock(), "herald node {} started", node.id);
    }
    if let Some(key) = &node.new_api_key {
        // Printed, never logged: this is the only time the key is shown. A closed stdout must
        // not bring the node down, so write errors are ignored.
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "\n  herald created an API key. It is shown once; keep it:\n\n    {key}\n");
        let _ =
            writeln!(out, "  Try:  curl -H 'X-API-Key: {key}' 'http://{}/api/outbox?limit=5'\n", display_addr(&node));
        let _ = out.flush();
    }
    if let Some(token) = &node.setup_token {
        // Printed, never logged, like the API key: the link makes the first console user.
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "  No console user yet. Open this link once to create the first one (or run `herald user add NAME`):\n\n    http://{}/setup/{token}\n",
            display_addr(&node)
        );
        let _ = out.flush();
    }
    if let Some(addr) = node.addr {
        tracing::info!(%addr, "herald is serving; the console at /, GET /healthz, the API under /api, austin's /send and /batchSend");
    }
    wait_for_signal().await;
    tracing::info!("shutting down: finishing batches in hand");
    node.shutdown().await;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

fn display_addr(node: &Node) -> String {
    node.addr.map(|a| a.to_string()).unwrap_or_else(|| "127.0.0.1:8080".into())
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; Ctrl-C only");
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

pub fn init_logging(log: &LogConfig) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&log.filter));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if log.format == "json" {
        builder.json().with_current_span(true).init();
    } else {
        builder.init();
    }
}
