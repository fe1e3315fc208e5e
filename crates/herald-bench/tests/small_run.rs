//! The benchmark at its smallest size, so the command cannot rot: it must run to the end and
//! print every comparison beside its limit. Its figures are not asserted (a test is no place to
//! time things; BENCHMARKS.md holds the full release run).

use std::process::Command;

#[test]
fn every_comparison_runs_at_the_smallest_size() {
    // The in-process load generator: the one a machine without wrk uses.
    let args = ["--rows", "1000", "--e2e-sizes", "1000", "--load-generator", "in-process"];
    let out = Command::new(env!("CARGO_BIN_EXE_herald-bench")).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    for row in [
        "| crowd CSV: validate |",
        "| crowd CSV: checkpointed streaming into batches of 100 |",
        "| HTTP: requests/s |",
        "| HTTP: p99 latency |",
        "| end to end (embedded): run-now -> all batches published |",
        "| end to end (embedded): run-now -> all delivered (completed) |",
        "| end to end (embedded): webhook, run-now -> all delivered (completed) |",
        "| end to end (embedded) at 1,000 rows: run-now -> completed |",
        "| Kafka publish, bounded concurrency |",
    ] {
        let line = stdout.lines().find(|l| l.starts_with(row)).unwrap_or_else(|| panic!("no {row} row:\n{stdout}"));
        assert_eq!(line.matches(" | ").count(), 4, "limit, figure, ratio and notes in {line}");
    }
    assert!(stdout.contains("in-process load generator"), "{stdout}");
    assert!(stdout.contains("(exactly one per row)"), "the webhook receiver got one request per row:\n{stdout}");
    assert!(stdout.contains("1,000 rows; "), "{stdout}");
}
