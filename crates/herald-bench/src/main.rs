//! herald's benchmarks: every herald path side by side with its limit, measured in one run,
//! printed as a markdown table (see BENCHMARKS.md at the repository root).
//!
//! `cargo run --release -p herald-bench -- [--rows N]`; cluster mode, which needs the release
//! herald binaries and the local PostgreSQL and Redis:
//! `cargo build --release -p herald --bins && cargo run --release -p herald-bench -- --cluster`

mod cluster;
mod csv;
mod e2e;
mod http;
mod kafka;
mod mem;
mod node;
mod report;

use clap::Parser;
use report::{Row, mib, thousands};
use std::time::Instant;

#[derive(Debug, Parser)]
#[command(about = "herald's benchmarks, each against its limit, in one run")]
struct Args {
    /// Rows of the CSV comparison; every other size scales with it: Kafka messages = rows/100,
    /// end-to-end crowd = rows/10, HTTP requests = rows/100; the small inputs of the memory
    /// comparisons are rows/100 (CSV) and rows/100 (end to end).
    #[arg(long, default_value_t = 1_000_000)]
    rows: usize,
    /// Concurrent HTTP clients.
    #[arg(long, default_value_t = 4)]
    clients: usize,
    /// Outstanding publishes in the bounded-concurrency Kafka comparison.
    #[arg(long, default_value_t = 256)]
    in_flight: usize,
    /// Instead of the rest: three herald processes in cluster mode streaming a crowd of
    /// `--rows` rows, against raw rdkafka produce of the same batches.
    #[arg(long)]
    cluster: bool,
}

fn cpu_model() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned()))
        .unwrap_or_else(|| "unknown".to_owned())
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let rows = args.rows.max(1_000);
    let csv_small = (rows / 100).max(100);
    let e2e_rows = (rows / 10).max(100);
    let e2e_small = (rows / 100).max(100);
    let http = http::Sizes { clients: args.clients.max(1), per_client: (rows / 100 / args.clients.max(1)).max(50) };
    let kafka = kafka::Sizes {
        messages: (rows / 100).max(100),
        in_flight: args.in_flight.max(1),
        sequential: (rows / 2000).max(50),
    };
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    eprintln!("herald-bench: {} rows; {cpus} CPUs ({})", thousands(rows as f64), cpu_model());
    if !mem::reset_peak() {
        eprintln!("cannot reset VmHWM (/proc/self/clear_refs): peak RSS figures are cumulative");
    }
    let started = Instant::now();
    if args.cluster {
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
        let table = runtime.block_on(cluster::run(rows))?;
        report::print_table(&table);
        println!();
        println!(
            "{} rows; {cpus} CPUs ({}); total {:.0} s",
            thousands(rows as f64),
            cpu_model(),
            started.elapsed().as_secs_f64()
        );
        return Ok(());
    }

    let mut table: Vec<Row> = Vec::new();
    eprintln!("[1/4] crowd CSV");
    let (rows_csv, csv_limit) = csv::run(rows, csv_small)?;
    table.extend(rows_csv);

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    eprintln!("[2/4] HTTP");
    table.extend(runtime.block_on(http::run(&http))?);
    eprintln!("[3/4] end to end");
    table.extend(runtime.block_on(e2e::run(e2e_small, e2e_rows, csv_limit))?);
    eprintln!("[4/4] Kafka");
    table.extend(runtime.block_on(kafka::run(&kafka))?);
    drop(runtime);

    report::print_table(&table);
    println!();
    println!(
        "{} rows; {cpus} CPUs ({}); total {:.0} s; process VmRSS at the end {}",
        thousands(rows as f64),
        cpu_model(),
        started.elapsed().as_secs_f64(),
        mib(mem::rss_kib())
    );
    Ok(())
}
