//! A Kafka-protocol peer for a local cluster on one machine: librdkafka's mock cluster (its
//! brokers listen on loopback ports) hosted by this process until SIGTERM or SIGINT. Used by
//! `scripts/local-cluster.sh` and the multi-process tests, where no Kafka can be installed.
//! It creates herald's channel topics and their `.dead` topics, and writes the bootstrap
//! servers to `--bootstrap-file` once the brokers are up.

use anyhow::Context;
use clap::Parser;
use herald_core::{ChannelKind, topic_for};
use rdkafka::mocking::MockCluster;
use std::path::PathBuf;

#[derive(Parser)]
#[command(about = "Hosts librdkafka's mock Kafka cluster for local multi-process runs")]
struct Args {
    /// Brokers in the mock cluster.
    #[arg(long, default_value_t = 3)]
    brokers: i32,
    /// Partitions of every topic created. The mock keeps at most 5 MiB of each partition's log
    /// and drops the oldest messages past that, consumed or not.
    #[arg(long, default_value_t = 6)]
    partitions: i32,
    /// Replaces herald's `herald.` topic prefix, as `bus.kafka.topic_prefix` does.
    #[arg(long, default_value = "herald.")]
    topic_prefix: String,
    /// Where to write the bootstrap servers (written whole, by rename, once ready).
    #[arg(long)]
    bootstrap_file: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mock = MockCluster::new(args.brokers).context("starting the mock cluster")?;
    let replication = args.brokers.clamp(1, 3);
    for kind in ChannelKind::ALL {
        let topic = format!("{}{}", args.topic_prefix, topic_for(kind).trim_start_matches("herald."));
        for name in [topic.clone(), format!("{topic}.dead")] {
            mock.create_topic(&name, args.partitions, replication).with_context(|| format!("creating {name}"))?;
        }
    }
    let servers = mock.bootstrap_servers();
    if let Some(path) = &args.bootstrap_file {
        let staging = path.with_extension("partial");
        std::fs::write(&staging, &servers).with_context(|| format!("writing {}", staging.display()))?;
        std::fs::rename(&staging, path).with_context(|| format!("writing {}", path.display()))?;
    }
    println!("{servers}");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        anyhow::Ok(())
    })?;
    drop(mock);
    Ok(())
}
