//! herald's benchmarks: every herald path side by side with its limit, measured in one run,
//! printed as a markdown table (see BENCHMARKS.md at the repository root).
//!
//! `cargo run --release -p herald-bench -- [--rows N] [--e2e-rows N] [--e2e-sizes A,B,..]`;
//! cluster mode, which needs the release herald binaries and the local PostgreSQL and Redis:
//! `cargo build --release -p herald --bins && cargo run --release -p herald-bench -- --cluster`;
//! the scheduler at scale (herald on SQLite and on three PostgreSQL nodes beside
//! tokio-cron-scheduler and a heap + croner limit), which needs the release herald binaries
//! (and for PostgreSQL what cluster mode needs):
//! `cargo build --release -p herald --bins --features cluster && cargo run --release -p herald-bench --
//! --scheduler [--schedules 10000,100000] [--schedule-every-secs 10] [--schedule-secs 60]
//! [--schedule-backends sqlite,postgres]`

mod cluster;
mod csv;
mod e2e;
mod http;
mod kafka;
mod load;
mod mem;
mod node;
mod pipeline;
mod report;
mod sched;
mod sqlite;
mod store_limits;
mod webhook;

use clap::Parser;
use report::{Row, mib, thousands};
use std::time::{Duration, Instant};

#[derive(Debug, Parser)]
#[command(about = "herald's benchmarks, each against its limit, in one run")]
struct Args {
    /// Rows of the CSV comparison; every other size scales with it unless set: Kafka messages =
    /// rows/100, end-to-end crowd = rows/10, webhook crowd = end-to-end crowd/10; the small
    /// inputs of the memory comparisons are rows/100 (CSV) and rows/100 (end to end); each HTTP
    /// load lasts 1 s per 333,334 rows, 3 s at most.
    #[arg(long, default_value_t = 1_000_000)]
    rows: usize,
    /// Rows of the end-to-end crowd (default rows/10).
    #[arg(long)]
    e2e_rows: Option<usize>,
    /// Also run the outbox end to end on a fresh node at each of these crowd sizes
    /// (comma-separated), one row per size, to see whether the time per row stays flat.
    #[arg(long, value_delimiter = ',')]
    e2e_sizes: Vec<usize>,
    /// Keep-alive connections of every HTTP load (`/send`, the bare handler, the webhook
    /// receiver).
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// The HTTP load generator: wrk when on PATH (auto), wrk, or the in-process one.
    #[arg(long, value_enum, default_value_t = load::GeneratorChoice::Auto)]
    load_generator: load::GeneratorChoice,
    /// Outstanding publishes in the bounded-concurrency Kafka comparison.
    #[arg(long, default_value_t = 256)]
    in_flight: usize,
    /// Instead of the rest: three herald processes in cluster mode streaming a crowd of
    /// `--rows` rows, against raw rdkafka produce of the same batches.
    #[arg(long)]
    cluster: bool,
    /// Instead of the rest: the scheduler at scale, herald beside tokio-cron-scheduler and an
    /// in-memory heap + croner limit, one set of rows per `--schedules` count.
    #[arg(long)]
    scheduler: bool,
    /// Schedule counts of `--scheduler` (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "10000,100000")]
    schedules: Vec<usize>,
    /// Each schedule fires every this many seconds (1 to 59), schedule i at second offset
    /// i % this.
    #[arg(long, default_value_t = 10)]
    schedule_every_secs: u32,
    /// The measured window of fire times, in seconds (after a warm-up of two periods).
    #[arg(long, default_value_t = 60)]
    schedule_secs: u64,
    /// Where herald keeps its state in `--scheduler` (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "sqlite,postgres")]
    schedule_backends: Vec<sched::Backend>,
    /// The `herald` binary the scheduler run starts (default: the one beside this bench).
    #[arg(long)]
    herald_bin: Option<std::path::PathBuf>,
}

/// `--scheduler`: prints its own table.
fn scheduler_mode(args: &Args, cpus: usize) -> anyhow::Result<()> {
    let options = sched::Options {
        counts: args.schedules.clone(),
        every_secs: args.schedule_every_secs,
        measure_secs: args.schedule_secs,
        backends: args.schedule_backends.clone(),
        herald_bin: args.herald_bin.clone(),
    };
    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let rows = runtime.block_on(sched::run(&options))?;
    report::print_scheduler_table(&rows);
    println!();
    println!(
        "schedules every {} s, {} s measured; {cpus} CPUs ({}); total {:.0} s",
        options.every_secs,
        options.measure_secs,
        cpu_model(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn cpu_model() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned()))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// herald's own logs to stderr, errors only unless RUST_LOG says otherwise: a failing request
/// or delivery in a measurement says why. tokio-cron-scheduler logs an error for each run its
/// lagging broadcast channels drop (thousands a second at scale); the scheduler table counts
/// those as missed fires instead.
fn log_herald_errors() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error,tokio_cron_scheduler=off"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    log_herald_errors();
    if args.scheduler {
        let cpus = std::thread::available_parallelism().map_or(0, usize::from);
        return scheduler_mode(&args, cpus);
    }
    let rows = args.rows.max(1_000);
    let csv_small = (rows / 100).max(100);
    let e2e_rows = args.e2e_rows.unwrap_or(rows / 10).max(100);
    let e2e = e2e::Sizes { small: (rows / 100).max(100), rows: e2e_rows, webhook: (e2e_rows / 10).max(100) };
    let load_secs = (rows as u64).div_ceil(333_334).clamp(1, 3);
    let load = load::Load::new(args.connections, Duration::from_secs(load_secs), args.load_generator)?;
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
    eprintln!("[1/5] crowd CSV");
    table.extend(csv::run(rows, csv_small)?);

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    eprintln!("[2/5] HTTP ({})", load.describe());
    table.extend(runtime.block_on(http::run(&load))?);
    eprintln!("[3/5] end to end");
    table.extend(runtime.block_on(e2e::run(&e2e, &load))?);
    eprintln!("[4/5] Kafka");
    table.extend(runtime.block_on(kafka::run(&kafka))?);
    if !args.e2e_sizes.is_empty() {
        eprintln!("[5/5] end to end by crowd size");
        table.extend(runtime.block_on(e2e::scaling(&args.e2e_sizes))?);
    }
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
