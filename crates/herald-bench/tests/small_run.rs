//! The benchmark at its smallest size, so the command cannot rot: it must run to the end and
//! print every comparison beside its limit (the scheduler mode too, on SQLite only, and the
//! cluster mode: the herald binaries they start are the workspace's, built beside the bench by
//! `cargo test --workspace --all-features`).
//! Its figures are not asserted (a test is no place to time things; BENCHMARKS.md holds the
//! full release run).

use std::process::Command;

/// Runs the bench with `args`; it must end well. Returns what it printed.
fn bench(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_herald-bench")).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    stdout
}

/// Every one of `rows` is printed, each with `separators` cells after its name (`what` they are).
fn assert_rows(stdout: &str, rows: &[&str], separators: usize, what: &str) {
    for row in rows {
        let line = stdout.lines().find(|l| l.starts_with(row)).unwrap_or_else(|| panic!("no {row} row:\n{stdout}"));
        assert_eq!(line.matches(" | ").count(), separators, "{what} in {line}");
    }
}

#[test]
fn every_comparison_runs_at_the_smallest_size() {
    // The in-process load generator: the one a machine without wrk uses.
    let stdout = bench(&["--rows", "1000", "--e2e-sizes", "1000", "--load-generator", "in-process"]);
    let rows = [
        "| crowd CSV: validate |",
        "| crowd CSV: checkpointed streaming into batches of 100 |",
        "| HTTP: requests/s |",
        "| HTTP: p99 latency |",
        "| end to end (embedded): run-now -> all batches published |",
        "| end to end (embedded): run-now -> all delivered (completed) |",
        "| end to end (embedded): webhook, run-now -> all delivered (completed) |",
        "| end to end (embedded) at 1,000 rows: run-now -> completed |",
        "| Kafka publish, bounded concurrency |",
    ];
    assert_rows(&stdout, &rows, 4, "limit, figure, ratio and notes");
    assert!(stdout.contains("in-process load generator"), "{stdout}");
    assert!(stdout.contains("(exactly one per row)"), "the webhook receiver got one request per row:\n{stdout}");
    assert!(stdout.contains("1,000 rows; "), "{stdout}");
}

#[test]
fn the_scheduler_mode_runs_herald_and_both_references_at_a_small_size() {
    // 200 schedules every 2 s over 6 s: about 30 s in all (a 4 s warm-up and a drain per row).
    let stdout = bench(&[
        "--scheduler",
        "--schedules",
        "200",
        "--schedule-every-secs",
        "2",
        "--schedule-secs",
        "6",
        "--schedule-backends",
        "sqlite",
    ]);
    let rows =
        ["| herald, SQLite, 1 node | 200 |", "| tokio-cron-scheduler 0.15 | 200 |", "| heap + croner (limit) | 200 |"];
    assert_rows(&stdout, &rows, 8, "every figure and the notes");
    assert!(stdout.contains("schedules every 2 s, 6 s measured"), "{stdout}");
}

#[test]
fn the_cluster_mode_runs_three_nodes_against_raw_produce_at_a_small_size() {
    // Two clusters of three node processes (scripts/local-cluster.sh, the binaries built beside
    // the bench with the cluster feature), 2,000 rows each: about a minute.
    let stdout = bench(&["--cluster", "--rows", "2000"]);
    let rows = [
        "| cluster: run fired -> all batches published |",
        "| cluster: run fired -> every row delivered (completed) |",
        "| cluster: run fired -> all batches published, streaming nodes only |",
    ];
    assert_rows(&stdout, &rows, 4, "limit, figure, ratio and notes");
    assert!(stdout.contains("2,000 rows (20 batches of 100)"), "{stdout}");
}
